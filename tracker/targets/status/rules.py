"""The rules per kind of target: pure functions from a target and its entries to an Assessment.

No database here: a target and its entries are any objects with the model's
attributes (model instances, or the plain rows of `loading`). The rule table is
in the package's docstring and README.md; the reasons are worded in `reasons`.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.utils import timezone

from tracker.targets.models import DEFAULT_DUE_WORKING_DAY
from tracker.targets.numbers import Q4, quantize, to_decimal
from tracker.targets.period import Period
from tracker.targets.status import reasons
from tracker.targets.status.expectations import TWELVE, expected_value, share
from tracker.targets.status.vocabulary import (
    ACHIEVED,
    AT_RISK,
    NO_DATA,
    NOT_DUE,
    OFF_TRACK,
    ON_TRACK,
    PERIODS_PER_YEAR,
    Assessment,
    Thresholds,
    periods_completed,
)


def _get(obj, name, default=None):
    return getattr(obj, name, default)


def entries_upto(entries, year, month):
    """The entries of `year` up to `month`, by month."""
    return sorted(
        (e for e in entries if _get(e, "year", year) == year and _get(e, "month") <= month),
        key=lambda e: e.month,
    )


def _latest_value(entries):
    for e in reversed(entries):
        if e.value is not None:
            return e
    return None


def is_lower_better(target):
    return _get(target, "direction", "higher") == "lower"


def tolerance_of(target):
    return to_decimal(_get(target, "tolerance")) or Decimal(0)


def _by_ratio(ratio, th):
    # Rounded so that 30 of 80×5/12 counts as exactly 90%, not 89.99…%.
    ratio = ratio.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    if ratio >= th.ratio_at_risk:
        return ON_TRACK
    if ratio >= th.ratio_off_track:
        return AT_RISK
    return OFF_TRACK


def _by_points(shortfall, tolerance, th):
    """Status from how many points a growth figure is behind (positive = behind)."""
    if shortfall <= tolerance + th.points_at_risk:
        return ON_TRACK
    if shortfall <= tolerance + th.points_off_track:
        return AT_RISK
    return OFF_TRACK


# --- the engine --------------------------------------------------------------------------------------


def assess(target, entries, year, month, thresholds, today=None, plan_points=None, children=None, deadline=None):
    """How `target` stands at year-to-date period (year, month).

    entries: the target's entries of the year (any order; later months are ignored).
    thresholds: the plan (or a Thresholds/dict); the target's own overrides win.
    plan_points: optional {month: expected cumulative value} (分月计划).
    children: optional [(sub_target, sub_entries)]: a count/amount or event count with no figure of its
    own is the sum of its sub-targets' latest figures.
    deadline: when the report month's figure is due (default: the default reporting policy's).
    """
    return judge(target, entries_upto(entries, year, month), year, month, thresholds, today, plan_points, children,
                 deadline)


def judge(target, upto, year, month, thresholds, today=None, plan_points=None, children=None, deadline=None):
    """`assess` on the target's entries of the year up to the month, already sorted by month."""
    today = today or timezone.localdate()
    if deadline is None:
        deadline = Period(year, month).deadline(DEFAULT_DUE_WORKING_DAY)
    case = Case(target, upto, year, month, Thresholds.for_target(target, thresholds), today, plan_points or {},
                children or [], today > deadline)
    return RULES.get(target.kind, _assess_qualitative)(case)


class Case:
    """What one judgement reads: the target, its entries up to the report month, and the context.

    `overdue`: the report month's figure is due and the deadline has passed.
    """

    __slots__ = ("target", "upto", "year", "month", "th", "today", "points", "children", "overdue")

    def __init__(self, target, upto, year, month, th, today, points, children, overdue):
        self.target, self.upto, self.year, self.month = target, upto, year, month
        self.th, self.today, self.points, self.children, self.overdue = th, today, points, children, overdue

    def late(self, as_of):
        """Whether a figure of month `as_of` stands in for a report-month figure that is overdue."""
        return as_of is not None and as_of < self.month and self.overdue

    def result(self, status, wording, entry=None, rolled=None, as_of_month=None, **values):
        if rolled:
            correction, unreviewed = rolled.correction, rolled.unreviewed
        else:
            correction = getattr(entry, "correction", False)
            unreviewed = getattr(entry, "unreviewed", False)
        late = status != ACHIEVED and self.late(as_of_month)  # done is done, whenever reported
        return Assessment(status=status, target=self.target, month=self.month, wording=wording, late=late,
                          correction=correction, unreviewed=unreviewed, entry=entry, rolled=rolled,
                          as_of_month=as_of_month, **values)


def capped(status):
    """A status no better than at risk: for figures that stand in for an overdue one."""
    return AT_RISK if status in (ON_TRACK, ACHIEVED, NOT_DUE) else status


