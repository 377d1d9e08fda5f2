"""What a target expects by the end of a month: the monthly plan curve (分月计划), else a linear share of the year."""

from decimal import Decimal

from tracker.targets.numbers import to_decimal
from tracker.targets.status.vocabulary import PERIODS_PER_YEAR

TWELVE = Decimal(12)


def _get(obj, name, default=None):
    return getattr(obj, name, default)


def share(month):
    """The share of the year elapsed by the end of `month`."""
    return Decimal(month) / TWELVE


def _curve_value(points, month, final, growth):
    """Expected cumulative value (or rate) by `month` from a 分月计划 {month: value}.

    Counts: linear between the known points, from 0 at month 0 and to the annual target at month 12.
    Rates: the latest point at or before the month, else the target rate.
    """
    if not points:
        return final if growth else None
    if growth:
        earlier = [m for m in points if m <= month]
        return to_decimal(points[max(earlier)]) if earlier else final
    known = {0: Decimal(0), **{m: to_decimal(v) for m, v in points.items()}}
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
    required = to_decimal(_get(target, "target_value"))
    if required is None:
        return None
    kind = target.kind
    if kind in ("growth", "margin"):
        rate = _curve_value(plan_points or {}, month, required, growth=True)
        if kind == "margin":
            return None if comparator is None else to_decimal(comparator) + rate
        return rate
    if kind == "cumulative":
        curve = _curve_value(plan_points or {}, month, required, growth=False)
        return curve if curve is not None else required * share(month)
    if kind == "recurring":
        per_year = PERIODS_PER_YEAR.get(_get(target, "frequency") or "year", 1)
        return required * (month * per_year // 12) / per_year
    return None
