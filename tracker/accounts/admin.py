"""Admin for people's unit memberships (roles) and their settings; scoped like every other list."""

from django.contrib import admin

from tracker.accounts import scoping
from tracker.accounts.models import LoginFailure, Membership, Profile
from tracker.targets.admin import ScopedAdmin


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


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Throttling records: read and delete (to unlock someone early), never edit."""

    list_display = ["username", "ip", "failures", "last_failed_at", "locked_until"]
    search_fields = ["username", "ip"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
