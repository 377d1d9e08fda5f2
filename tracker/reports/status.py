"""The status engine: how a target stands at a period, and why.

`assess` is pure (no database): it takes a target and that target's entries of
the year (model instances or any objects with the same attributes) and returns
an `Assessment`. `assess_period` loads what a set of targets needs in a fixed
number of queries and calls `assess` for each.

Rules per kind (thresholds from the plan, each overridable on the target):

- growth: gap = YTD growth - expected rate (plan curve point, else the target
  rate), in percentage points. Behind by no more than the 左右 tolerance +
  `points_at_risk` is on track, by no more than tolerance + `points_off_track`
  at risk, beyond that off track. A full-year figure that meets it: achieved.
- margin: the same on (growth - comparator) against the required margin; the
  comparator for the same months must be entered, else no data.
- cumulative: expected = plan curve (分月计划) or target × N/12; ratio =
  actual / expected; below `ratio_at_risk` at risk, below `ratio_off_track`
  off track; actual ≥ target: achieved. Lower-is-better targets are ceilings:
  ratio = expected / actual, and passing the annual ceiling is off track.
  A parent with no figure of its own sums its sub-targets (目标分解).
- milestone: done → achieved; due date passed undone → off track; otherwise
  the reviewer's assessment or not due.
- recurring: events required by now = target × completed periods / periods per
  year; a completed period without its event is a miss, judged by the ratio.
- qualitative: the reviewer's assessment; else done → achieved, overdue → off
  track, problems noted → at risk, progress noted → on track.

An entry holds the cumulative figure for months 1..N. When the period's own
figure is missing, the latest earlier figure is judged against the expectation
for its own month, and the reason says which months it covers.
"""

import datetime
import gc
from collections import namedtuple
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, partial
from itertools import groupby
from operator import itemgetter

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tracker.targets.models import MEASURE_IN_ENGLISH, BilingualNameMixin

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "no_data", "not_due")

ACHIEVED, ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA, NOT_DUE = STATUSES

# Display order for "worst first" lists: red, yellow, then the rest.
SEVERITY = {OFF_TRACK: 0, AT_RISK: 1, NO_DATA: 2, ON_TRACK: 3, ACHIEVED: 4, NOT_DUE: 5}

DEFAULT_THRESHOLDS = {
    "ratio_at_risk": Decimal("0.900"),
    "ratio_off_track": Decimal("0.700"),
    "points_at_risk": Decimal("0.00"),
    "points_off_track": Decimal("2.00"),
}

PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "half": 2, "year": 1}

Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")
TWELVE = Decimal(12)


STATUS_LABELS = {
    ACHIEVED: gettext_lazy("Achieved"),
    ON_TRACK: gettext_lazy("On track"),
    AT_RISK: gettext_lazy("At risk"),
    OFF_TRACK: gettext_lazy("Off track"),
    NO_DATA: gettext_lazy("No data"),
    NOT_DUE: gettext_lazy("Not due"),
}


def status_label(status):
    """The translated name of a status key, in the active language."""
    return str(STATUS_LABELS[status])


@dataclass(frozen=True)
class Thresholds:
    ratio_at_risk: Decimal
    ratio_off_track: Decimal
    points_at_risk: Decimal
    points_off_track: Decimal

    @classmethod
    def for_target(cls, target, plan_thresholds=None):
        """The plan's thresholds (Plan, Thresholds, dict or None for defaults) with the target's overrides."""
        if isinstance(plan_thresholds, Thresholds):
            for name in DEFAULT_THRESHOLDS:
                if getattr(target, name, None) is not None:
                    break
            else:
                return plan_thresholds  # the usual case when judging a whole plan: no overrides
        values = {}
        for name, default in DEFAULT_THRESHOLDS.items():
            own = getattr(target, name, None)
            if own is not None:
                values[name] = Decimal(own)
                continue
            if isinstance(plan_thresholds, dict):
                base = plan_thresholds.get(name)
            else:
                base = getattr(plan_thresholds, name, None)
            values[name] = Decimal(base) if base is not None else default
        return cls(**values)


