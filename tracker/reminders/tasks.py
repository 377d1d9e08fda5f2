"""Celery tasks: thin wrappers that take primary keys; the work is in `sweep` and `delivery`.

Beat runs `sweep_reminders` every REMINDER_SWEEP_SECONDS (settings.CELERY_BEAT_SCHEDULE).
"""

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tracker.reminders import delivery, sweep
from tracker.reminders.models import Reminder


def queue_delivery(reminder_id, attempt):
    send_reminder.delay_on_commit(reminder_id, attempt)


@shared_task(ignore_result=True)
def sweep_reminders(day=None):
    """The periodic sweep. `day` (YYYY-MM-DD) runs it as if today were that date."""
    if day is None and timezone.localtime().hour < settings.REMINDER_SEND_HOUR:
        return 0
    today = datetime.date.fromisoformat(day) if day else None
    return len(sweep.sweep(today=today, deliver=queue_delivery).claimed)


@shared_task(bind=True, ignore_result=True)
def send_reminder(self, reminder_id, attempt):
    """Attempt `attempt` of a reminder. Redelivered by the broker after a worker died, it takes the row back only
    if that attempt's lease has run out (and the sweep has not taken it first); otherwise it does nothing."""
    status = delivery.deliver(reminder_id, attempt)
    if status == Reminder.Status.RETRY and not self.request.is_eager:
        # On a worker, come back at the backoff time; the sweep also picks it up if this is lost.
        # The attempt made may be later than `attempt` (this task took back an interrupted one).
        made = Reminder.objects.filter(pk=reminder_id).values_list("attempts", flat=True).first() or attempt
        send_reminder.apply_async((reminder_id, made + 1), countdown=delivery.retry_delay(made).total_seconds())
    return status
