"""Loading what the engine needs for many targets at once, in a fixed number of queries.

Rows come as plain tuples (TargetData, EntryData) rather than model instances:
building 2,000 targets and 20,000 entries as instances would cost more than the
queries themselves.
"""

import gc
from collections import namedtuple
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from django.db.models import Q
from django.utils import timezone

from tracker.targets.models import (
    BilingualNameMixin,
    MonthlyPlanPoint,
    Plan,
    ProgressEntry,
    Section,
    SeriesValue,
    Target,
    Unit,
)
from tracker.targets.policies import Policies
from tracker.targets.status.rules import entries_upto, judge
from tracker.targets.status.vocabulary import Thresholds


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
    policies: object = None  # the reporting policies (when each target's figure is due)


TARGET_FIELDS = (
    "id", "plan_id", "section_id", "lead_unit_id", "parent_id", "code", "name", "name_en", "indicator",
    "indicator_en", "kind", "measure", "target_value", "tolerance", "direction", "comparator_name",
    "comparator_name_en", "combined_jan_feb", "frequency", "deadline", "ratio_at_risk", "ratio_off_track",
    "points_at_risk", "points_off_track", "order", "continues_id", "series_indicator_id", "series_region_id",
    "comparator_region_id",
)
ENTRY_FIELDS = ("target_id", "year", "month", "value", "comparator", "is_done", "done_on", "assessed_status",
                "note", "problems", "review_comment", "state", "approved_at")
APPROVED = ProgressEntry.State.APPROVED
# An approved figure reopened for correction: it counts as last approved until the correction is approved.
IN_CORRECTION = Q(approved_at__isnull=False) & ~Q(state=APPROVED)


class TargetData(BilingualNameMixin, namedtuple("TargetRow", TARGET_FIELDS)):
    """The fields of a Target that the engine and the report read; far cheaper to build than model instances."""

    __slots__ = ()

    @property
    def pk(self):
        return self.id

    def __str__(self):
        return f"{self.code} {self.display_name}"

    @property
    def comparator_from_series(self):
        return bool(self.series_indicator_id and self.comparator_region_id)

    # The model's rule, on the plain row (no January for 1-2月 indicators).
    expects_entry = Target.expects_entry


class EntryData(namedtuple("EntryRow", ENTRY_FIELDS)):
    """The fields of a ProgressEntry that the engine reads; far cheaper to build than model instances.

    An approved figure reopened for correction (`correction`) carries the figures as last approved,
    which reports keep until the corrected ones are approved (see `_entries`).
    """

    __slots__ = ()

    @property
    def correction(self):
        return self.approved_at is not None and self.state != APPROVED

    @property
    def unreviewed(self):
        return self.state != APPROVED and self.approved_at is None


def load_targets(queryset):
    """[TargetData] of the queryset's targets, in its order."""
    return list(map(TargetData._make, queryset.values_list(*TARGET_FIELDS)))


def _entries(queryset):
    """{target id: [EntryData by month]} for a queryset of entries of one year."""
    rows = queryset.order_by("target_id", "month").values_list(*ENTRY_FIELDS)
    found = {target_id: list(map(EntryData._make, group)) for target_id, group in groupby(rows, itemgetter(0))}
    # The few figures in correction count as last approved: one small query, no work per ordinary row.
    approved = queryset.filter(IN_CORRECTION).order_by().values_list(
        "target_id", "month", "approved_value", "approved_comparator", "approved_is_done")
    for target_id, month, value, comparator, is_done in approved:
        rows_of = found[target_id]
        for index, row in enumerate(rows_of):
            if row.month == month:
                rows_of[index] = row._replace(value=value, comparator=comparator, is_done=is_done)
    return found


def _related(objects, attname, model):
    """{id: row} of the few related rows (plans, sections, units) the objects point to, in one query."""
    return model.objects.in_bulk({getattr(o, attname) for o in objects})