@dataclass(frozen=True)
class Assessment:
    status: str
    expected: Decimal | None = None
    actual: Decimal | None = None
    comparator: Decimal | None = None
    gap: Decimal | None = None
    completion: Decimal | None = None
    time_adjusted: Decimal | None = None
    forecast: Decimal | None = None
    # The month whose year-to-date figure was judged (None when there was none).
    as_of_month: int | None = None
    # Builds the one-line reason in the active language; run only when a reason is read,
    # so a page showing 100 of 2,000 rows words 100 reasons.
    build_reason: object = field(default=None, repr=False, compare=False)

    @cached_property
    def reason_zh(self):
        return self._worded("zh-hans")

    @cached_property
    def reason_en(self):
        return self._worded("en")

    def _worded(self, language):
        if not self.build_reason:
            return ""
        if translation.get_language() == language:  # the usual case: no switching back and forth per row
            return self.build_reason()
        with translation.override(language):
            return self.build_reason()

    @property
    def reason(self):
        return self.reason_en if (translation.get_language() or "").startswith("en") else self.reason_zh

    @property
    def label(self):
        return status_label(self.status)


# --- small helpers -----------------------------------------------------------------------------------


def _dec(value):
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _q(value, places=Q2):
    return None if value is None else value.quantize(places, rounding=ROUND_HALF_UP)


def fmt_number(value, places=None):
    """Plain text for a number: no trailing zeros beyond `places`, thousands left alone."""
    if value is None:
        return ""
    value = _dec(value)
    if places is not None:
        return f"{_q(value, Decimal(1).scaleb(-places)):f}"
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):f}"
    text = f"{_q(value, Q2):f}".rstrip("0").rstrip(".")
    return text


def fmt_rate(value):
    """A growth rate or a number of points as published: one decimal, more if needed."""
    value = _dec(value)
    if value == _q(value, Decimal("0.1")):
        return fmt_number(value, 1)
    return fmt_number(value, 2)


