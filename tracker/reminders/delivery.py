"""Sending one claimed reminder, at most once.

`deliver(reminder_id, attempt)` takes the row with a compare-and-set update
(pending or retry, with `attempt - 1` attempts so far → sending), so a task
delivered twice or a sweep handing over the same retry sends nothing twice.
A temporary SMTP failure schedules a retry with exponential backoff (the
sweep, or the worker, picks it up); a refused address or any other error is
recorded as failed. Nothing here raises.
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tracker.reminders import emails
from tracker.reminders.models import Reminder
from tracker.targets.models import ProgressEntry
from tracker.targets.policies import submitted_by

logger = logging.getLogger(__name__)

Status = Reminder.Status
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600
# Emails that chase missing figures; they are skipped when everything came in since the claim.
CHASE_KINDS = {Reminder.Kind.DUE_SOON, Reminder.Kind.DUE_TODAY, Reminder.Kind.OVERDUE, Reminder.Kind.ESCALATION}


def retry_delay(attempt):
    """Wait after failed attempt number `attempt`: 1, 2, 4, 8 ... minutes, at most an hour."""
    return datetime.timedelta(seconds=min(BACKOFF_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS))


def _permanent(exc):
    """A failure that retrying cannot fix: a refused address or a 5xx answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _transient(exc):
    return isinstance(exc, (smtplib.SMTPException, OSError)) and not _permanent(exc)


def _still_missing(reminder):
    """Whether any figure the email chases is still not submitted (they may have come in since the claim)."""
    wanted = {(i["target"], i["period"]) for i in reminder.items}
    if not wanted:
        return True
    done = Q()
    for target_id, period in wanted:
        year, month = period.split("-")
        done |= Q(target_id=target_id, year=int(year), month=int(month))
    # As of the day the sweep ran as, so a run for a past date (the command's --date) is not skipped.
    submitted = ProgressEntry.objects.filter(done, submitted_by(reminder.as_of or timezone.localdate())).count()
    return submitted < len(wanted)


def _finish(reminder_id, attempt, **fields):
    Reminder.objects.filter(pk=reminder_id, status=Status.SENDING, attempts=attempt).update(**fields)
    return fields["status"]


def deliver(reminder_id, attempt):
    """Send a claimed reminder; returns the new status, or None if someone else has it."""
    with translation.override(settings.LANGUAGE_CODE):  # errors are recorded in the site's language
        return _deliver(reminder_id, attempt)


def _deliver(reminder_id, attempt):
    taken = Reminder.objects.filter(
        pk=reminder_id, status__in=(Status.PENDING, Status.RETRY), attempts=attempt - 1
    ).update(status=Status.SENDING, attempts=attempt, next_attempt_at=None)
    if not taken:
        return None
    reminder = Reminder.objects.get(pk=reminder_id)
    try:
        if reminder.kind in CHASE_KINDS and not _still_missing(reminder):
            return _finish(reminder_id, attempt, status=Status.SKIPPED,
                           error=_("All figures were submitted before the email went out."))
        emails.build_message(reminder.subject, reminder.body_text, reminder.body_html, reminder.recipient).send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if _transient(exc) and attempt < MAX_ATTEMPTS:
            logger.warning("Reminder %s to %s failed (attempt %s), will retry: %s",
                           reminder_id, reminder.recipient, attempt, error)
            return _finish(reminder_id, attempt, status=Status.RETRY, error=error,
                           next_attempt_at=timezone.now() + retry_delay(attempt))
        logger.error("Reminder %s to %s failed for good: %s", reminder_id, reminder.recipient, error)
        return _finish(reminder_id, attempt, status=Status.FAILED, error=error)
    return _finish(reminder_id, attempt, status=Status.SENT, sent_at=timezone.now(), error="")
