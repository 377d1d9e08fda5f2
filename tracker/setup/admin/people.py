"""Admin for people's unit memberships (roles) and their settings; scoped like every other list."""

from axes.admin import IsLockedOutFilter
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from tracker.accounts import scoping
from tracker.accounts.models import Membership, Profile
from tracker.accounts.roles import sync_user_groups
from tracker.adminkit.base import ScopedAdmin
from tracker.adminkit.filters import DateHierarchyChangeList


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ["user", "unit", "role"]
    list_filter = ["role", ("unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "unit__code", "unit__name"]
    list_select_related = ["user", "unit"]

    def scope(self, request, queryset):
        ids = scoping.unit_ids(request.user)
        return queryset if ids is None else queryset.filter(unit_id__in=ids)


@admin.register(Profile)
class ProfileAdmin(ScopedAdmin):
    list_display = ["user", "language", "phone"]
    list_filter = ["language"]
    search_fields = ["user__username", "phone"]
    list_select_related = ["user"]

    def scope(self, request, queryset):
        ids = scoping.unit_ids(request.user)
        return queryset if ids is None else queryset.filter(user__memberships__unit_id__in=ids).distinct()


# django-axes' own strings that it ships no Simplified Chinese for, as the failed-logins admin shows them.
# Listed here so `make messages` keeps them in this app's catalogue.
AXES_STRINGS = [
    gettext_noop("access attempt"), gettext_noop("access attempts"), gettext_noop("Username"),
    gettext_noop("IP Address"), gettext_noop("User Agent"), gettext_noop("Failed Logins"),
    gettext_noop("Attempt Time"), gettext_noop("Path"), gettext_noop("GET Data"), gettext_noop("POST Data"),
    gettext_noop("Locked Out"),
]


@admin.register(AccessAttempt)
class FailedLoginAdmin(admin.ModelAdmin):
    """Failed logins per username and address (django-axes' rows): read, or delete to unlock early.

    Only administrators hold these permissions (see roles.py); nobody adds or edits a row.
    """

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "locked_until", "user_agent"]
    list_filter = [IsLockedOutFilter, "attempt_time"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"
    fields = ["username", "ip_address", "failures_since_start", "attempt_time", "locked_until", "user_agent",
              "path_info", "get_data", "post_data"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_changelist(self, request, **kwargs):
        # A date in the hierarchy Python cannot handle (?attempt_time__day=10**30) is a bad lookup, not a 500.
        return DateHierarchyChangeList

    @admin.display(description=_("locked until"))
    def locked_until(self, obj):
        """The failures count from the last one; at the limit, the lock ends one lockout period after it."""
        if obj.failures_since_start < settings.AXES_FAILURE_LIMIT:
            return None
        until = obj.attempt_time + get_cool_off()
        return until if until > timezone.now() else None


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    fields = ["unit", "role"]


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["language", "phone"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """People with their units and roles; the role groups follow the memberships (see roles.py)."""

    inlines = [ProfileInline, MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active", "roles"]
    list_filter = ["is_staff", "is_active", "memberships__role",
                   ("memberships__unit", admin.RelatedOnlyFieldListFilter)]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__unit")

    @admin.display(description=_("units and roles"))
    def roles(self, obj):
        return "; ".join(f"{m.unit} · {m.get_role_display()}" for m in obj.memberships.all())

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Only a superuser makes superusers: an administrator cannot step outside the roles.
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        return fields

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        sync_user_groups(form.instance)
