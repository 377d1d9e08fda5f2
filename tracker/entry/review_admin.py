"""The review workflow in the entry admin: a review page per entry and bulk actions.

All transitions go through tracker.services.review, which checks rights
(reviewers only for their units), states and writes the history.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tracker.accounts import scoping
from tracker.audit.history import describe
from tracker.audit.models import Change
from tracker.entry.views import figure_text
from tracker.services import review
from tracker.targets import checks
from tracker.targets.models import ProgressEntry, Target
from tracker.targets.numbers import plain_number
from tracker.targets.status import assess_period

# Skipped entries named one by one, at most this many (then "and N more").
MAX_SKIPPED_SHOWN = 10

ACTION_LABELS = {
    "submit": gettext_lazy("Submit for review"),
    "approve": gettext_lazy("Approve"),
    "return": gettext_lazy("Return to the clerk"),
    "reopen": gettext_lazy("Reopen for correction"),
}


def done_message(action, count):
    texts = {
        "submit": ngettext("%(count)d entry submitted for review.", "%(count)d entries submitted for review.", count),
        "approve": ngettext("%(count)d entry approved and locked.", "%(count)d entries approved and locked.", count),
        "return": ngettext("%(count)d entry returned to the clerk.", "%(count)d entries returned to the clerk.",
                           count),
        "reopen": ngettext("%(count)d entry reopened.", "%(count)d entries reopened.", count),
    }
    return texts[action] % {"count": count}


def seen_versions(request):
    """{entry id: version} of the rows the list showed (hidden inputs next to each value)."""
    seen = {}
    for key, value in request.POST.items():
        if key.startswith(SEEN_PREFIX):
            try:
                seen[int(key[len(SEEN_PREFIX):])] = int(value)
            except ValueError:
                continue  # a tampered field: that row is then checked like any unseen one
    return seen


SEEN_PREFIX = "seen_version_"


class ReviewAdminMixin:
    """For ProgressEntryAdmin: review page (<id>/review/) and admin actions."""

    review_template = "admin/targets/progressentry/review.html"
    reason_template = "admin/targets/progressentry/review_reason.html"
    actions = ["submit_selected", "approve_selected", "return_selected", "reopen_selected"]

    def has_review_permission(self, request, obj=None):
        if not request.user.has_perm(review.REVIEW_PERMISSION):
            return False
        return obj is None or review.can_review(request.user, obj)

    @admin.display(description=gettext_lazy("review"))
    def review_link(self, obj):
        url = reverse("admin:targets_progressentry_review", args=[obj.pk], current_app=self.admin_site.name)
        return format_html('<a href="{}" class="review-link">{}</a>', url, _("Review"))

    # --- bulk actions --------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Submit selected entries for review"), permissions=["change"])
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description=gettext_lazy("Approve selected entries (locks them)"), permissions=["review"])
    def approve_selected(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description=gettext_lazy("Return selected entries with a comment…"), permissions=["review"])
    def return_selected(self, request, queryset):
        return self._bulk_with_reason(request, queryset, "return")

    @admin.action(description=gettext_lazy("Reopen selected approved entries with a reason…"),
                  permissions=["review"])
    def reopen_selected(self, request, queryset):
        return self._bulk_with_reason(request, queryset, "reopen")

    def _bulk(self, request, queryset, action, comment=""):
        try:
            result = review.bulk_transition(request.user, queryset, action, comment, source="admin action",
                                            seen_versions=seen_versions(request))
        except review.ReviewError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        if result.done:
            self.message_user(request, done_message(action, len(result.done)), messages.SUCCESS)
        for _entry, message in result.skipped[:MAX_SKIPPED_SHOWN]:
            self.message_user(request, message, messages.WARNING)
        hidden = len(result.skipped) - MAX_SKIPPED_SHOWN
        if hidden > 0:
            self.message_user(request, ngettext("… and %(count)d more entry skipped.",
                                                "… and %(count)d more entries skipped.", hidden) % {"count": hidden},
                              messages.WARNING)

    def _bulk_with_reason(self, request, queryset, action):
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") and reason:
            self._bulk(request, queryset, action, reason)
            return None  # back to the list
        entries = list(queryset.select_related("target__plan"))
        context = {
            **self.admin_site.each_context(request),
            "title": ACTION_LABELS[action],
            "opts": self.opts,
            "entries": entries,
            "action": action,
            "action_name": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "missing_reason": bool(request.POST.get("confirm")),
            "select_across": request.POST.get("select_across", "0"),
            "index": request.POST.get("index", "0"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.reason_template, context)

    # --- one entry -----------------------------------------------------------------------------

    def get_urls(self):
        return [
            path("<path:object_id>/review/", self.admin_site.admin_view(self.review_view),
                 name="targets_progressentry_review"),
            *super().get_urls(),
        ]

    def _review_entry(self, request, object_id):
        """The entry with what the page shows of it, in one query; another unit's entry is a 404."""
        try:
            pk = self.opts.pk.to_python(unquote(object_id))
        except (ValidationError, ValueError, TypeError):
            pk = None
        entry = None
        if pk is not None:
            entry = (self.get_queryset(request)
                     .select_related("target__lead_unit", "target__plan", "entered_by", "submitted_by", "reviewed_by")
                     .filter(pk=pk).first())
        if entry is None:
            raise Http404(_("No such object, or not one of your units'."))
        return entry

    def review_view(self, request, object_id):
        entry = self._review_entry(request, object_id)
        if not self.has_view_or_change_permission(request, entry):
            raise PermissionDenied
        if request.method == "POST":
            action = request.POST.get("action", "")
            if action not in review.ACTIONS:
                raise PermissionDenied
            version = request.POST.get("version", "")
            try:
                review.transition(
                    request.user, entry, action, request.POST.get("comment", ""), source="admin",
                    base_version=int(version) if version.isdecimal() and action == "approve" else None,
                )
            except review.ReviewError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(request, done_message(action, 1), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:targets_progressentry_review", args=[entry.pk],
                                                current_app=self.admin_site.name))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review: %(entry)s") % {"entry": entry},
            "opts": self.opts,
            "original": entry,
            **review_context(request.user, entry),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.review_template, context)