def months_label(month, combined_jan_feb=False):
    """'1–6月' / 'Jan–Jun' for the months a year-to-date figure covers, in the active language."""
    if (translation.get_language() or "").startswith("en"):
        names = ["", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return names[1] if month == 1 else f"Jan–{names[month]}"
    return "1月" if month == 1 else f"1–{month}月"


def _get(obj, name, default=None):
    return getattr(obj, name, default)


def _entries_upto(entries, year, month):
    return sorted(
        (e for e in entries if _get(e, "year", year) == year and _get(e, "month") <= month),
        key=lambda e: e.month,
    )


def _latest_value(entries):
    for e in reversed(entries):
        if e.value is not None:
            return e
    return None


def _share(month):
    return Decimal(month) / TWELVE


def _period_end(year, month):
    nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - datetime.timedelta(days=1)


def _curve_value(points, month, final, growth):
    """Expected cumulative value (or rate) by `month` from a 分月计划 {month: value}.

    Counts: linear between the known points, from 0 at month 0 and to the annual target at month 12.
    Rates: the latest point at or before the month, else the target rate.
    """
    if not points:
        return final if growth else None
    if growth:
        earlier = [m for m in points if m <= month]
        return _dec(points[max(earlier)]) if earlier else final
    known = {0: Decimal(0), **{m: _dec(v) for m, v in points.items()}}
    if final is not None and 12 not in known:
        known[12] = final
    if month in known:
        return known[month]
    lower = max(m for m in known if m < month)
    uppers = [m for m in known if m > month]
    if not uppers:
        return known[lower]
    upper = min(uppers)
    return known[lower] + (known[upper] - known[lower]) * (month - lower) / (upper - lower)


def expected_value(target, month, plan_points=None, comparator=None):
    """What the target expects by the end of `month`: a YTD rate for growth kinds, a cumulative value otherwise.

    Margin targets need that month's comparator (None without it); milestones and qualitative tasks have none.
    """
    required = _dec(_get(target, "target_value"))
    if required is None:
        return None
    kind = target.kind
    if kind in ("growth", "margin"):
        rate = _curve_value(plan_points or {}, month, required, growth=True)
        if kind == "margin":
            return None if comparator is None else _dec(comparator) + rate
        return rate
    if kind == "cumulative":
        curve = _curve_value(plan_points or {}, month, required, growth=False)
        return curve if curve is not None else required * _share(month)
    if kind == "recurring":
        per_year = PERIODS_PER_YEAR.get(_get(target, "frequency") or "year", 1)
        return required * (month * per_year // 12) / per_year
    return None


def _name(target):
    """The statistic's short name when set (reasons read "1–6月工业投资增长6.0%"), else the target's name."""
    english = (translation.get_language() or "").startswith("en")
    if english and (_get(target, "indicator_en") or _get(target, "name_en")):
        return _get(target, "indicator_en") or target.name_en
    return _get(target, "indicator") or target.name


def _comparator_name(target):
    if (translation.get_language() or "").startswith("en") and _get(target, "comparator_name_en"):
        return target.comparator_name_en
    return _get(target, "comparator_name") or ""


def _measure(target):
    measure = _get(target, "measure", "") or ""
    if (translation.get_language() or "").startswith("en"):
        return MEASURE_IN_ENGLISH.get(measure, measure)
    return measure


def _result(status, build_reason, **values):
    return Assessment(status=status, build_reason=build_reason, **values)


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


def _stale_note(as_of, month):
    """Appended when the judged figure is older than the period asked for."""
    if as_of >= month:
        return ""
    return _("; no figure yet for %(period)s") % {"period": months_label(month)}


# --- the engine --------------------------------------------------------------------------------------


def assess(target, entries, year, month, thresholds, today=None, plan_points=None, children=None):
    """How `target` stands at year-to-date period (year, month).

    entries: the target's entries of the year (any order; later months are ignored).
    thresholds: the plan (or a Thresholds/dict); the target's own overrides win.
    plan_points: optional {month: expected cumulative value} (分月计划).
    children: optional [(sub_target, sub_entries)]: a count/amount or event count with no figure of its
    own is the sum of its sub-targets' latest figures.
    """
    return _judge(target, _entries_upto(entries, year, month), year, month, thresholds, today, plan_points,
                  children)


def _judge(target, upto, year, month, thresholds, today, plan_points, children):
    """`assess` on the target's entries of the year up to the month, already sorted by month."""
    today = today or timezone.localdate()
    th = Thresholds.for_target(target, thresholds)
    kind = target.kind
    if kind in ("growth", "margin"):
        return _assess_growth(target, upto, year, month, th, today, plan_points or {})
    if kind == "cumulative":
        return _assess_cumulative(target, upto, year, month, th, today, plan_points or {}, children or [])
    if kind == "milestone":
        return _assess_milestone(target, upto, year, month, today)
    if kind == "recurring":
        return _assess_recurring(target, upto, year, month, th, today, children or [])
    return _assess_qualitative(target, upto, year, month, today)


def _missing(target, year, month, today, expected=None):
    """Nothing reported up to the period: not due yet (1月 of a 1–2月 indicator, or a month not over), or no data."""
    combined = _get(target, "combined_jan_feb", False)
    if combined and month == 1:
        return _result(NOT_DUE, lambda: _("%(name)s is reported for January and February together.") % {
            "name": _name(target)})
    expected = _q(expected)
    if today <= _period_end(year, month):
        return _result(NOT_DUE, lambda: _("%(period)s %(name)s: the figure is not due yet") % {
            "period": months_label(month, combined), "name": _name(target)}, expected=expected)
    if target.kind in ("milestone", "qualitative"):
        return _result(NO_DATA, lambda: _("%(period)s %(name)s: no progress reported") % {
            "period": months_label(month, combined), "name": _name(target)})
    return _result(NO_DATA, lambda: _("%(period)s %(name)s: no figure entered") % {
        "period": months_label(month, combined), "name": _name(target)}, expected=expected)


def _no_target_value(target, actual, as_of):
    return _result(NO_DATA, lambda: _("%(name)s has no target value.") % {"name": _name(target)},
                   actual=actual, as_of_month=as_of)


def _lower(target):
    return _get(target, "direction", "higher") == "lower"


def _assess_growth(target, upto, year, month, th, today, points):
    if target.target_value is None:
        return _no_target_value(target, None, None)
    entry = _latest_value(upto)
    if entry is None:
        return _missing(target, year, month, today, expected_value(target, month, points))
    as_of = entry.month
    combined = _get(target, "combined_jan_feb", False)
    actual = _dec(entry.value)
    tolerance = _dec(_get(target, "tolerance")) or Decimal(0)
    lower = _lower(target)
    comparator = None
    if target.kind == "margin":
        comparator = _dec(entry.comparator)
        if comparator is None:
            return _result(NO_DATA, lambda: _("%(period)s %(name)s: the comparator (%(comparator)s) is missing.") % {
                "period": months_label(as_of, combined), "name": _name(target),
                "comparator": _comparator_name(target) or _("comparator")},
                actual=actual, as_of_month=as_of)
    expected = expected_value(target, as_of, points, comparator)
    gap = actual - expected  # in percentage points; positive = above
    shortfall = gap if lower else -gap
    status = _by_points(shortfall, tolerance, th)
    if status == ON_TRACK and as_of == 12:
        status = ACHIEVED

    # A partial, not a closure: a few objects per row instead of a dozen for the cycle collector to walk.
    reason = partial(_growth_reason, target, as_of, month, actual, expected, gap, comparator, status, shortfall,
                     tolerance)
    return _result(status, reason, expected=_q(expected), actual=actual, comparator=comparator, gap=_q(gap),
                   as_of_month=as_of)


def _growth_reason(target, as_of, month, actual, expected, gap, comparator, status, shortfall, tolerance):
    combined = _get(target, "combined_jan_feb", False)
    values = {
        "period": months_label(as_of, combined), "name": _name(target), "actual": fmt_rate(actual),
        "points": fmt_rate(abs(gap)), "expected": fmt_rate(expected),
    }
    if target.kind == "margin":
        values.update(comparator=fmt_rate(comparator), comparator_name=_comparator_name(target),
                      margin=fmt_rate(actual - comparator), required=fmt_rate(expected - comparator))
        if gap >= 0:
            text = _("%(period)s %(name)s grew %(actual)s%%, %(margin)s points above %(comparator_name)s "
                     "(%(comparator)s%%), meeting the required %(required)s points") % values
        else:
            text = _("%(period)s %(name)s grew %(actual)s%%, %(margin)s points against %(comparator_name)s "
                     "(%(comparator)s%%), %(points)s points short of the required %(required)s") % values
    elif gap == 0:
        text = _("%(period)s %(name)s grew %(actual)s%%, equal to the target") % values
    elif gap < 0:
        text = _("%(period)s %(name)s grew %(actual)s%%, %(points)s points below the target") % values
    else:
        text = _("%(period)s %(name)s grew %(actual)s%%, %(points)s points above the target") % values
    if status in (ON_TRACK, ACHIEVED) and shortfall > 0:
        text += _(" (within the tolerance of ±%(tolerance)s)") % {"tolerance": fmt_rate(tolerance)}
    return text + _stale_note(as_of, month)


def _own_or_rollup(upto, children, year, month):
    """(actual, month of the figure, (reported, count) when summed from sub-targets) or None.

    The target's own latest figure wins; else the sum of the sub-targets' latest figures up to the period.
    """
    entry = _latest_value(upto)
    if entry is not None:
        return _dec(entry.value), entry.month, None
    total, latest, reported = Decimal(0), 0, 0
    for _child, child_entries in children:
        child = _latest_value(_entries_upto(child_entries, year, month))
        if child is not None:
            total += _dec(child.value)
            latest = max(latest, child.month)
            reported += 1
    return (total, latest, (reported, len(children))) if reported else None


def actual_series(target, entries, year, month, children=None):
    """{month: year-to-date value} for the months up to `month` that have a figure of their own.

    A decomposed count or event total with no figure of its own shows its sub-targets' sum.
    """
    rolls_up = target.kind in ("cumulative", "recurring")
    series = {}
    for m in range(1, month + 1):
        found = _own_or_rollup(_entries_upto(entries, year, m), children if rolls_up and children else [], year, m)
        if found is not None and found[1] == m:
            series[m] = found[0]
    return series


def _rollup_note(rolled):
    if not rolled:
        return ""
    return _(" (sum of %(reported)s of %(count)s sub-targets)") % {"reported": rolled[0], "count": rolled[1]}


def _assess_cumulative(target, upto, year, month, th, today, points, children):
    annual = _dec(target.target_value)
    if annual is None:
        return _no_target_value(target, None, None)
    found = _own_or_rollup(upto, children, year, month)
    if found is None:
        return _missing(target, year, month, today, expected_value(target, month, points))
    actual, as_of, rolled = found
    tolerance = _dec(_get(target, "tolerance")) or Decimal(0)
    lower = _lower(target)
    expected = expected_value(target, as_of, points)
    gap = actual - expected
    completion = actual / annual if annual else None
    time_adjusted = completion / _share(as_of) if completion is not None else None
    forecast = None
    if expected:
        # Pace so far carried to the year end: along the monthly plan when there is one.
        forecast = actual * annual / expected if points else actual * TWELVE / Decimal(as_of)
    if lower:
        if actual > annual + tolerance:
            status = OFF_TRACK
        elif as_of == 12:
            status = ACHIEVED
        elif actual <= expected:
            status = ON_TRACK
        else:
            status = _by_ratio(expected / actual, th)
    elif actual >= annual - tolerance:
        status = ACHIEVED
    elif expected <= 0:
        status = ON_TRACK
    else:
        status = _by_ratio(actual / expected, th)

    reason = partial(_cumulative_reason, target, as_of, month, actual, annual, expected, completion, gap, lower,
                     status, rolled)
    return _result(
        status, reason, expected=_q(expected), actual=actual, gap=_q(gap), completion=_q(completion, Q4),
        time_adjusted=_q(time_adjusted, Q4), forecast=_q(forecast), as_of_month=as_of,
    )


def _cumulative_reason(target, as_of, month, actual, annual, expected, completion, gap, lower, status, rolled):
    combined = _get(target, "combined_jan_feb", False)
    values = {
        "period": months_label(as_of, combined), "name": _name(target), "actual": fmt_number(actual),
        "measure": _measure(target), "annual": fmt_number(annual), "expected": fmt_number(_q(expected)),
        "completion": fmt_number(_q(completion * 100, Decimal("0.1")) if completion is not None else None),
        "gap": fmt_number(_q(abs(gap))),
    }
    if lower:
        if actual > annual:
            text = _("%(period)s %(name)s reached %(actual)s%(measure)s, above the ceiling of "
                     "%(annual)s%(measure)s for the year") % values
        elif actual > expected:
            text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(gap)s%(measure)s above the "
                     "%(expected)s%(measure)s expected by now (ceiling %(annual)s%(measure)s)") % values
        else:
            text = _("%(period)s %(name)s reached %(actual)s%(measure)s, within the %(expected)s%(measure)s "
                     "expected by now (ceiling %(annual)s%(measure)s)") % values
    elif status == ACHIEVED:
        text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(completion)s%% of the annual target "
                 "of %(annual)s%(measure)s") % values
    elif gap < 0:
        text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(completion)s%% of the annual target; "
                 "%(gap)s%(measure)s behind the %(expected)s%(measure)s expected by now") % values
    else:
        text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(completion)s%% of the annual target; "
                 "at or ahead of the %(expected)s%(measure)s expected by now") % values
    return text + _rollup_note(rolled) + _stale_note(as_of, month)


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


