"""Soft checks on a figure: warnings that do not block a save but must be confirmed (like DHIS2's validation rules).

Pure functions, no database: `check_entry` takes a target, the new figures, the figure before them and the
comparators other targets have for the same series and month, and returns a list of EntryWarning.
tracker.services.entries loads what they need and checks every row it is about to write.

The rules:

- ``ytd_decrease`` (cumulative and recurring kinds, either direction): a year-to-date figure below the
  latest earlier figure of the year. A year-to-date count only grows; the usual slip is typing the month's
  own figure (谯城 18 for 1—6月, then 10 for 1—7月).
- ``growth_jump`` (growth and margin kinds): the rate moved more than N points from the latest earlier
  figure; N is the target's `growth_jump_points`, else the plan's (default 10).
- ``comparator_mismatch`` (margin kind): the comparator differs from the one another target already has
  for the same comparator series (same `comparator_name`) and the same month.
- ``far_above_target`` (cumulative and recurring): the figure is more than RANGE_FACTOR (3) times the
  annual target.
- ``far_from_target`` (growth and margin): the rate is more than RANGE_POINTS (50) points from the rate
  aimed at (the target rate; for a margin, the comparator plus the margin).

"The latest earlier figure" is the entry of the same year with the highest earlier month that has a
figure and was not returned by the reviewer (a returned figure was judged wrong).

A warning keeps its figures as plain text in `params`, so it can be worded again in any language:
`word()` words a stored warning (a dict of code, params and message) in the active language.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tracker.targets.models import MEASURE_IN_ENGLISH, Target
from tracker.targets.numbers import plain_number, to_decimal
from tracker.targets.period import months_label

DEFAULT_GROWTH_JUMP = Decimal("10")
RANGE_FACTOR = Decimal("3")
RANGE_POINTS = Decimal("50")
# Comparators of other targets named in one warning, at most.
MAX_OTHERS_SHOWN = 3

COUNT_KINDS = (Target.Kind.CUMULATIVE, Target.Kind.RECURRING)
RATE_KINDS = (Target.Kind.GROWTH, Target.Kind.MARGIN)

YTD_DECREASE = "ytd_decrease"
GROWTH_JUMP = "growth_jump"
COMPARATOR_MISMATCH = "comparator_mismatch"
FAR_ABOVE_TARGET = "far_above_target"
FAR_FROM_TARGET = "far_from_target"
CODES = (YTD_DECREASE, GROWTH_JUMP, COMPARATOR_MISMATCH, FAR_ABOVE_TARGET, FAR_FROM_TARGET)


def _english():
    return (get_language() or "").startswith("en")


def _measure(code):
    return MEASURE_IN_ENGLISH.get(code, code) if _english() else code


def _wording(code, p):
    """The sentence of a warning in the active language, from its plain-text params."""
    if code == YTD_DECREASE:
        return _("The year-to-date figure %(value)s%(measure)s is below the %(previous)s%(measure)s entered for "
                 "%(period)s; a year-to-date figure only grows. Was the month's own figure entered?") % {
            **p, "measure": _measure(p.get("measure", "")), "period": months_label(int(p["month"]))}
    if code == GROWTH_JUMP:
        return _("The rate %(value)s%% moved %(change)s points from the %(previous)s%% entered for %(period)s "
                 "(more than %(limit)s).") % {**p, "period": months_label(int(p["month"]))}
    if code == COMPARATOR_MISMATCH:
        series = p.get("series_en") if _english() and p.get("series_en") else p.get("series", "")
        return _("The comparator %(value)s differs from what other targets of the same series (%(series)s) have "
                 "for this month: %(others)s.") % {**p, "series": series}
    if code == FAR_ABOVE_TARGET:
        return _("The year-to-date figure %(value)s%(measure)s is more than %(factor)s times the annual target "
                 "of %(target)s%(measure)s.") % {**p, "measure": _measure(p.get("measure", ""))}
    if code == FAR_FROM_TARGET:
        return _("The rate %(value)s%% is more than %(limit)s points from the %(expected)s%% aimed at.") % p
    raise KeyError(code)


@dataclass(frozen=True)
class EntryWarning:
    """One soft check that failed: a code (see CODES) and the figures behind it, as plain text."""

    code: str
    params: dict = field(default_factory=dict, compare=False)

    @property
    def message(self):
        return _wording(self.code, self.params)

    def __str__(self):
        return self.message

    def as_dict(self):
        """What an entry keeps: the code, the figures, and the sentence as the person saw it."""
        return {"code": self.code, "params": dict(self.params), "message": self.message}


def word(stored):
    """A stored warning (dict) in the active language; the stored sentence if it cannot be worded again."""
    try:
        return _wording(stored["code"], stored.get("params") or {})
    except (KeyError, ValueError, TypeError):
        return str(stored.get("message", "")) if isinstance(stored, dict) else str(stored)


def growth_jump_limit(target):
    """How far a rate may move from the earlier figure before it is questioned (points)."""
    own = getattr(target, "growth_jump_points", None)
    if own is not None:
        return to_decimal(own)
    plan_limit = getattr(getattr(target, "plan", None), "growth_jump_points", None)
    return to_decimal(plan_limit) if plan_limit is not None else DEFAULT_GROWTH_JUMP


def check_ytd_decrease(target, value, previous):
    if target.kind not in COUNT_KINDS or value is None or previous is None or previous.value is None:
        return None
    if value < to_decimal(previous.value):
        return EntryWarning(YTD_DECREASE, {
            "value": plain_number(value), "previous": plain_number(previous.value), "month": previous.month,
            "measure": target.measure or ""})
    return None


def check_growth_jump(target, value, previous):
    if target.kind not in RATE_KINDS or value is None or previous is None or previous.value is None:
        return None
    limit = growth_jump_limit(target)
    change = abs(value - to_decimal(previous.value))
    if change > limit:
        return EntryWarning(GROWTH_JUMP, {
            "value": plain_number(value), "previous": plain_number(previous.value), "month": previous.month,
            "change": plain_number(change), "limit": plain_number(limit)})
    return None


def check_comparator(target, comparator, series):
    """`series`: (target code, comparator) of the other targets of the same comparator series and month."""
    if target.kind != Target.Kind.MARGIN or comparator is None or not target.comparator_name:
        return None
    others = sorted((code, to_decimal(other)) for code, other in series
                    if other is not None and to_decimal(other).compare(comparator) != 0)
    if not others:
        return None
    shown = ", ".join(f"{plain_number(other)} ({code})" for code, other in others[:MAX_OTHERS_SHOWN])
    if len(others) > MAX_OTHERS_SHOWN:
        shown += ", …"
    return EntryWarning(COMPARATOR_MISMATCH, {
        "value": plain_number(comparator), "others": shown, "series": target.comparator_name,
        "series_en": getattr(target, "comparator_name_en", "") or ""})


def check_range(target, value, comparator):
    if value is None or target.target_value is None:
        return None
    aim = to_decimal(target.target_value)
    if target.kind in COUNT_KINDS:
        if aim > 0 and value > aim * RANGE_FACTOR:
            return EntryWarning(FAR_ABOVE_TARGET, {
                "value": plain_number(value), "target": plain_number(aim), "factor": plain_number(RANGE_FACTOR),
                "measure": target.measure or ""})
        return None
    if target.kind in RATE_KINDS:
        if target.kind == Target.Kind.MARGIN:
            if comparator is None:
                return None
            aim = comparator + aim
        if abs(value - aim) > RANGE_POINTS:
            return EntryWarning(FAR_FROM_TARGET, {
                "value": plain_number(value), "expected": plain_number(aim), "limit": plain_number(RANGE_POINTS)})
    return None


def check_entry(target, value, comparator=None, previous=None, series=()):
    """Every warning for a target's new figures.

    `previous`: the latest earlier figure of the year (anything with `value` and `month`), or None;
    `series`: (code, comparator) pairs of other targets with the same comparator series and month.
    """
    value, comparator = to_decimal(value), to_decimal(comparator)
    found = [
        check_ytd_decrease(target, value, previous),
        check_growth_jump(target, value, previous),
        check_comparator(target, comparator, series),
        check_range(target, value, comparator),
    ]
    return [w for w in found if w is not None]


def is_checked(target):
    """Whether figures of this kind of target are checked at all."""
    return target.kind in COUNT_KINDS or target.kind in RATE_KINDS