def _missing(case, expected=None):
    """Nothing reported up to the period: not due yet (1月 of a 1–2月 indicator, or a month not over), or no data."""
    target, month = case.target, case.month
    if _get(target, "combined_jan_feb", False) and month == 1:
        return case.result(NOT_DUE, reasons.combined_january)
    expected = quantize(expected)
    if not case.overdue:  # the month is not over, or its figure's deadline has not passed yet
        return case.result(NOT_DUE, reasons.not_due_yet, expected=expected)
    if target.kind in ("milestone", "qualitative"):
        return case.result(NO_DATA, reasons.no_progress)
    return case.result(NO_DATA, reasons.no_figure, expected=expected)


def _assess_growth(case):
    target = case.target
    if target.target_value is None:
        return case.result(NO_DATA, reasons.no_target_value)
    entry = _latest_value(case.upto)
    if entry is None:
        return _missing(case, expected_value(target, case.month, case.points))
    as_of = entry.month
    actual = to_decimal(entry.value)
    comparator = None
    if target.kind == "margin":
        comparator = to_decimal(entry.comparator)
        if comparator is None:
            return case.result(NO_DATA, reasons.comparator_missing, actual=actual, as_of_month=as_of)
    expected = expected_value(target, as_of, case.points, comparator)
    gap = actual - expected  # in percentage points; positive = above
    shortfall = gap if is_lower_better(target) else -gap
    status = _by_points(shortfall, tolerance_of(target), case.th)
    if status == ON_TRACK and as_of == 12:
        status = ACHIEVED
    if case.late(as_of):
        # Judged on its own merits, but an older rate never reads better than at risk once the current one is late.
        status = capped(status)
    return case.result(status, reasons.growth, expected=quantize(expected), actual=actual, comparator=comparator,
                       gap=quantize(gap), as_of_month=as_of, entry=entry)


class Rollup(NamedTuple):
    """How a parent's figure was summed from its sub-targets."""

    reported: int  # sub-targets with a figure
    count: int  # sub-targets in all
    lagging: tuple  # ((sub-target, month of its latest figure), …) older than the latest month
    unreviewed: bool  # some figure in the sum is a draft or waits for review
    correction: bool  # some figure in the sum is a reopened one, counted as last approved


def own_or_rollup(upto, children, year, month):
    """(actual, month of the figure, Rollup when summed from sub-targets) or (None) when there is nothing.

    The target's own latest figure wins; else the sum of the sub-targets' latest figures up to the period.
    A year-to-date count only grows, so a sub-target's older figure is a floor: the sum is a floor for the
    latest month, and the Rollup names the parts that lag behind it.
    """
    entry = _latest_value(upto)
    if entry is not None:
        return to_decimal(entry.value), entry.month, None
    found = []
    for child, child_entries in children:
        latest = _latest_value(entries_upto(child_entries, year, month))
        if latest is not None:
            found.append((child, latest))
    if not found:
        return None
    month_of = max(e.month for _c, e in found)
    lagging = tuple((c, e.month) for c, e in found if e.month < month_of)
    rolled = Rollup(len(found), len(children), lagging, any(getattr(e, "unreviewed", False) for _c, e in found),
                    any(getattr(e, "correction", False) for _c, e in found))
    return sum((to_decimal(e.value) for _c, e in found), Decimal(0)), month_of, rolled


def actual_series(target, entries, year, month, children=None):
    """{month: year-to-date value} for the months up to `month` that have a figure of their own.

    A decomposed count or event total with no figure of its own shows its sub-targets' sum.
    """
    rolls_up = target.kind in ("cumulative", "recurring")
    series = {}
    for m in range(1, month + 1):
        found = own_or_rollup(entries_upto(entries, year, m), children if rolls_up and children else [], year, m)
        if found is not None and found[1] == m:
            series[m] = found[0]
    return series


def _assess_cumulative(case):
    target = case.target
    annual = to_decimal(target.target_value)
    if annual is None:
        return case.result(NO_DATA, reasons.no_target_value)
    found = own_or_rollup(case.upto, case.children, case.year, case.month)
    if found is None:
        return _missing(case, expected_value(target, case.month, case.points))
    actual, as_of, rolled = found
    tolerance = tolerance_of(target)
    # The report month decides: an older year-to-date figure is a floor, held against what the report
    # month expects once its own figure is overdue (before that, against its own month's expectation).
    judged = case.month if case.late(as_of) else as_of
    expected = expected_value(target, judged, case.points)
    gap = actual - expected
    completion = actual / annual if annual else None
    time_adjusted = completion / share(judged) if completion is not None else None
    forecast = None
    if expected:
        # Pace so far carried to the year end: along the monthly plan when there is one.
        forecast = actual * annual / expected if case.points else actual * TWELVE / Decimal(judged)
    if is_lower_better(target):
        if actual > annual + tolerance:
            status = OFF_TRACK
        elif as_of == 12:
            status = ACHIEVED
        elif actual <= expected:
            status = ON_TRACK
        else:
            status = _by_ratio(expected / actual, case.th)
    elif actual >= annual - tolerance:
        status = ACHIEVED
    elif expected <= 0:
        status = ON_TRACK
    else:
        status = _by_ratio(actual / expected, case.th)
    if case.late(as_of) and is_lower_better(target) and status != OFF_TRACK:
        status = capped(status)  # a floor cannot show that a ceiling still holds
    return case.result(
        status, reasons.cumulative, expected=quantize(expected), actual=actual, gap=quantize(gap),
        completion=quantize(completion, Q4), time_adjusted=quantize(time_adjusted, Q4), forecast=quantize(forecast),
        as_of_month=as_of, rolled=rolled, entry=_latest_value(case.upto),
    )


