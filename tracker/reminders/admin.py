from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker.accounts import scoping
from tracker.adminkit.filters import DateHierarchyChangeList
from tracker.reminders import recovery
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery
from tracker.targets.models import ReportingPolicy

ATTENTION_LABELS = {
    "stuck": _("Stuck"),
    "failed": _("Failed recently"),
    "many_attempts": _("Retried often"),
}


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Emails stuck (their send was interrupted, or nobody took them), failed, or retried often (see recovery)."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("any", _("Any reason")), *ATTENTION_LABELS.items()]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.filter(recovery.needs_attention(timezone.now()))
        if value in recovery.REASONS:
            return queryset.filter(recovery.needs_attention(timezone.now(), value))
        return queryset  # no choice, or an unknown one from a hand-made URL: everything


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
                    "attention", "error_short")
    list_filter = (NeedsAttentionFilter, "status", "kind", "period")
    search_fields = ("recipient", "user__username", "period", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    actions = ("retry_now",)
    readonly_fields = [f.name for f in Reminder._meta.fields]
    fieldsets = (
        (None, {"fields": ("user", "recipient", "language", "kind", "period", "day", "as_of", "targets")}),
        (_("Delivery"), {"fields": ("status", "attempts", "next_attempt_at", "lease_until", "message_id", "error",
                                    "created_at", "sent_at")}),
        (_("Content"), {"fields": ("subject", "body_text", "body_html")}),
    )

    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList

    def get_queryset(self, request):
        # Reminders name people and their work: administrators see all, everyone else their own.
        qs = recovery.with_attention(super().get_queryset(request), timezone.now())
        return qs if scoping.is_admin(request.user) else qs.filter(user=request.user)

    @admin.display(description=_("targets"))
    def target_codes(self, obj):
        return ", ".join(obj.targets)

    @admin.display(description=_("needs attention"))
    def attention(self, obj):
        return ", ".join(str(label) for name, label in ATTENTION_LABELS.items() if getattr(obj, f"attention_{name}"))

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
        # Attempts restart so the resend gets a full set of retries. A "sending" row whose lease ran out had
        # its worker die mid-send (the sweep also takes those back by itself); one under a live lease is being
        # sent right now and is left alone.
        resendable = Q(status=Reminder.Status.FAILED) | recovery.lease_expired(timezone.now())
        count = queryset.filter(resendable).exclude(subject="").update(
            status=Reminder.Status.RETRY, attempts=0, next_attempt_at=timezone.now(), lease_until=None
        )
        self.message_user(request, ngettext(
            "%(count)s email will be sent again at the next sweep.",
            "%(count)s emails will be sent again at the next sweep.", count) % {"count": count})


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("kind", "unit", "user", "active", "created_at")
    list_filter = ("kind", "active")
    raw_id_fields = ("unit", "user")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("webhook", "title", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status",)
    list_select_related = ("webhook__unit", "webhook__user")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
