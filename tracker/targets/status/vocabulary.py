"""The status engine's words: status keys and their labels, thresholds, and the Assessment it returns."""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.utils import translation
from django.utils.translation import gettext_lazy

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "no_data", "not_due")

ACHIEVED, ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA, NOT_DUE = STATUSES

# Display order for "worst first" lists: red, yellow, then the rest.
SEVERITY = {OFF_TRACK: 0, AT_RISK: 1, NO_DATA: 2, ON_TRACK: 3, ACHIEVED: 4, NOT_DUE: 5}

STATUS_LABELS = {
    ACHIEVED: gettext_lazy("Achieved"),
    ON_TRACK: gettext_lazy("On track"),
    AT_RISK: gettext_lazy("At risk"),
    OFF_TRACK: gettext_lazy("Off track"),
    NO_DATA: gettext_lazy("No data"),
    NOT_DUE: gettext_lazy("Not due"),
}

DEFAULT_THRESHOLDS = {
    "ratio_at_risk": Decimal("0.900"),
    "ratio_off_track": Decimal("0.700"),
    "points_at_risk": Decimal("0.00"),
    "points_off_track": Decimal("2.00"),
}


# A recurring target's periods, by frequency.
PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "half": 2, "year": 1}


def periods_completed(target, month):
    """How many of a recurring target's periods (months, quarters…) have ended by the end of `month`."""
    per_year = PERIODS_PER_YEAR.get(getattr(target, "frequency", None) or "year", 1)
    return month * per_year // 12


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
            if all(getattr(target, name, None) is None for name in DEFAULT_THRESHOLDS):
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
    """How a target stands at a report month, with the figures behind it.

    `wording(assessment)` (a function of tracker.targets.status.reasons) words the
    one-line reason; it runs only when a reason is read, so a page showing 100 of
    2,000 rows words 100 reasons.
    """

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
    # What the reason needs beyond the figures: the target, the report month, the entry judged,
    # (reported, count) of sub-targets summed, and the thresholds applied.
    target: object = field(default=None, repr=False, compare=False)
    month: int | None = field(default=None, compare=False)
    entry: object = field(default=None, repr=False, compare=False)
    rolled: tuple | None = field(default=None, compare=False)
    wording: object = field(default=None, repr=False, compare=False)
    # The figure stands in for the report month's, which is overdue; it is a draft or waits for review;
    # it is a reopened figure, counted as last approved until the correction is approved.
    late: bool = field(default=False, compare=False)
    unreviewed: bool = field(default=False, compare=False)
    correction: bool = field(default=False, compare=False)

    @cached_property
    def reason_zh(self):
        return self._worded("zh-hans")

    @cached_property
    def reason_en(self):
        return self._worded("en")

    def _worded(self, language):
        if not self.wording:
            return ""
        if translation.get_language() == language:  # the usual case: no switching back and forth per row
            return self.wording(self)
        with translation.override(language):
            return self.wording(self)

    @property
    def reason(self):
        return self.reason_en if (translation.get_language() or "").startswith("en") else self.reason_zh

    @property
    def label(self):
        return status_label(self.status)
