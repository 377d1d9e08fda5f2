"""Sending one claimed reminder, at most once per attempt.

`deliver(reminder_id, attempt)` takes the row with a compare-and-set update
on (status, attempts, lease) and holds it under a lease
(REMINDER_SEND_LEASE_SECONDS). It takes:

- a row waiting (pending or retry) with `attempt - 1` attempts so far: the
  normal case;
- a row still `sending` whose lease has run out, at attempt `attempt - 1`
  (the sweep handing over an interrupted send) or `attempt` (Celery
  redelivering the task whose worker died): whichever comes first takes it as
  the next attempt, the other finds it taken.

A row being sent under a live lease, or already finished, is left alone, so a
duplicated or redelivered task sends nothing. Every attempt carries the
row's Message-ID.

The outcome of an attempt: a 4xx answer at any stage of the SMTP
conversation (connect, HELO/EHLO, MAIL, RCPT, DATA), a dropped or refused
connection or a timeout is temporary: retried with exponential backoff, up to
MAX_ATTEMPTS. A 5xx answer (the address refused at RCPT, or the server
refusing us) or any other error fails the email. Nothing here raises.

One window remains: if the server accepted the message (DATA) and the worker
died before recording it, the email is sent again when the lease runs out.
The recipient then gets it twice, both with the same Message-ID.
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tracker.reminders import emails, recovery
from tracker.reminders.models import Reminder, new_message_id
from tracker.targets.models import ProgressEntry
from tracker.targets.policies import submitted_by

logger = logging.getLogger(__name__)

Status = Reminder.Status
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600
# Emails that chase missing figures; they are skipped when everything came in since the claim.
CHASE_KINDS = {Reminder.Kind.DUE_SOON, Reminder.Kind.DUE_TODAY, Reminder.Kind.OVERDUE, Reminder.Kind.ESCALATION,
               Reminder.Kind.CHASE}


def retry_delay(attempt):
    """Wait after failed attempt number `attempt`: 1, 2, 4, 8 ... minutes, at most an hour."""
    return datetime.timedelta(seconds=min(BACKOFF_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS))


def _temporary_code(code):
    """SMTP replies: 4xx is "try again later", 5xx is "no". Anything else is unexpected, so worth a retry."""
    return not 500 <= code <= 599


def is_temporary(exc):
    """Whether a failed send may succeed if tried again later.

    smtplib raises SMTPConnectError (connect), SMTPHeloError (HELO/EHLO),
    SMTPSenderRefused (MAIL), SMTPRecipientsRefused (RCPT, with each refused
    address's code) and SMTPDataError (DATA); all but the RCPT one carry the
    code. A reminder has one recipient, so its refusal decides.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(_temporary_code(code) for code, _message in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return _temporary_code(exc.smtp_code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False  # the server lacks an extension we need: trying again will not add it
    # Dropped connections (SMTPServerDisconnected), refused connections, timeouts, TLS failures.
    return isinstance(exc, (smtplib.SMTPException, OSError))


def still_missing(reminder):
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
    """Record the outcome, unless the row was taken from us meanwhile (our lease ran out and someone resent it)."""
    Reminder.objects.filter(pk=reminder_id, status=Status.SENDING, attempts=attempt).update(
        lease_until=None, **fields)
    return fields["status"]


def deliver(reminder_id, attempt, now=None):
    """Send a claimed reminder; returns the new status, or None if someone else has it.

    `now` (default: the current time) decides whether a lease has run out; tests move it forward.
    """
    with translation.override(settings.LANGUAGE_CODE):  # errors are recorded in the site's language
        return _deliver(reminder_id, attempt, now or timezone.now())


def _take(reminder_id, attempt, now):
    """The attempt number taken (see the module docstring for what may be taken), or None."""
    rows = Reminder.objects.filter(pk=reminder_id)
    waiting = Q(status__in=(Status.PENDING, Status.RETRY), attempts=attempt - 1)
    interrupted = recovery.lease_expired(now) & Q(attempts__in=(attempt - 1, attempt), attempts__lt=MAX_ATTEMPTS)
    taken = rows.filter(waiting | interrupted).update(
        status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, lease_until=now + recovery.lease()
    )
    # Once taken the row is ours until the lease runs out: nobody else changes it meanwhile.
    return rows.values_list("attempts", flat=True).get() if taken else None


def _give_up_if_interrupted_last(reminder_id, attempt, now):
    """The last allowed attempt was interrupted: record a failure rather than loop on an email that kills workers."""
    gave_up = Reminder.objects.filter(
        recovery.lease_expired(now), pk=reminder_id, attempts__in=(attempt - 1, attempt), attempts__gte=MAX_ATTEMPTS
    ).update(
        status=Status.FAILED, lease_until=None,
        error=_("The sending process stopped during the last attempt; the email may or may not have gone out."),
    )
    if not gave_up:
        return None
    logger.error("Reminder %s: the last attempt was interrupted; not tried again", reminder_id)
    return Status.FAILED


def _deliver(reminder_id, attempt, now):
    taken = _take(reminder_id, attempt, now)
    if taken is None:
        return _give_up_if_interrupted_last(reminder_id, attempt, now)
    if taken != attempt:
        logger.warning("Reminder %s: attempt %s was interrupted (its worker stopped); sending again as attempt %s",
                       reminder_id, attempt, taken)
    attempt = taken
    reminder = Reminder.objects.get(pk=reminder_id)
    if not reminder.message_id:  # claimed before rows carried one
        reminder.message_id = new_message_id()
        Reminder.objects.filter(pk=reminder_id).update(message_id=reminder.message_id)
    try:
        if reminder.kind in CHASE_KINDS and not still_missing(reminder):
            return _finish(reminder_id, attempt, status=Status.SKIPPED,
                           error=_("All figures were submitted before the email went out."))
        emails.build_message(reminder.subject, reminder.body_text, reminder.body_html, reminder.recipient,
                             message_id=reminder.message_id).send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if is_temporary(exc) and attempt < MAX_ATTEMPTS:
            logger.warning("Reminder %s to %s failed (attempt %s), will retry: %s",
                           reminder_id, reminder.recipient, attempt, error)
            return _finish(reminder_id, attempt, status=Status.RETRY, error=error,
                           next_attempt_at=timezone.now() + retry_delay(attempt))
        logger.error("Reminder %s to %s failed for good: %s", reminder_id, reminder.recipient, error)
        return _finish(reminder_id, attempt, status=Status.FAILED, error=error)
    return _finish(reminder_id, attempt, status=Status.SENT, sent_at=timezone.now(), error="")
