"""The status engine: how a target stands at a report month, and why.

The package in five parts, each importable on its own:

- `vocabulary`: status keys and labels, thresholds, the Assessment returned;
- `expectations`: what a target expects by a month (monthly plan curve, else linear) — `expected_value`;
- `rules`: the pure rules per kind (no database) — `assess`, `judge`;
- `reasons`: the one-line reason of each outcome, worded from the Assessment;
- `loading`: loading many targets in a fixed number of queries — `load_period`, `assess_period`.

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

from tracker.targets.status.loading import (
    EntryData,
    PeriodData,
    TargetData,
    assess_loaded,
    assess_period,
    gc_paused,
    last_year_series,
    load_period,
    load_targets,
)
from tracker.targets.status.rules import actual_series, assess, expected_value, judge
from tracker.targets.status.vocabulary import (
    ACHIEVED,
    AT_RISK,
    DEFAULT_THRESHOLDS,
    NO_DATA,
    NOT_DUE,
    OFF_TRACK,
    ON_TRACK,
    SEVERITY,
    STATUS_LABELS,
    STATUSES,
    Assessment,
    Thresholds,
    status_label,
)

__all__ = [
    "ACHIEVED", "AT_RISK", "DEFAULT_THRESHOLDS", "NO_DATA", "NOT_DUE", "OFF_TRACK", "ON_TRACK", "SEVERITY",
    "STATUS_LABELS", "STATUSES", "Assessment", "EntryData", "PeriodData", "TargetData", "Thresholds",
    "actual_series", "assess", "assess_loaded", "assess_period", "expected_value", "gc_paused", "judge",
    "last_year_series", "load_period", "load_targets", "status_label",
]
