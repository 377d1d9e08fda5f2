"""The one-line reason behind each status, in the active language.

Every function takes the Assessment (`a`) and words it; the figures come from
the assessment, the rest (names, measure, thresholds) from its target.
"""

import datetime
from decimal import Decimal

from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from tracker.targets.models import MEASURE_IN_ENGLISH
from tracker.targets.numbers import fmt_number, fmt_percent, fmt_quantity, fmt_rate, to_decimal
from tracker.targets.period import months_label
from tracker.targets.status.vocabulary import ACHIEVED, ON_TRACK, periods_completed, status_label


def _english():
    return (get_language() or "").startswith("en")


def _get(obj, name, default=None):
    return getattr(obj, name, default)


def name(target):
    """The statistic's short name when set (reasons read "1—6月工业投资增长6.0%"), else the target's name."""
    if _english() and (_get(target, "indicator_en") or _get(target, "name_en")):
        return _get(target, "indicator_en") or target.name_en
    return _get(target, "indicator") or target.name


def comparator_name(target):
    if _english() and _get(target, "comparator_name_en"):
        return target.comparator_name_en
    return _get(target, "comparator_name") or ""


def measure(target):
    value = _get(target, "measure", "") or ""
    return MEASURE_IN_ENGLISH.get(value, value) if _english() else value


def first_line(text, limit=60):
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _stale_note(a):
    """Appended when the judged figure is older than the report month (not yet due: see `_framed` when late)."""
    if a.late or a.as_of_month is None or a.as_of_month >= a.month:
        return ""
    return _("; no figure yet for %(period)s") % {"period": months_label(a.month)}


def _rollup_note(a):
    if not a.rolled:
        return ""
    reported, count, lagging = a.rolled[0], a.rolled[1], a.rolled[2]
    if not lagging:
        return _(" (sum of %(reported)s of %(count)s sub-targets)") % {"reported": reported, "count": count}
    behind = pgettext("list separator", ", ").join(
        _("%(name)s latest %(period)s") % {"name": getattr(child, "display_name", child), "period": months_label(m)}
        for child, m in lagging)
    return _(" (%(current)s of %(count)s sub-targets reported %(period)s; %(behind)s)") % {
        "current": reported - len(lagging), "count": count, "period": months_label(a.as_of_month), "behind": behind}


def _framed(a, text):
    """A figure's reason with what the reader must know about the figure itself: late, partial, corrected.

    Drafts and figures waiting for review are marked beside the figure (report rows), not in the reason.
    """
    if a.late:
        text = _("%(period)s figure overdue; the latest: ") % {"period": months_label(a.month)} + text
    text += _rollup_note(a) + _stale_note(a)
    if a.correction:
        text += _(" (correction pending: the figure as last approved)")
    return text


# --- nothing to judge -----------------------------------------------------------------------------------


def combined_january(a):
    return _("%(name)s is reported for January and February together.") % {"name": name(a.target)}


def not_due_yet(a):
    return _("%(period)s %(name)s: the figure is not due yet") % {
        "period": months_label(a.month), "name": name(a.target)}


def no_progress(a):
    return _("%(period)s %(name)s: no progress reported") % {"period": months_label(a.month), "name": name(a.target)}


def no_figure(a):
    return _("%(period)s %(name)s: no figure entered") % {"period": months_label(a.month), "name": name(a.target)}


def no_target_value(a):
    return _("%(name)s has no target value.") % {"name": name(a.target)}


def comparator_missing(a):
    return _("%(period)s %(name)s: the comparator (%(comparator)s) is missing.") % {
        "period": months_label(a.as_of_month), "name": name(a.target),
        "comparator": comparator_name(a.target) or _("comparator")}


# --- figures ----------------------------------------------------------------------------------------------