def _as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _overdue(deadline, year, month, today):
    """Whether a deadline had passed by the period: its end for a past month, today for the current one."""
    if deadline is None:
        return False
    end = _period_end(year, month)
    return deadline <= end if today > end else deadline < today


def _reviewed(target, entry):
    status = entry.assessed_status
    note = (_get(entry, "review_comment", "") or _get(entry, "note", "") or "").strip()

    def reason():
        values = {"name": _name(target), "status": status_label(status), "note": _first_line(note)}
        if note:
            return _("%(name)s: assessed as %(status)s by the reviewer: %(note)s") % values
        return _("%(name)s: assessed as %(status)s by the reviewer") % values

    return _result(status, reason, as_of_month=entry.month)


def _first_line(text, limit=60):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _from_notes(target, upto):
    """A task's default status from its latest entry: problems → at risk, progress → on track; else None."""
    latest = upto[-1] if upto else None
    if latest is None:
        return None
    if (_get(latest, "problems", "") or "").strip():
        return _result(AT_RISK, lambda: _("%(period)s %(name)s: problems reported: %(text)s") % {
            "period": months_label(latest.month), "name": _name(target),
            "text": _first_line(latest.problems)}, as_of_month=latest.month)
    if (_get(latest, "note", "") or "").strip():
        return _result(ON_TRACK, lambda: _("%(period)s %(name)s: %(text)s") % {
            "period": months_label(latest.month), "name": _name(target),
            "text": _first_line(latest.note)}, as_of_month=latest.month)
    return None