def review_context(user, entry, today=None):
    """What a reviewer needs to judge one figure, in a fixed number of queries."""
    target = entry.target
    previous = (ProgressEntry.objects.filter(target_id=entry.target_id, year=entry.year, month__lt=entry.month)
                .order_by("-month").first())
    if previous is not None:
        previous.target = target
    # The status this figure gives the target: the report's own engine, for this one target and month.
    assessment = assess_period(Target.objects.filter(pk=entry.target_id), entry.year, entry.month, today).get(
        entry.target_id)
    due = review.deadline(entry)
    today = today or timezone.localdate()
    waiting = entry.state in (ProgressEntry.State.DRAFT, ProgressEntry.State.RETURNED)
    allowed = review.allowed_actions(user, entry)
    refusals = []
    if (entry.state == ProgressEntry.State.RETURNED and "submit" in allowed
            and scoping.can_review_unit(user, target.lead_unit_id)):
        # A returned figure waits for the clerk's correction: the reviewer is not offered to submit it.
        allowed.remove("submit")
        refusals.append(_("Returned for correction: the clerk corrects it and submits it again."))
    if "approve" not in allowed and entry.state != ProgressEntry.State.APPROVED:
        refusals.append(review.refusal(user, entry, "approve"))
    if waiting and "submit" not in allowed and review.can_submit(user, entry):
        refusals.append(review.refusal(user, entry, "submit"))
    return {
        "entry": entry,
        "target": target,
        "unit": target.lead_unit,
        "target_text": plain_number(target.target_value),
        "value_text": figure_text(target, entry) or "—",
        "previous": previous,
        "previous_text": figure_text(target, previous) or "—",
        "assessment": assessment,
        "warnings": [checks.word(w) for w in entry.warnings or []],
        "evidence_name": entry.evidence.name.rsplit("/", 1)[-1] if entry.evidence else "",
        "deadline": due,
        "overdue": entry.submitted_at is None and waiting and today > due,
        "buttons": [(a, ACTION_LABELS[a]) for a in allowed],
        "needs_comment": [a for a in allowed if a in ("return", "reopen")],
        "refusals": refusals,
        "history": describe(entry_history(entry)[:20]),
    }


def entry_history(entry):
    return (Change.objects.filter(model=entry._meta.label_lower, object_id=str(entry.pk))
            .select_related("user").order_by("-at", "-pk"))