def growth(a):
    target = a.target
    gap = a.actual - a.expected
    values = {
        "period": months_label(a.as_of_month), "name": name(target), "actual": fmt_rate(a.actual),
        "points": fmt_rate(abs(gap)), "expected": fmt_rate(a.expected),
    }
    if target.kind == "margin":
        values.update(comparator=fmt_rate(a.comparator), comparator_name=comparator_name(target),
                      margin=fmt_rate(a.actual - a.comparator), required=fmt_rate(a.expected - a.comparator))
        if gap >= 0:
            text = _("%(period)s %(name)s grew %(actual)s%%, %(margin)s points above %(comparator_name)s "
                     "(%(comparator)s%%), meeting the required %(required)s points") % values
        elif a.actual >= a.comparator:
            text = _("%(period)s %(name)s grew %(actual)s%%, %(margin)s points above %(comparator_name)s "
                     "(%(comparator)s%%), %(points)s points short of the required %(required)s") % values
        else:
            values["margin"] = fmt_rate(a.comparator - a.actual)
            text = _("%(period)s %(name)s grew %(actual)s%%, %(margin)s points below %(comparator_name)s "
                     "(%(comparator)s%%), %(points)s points short of the required %(required)s") % values
    elif gap == 0:
        text = _("%(period)s %(name)s grew %(actual)s%%, equal to the target") % values
    elif gap < 0:
        text = _("%(period)s %(name)s grew %(actual)s%%, %(points)s points below the target") % values
    else:
        text = _("%(period)s %(name)s grew %(actual)s%%, %(points)s points above the target") % values
    shortfall = gap if _get(target, "direction", "higher") == "lower" else -gap
    if a.status in (ON_TRACK, ACHIEVED) and shortfall > 0:
        tolerance = to_decimal(_get(target, "tolerance")) or Decimal(0)
        text += _(" (within the tolerance of ±%(tolerance)s)") % {"tolerance": fmt_rate(tolerance)}
    return _framed(a, text)


def cumulative(a):
    target = a.target
    annual = to_decimal(target.target_value)
    completion = a.actual / annual if annual else None
    unit = measure(target)
    kind_of = _get(target, "measure", "") or ""
    values = {
        "period": months_label(a.as_of_month), "name": name(target), "actual": fmt_quantity(a.actual, kind_of),
        "measure": unit, "annual": fmt_quantity(annual, kind_of), "expected": fmt_quantity(a.expected, kind_of),
        "completion": fmt_percent(completion), "gap": fmt_quantity(abs(a.gap), kind_of),
    }
    if _get(target, "direction", "higher") == "lower":
        if a.actual > annual:
            text = _("%(period)s %(name)s reached %(actual)s%(measure)s, above the ceiling of "
                     "%(annual)s%(measure)s for the year") % values
        elif a.actual > a.expected:
            text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(gap)s%(measure)s above the "
                     "%(expected)s%(measure)s expected by now (ceiling %(annual)s%(measure)s)") % values
        else:
            text = _("%(period)s %(name)s reached %(actual)s%(measure)s, within the %(expected)s%(measure)s "
                     "expected by now (ceiling %(annual)s%(measure)s)") % values
        return _framed(a, text)
    if a.status == ACHIEVED:
        text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(completion)s%% of the annual target "
                 "of %(annual)s%(measure)s") % values
        return _framed(a, text)
    if a.gap < 0:
        text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(completion)s%% of the annual target; "
                 "%(gap)s%(measure)s behind the %(expected)s%(measure)s expected by now") % values
    else:
        text = _("%(period)s %(name)s reached %(actual)s%(measure)s, %(completion)s%% of the annual target; "
                 "at or ahead of the %(expected)s%(measure)s expected by now") % values
    return _framed(a, text + _schedule(a.actual, a.expected, annual))


def _schedule(actual, expected, annual):
    """时序进度 as reports write it: completion against the share of the year's target expected by now, in points."""
    if not annual:
        return ""
    done, due = Decimal(fmt_percent(actual / annual)), Decimal(fmt_percent(expected / annual))
    values = {"points": fmt_number(abs(done - due), 1), "schedule": fmt_number(due, 1)}
    if done < due:
        return _("; %(points)s points behind the time schedule (%(schedule)s%%)") % values
    return _("; %(points)s points ahead of the time schedule (%(schedule)s%%)") % values


