from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker.accounts import scoping
from tracker.ops.filters import DateHierarchyChangeList
from tracker.reminders.models import Reminder, ReportingPolicy


@admin.register(ReportingPolicy)
class ReportingPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "due_working_day", "remind_days_before", "escalate_after_days", "overdue_cap_days")
    list_select_related = ("unit", "target")
    fieldsets = (
        (None, {"fields": ("unit", "target")}),
        (_("Deadline"), {"fields": ("due_working_day",)}),
        (_("Reminders"), {"fields": ("remind_days_before", "escalate_after_days", "overdue_cap_days")}),
    )

    # The policy binds every unit: only administrators change it; others may look.
    def has_add_permission(self, request):
        return scoping.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return scoping.is_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.unit_id and not obj.target_id:
            return False  # the default stays; edit it instead
        return scoping.is_admin(request.user)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "period", "day", "target_codes", "status", "attempts",
                    "error_short")
    list_filter = ("status", "kind", "period")
    search_fields = ("recipient", "user__username", "period", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    actions = ("retry_now",)
    readonly_fields = [f.name for f in Reminder._meta.fields]
    fieldsets = (
        (None, {"fields": ("user", "recipient", "language", "kind", "period", "day", "as_of", "targets")}),
        (_("Delivery"), {"fields": ("status", "attempts", "next_attempt_at", "error", "created_at", "sent_at")}),
        (_("Content"), {"fields": ("subject", "body_text", "body_html")}),
    )

    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList

    def get_queryset(self, request):
        # Reminders name people and their work: administrators see all, everyone else their own.
        qs = super().get_queryset(request)
        return qs if scoping.is_admin(request.user) else qs.filter(user=request.user)

    @admin.display(description=_("targets"))
    def target_codes(self, obj):
        return ", ".join(obj.targets)

    @admin.display(description=_("error"))
    def error_short(self, obj):
        return obj.error[:80]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed or stuck emails again at the next sweep"))
    def retry_now(self, request, queryset):
        if not scoping.is_admin(request.user):
            self.message_user(request, _("Only administrators can resend reminders."), messages.ERROR)
            return
        # Attempts restart so the resend gets a full set of retries. "Sending" rows are stuck when a
        # worker died mid-send: whether that email left is unknown, so resending is the admin's call.
        count = queryset.filter(status__in=(Reminder.Status.FAILED, Reminder.Status.SENDING)).exclude(
            subject="").update(
            status=Reminder.Status.RETRY, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(request, ngettext(
            "%(count)s email will be sent again at the next sweep.",
            "%(count)s emails will be sent again at the next sweep.", count) % {"count": count})
