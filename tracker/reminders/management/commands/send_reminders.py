"""Run the reminder sweep now, in this process: `send_reminders [--date YYYY-MM-DD] [--dry-run]`."""

import datetime
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from tracker.reminders import delivery, sweep
from tracker.reminders.models import Reminder


def parse_date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("'%(text)s' is not a date of the form YYYY-MM-DD.") % {"text": text})


class Command(BaseCommand):
    help = "Send the reminders due today (or on --date); --dry-run prints them as JSON lines instead."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as if today were this date (YYYY-MM-DD).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Send and record nothing; print one JSON object per email."
        )

    def handle(self, *args, **options):
        with translation.override(settings.LANGUAGE_CODE):
            self.run(options)

    def run(self, options):
        today = parse_date(options["date"]) if options["date"] else None
        if options["dry_run"]:
            result = sweep.sweep(today=today, dry_run=True)
            for planned in result.planned:
                self.stdout.write(json.dumps(planned.as_dict(), ensure_ascii=False))
            return
        result = sweep.sweep(today=today, deliver=delivery.deliver)
        ids = [r.pk for r in result.claimed]
        statuses = dict(Reminder.objects.filter(pk__in=ids).values_list("pk", "status"))
        for reminder in result.claimed:
            self.stdout.write(json.dumps(
                {"recipient": reminder.recipient, "kind": reminder.kind, "period": reminder.period,
                 "targets": reminder.targets, "status": statuses.get(reminder.pk)},
                ensure_ascii=False,
            ))
        counts = {s: list(statuses.values()).count(s) for s in Reminder.Status.values}
        self.stderr.write(_(
            "%(day)s: %(sent)s sent, %(failed)s failed, %(retry)s to retry, %(skipped)s skipped, "
            "%(taken)s already sent earlier, %(retried)s earlier emails handed over again."
        ) % {"day": result.day.isoformat(), "sent": counts["sent"], "failed": counts["failed"],
             "retry": counts["retry"], "skipped": counts["skipped"], "taken": result.already_claimed,
             "retried": result.retried})