def _done_entry(upto):
    for e in upto:
        if _get(e, "is_done", False):
            return e
    return None


def _reviewer_status(upto):
    for e in reversed(upto):
        if _get(e, "assessed_status", ""):
            return e
    return None


def as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _overdue(deadline, year, month, today):
    """Whether a deadline had passed by the period: its end for a past month, today for the current one."""
    if deadline is None:
        return False
    end = Period(year, month).end
    return deadline <= end if today > end else deadline < today


def _reviewed(case, entry):
    status = capped(entry.assessed_status) if case.late(entry.month) else entry.assessed_status
    return case.result(status, reasons.reviewed, as_of_month=entry.month, entry=entry)


def _from_notes(case):
    """A task's default status from its latest entry: problems → at risk, progress → on track; else None."""
    latest = case.upto[-1] if case.upto else None
    if latest is None:
        return None
    if (_get(latest, "problems", "") or "").strip():
        return case.result(AT_RISK, reasons.problems_noted, as_of_month=latest.month, entry=latest)
    if (_get(latest, "note", "") or "").strip():
        status = AT_RISK if case.late(latest.month) else ON_TRACK
        return case.result(status, reasons.progress_noted, as_of_month=latest.month, entry=latest)
    return None


def _overdue_result(case):
    return case.result(OFF_TRACK, reasons.overdue, as_of_month=case.upto[-1].month if case.upto else None)


def _assess_milestone(case):
    deadline = as_date(_get(case.target, "deadline"))
    done = _done_entry(case.upto)
    if done is not None:
        return case.result(ACHIEVED, reasons.completed, as_of_month=done.month, entry=done)
    if _overdue(deadline, case.year, case.month, case.today):
        return _overdue_result(case)
    reviewed = _reviewer_status(case.upto)
    if reviewed is not None:
        return _reviewed(case, reviewed)
    from_notes = _from_notes(case)
    if from_notes is not None:
        return from_notes
    return case.result(NOT_DUE, reasons.milestone_not_due)


def _assess_recurring(case):
    target = case.target
    required = to_decimal(target.target_value)
    if required is None:
        return case.result(NO_DATA, reasons.no_target_value)
    per_year = PERIODS_PER_YEAR.get(_get(target, "frequency") or "year", 1)
    found = own_or_rollup(case.upto, case.children, case.year, case.month)
    if found is None:
        if periods_completed(target, case.month) == 0:
            return case.result(NOT_DUE, reasons.no_period_ended, expected=quantize(Decimal(0)))
        return _missing(case, expected_value(target, case.month))
    held, as_of, rolled = found
    # Judged at the month of the latest count while the report month's figure is not yet due;
    # once it is overdue, the count so far (a floor) against what the report month requires.
    judged = case.month if case.late(as_of) else as_of
    completed = periods_completed(target, judged)
    expected = expected_value(target, judged)
    completion = held / required if required else None
    forecast = held * per_year / completed if completed else None
    gap = held - expected
    if held >= required:
        status = ACHIEVED
    elif expected == 0 or held >= expected:
        status = ON_TRACK
    else:
        status = _by_ratio(held / expected, case.th)
    return case.result(status, reasons.recurring, expected=quantize(expected), actual=held, gap=quantize(gap),
                       completion=quantize(completion, Q4), forecast=quantize(forecast), as_of_month=as_of,
                       rolled=rolled, entry=_latest_value(case.upto))


def _assess_qualitative(case):
    reviewed = _reviewer_status(case.upto)
    if reviewed is not None:
        return _reviewed(case, reviewed)
    done = _done_entry(case.upto)
    if done is not None:
        return case.result(ACHIEVED, reasons.task_completed, as_of_month=done.month, entry=done)
    if _overdue(as_date(_get(case.target, "deadline")), case.year, case.month, case.today):
        return _overdue_result(case)
    from_notes = _from_notes(case)
    if from_notes is not None:
        return from_notes
    return _missing(case)


RULES = {
    "growth": _assess_growth,
    "margin": _assess_growth,
    "cumulative": _assess_cumulative,
    "milestone": _assess_milestone,
    "recurring": _assess_recurring,
    "qualitative": _assess_qualitative,
}

