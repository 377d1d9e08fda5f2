"""The review workflow: draft → submitted → approved, or returned with a comment.

Approved entries are locked (`save_entries` refuses them); `reopen` by a
reviewer, with a reason, is the only way to unlock one. Every transition is
written to the history with who, when and why (action "transition").
A clerk (or anyone who may edit the unit) submits; reviewers of the unit and
administrators approve, return and reopen; leaders only read.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.accounts import roles, scoping
from tracker.audit import service as audit
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry, plan_refusal
from tracker.targets.numbers import plain_number
from tracker.targets.policies import Policies

State = ProgressEntry.State
REVIEW_PERMISSION = roles.REVIEW_PERMISSION
# Fields a transition writes; `version` is left alone so a clerk's open form
# stays valid (the lock, not the version, stops edits of approved entries).
TRANSITION_FIELDS = ["state", "submitted_by", "submitted_at", "is_late", "reviewed_by", "reviewed_at",
                     "review_comment", "updated_at", "approved_at", "approved_value", "approved_comparator",
                     "approved_is_done"]


class ReviewError(Exception):
    """A transition that is not allowed; the message is for the user."""


@dataclass
class BulkResult:
    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (entry, message)


def deadline(entry, policies=None):
    """The reporting deadline for the entry's month, from the reporting policies.

    Pass one `Policies` to judge many entries without loading the policies again.
    """
    return (policies or Policies()).due_date(entry.target, entry.year, entry.month)


def is_late(entry, when, policies=None):
    return timezone.localdate(when) > deadline(entry, policies)


def can_submit(user, entry):
    return user.has_perm("targets.change_progressentry") and scoping.can_edit_unit(user, entry.target.lead_unit_id)


def can_review(user, entry):
    return user.has_perm(REVIEW_PERMISSION) and scoping.can_review_unit(user, entry.target.lead_unit_id)


def _is_empty(entry):
    return entry.value is None and not entry.is_done and not entry.note.strip()


def _period(entry):
    return f"{entry.target.code} {entry.year}-{entry.month:02d}"


def refusal(user, entry, action):
    """Why `user` may not apply `action` to the entry now, in words for them; None when allowed.

    The one rule book: the review page says it beside the missing button, transitions refuse with it.
    """
    p = _period(entry)
    closed = plan_refusal(entry.target.plan)
    if closed:
        return closed
    if action == "submit":
        if not can_submit(user, entry):
            return _("You may not submit %(entry)s (another unit's entry).") % {"entry": p}
        if entry.state not in (State.DRAFT, State.RETURNED):
            return _("%(entry)s is %(state)s; only a draft or returned entry can be submitted.") % {
                "entry": p, "state": entry.get_state_display()}
        if _is_empty(entry):
            return _("%(entry)s has no figure or progress note yet; enter one before submitting.") % {"entry": p}
        return None
    if not can_review(user, entry):
        return _("You may not review %(entry)s (not a reviewer of its unit).") % {"entry": p}
    if action == "approve" and entry.submitted_by_id == user.pk and not settings.REVIEW_SELF_APPROVAL:
        # Four eyes: whoever submitted a figure does not approve it too.
        return _("You submitted %(entry)s yourself; another reviewer must approve it.") % {"entry": p}
    if action in ("approve", "return") and entry.state != State.SUBMITTED:
        return _("%(entry)s is %(state)s; only a submitted entry can be approved or returned.") % {
            "entry": p, "state": entry.get_state_display()}
    if action == "reopen" and entry.state != State.APPROVED:
        return _("%(entry)s is %(state)s; only an approved entry can be reopened.") % {
            "entry": p, "state": entry.get_state_display()}
    return None


ACTIONS = ("submit", "approve", "return", "reopen")


def allowed_actions(user, entry):
    """The transitions this user may apply to the entry now (for buttons and links)."""
    return [action for action in ACTIONS if refusal(user, entry, action) is None]


def _apply(user, entry, action, comment, now, policies=None):
    if action == "submit":
        if entry.submitted_at is None:
            # Lateness is judged on the first submission: a resubmission after
            # a reviewer's return does not make an on-time entry late.
            entry.is_late = is_late(entry, now, policies)
        entry.state, entry.submitted_by, entry.submitted_at = State.SUBMITTED, user, now
    else:
        entry.state = {"approve": State.APPROVED, "return": State.RETURNED, "reopen": State.RETURNED}[action]
        entry.reviewed_by, entry.reviewed_at, entry.review_comment = user, now, comment
        if action == "approve":
            # What reports keep showing while a later correction is pending.
            entry.approved_at, entry.approved_value = now, entry.value
            entry.approved_comparator, entry.approved_is_done = entry.comparator, entry.is_done
    entry.updated_at = now


def clean_comment(action, comment):
    """The comment stripped; refused when a return or reopen has none, or when it holds a NUL
    (typed by no one, and PostgreSQL cannot store it)."""
    comment = (comment or "").strip()
    if action in ("return", "reopen") and not comment:
        raise ReviewError(_("Give a reason: the clerk sees it with the returned entry."))
    if "\x00" in comment:
        raise ReviewError(_("The comment contains a null character; remove it and try again."))
    return comment


def _locked(queryset):
    return queryset.select_for_update(of=("self",)).select_related("target__plan")


def transition(user, entry, action, comment="", source="admin", base_version=None):
    """Move one entry through the workflow. Raises ReviewError with a readable message.

    `base_version`: the version the reviewer was looking at; approving a
    figure that was changed since is refused.
    """
    comment = clean_comment(action, comment)
    now = timezone.now()
    with transaction.atomic():
        entry = _locked(ProgressEntry.objects.filter(pk=entry.pk)).first()
        if entry is None or not scoping.visible_entries(user).filter(pk=entry.pk).exists():
            raise ReviewError(_("This entry does not exist or is not yours to see."))
        problem = refusal(user, entry, action)
        if problem:
            raise ReviewError(problem)
        if base_version is not None and entry.version != base_version:
            who = entry.entered_by.get_username() if entry.entered_by_id else "?"
            raise ReviewError(_("%(entry)s was changed by %(who)s meanwhile (now %(value)s); reload and check "
                                "it again.") % {"entry": _period(entry), "who": who,
                                                "value": plain_number(entry.value) or "—"})
        before = audit.snapshot(entry)
        _apply(user, entry, action, comment, now)
        entry.save(update_fields=TRANSITION_FIELDS)
        audit.record(entry, user, source, before=before, action=Change.Action.TRANSITION, reason=comment)
    return entry


def submit(user, entry, source="admin"):
    return transition(user, entry, "submit", source=source)


def approve(user, entry, comment="", source="admin", base_version=None):
    return transition(user, entry, "approve", comment, source, base_version)


def reopen(user, entry, reason, source="admin"):
    return transition(user, entry, "reopen", reason, source)


def bulk_transition(user, queryset, action, comment="", source="admin action", seen_versions=None):
    """Apply `action` to every entry of the queryset the user may act on; the rest are skipped with a reason.

    `seen_versions` ({entry id: version} as the list showed them): an entry changed since is skipped,
    so a bulk approval never approves a figure the reviewer did not see.
    A fixed number of queries however many entries are selected.
    """
    comment = clean_comment(action, comment)
    result = BulkResult()
    now = timezone.now()
    with transaction.atomic():
        entries = list(_locked(scoping.visible_entries(user, queryset)).order_by("pk"))
        changed, history = [], []
        policies = Policies() if action == "submit" else None
        for entry in entries:
            problem = refusal(user, entry, action)
            seen = (seen_versions or {}).get(entry.pk)
            if problem is None and seen is not None and seen != entry.version:
                problem = _("%(entry)s was changed since the list was shown (now %(value)s); check it again.") % {
                    "entry": _period(entry), "value": plain_number(entry.value) or "—"}
            if problem:
                result.skipped.append((entry, problem))
                continue
            before = audit.snapshot(entry)
            _apply(user, entry, action, comment, now, policies)
            changed.append(entry)
            history.append((entry, user, source, before, Change.Action.TRANSITION, comment))
        ProgressEntry.objects.bulk_update(changed, TRANSITION_FIELDS, batch_size=500)
        audit.record_many(history)
        result.done = changed
    return result
