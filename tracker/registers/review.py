"""Submitting and reviewing a unit's scheduling month, as figures are (tracker.services.review): a clerk of the
unit submits a draft or returned month; a reviewer of the unit approves or returns it with a reason, and may
reopen an approved month with a reason. The states are the figures' states, every step is written to the
history (action "transition") with who, when and why, and a submitted or approved month is read only: the
scheduling screen shows it without forms and `Sheet.save` refuses its rows.

A month covers the unit's sub-units too (the screen shows them): a county's rows are locked while the month
of the county or of a unit above it is submitted or approved.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.audit.models import Change
from tracker.registers.models import ScheduleMonth
from tracker.services.review import REVIEW_PERMISSION, ReviewError, clean_comment
from tracker.targets.models import ProgressEntry, Unit

State = ProgressEntry.State
ACTIONS = ("submit", "approve", "return", "reopen")
LOCKED = (State.SUBMITTED, State.APPROVED)
FIELDS = ["state", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at", "review_comment", "version"]


def month_of(unit, sheet, period):
    """The unit's month of the sheet's register (unsaved, a draft, when no step was taken yet)."""
    found = ScheduleMonth.objects.filter(unit=unit, register=sheet.register, year=period.year,
                                         month=period.month).select_related("submitted_by", "reviewed_by").first()
    return found or ScheduleMonth(unit=unit, register=sheet.register, year=period.year, month=period.month,
                                  version=0)


def locked_units(unit_ids, register, period):
    """Of `unit_ids`, those whose rows are read only for the month: their own month, or the month of a unit
    above them, is submitted or approved (one query, two when some month is)."""
    locked = set(ScheduleMonth.objects.filter(register=register, year=period.year, month=period.month,
                                              state__in=LOCKED).values_list("unit_id", flat=True))
    if not locked:
        return set()
    parents = dict(Unit.objects.values_list("pk", "parent_id"))
    found = set()
    for unit_id in unit_ids:
        seen, current = set(), unit_id
        while current is not None and current not in seen:
            if current in locked:
                found.add(unit_id)
                break
            seen.add(current)
            current = parents.get(current)
    return found


def may_edit(user, sheet, unit_id):
    return user.has_perms(sheet.edit_permissions) and scoping.can_edit_unit(user, unit_id)


def refusal(user, sheet, month, action, has_rows=True):
    """Why `user` may not apply `action` to the month now, in words for them; None when allowed."""
    label = str(month)
    if action == "submit":
        if not may_edit(user, sheet, month.unit_id):
            return _("You may not submit %(month)s (another unit's).") % {"month": label}
        if month.state not in (State.DRAFT, State.RETURNED):
            return _("%(month)s is %(state)s; only a draft or returned month can be submitted.") % {
                "month": label, "state": month.get_state_display()}
        if not has_rows:
            return _("%(month)s has nothing scheduled yet; save the month's rows before submitting.") % {
                "month": label}
        return None
    if not (user.has_perm(REVIEW_PERMISSION) and scoping.can_review_unit(user, month.unit_id)):
        return _("You may not review %(month)s (not a reviewer of its unit).") % {"month": label}
    if action == "approve" and month.submitted_by_id == user.pk and not settings.REVIEW_SELF_APPROVAL:
        return _("You submitted %(month)s yourself; another reviewer must approve it.") % {"month": label}
    if action in ("approve", "return") and month.state != State.SUBMITTED:
        return _("%(month)s is %(state)s; only a submitted month can be approved or returned.") % {
            "month": label, "state": month.get_state_display()}
    if action == "reopen" and month.state != State.APPROVED:
        return _("%(month)s is %(state)s; only an approved month can be reopened.") % {
            "month": label, "state": month.get_state_display()}
    return None


def allowed_actions(user, sheet, month, has_rows=True):
    return [action for action in ACTIONS if refusal(user, sheet, month, action, has_rows) is None]


def has_rows(sheet, unit_ids, period):
    """Whether any row of the units was scheduled for the month (one query)."""
    return sheet.update_model.objects.filter(**{f"{sheet.key}__in": sheet.subjects(unit_ids, period.year)},
                                             year=period.year, month=period.month).exists()


def transition(user, sheet, unit, period, action, comment="", base_version=None, unit_ids=()):
    """Move the unit's month of the sheet's register through the workflow; raises ReviewError with a message.

    `base_version`: the month's version the person was looking at (0: no step yet); a month moved by someone
    else since is refused. `unit_ids`: the unit's tree, to check a submitted month has rows.
    """
    if action not in ACTIONS:
        raise ReviewError(_("Unknown step."))
    comment = clean_comment(action, comment)
    now = timezone.now()
    try:
        with transaction.atomic():
            month, _created = ScheduleMonth.objects.select_for_update().get_or_create(
                unit=unit, register=sheet.register, year=period.year, month=period.month)
            stored = 0 if _created else month.version
            if base_version is not None and stored != base_version:
                raise ReviewError(_("%(month)s was moved by someone else meanwhile (now %(state)s); reload and "
                                    "check it again.") % {"month": month, "state": month.get_state_display()})
            rows = action != "submit" or has_rows(sheet, unit_ids or [unit.pk], period)
            problem = refusal(user, sheet, month, action, rows)
            if problem:
                raise ReviewError(problem)
            before = audit.snapshot(month) if not _created else {}
            if action == "submit":
                month.state, month.submitted_by, month.submitted_at = State.SUBMITTED, user, now
            else:
                month.state = {"approve": State.APPROVED, "return": State.RETURNED, "reopen": State.RETURNED}[action]
                month.reviewed_by, month.reviewed_at, month.review_comment = user, now, comment
            month.version = stored + 1
            month.save(update_fields=FIELDS)
            audit.record(month, user, "schedule_screen", before=before, action=Change.Action.TRANSITION,
                         reason=comment)
    except IntegrityError:
        raise ReviewError(_("Someone took a step on this month meanwhile; reload and try again.")) from None
    return month


def steps(month):
    """The month's history of steps, oldest first (one query)."""
    if month.pk is None:
        return []
    return list(Change.objects.filter(model=month._meta.label_lower, object_id=str(month.pk),
                                      action=Change.Action.TRANSITION).select_related("user").order_by("at", "pk"))
