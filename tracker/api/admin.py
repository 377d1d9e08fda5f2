"""API tokens in the admin: anyone signed in creates, sees and revokes their own; administrators everyone's.

The key is shown once, in the message after creation; only its prefix and SHA-256 hash are stored.
"""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.adminkit.base import OwnRowsMixin
from tracker.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(OwnRowsMixin, admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "read_only", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("read_only",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def get_fields(self, request, obj=None):
        fields = ["name", "read_only", "expires_at"]
        if not self._own_only(request):
            fields.insert(0, "user")
        return fields + (["prefix", "created_at", "last_used_at", "revoked_at"] if obj else [])

    def get_readonly_fields(self, request, obj=None):
        # A token's owner and rights are fixed once it exists: revoke it and make another.
        return self.readonly_fields + (("user", "read_only") if obj else ())

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the history of who used which token stays readable

    def save_model(self, request, obj, form, change):
        if not change:
            if self._own_only(request) or not obj.user_id:
                obj.user = request.user
            key = obj.set_new_key()
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(request, _("The key of %(name)s is %(key)s — copy it now: it is not shown again.") % {
                "name": obj.name, "key": key})

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": count})