def _periods_ended(frequency, count):
    names = {
        "month": lambda n: ngettext("%(count)s month ended", "%(count)s months ended", n),
        "quarter": lambda n: ngettext("%(count)s quarter ended", "%(count)s quarters ended", n),
        "half": lambda n: ngettext("%(count)s half-year ended", "%(count)s half-years ended", n),
        "year": lambda n: ngettext("%(count)s year ended", "%(count)s years ended", n),
    }
    return names.get(frequency, names["year"])(count) % {"count": count}


def recurring(a):
    target = a.target
    frequency = _get(target, "frequency") or "year"
    values = {
        "name": name(target), "held": fmt_number(a.actual),
        "ended": _periods_ended(frequency, periods_completed(target, a.month if a.late else a.as_of_month)),
        "expected": fmt_quantity(a.expected, "次"), "missed": fmt_quantity(-a.gap, "次"),
        "required": fmt_number(to_decimal(target.target_value)), "period": months_label(a.as_of_month),
    }
    if a.status == ACHIEVED:
        text = _("%(period)s %(name)s: held %(held)s, meeting the %(required)s required this year") % values
    elif a.gap < 0:
        text = _("%(period)s %(name)s: %(ended)s, %(expected)s due, %(held)s held, %(missed)s missed") % values
    else:
        text = _("%(period)s %(name)s: %(ended)s, %(expected)s due, %(held)s held") % values
    return _framed(a, text)


def no_period_ended(a):
    return _("%(name)s: no period has ended yet.") % {"name": name(a.target)}


# --- tasks and milestones ---------------------------------------------------------------------------------


def reviewed(a):
    entry = a.entry
    note = (_get(entry, "review_comment", "") or _get(entry, "note", "") or "").strip()
    values = {"name": name(a.target), "status": status_label(entry.assessed_status), "note": first_line(note)}
    if note:
        return _framed(a, _("%(name)s: assessed as %(status)s by the reviewer: %(note)s") % values)
    return _framed(a, _("%(name)s: assessed as %(status)s by the reviewer") % values)


def problems_noted(a):
    return _framed(a, _("%(period)s %(name)s: problems reported: %(text)s") % {
        "period": months_label(a.entry.month), "name": name(a.target), "text": first_line(a.entry.problems)})


def progress_noted(a):
    return _framed(a, _("%(period)s %(name)s: %(text)s") % {
        "period": months_label(a.entry.month), "name": name(a.target), "text": first_line(a.entry.note)})


def _deadline(target):
    value = _get(target, "deadline")
    return value.isoformat() if hasattr(value, "isoformat") else (value or "")


def overdue(a):
    return _("%(name)s was due on %(deadline)s and is not completed") % {
        "name": name(a.target), "deadline": _deadline(a.target)}


def completed(a):
    done_on = _get(a.entry, "done_on")
    deadline = _get(a.target, "deadline")
    if isinstance(done_on, str):
        done_on = datetime.date.fromisoformat(done_on)
    values = {"name": name(a.target), "date": done_on.isoformat() if done_on else months_label(a.entry.month),
              "deadline": _deadline(a.target)}
    if deadline is not None and done_on is not None and str(done_on) > str(deadline):
        return _("%(name)s was completed on %(date)s, after the due date %(deadline)s") % values
    return _("%(name)s was completed (%(date)s)") % values


def task_completed(a):
    return _("%(name)s is reported completed") % {"name": name(a.target)}


def milestone_not_due(a):
    if _get(a.target, "deadline") is None:
        return _("%(name)s has no due date") % {"name": name(a.target)}
    return _("%(name)s is due on %(deadline)s") % {"name": name(a.target), "deadline": _deadline(a.target)}
