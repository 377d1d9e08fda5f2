import urllib.parse

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker.accounts import scoping
from tracker.adminkit.base import OwnRowsMixin
from tracker.adminkit.filters import DateHierarchyChangeList
from tracker.reminders import recovery
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery
from tracker.targets.models import ReportingPolicy
from tracker.targets.period import Period

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


def period_label(key):
    """2022年1—6月 like every other screen, not the stored key 2022-06 (a key that is not a period as stored)."""
    try:
        return Period.parse(key).label
    except ValueError:
        return key


class PeriodFilter(admin.SimpleListFilter):
    """The reminders' months, named as everywhere else, newest first (Django's own filter shows 2022-06)."""

    title = Reminder._meta.get_field("period").verbose_name
    parameter_name = "period"

    def lookups(self, request, model_admin):
        keys = model_admin.get_queryset(request).order_by("-period").values_list("period", flat=True).distinct()
        return [(key, period_label(key)) for key in keys]

    def queryset(self, request, queryset):
        return queryset.filter(period=self.value()) if self.value() else queryset


@admin.register(ReportingPolicy)
class ReportingPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "due_working_day", "remind_days_before", "escalate_after_days", "overdue_cap_days")
    list_select_related = ("unit", "target")
    fieldsets = (
        (None, {"fields": ("unit", "target")}),
        (_("Deadline"), {"fields": ("due_working_day",)}),
        (_("Reminders"), {"fields": ("remind_days_before", "escalate_after_days", "overdue_cap_days")}),
    )

    def get_queryset(self, request):
        return scoping.visible_policies(request.user, super().get_queryset(request))

    # A unit's or a target's policy is changed by the administrators of its organisation; the default one binds
    # every organisation (shared: see scoping.can_edit_shared). Others may look.
    def has_add_permission(self, request):
        return scoping.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return scoping.is_admin(request.user) and (obj is None or scoping.administers_policy(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.unit_id and not obj.target_id:
            return False  # the default stays; edit it instead
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scoping.administered_units(request.user)
        elif db_field.name == "target":
            kwargs["queryset"] = scoping.visible_targets(
                request.user).filter(plan__in=scoping.administered_plans(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "shown_period", "day", "target_codes", "status", "attempts",
                    "attention", "error_short")
    list_filter = (NeedsAttentionFilter, "status", "kind", PeriodFilter)
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
        # Reminders name people and their work: administrators see those of the people they administer,
        # everyone else their own.
        qs = recovery.with_attention(super().get_queryset(request), timezone.now())
        return scoping.administered_people(request.user, qs)

    @admin.display(description=Reminder._meta.get_field("period").verbose_name, ordering="period")
    def shown_period(self, obj):
        return period_label(obj.period)

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
        count = queryset.filter(resendable).exclude(subject="").exclude(recipient="").update(
            status=Reminder.Status.RETRY, attempts=0, next_attempt_at=timezone.now(), lease_until=None
        )
        self.message_user(request, ngettext(
            "%(count)s email will be sent again at the next sweep.",
            "%(count)s emails will be sent again at the next sweep.", count) % {"count": count})


class WebhookForm(forms.ModelForm):
    """The signing secret is typed in, stored encrypted and never shown again: empty keeps the stored one."""

    new_secret = forms.CharField(
        label=_("signing secret"), required=False, max_length=200, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("DingTalk robots with signing on (SEC…); empty for WeCom. Stored encrypted and never shown "
                    "again: leave empty to keep the stored one."))
    clear_secret = forms.BooleanField(label=_("remove the stored signing secret"), required=False)

    class Meta:
        model = Webhook
        fields = ["user", "unit", "name", "kind", "url", "active"]

    def clean(self):
        data = super().clean()
        new, kind = data.get("new_secret"), data.get("kind")
        if new and kind == Webhook.Kind.WECOM:
            self.add_error("new_secret", _("WeCom group robots have no signing secret; leave it empty."))
        if new and data.get("clear_secret"):
            self.add_error("clear_secret", _("Either enter a new secret or remove the stored one, not both."))
        if "user" in self.fields and "unit" in self.fields and bool(data.get("user")) == bool(data.get("unit")):
            raise forms.ValidationError(_("A robot belongs either to a unit or to a person: choose one."))
        return data

    def save(self, commit=True):
        robot = super().save(commit=False)
        if self.cleaned_data.get("clear_secret"):
            robot.secret = ""
        elif self.cleaned_data.get("new_secret"):
            robot.secret = self.cleaned_data["new_secret"]  # encrypted by Webhook.save
        if commit:
            robot.save()
        return robot


def _masked(url):
    """The address without its key or token (the address itself lets anyone post to the group)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "…" if parts.query else "", ""))


@admin.register(Webhook)
class WebhookAdmin(OwnRowsMixin, admin.ModelAdmin):
    """Group robots: anyone signed in adds and manages their own; administrators every person's and unit's."""

    form = WebhookForm
    list_display = ("__str__", "kind", "unit", "user", "address", "has_secret", "active", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("name", "user__username", "unit__code", "unit__name")
    list_select_related = ("unit", "user")
    raw_id_fields = ("unit", "user")

    def get_queryset(self, request):
        # The robots of the people this person administers (OwnRowsMixin), and those of the units they administer.
        qs = super().get_queryset(request)
        if scoping.sees_all(request.user) or not scoping.is_admin(request.user):
            return qs
        return qs | Webhook.objects.filter(unit__in=scoping.administered_units(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit":
            kwargs["queryset"] = scoping.administered_units(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        fields = ["name", "kind", "url", "new_secret"] + (["clear_secret"] if obj and obj.secret else []) + ["active"]
        return fields if self._own_only(request) else ["user", "unit", *fields]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["fields"] = [f for f in self.get_fields(request, obj) if f in WebhookForm.Meta.fields]
        return super().get_form(request, obj, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if self._own_only(request):
            obj.user, obj.unit = request.user, None
        super().save_model(request, obj, form, change)

    @admin.display(description=_("webhook address"))
    def address(self, obj):
        return _masked(obj.url)

    @admin.display(description=_("signing secret"), boolean=True)
    def has_secret(self, obj):
        return bool(obj.secret)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Robot messages, like the reminder emails: administrators see all, everyone else those to their robots."""

    list_display = ("created_at", "webhook", "title", "status", "attempts", "attention", "error_short", "sent_at")
    list_filter = (NeedsAttentionFilter, "status", "webhook__kind")
    list_select_related = ("webhook__unit", "webhook__user")
    date_hierarchy = "created_at"
    actions = ("retry_now",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList

    def get_queryset(self, request):
        qs = recovery.with_attention(super().get_queryset(request), timezone.now())
        if scoping.sees_all(request.user):
            return qs
        mine = Q(webhook__user=request.user) | Q(reminder__user=request.user)
        if scoping.is_admin(request.user):
            robots = WebhookAdmin(Webhook, self.admin_site).get_queryset(request)
            mine |= Q(webhook__in=robots) | Q(reminder__in=scoping.administered_people(
                request.user, Reminder.objects.all()))
        return qs.filter(mine)

    attention = ReminderAdmin.attention
    error_short = ReminderAdmin.error_short

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        own = obj is None or request.user.pk in (obj.webhook.user_id, obj.reminder.user_id)
        return own or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed or stuck robot messages again at the next sweep"))
    def retry_now(self, request, queryset):
        if not scoping.is_admin(request.user):
            self.message_user(request, _("Only administrators can resend reminders."), messages.ERROR)
            return
        resendable = Q(status=Reminder.Status.FAILED) | recovery.lease_expired(timezone.now())
        count = queryset.filter(resendable).update(
            status=Reminder.Status.RETRY, attempts=0, next_attempt_at=timezone.now(), lease_until=None)
        self.message_user(request, ngettext(
            "%(count)s robot message will be sent again at the next sweep.",
            "%(count)s robot messages will be sent again at the next sweep.", count) % {"count": count})
