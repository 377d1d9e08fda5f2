"""The reminder sweep: claim each email that is due on a day, then hand it to delivery.

What is due comes from `tracker.reminders.planning` (which explains the kinds of
email). Every email is claimed first by inserting a `Reminder` row under the
unique key (user, kind, period, day); whoever fails to insert it leaves it alone.
Retries and claims whose sender died are handed over again.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tracker.reminders import emails, recovery, webhooks
from tracker.reminders.models import Reminder
from tracker.reminders.planning import language_of, plan_emails

logger = logging.getLogger(__name__)

# A claimed email not delivered after this long (a lost task, a dead process) is handed over again.
STALE_PENDING = datetime.timedelta(minutes=15)


@dataclass
class SweepResult:
    day: datetime.date
    planned: list = field(default_factory=list)
    claimed: list = field(default_factory=list)
    already_claimed: int = 0
    retried: int = 0
    robot_messages: int = 0


def _claimed_keys(planned):
    if not planned:
        return set()
    rows = Reminder.objects.filter(
        day__in={p.day for p in planned}, kind__in={p.kind for p in planned}
    ).values_list("user_id", "kind", "period", "day")
    return set(rows)


def _address_problem(user):
    if not user.email:
        return _("%(user)s has no email address.") % {"user": user.get_username()}
    try:
        validate_email(user.email)
    except ValidationError:
        return _("%(email)s is not a valid email address.") % {"email": user.email}
    return ""


def claim(p, today, now):
    """Insert the Reminder row for a planned email; None if someone else already holds the key."""
    language = language_of(p.user) or settings.LANGUAGE_CODE
    problem = _address_problem(p.user)
    fields = {"recipient": p.user.email, "targets": p.targets, "items": [i.as_json() for i in p.items],
              "language": language, "created_at": now, "as_of": today}
    try:
        # Written even when the email cannot go (no or a bad address): the person's robots still get it.
        subject, text, html = emails.render(p.template, {"user": p.user, **p.context}, language)
        fields.update(subject=subject, body_text=text, body_html=html)
    except Exception as exc:  # a broken template must not stop the other emails
        logger.exception("Could not render the %s email for %s", p.kind, p.recipient)
        fields.update(status=Reminder.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
    if problem:
        fields.update(status=Reminder.Status.FAILED, error=problem)
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(user=p.user, kind=p.kind, period=p.period, day=p.day, **fields)
    except IntegrityError:
        return None
    webhooks.claim_for(reminder)  # the same digest to the person's and their units' group robots
    return reminder


def sweep(today=None, deliver=None, dry_run=False, now=None):
    """Plan, claim and hand over every email due on `today`; also hand over due retries.

    `deliver(reminder_id, attempt)` sends one claimed email (inline or through a task).
    With `dry_run`, nothing is written or sent; `result.planned` holds what would go out.
    """
    now = now or timezone.now()
    today = today or timezone.localdate()
    # What the log records (errors, names) is in the site's language, whatever is active in this thread.
    with translation.override(settings.LANGUAGE_CODE):
        return _sweep(today, now, deliver, dry_run)


def _sweep(today, now, deliver, dry_run):
    result = SweepResult(today)
    planned = plan_emails(today)
    taken = _claimed_keys(planned)
    result.already_claimed = sum(1 for p in planned if p.key in taken)
    result.planned = [p for p in planned if p.key not in taken]
    if dry_run:
        return result
    for p in result.planned:
        reminder = claim(p, today, now)
        if reminder is None:
            result.already_claimed += 1
            continue
        result.claimed.append(reminder)
        if reminder.status == Reminder.Status.PENDING and deliver is not None:
            deliver(reminder.pk, 1)
    if deliver is not None:
        result.retried = hand_over_retries(now, deliver)
        result.robot_messages = webhooks.deliver_due(now)
    return result


def hand_over_retries(now, deliver):
    """Emails whose retry time has come, claims nobody delivered (a lost task or process), and sends whose
    worker died (their lease ran out: see recovery)."""
    due = Reminder.objects.filter(
        Q(status=Reminder.Status.RETRY, next_attempt_at__lte=now)
        | Q(status=Reminder.Status.PENDING, created_at__lte=now - STALE_PENDING)
        | recovery.lease_expired(now)
    ).values_list("pk", "attempts")
    count = 0
    for pk, attempts in due:
        deliver(pk, attempts + 1)
        count += 1
    return count