def _overdue_result(target, upto, deadline):
    return _result(OFF_TRACK, lambda: _("%(name)s was due on %(deadline)s and is not completed") % {
        "name": _name(target), "deadline": deadline.isoformat()}, as_of_month=upto[-1].month if upto else None)


def _assess_milestone(target, upto, year, month, today):
    deadline = _as_date(_get(target, "deadline"))
    done = _done_entry(upto)
    if done is not None:
        done_on = _as_date(_get(done, "done_on"))
        late = deadline is not None and done_on is not None and done_on > deadline

        def reason():
            values = {"name": _name(target), "date": done_on.isoformat() if done_on else
                      months_label(done.month), "deadline": deadline.isoformat() if deadline else ""}
            if late:
                return _("%(name)s was completed on %(date)s, after the due date %(deadline)s") % values
            return _("%(name)s was completed (%(date)s)") % values

        return _result(ACHIEVED, reason, as_of_month=done.month)
    if _overdue(deadline, year, month, today):
        return _overdue_result(target, upto, deadline)
    reviewed = _reviewer_status(upto)
    if reviewed is not None:
        return _reviewed(target, reviewed)
    from_notes = _from_notes(target, upto)
    if from_notes is not None:
        return from_notes
    if deadline is None:
        return _result(NOT_DUE, lambda: _("%(name)s has no due date") % {"name": _name(target)})
    return _result(NOT_DUE, lambda: _("%(name)s is due on %(deadline)s") % {
        "name": _name(target), "deadline": deadline.isoformat()})