def load_period(targets_queryset, year, month=12, targets=None):
    """Targets (with plan, section, lead unit), their entries up to the month, plan points and sub-targets.

    A fixed number of queries whatever the number of targets and entries. Rows come as plain
    tuples (TargetData, EntryData): building 2,000 model instances and 20,000 entries would cost
    more than the queries themselves. `targets`: the queryset's targets already loaded (load_targets), for a
    page that reads them for something else too.
    """
    targets = load_targets(targets_queryset) if targets is None else targets
    entries, points, children = {}, {}, {}
    if not targets:
        return PeriodData(targets, entries, points, children, year=year, month=month)
    # Plans, sections and units are few: one small query each instead of three joined copies per target.
    related = {"plans": _related(targets, "plan_id", Plan), "sections": _related(targets, "section_id", Section),
               "units": _related(targets, "lead_unit_id", Unit)}
    id_subquery = targets_queryset.values("pk")
    # A figure the reviewer returned was judged wrong: the status rests on the figures before it,
    # unless it had been approved before (reopened for correction): then its approved figures count.
    period_entries = ProgressEntry.objects.filter(year=year, month__lte=month).exclude(
        state=ProgressEntry.State.RETURNED, approved_at__isnull=True
    )
    entries = _entries(period_entries.filter(target__in=id_subquery))
    # No default ordering (target, month): it would join the targets and their sections only to sort.
    for target_id, m, value in MonthlyPlanPoint.objects.filter(target__in=id_subquery).order_by().values_list(
        "target_id", "month", "value"
    ):
        points.setdefault(target_id, {})[m] = value
    # Sub-targets count even when outside the queryset (e.g. another unit's share of a city-wide target).
    kids = load_targets(Target.objects.filter(parent__in=id_subquery, is_active=True).order_by("pk"))
    if kids:
        kid_entries = _entries(period_entries.filter(target__parent__in=id_subquery, target__is_active=True))
        for kid in kids:
            children.setdefault(kid.parent_id, []).append((kid, kid_entries.get(kid.pk, [])))
    _comparators_from_series(targets, entries, kids, children, year, month)
    return PeriodData(targets, entries, points, children, **related, year=year, month=month, policies=Policies())


def last_year_series(data, targets_queryset=None):
    """{target id: {month: YTD value}} of last year's figures of the targets these continue (months up to the
    loaded month), counted as the reports count them. No query when no target continues another.

    `targets_queryset`: the queryset the data was loaded from; the targets continued are then named by a subquery
    (a province reader's 4,800 ids as parameters cost more than reading the figures)."""
    continued = {}
    for t in data.targets:
        if t.continues_id is not None:
            continued.setdefault(t.continues_id, []).append(t.id)
    if not continued or data.year is None:
        return {}
    continued_ids = list(continued) if targets_queryset is None else (
        targets_queryset.order_by().filter(continues__isnull=False).values("continues_id"))
    queryset = ProgressEntry.objects.filter(
        target_id__in=continued_ids, year=data.year - 1, month__lte=data.month or 12,
    ).exclude(state=ProgressEntry.State.RETURNED, approved_at__isnull=True).order_by()
    # Only the month and the figure (a province reader's 28,800 rows): the figures in correction as last approved.
    found = {}
    for old_id, month, value in queryset.exclude(IN_CORRECTION).values_list("target_id", "month", "value"):
        found.setdefault(old_id, {})[month] = value
    for old_id, month, value in queryset.filter(IN_CORRECTION).values_list("target_id", "month", "approved_value"):
        found.setdefault(old_id, {})[month] = value
    series = {}
    for old_id, months in found.items():
        values = {m: months[m] for m in sorted(months) if months[m] is not None}
        for new_id in continued[old_id]:
            series[new_id] = values
    return series


def series_values(pairs, year, month=12):
    """{(indicator id, region id): {month: value}} of the year up to the month, in one query."""
    found = {}
    pairs = set(pairs)
    if not pairs:
        return found
    rows = SeriesValue.objects.filter(
        year=year, month__lte=month, indicator_id__in={i for i, _r in pairs}, region_id__in={r for _i, r in pairs},
        value__isnull=False).order_by().values_list("indicator_id", "region_id", "month", "value")
    for indicator_id, region_id, m, value in rows:
        if (indicator_id, region_id) in pairs:
            found.setdefault((indicator_id, region_id), {})[m] = value
    return found


def _comparators_from_series(targets, entries, kids, children, year, month):
    """A margin target linked to a series takes each month's comparator from it (the province's figure, entered
    once), never from the entry: a month the series lacks has no comparator (and the target no data)."""
    linked = [t for t in [*targets, *kids] if t.kind == Target.Kind.MARGIN and t.comparator_from_series]
    if not linked:
        return
    values = series_values({(t.series_indicator_id, t.comparator_region_id) for t in linked}, year, month)
    kid_entries = {kid.pk: rows for parts in children.values() for kid, rows in parts}
    for t in linked:
        months = values.get((t.series_indicator_id, t.comparator_region_id), {})
        for rows in (entries.get(t.pk), kid_entries.get(t.pk)):
            if rows:
                rows[:] = [row._replace(comparator=months.get(row.month)) for row in rows]


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
    policies = data.policies or (Policies() if data.targets else None)
    results = {}
    for t in data.targets:
        pk = t.id
        entries = data.entries.get(pk, [])
        upto = entries if loaded_upto else entries_upto(entries, year, month)
        deadline = policies.due_date(t, year, month)
        results[pk] = judge(t, upto, year, month, thresholds[t.plan_id], today, data.points.get(pk),
                            data.children.get(pk), deadline)
    return results


def assess_period(targets_queryset, year, month, today=None):
    """{target id: Assessment} for every target in the queryset, in a constant number of queries."""
    with gc_paused():
        return assess_loaded(load_period(targets_queryset, year, month), year, month, today)
