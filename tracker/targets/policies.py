"""Reporting policies applied: when a target's figure is due, what counts as submitted, which month is being reported.

One definition each, used by the entry screen, the review workflow, the
completeness page, the reports and the reminder sweep alike.
"""

import datetime

from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone

from tracker.targets import workdays
from tracker.targets.models import Plan, ProgressEntry, ReportingPolicy, Unit
from tracker.targets.period import Period

SUBMITTED = (ProgressEntry.State.SUBMITTED, ProgressEntry.State.APPROVED)


class Policies:
    """The policy for each target: its own, else its lead unit's (or a parent unit's), else the default."""

    def __init__(self):
        self.default = ReportingPolicy()
        self.by_unit, self.by_target = {}, {}
        for policy in ReportingPolicy.objects.order_by("pk"):
            if policy.target_id:
                self.by_target[policy.target_id] = policy
            elif policy.unit_id:
                self.by_unit[policy.unit_id] = policy
            elif self.default.pk is None:
                self.default = policy
        # The unit tree, loaded once, so looking up many targets costs no further queries.
        self.parents = dict(Unit.objects.values_list("pk", "parent_id")) if self.by_unit else {}

    def for_target(self, target):
        if target.pk in self.by_target:
            return self.by_target[target.pk]
        unit_id, seen = target.lead_unit_id, set()
        while unit_id is not None and unit_id not in seen:
            seen.add(unit_id)
            if unit_id in self.by_unit:
                return self.by_unit[unit_id]
            unit_id = self.parents.get(unit_id)
        return self.default

    def due_date(self, target, year, month):
        """When the target's figure for (year, month) is due."""
        return workdays.due_date(year, month, self.for_target(target).due_working_day)


def end_of(day):
    """The first moment after `day`, local time."""
    return timezone.make_aware(datetime.datetime.combine(day + workdays.ONE_DAY, datetime.time.min))


# When a figure was reported: its submission, or for rows written without one (loaded, restored) its entry.
REPORTED_AT = Coalesce("submitted_at", "entered_at")


def submitted_by(day):
    """Entries that count as reported by the end of `day` (the rule of `reported_on`, as a query)."""
    return Q(state__in=SUBMITTED) & Q(LessThan(REPORTED_AT, end_of(day)))


def reported_on(state, reported_at):
    """The local day a figure counts as reported (state submitted or approved), else None."""
    if state not in SUBMITTED or reported_at is None:
        return None
    return timezone.localdate(reported_at)


def current_period(today=None):
    """The month now being reported: the one whose reporting window is open or whose deadline has passed last.

    A month's window opens when it ends (its figures are due on a working day of the
    next month, whatever the policy), so that is last month — or, when no plan
    covers last month's year, the December of the latest earlier plan (a closed
    year is read at its end, not at whatever month someone last typed a figure).
    """
    today = today or timezone.localdate()
    last = Period.of(today).previous
    plans = Plan.objects.exclude(status=Plan.Status.DRAFT)
    latest_year = plans.filter(year__lte=last.year).aggregate(year=Max("year"))["year"]
    if latest_year is None or latest_year == last.year:
        return last
    return Period(latest_year, 12)
