"""Interrupted sends and reminders that need someone's attention.

A worker that takes a reminder holds it for REMINDER_SEND_LEASE_SECONDS. If
the worker dies mid-send, the row stays `sending` with a lease that runs out;
`expired_leases` finds such rows for the sweep, which hands them to delivery
again (delivery's compare-and-set decides who takes one, so the sweep and
Celery's redelivered task never both send it).

`needs_attention` is what the admin filter and /healthz show: rows stuck
(sending with an expired lease, or pending long after their claim), recent
failures, and recent rows still being retried after several attempts. Robot
messages (WebhookDelivery) have the same fields and states, so the same rules
count them (`attention_counts(now, WebhookDelivery)`).
"""

import datetime

from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper, Q

from tracker.reminders.models import Reminder

Status = Reminder.Status
# A claim not taken by any worker this long after it was made: no worker runs, or the broker loses messages.
# (The sweep hands such claims over again after 15 minutes; still pending after twice that is a problem.)
STUCK_PENDING = datetime.timedelta(minutes=30)
# A reminder still not delivered after this many attempts is shown, though it may yet go out.
MANY_ATTEMPTS = 3
# Failures and repeated retries count for this long after the claim; stuck rows count until resolved.
ATTENTION_WINDOW = datetime.timedelta(days=7)


def lease():
    return datetime.timedelta(seconds=settings.REMINDER_SEND_LEASE_SECONDS)


def lease_expired(now):
    """Rows being sent whose lease has run out (no lease at all: taken before leases existed)."""
    return Q(status=Status.SENDING) & (Q(lease_until__lt=now) | Q(lease_until__isnull=True))


def expired_leases(now):
    return Reminder.objects.filter(lease_expired(now))


def stuck(now):
    return lease_expired(now) | Q(status=Status.PENDING, created_at__lt=now - STUCK_PENDING)


def failed(now):
    return Q(status=Status.FAILED, created_at__gte=now - ATTENTION_WINDOW)


def many_attempts(now):
    return Q(status__in=(Status.PENDING, Status.SENDING, Status.RETRY), attempts__gte=MANY_ATTEMPTS,
             created_at__gte=now - ATTENTION_WINDOW)


REASONS = {"stuck": stuck, "failed": failed, "many_attempts": many_attempts}


def needs_attention(now, reason=None):
    """A filter for the rows needing attention, for one reason (a key of REASONS) or any."""
    if reason is not None:
        return REASONS[reason](now)
    return stuck(now) | failed(now) | many_attempts(now)


def attention_counts(now, model=Reminder):
    """{"stuck": n, "failed": n, "many_attempts": n} of emails (or of robot messages: `model=WebhookDelivery`),
    in one query (a row may count under two reasons)."""
    return model.objects.filter(needs_attention(now)).aggregate(
        **{name: Count("pk", filter=condition(now)) for name, condition in REASONS.items()}
    )


def with_attention(queryset, now):
    """The queryset with a boolean `attention_<reason>` per reason (for the admin's list column)."""
    return queryset.annotate(**{
        f"attention_{name}": ExpressionWrapper(condition(now), output_field=BooleanField())
        for name, condition in REASONS.items()
    })
