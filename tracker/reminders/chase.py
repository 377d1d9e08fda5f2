"""催报: chase units for a month's missing figures now, from the completeness page.

Each clerk of a chased unit gets one reminder email listing that unit's figures of the month still missing (their
deadline and how far past it), claimed like every reminder: a `Reminder` row of kind "chase" under the unique key
(user, kind, period, day) is inserted before anything is sent, so a second click the same day (or two people
clicking at once) claims nothing and sends nothing. Delivery is the sweep's (`tasks.queue_delivery`: inline without
a broker, a Celery task with one), with its retries, lease and re-check of what is still missing.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone, translation

from tracker.reminders import planning, sweep
from tracker.reminders.models import Reminder
from tracker.services.entries import awaiting_computation
from tracker.targets import workdays
from tracker.targets.models import ProgressEntry, Target
from tracker.targets.policies import Policies, submitted_by

Kind = Reminder.Kind


@dataclass
class ChaseResult:
    claimed: list = field(default_factory=list)  # Reminder rows claimed now
    already: list = field(default_factory=list)  # (user, unit) already chased today for this month
    no_clerk: list = field(default_factory=list)  # units with missing figures but no clerk to write to
    nothing_missing: list = field(default_factory=list)  # units chased that owe nothing


def _item(target, period, due, today):
    """A missing figure as the reminder email lists it, with where it stands today."""
    if today == due:
        kind, days = Kind.DUE_TODAY, 0
    elif today > due:
        kind, days = Kind.OVERDUE, workdays.working_days_between(due, today)
    else:
        kind, days = Kind.DUE_SOON, workdays.working_days_between(today, due)
    return planning.Item(target, period.year, period.month, due, kind, days, due, due, False)


def missing_by_unit(units, period, today):
    """{unit id: [Item]} of the figures of `period` that the units' active targets still owe on `today`."""
    targets = [t for t in Target.objects.filter(lead_unit__in=units, is_active=True, plan__year=period.year)
               .select_related("plan", "lead_unit").order_by("code") if t.expects_entry(period.month)]
    submitted = set(ProgressEntry.objects.filter(submitted_by(today), target__in=targets, year=period.year,
                                                 month=period.month).values_list("target_id", flat=True))
    rolls_up = set(Target.objects.filter(parent__in=targets, is_active=True).values_list("parent_id", flat=True))
    awaiting = awaiting_computation([t.pk for t in targets], years=[period.year])
    policies = Policies()
    found = {}
    for t in targets:
        if t.pk in submitted or t.pk in rolls_up or (t.pk, period.year, period.month) in awaiting:
            continue
        due = policies.due_date(t, period.year, period.month)
        found.setdefault(t.lead_unit_id, []).append(_item(t, period, due, today))
    return found


def chase(units, period, deliver, today=None, now=None):
    """Claim and hand over one chase email per clerk of each unit that owes figures for `period`."""
    now = now or timezone.now()
    today = today or timezone.localdate()
    result = ChaseResult()
    missing = missing_by_unit(units, period, today)
    people = planning.People()
    with translation.override(settings.LANGUAGE_CODE):
        for unit in units:
            items = missing.get(unit.pk, [])
            if not items:
                result.nothing_missing.append(unit)
                continue
            clerks = people.of(unit.pk, planning.Role.CLERK)
            if not clerks:
                result.no_clerk.append(unit)
                continue
            for user in clerks:
                urgent = min(items, key=lambda i: planning.URGENCY[i.kind])
                planned = planning.Planned(
                    user, Kind.CHASE, period.key, today, "reminder", sorted(i.target.code for i in items), items,
                    {"kind": urgent.kind, "groups": planning._group(items), "count": len(items),
                     "first_due": min(i.due for i in items)},
                )
                reminder = sweep.claim(planned, today, now)
                if reminder is None:
                    result.already.append((user, unit))
                    continue
                result.claimed.append(reminder)
                if reminder.status == Reminder.Status.PENDING:
                    deliver(reminder.pk, 1)
    return result