def _periods_ended(frequency, count):
    names = {
        "month": lambda n: ngettext("%(count)s month ended", "%(count)s months ended", n),
        "quarter": lambda n: ngettext("%(count)s quarter ended", "%(count)s quarters ended", n),
        "half": lambda n: ngettext("%(count)s half-year ended", "%(count)s half-years ended", n),
        "year": lambda n: ngettext("%(count)s year ended", "%(count)s years ended", n),
    }
    return names.get(frequency, names["year"])(count) % {"count": count}


def _assess_recurring(target, upto, year, month, th, today, children):
    required = _dec(target.target_value)
    if required is None:
        return _no_target_value(target, None, None)
    frequency = _get(target, "frequency") or "year"
    per_year = PERIODS_PER_YEAR.get(frequency, 1)
    found = _own_or_rollup(upto, children, year, month)
    if found is None:
        if month * per_year // 12 == 0:
            return _result(NOT_DUE, lambda: _("%(name)s: no period has ended yet.") % {"name": _name(target)},
                           expected=_q(Decimal(0)))
        return _missing(target, year, month, today, expected_value(target, month))
    held, as_of, rolled = found
    # Judged at the month of the latest count: a later month not yet reported is not a miss.
    completed = as_of * per_year // 12
    expected = expected_value(target, as_of)
    completion = held / required if required else None
    forecast = held * per_year / completed if completed else None
    gap = held - expected
    if held >= required:
        status = ACHIEVED
    elif expected == 0 or held >= expected:
        status = ON_TRACK
    else:
        status = _by_ratio(held / expected, th)

    reason = partial(_recurring_reason, target, as_of, month, held, frequency, completed, expected, gap, required,
                     status, rolled)
    return _result(status, reason, expected=_q(expected), actual=held, gap=_q(gap), completion=_q(completion, Q4),
                   forecast=_q(forecast), as_of_month=as_of)


