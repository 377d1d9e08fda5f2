"""Admin for people's unit memberships (roles) and their settings; scoped like every other list."""

from axes.admin import IsLockedOutFilter
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.accounts.models import Membership, Profile
from tracker.accounts.roles import sync_user_groups
from tracker.adminkit.base import AdministeredMixin, ScopedAdmin
from tracker.adminkit.filters import DateHierarchyChangeList


@admin.register(Membership)
class MembershipAdmin(AdministeredMixin, ScopedAdmin):
    """Roles are given in the units one administers (an administrator: their trees; a superuser: anywhere)."""

    list_display = ["user", "unit", "role"]
    list_filter = ["role", ("unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "unit__code", "unit__name"]
    list_select_related = ["user", "unit"]
    administered_unit_fields = ["unit"]

    def scope(self, request, queryset):
        ids = scoping.own_unit_ids(request.user)
        return queryset if ids is None else queryset.filter(unit_id__in=ids)

    def administers(self, user, obj):
        return scoping.can_administer_unit(user, obj.unit_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = scoping.administered_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Profile)
class ProfileAdmin(ScopedAdmin):
    list_display = ["user", "language", "phone"]
    list_filter = ["language"]
    search_fields = ["user__username", "phone"]
    list_select_related = ["user"]

    def scope(self, request, queryset):
        ids = scoping.own_unit_ids(request.user)
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
    """A person's roles, in the units the administrator administers; a new person gets at least one (else an
    administrator would lose sight of the person they just made)."""

    model = Membership
    extra = 1
    fields = ["unit", "role"]

    def get_queryset(self, request):
        ids = scoping.admin_unit_ids(request.user)
        qs = super().get_queryset(request)
        return qs if ids is None else qs.filter(unit_id__in=ids)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scoping.administered_units(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        if obj is None and not scoping.sees_all(request.user):
            kwargs.update(min_num=1, validate_min=True, extra=0)
        return super().get_formset(request, obj, **kwargs)


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
        qs = super().get_queryset(request).prefetch_related("memberships__unit")
        if scoping.sees_all(request.user) or not scoping.is_admin(request.user):
            return qs  # people without the administrator role hold no permission on accounts: 403 everywhere
        return qs.filter(pk__in=scoping.administered_users(request.user, active_only=False).values("pk"))

    def get_object(self, request, object_id, from_field=None):
        # Another organisation's person (or a superuser) is simply not found, as in every scoped admin.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("No such object, or not one of your units'."))
        return obj

    @admin.display(description=_("units and roles"))
    def roles(self, obj):
        return "; ".join(f"{m.unit} · {m.get_role_display()}" for m in obj.memberships.all())

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Only a superuser makes superusers or gives permissions and groups beyond the roles (which follow the
        # memberships): an administrator cannot step outside the roles.
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions", "groups"]
        return fields

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        sync_user_groups(form.instance)
