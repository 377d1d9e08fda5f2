"""The review workflow in the entry admin: a review page per entry and bulk actions.

All transitions go through tracker.targets.review, which checks rights
(reviewers only for their units), states and writes the history.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tracker.audit.history import describe
from tracker.targets import review
from tracker.targets.forms import plain_number

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
        entries = list(queryset.select_related("target"))
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

    def review_view(self, request, object_id):
        entry = self.get_object(request, unquote(object_id))  # scoped: another unit's entry is a 404
        if entry is None or not self.has_view_or_change_permission(request, entry):
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
        allowed = review.allowed_actions(request.user, entry)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review: %(entry)s") % {"entry": entry},
            "opts": self.opts,
            "original": entry,
            "entry": entry,
            "deadline": review.deadline(entry),
            "value_text": plain_number(entry.value) or "—",
            "comparator_text": plain_number(entry.comparator),
            "buttons": [(a, ACTION_LABELS[a]) for a in allowed],
            "needs_comment": [a for a in allowed if a in ("return", "reopen")],
            "history": describe(entry_history(entry)[:20]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.review_template, context)


def entry_history(entry):
    from tracker.audit.models import Change

    return (Change.objects.filter(model=entry._meta.label_lower, object_id=str(entry.pk))
            .select_related("user").order_by("-at", "-pk"))