def _recurring_reason(target, as_of, month, held, frequency, completed, expected, gap, required, status, rolled):
    values = {
        "name": _name(target), "held": fmt_number(held), "ended": _periods_ended(frequency, completed),
        "expected": fmt_number(_q(expected)), "missed": fmt_number(_q(-gap)), "required": fmt_number(required),
        "period": months_label(as_of),
    }
    if status == ACHIEVED:
        text = _("%(period)s %(name)s: held %(held)s, meeting the %(required)s required this year") % values
    elif gap < 0:
        text = _("%(period)s %(name)s: %(ended)s, %(expected)s due, %(held)s held, %(missed)s missed") % values
    else:
        text = _("%(period)s %(name)s: %(ended)s, %(expected)s due, %(held)s held") % values
    return text + _rollup_note(rolled) + _stale_note(as_of, month)


def _assess_qualitative(target, upto, year, month, today):
    reviewed = _reviewer_status(upto)
    if reviewed is not None:
        return _reviewed(target, reviewed)
    done = _done_entry(upto)
    if done is not None:
        return _result(ACHIEVED, lambda: _("%(name)s is reported completed") % {"name": _name(target)},
                       as_of_month=done.month)
    deadline = _as_date(_get(target, "deadline"))
    if _overdue(deadline, year, month, today):
        return _overdue_result(target, upto, deadline)
    from_notes = _from_notes(target, upto)
    if from_notes is not None:
        return from_notes
    return _missing(target, year, month, today)


# --- loading a period --------------------------------------------------------------------------------


@dataclass
class PeriodData:
    """Everything the engine needs for a set of targets, loaded in a fixed number of queries."""

    targets: list  # [TargetData]
    entries: dict  # target id -> [EntryData of the year up to the month, by month]
    points: dict  # target id -> {month: value}
    children: dict  # parent id -> [(TargetData, [EntryData])]
    plans: dict = field(default_factory=dict)  # id -> Plan (thresholds)
    sections: dict = field(default_factory=dict)  # id -> Section
    units: dict = field(default_factory=dict)  # id -> Unit
    year: int | None = None  # the period the entries were loaded for
    month: int | None = None


TARGET_FIELDS = (
    "id", "plan_id", "section_id", "lead_unit_id", "parent_id", "code", "name", "name_en", "indicator",
    "indicator_en", "kind", "measure", "target_value", "tolerance", "direction", "comparator_name",
    "comparator_name_en", "combined_jan_feb", "frequency", "deadline", "ratio_at_risk", "ratio_off_track",
    "points_at_risk", "points_off_track", "order",
)
ENTRY_FIELDS = ("target_id", "year", "month", "value", "comparator", "is_done", "done_on", "assessed_status",
                "note", "problems", "review_comment")


class TargetData(BilingualNameMixin, namedtuple("TargetRow", TARGET_FIELDS)):
    """The fields of a Target that the engine and the report read; far cheaper to build than model instances."""

    __slots__ = ()

    @property
    def pk(self):
        return self.id

    def __str__(self):
        return f"{self.code} {self.display_name}"


class EntryData(namedtuple("EntryRow", ENTRY_FIELDS)):
    """The fields of a ProgressEntry that the engine reads; far cheaper to build than model instances."""

    __slots__ = ()


def _targets(queryset):
    return list(map(TargetData._make, queryset.values_list(*TARGET_FIELDS)))


def _entries(queryset):
    """{target id: [EntryData by month]} for a queryset of entries of one year."""
    rows = queryset.order_by("target_id", "month").values_list(*ENTRY_FIELDS)
    return {target_id: list(map(EntryData._make, group)) for target_id, group in groupby(rows, itemgetter(0))}


def _related(objects, attname, model):
    """{id: row} of the few related rows (plans, sections, units) the objects point to, in one query."""
    return model.objects.in_bulk({getattr(o, attname) for o in objects})


def load_period(targets_queryset, year, month=12):
    """Targets (with plan, section, lead unit), their entries up to the month, plan points and sub-targets.

    A fixed number of queries whatever the number of targets and entries. Rows come as plain
    tuples (TargetData, EntryData): building 2,000 model instances and 20,000 entries would cost
    more than the queries themselves.
    """
    from tracker.targets.models import MonthlyPlanPoint, Plan, ProgressEntry, Section, Target, Unit

    targets = _targets(targets_queryset)
    entries, points, children = {}, {}, {}
    if not targets:
        return PeriodData(targets, entries, points, children, year=year, month=month)
    # Plans, sections and units are few: one small query each instead of three joined copies per target.
    related = {"plans": _related(targets, "plan_id", Plan), "sections": _related(targets, "section_id", Section),
               "units": _related(targets, "lead_unit_id", Unit)}
    id_subquery = targets_queryset.values("pk")
    # A figure the reviewer returned was judged wrong: the status rests on the figures before it.
    period_entries = ProgressEntry.objects.filter(year=year, month__lte=month).exclude(
        state=ProgressEntry.State.RETURNED
    )
    entries = _entries(period_entries.filter(target__in=id_subquery))
    for target_id, m, value in MonthlyPlanPoint.objects.filter(target__in=id_subquery).values_list(
        "target_id", "month", "value"
    ):
        points.setdefault(target_id, {})[m] = value
    # Sub-targets count even when outside the queryset (e.g. another unit's share of a city-wide target).
    kids = _targets(Target.objects.filter(parent__in=id_subquery, is_active=True).order_by("pk"))
    if kids:
        kid_entries = _entries(period_entries.filter(target__parent__in=id_subquery, target__is_active=True))
        for kid in kids:
            children.setdefault(kid.parent_id, []).append((kid, kid_entries.get(kid.pk, [])))
    return PeriodData(targets, entries, points, children, **related, year=year, month=month)


@contextmanager
def gc_paused():
    """Pause Python's cycle collector while a period is loaded and judged.

    Loading builds tens of thousands of small objects with no reference cycles;
    the collector would otherwise run again and again over them mid-request
    (a third of the report's time with 2,000 targets). It resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def assess_loaded(data, year, month, today=None):
    """{target id: Assessment} for loaded targets, judged at (year, month)."""
    today = today or timezone.localdate()
    # Loaded entries are of the year, up to the loaded month, by month: no need to filter them again.
    loaded_upto = data.year == year and data.month is not None and data.month <= month
    thresholds = {pk: Thresholds.for_target(None, plan) for pk, plan in data.plans.items()}
    results = {}
    for t in data.targets:
        pk = t.id
        entries = data.entries.get(pk, [])
        upto = entries if loaded_upto else _entries_upto(entries, year, month)
        results[pk] = _judge(t, upto, year, month, thresholds[t.plan_id], today, data.points.get(pk),
                             data.children.get(pk))
    return results


def assess_period(targets_queryset, year, month, today=None):
    """{target id: Assessment} for every target in the queryset, in a constant number of queries."""
    with gc_paused():
        return assess_loaded(load_period(targets_queryset, year, month), year, month, today)
