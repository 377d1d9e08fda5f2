"""Targets that take their figure from a register: the aggregations, and how their figures reach entries.

A `RegisterFigure` names an aggregation over the registers for a target (a cumulative count or amount),
optionally limited to a county and its sub-units. `month_values` computes the figure of every month of a
year in one query per target, whatever the size of the register. `refresh` writes the figures into the
targets' entries through `tracker.services.entries.save_entries` (the one write path, source "register"):
the status engine and the reports then judge them as any figure. An approved entry is locked and left as it
is, so the figure of an approved month is frozen: later changes to the register do not move past reports.

`rows_behind` gives the firms or projects that make one month's figure (the list the report links to).
"""

import logging
from collections import defaultdict
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.registers.models import Firm, Listing, Project, ProjectUpdate, RegisterFigure
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, Unit
from tracker.targets.period import Period

log = logging.getLogger(__name__)
Aggregation = RegisterFigure.Aggregation
SOURCE = "register"
STAGE_DATE = {Aggregation.SIGNED: "signed_on", Aggregation.STARTED: "started_on",
              Aggregation.PRODUCING: "producing_on"}


def unit_tree(unit_id, children=None):
    """The unit and its sub-units (one query, or none when the tree is passed in)."""
    if children is None:
        children = defaultdict(list)
        for pk, parent_id in Unit.objects.values_list("pk", "parent_id"):
            children[parent_id].append(pk)
    found, stack = set(), [unit_id]
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return found


def _end(year, month):
    return Period(year, month).end


def _firm_listings(figure, units):
    qs = Listing.objects.all()
    if units is not None:
        qs = qs.filter(firm__unit_id__in=units)
    if figure.aggregation == Aggregation.ENTERED:
        return qs.filter(kind=Listing.Kind.CULTIVATION, state=Listing.State.ENTERED)
    qs = qs.filter(kind=figure.list_kind)
    if figure.level:
        qs = qs.filter(level=figure.level)
    return qs


def _projects(figure, units):
    qs = Project.objects.filter(total_investment__gte=figure.min_investment)
    if units is not None:
        qs = qs.filter(unit_id__in=units)
    if figure.project_kind:
        qs = qs.filter(kind=figure.project_kind)
    return qs


def _units(figure, children):
    return None if figure.unit_id is None else unit_tree(figure.unit_id, children)


def month_values(figure, year, last_month, children=None):
    """{month: figure} for months 1..last_month of `year` (one query)."""
    units = _units(figure, children)
    months = range(1, last_month + 1)
    agg = figure.aggregation
    if agg == Aggregation.ENTERED:
        entered = list(_firm_listings(figure, units).filter(
            entered_month__gte=f"{year:04d}-01", entered_month__lte=f"{year:04d}-12",
        ).values_list("entered_month", flat=True))
        return {m: sum(1 for key in entered if int(key[5:]) <= m) for m in months}
    if agg == Aggregation.IN_LIST:
        spans = list(_firm_listings(figure, units).filter(joined_on__lte=_end(year, last_month)).values_list(
            "joined_on", "left_on"))
        return {m: sum(1 for joined, left in spans if joined <= _end(year, m) and not (left and left <= _end(year, m)))
                for m in months}
    if agg in STAGE_DATE:
        name = STAGE_DATE[agg]
        days = list(_projects(figure, units).filter(**{
            f"{name}__gte": date(year, 1, 1), f"{name}__lte": _end(year, last_month)}).values_list(name, flat=True))
        return {m: sum(1 for day in days if day.month <= m) for m in months}
    # Investment completed this year: each project's latest year-to-date figure up to the month (a project
    # without this month's update counts with its latest earlier one: a year-to-date figure only grows).
    latest = defaultdict(dict)
    updates = ProjectUpdate.objects.filter(
        project__in=_projects(figure, units), year=year, month__lte=last_month, completed_ytd__isnull=False)
    for project_id, month, value in updates.values_list("project_id", "month", "completed_ytd"):
        latest[project_id][month] = value
    result = {}
    for m in months:
        total = 0
        for by_month in latest.values():
            before = [k for k in by_month if k <= m]
            if before:
                total += by_month[max(before)]
        result[m] = total
    return result


def rows_behind(figure, year, month):
    """The queryset of firms or projects making the figure of (year, month)."""
    units = _units(figure, None)
    agg = figure.aggregation
    if agg == Aggregation.ENTERED:
        listings = _firm_listings(figure, units).filter(
            entered_month__gte=f"{year:04d}-01", entered_month__lte=f"{year:04d}-{month:02d}")
        return Firm.objects.filter(pk__in=listings.values("firm_id"))
    if agg == Aggregation.IN_LIST:
        end = _end(year, month)
        listings = _firm_listings(figure, units).filter(joined_on__lte=end).exclude(left_on__lte=end)
        return Firm.objects.filter(pk__in=listings.values("firm_id"))
    projects = _projects(figure, units)
    if agg in STAGE_DATE:
        name = STAGE_DATE[agg]
        return projects.filter(**{f"{name}__gte": date(year, 1, 1), f"{name}__lte": _end(year, month)})
    return projects.filter(updates__year=year, updates__month__lte=month,
                           updates__completed_ytd__isnull=False).distinct()


def last_month_of(year, today=None):
    """The latest month of `year` that has begun (entries for later months are refused)."""
    today = today or timezone.localdate()
    if year > today.year:
        return 0
    return 12 if year < today.year else today.month


def refresh(targets=None, today=None):
    """Write the register figures of every month so far into the targets' entries; returns the SaveResult.

    `targets`: the register-backed targets to refresh (default all active ones). Months already approved are
    left alone (frozen); a month whose figure is unchanged costs no write.
    """
    figures = RegisterFigure.objects.select_related("target__plan").filter(target__is_active=True)
    if targets is not None:
        figures = figures.filter(target__in=targets)
    figures = list(figures)
    if not figures:
        return None
    children = defaultdict(list)
    for pk, parent_id in Unit.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    locked = set(ProgressEntry.objects.filter(
        target__in=[f.target for f in figures], state=ProgressEntry.State.APPROVED,
    ).values_list("target_id", "year", "month"))
    rows = []
    for figure in figures:
        target = figure.target
        year = target.plan.year
        last = last_month_of(year, today)
        if not last:
            continue
        for month, value in month_values(figure, year, last, children).items():
            if not target.expects_entry(month) or (target.pk, year, month) in locked:
                continue
            rows.append(EntryRow(target, year, month, {"value": value}, confirmed=True))
    result = save_entries(None, rows, SOURCE, today=today)
    if not result.ok:
        log.warning("register figures not written: %s", "; ".join(map(str, result.errors + result.warnings)))
    return result


FIRM_AGGREGATIONS = {Aggregation.ENTERED, Aggregation.IN_LIST}


def register_label(aggregation):
    """The register a figure is computed from, for messages and the entry screen."""
    return _("the enterprise register") if aggregation in FIRM_AGGREGATIONS else _("the project register")


def computed(target_ids):
    """{target id: (SOURCE, register)} of the register-backed targets among `target_ids` (one query).

    Registered with save_entries (tracker.services.entries.COMPUTED_FIGURES): only the refresh writes their
    figures; a figure typed on any other path is refused.
    """
    return {target_id: (SOURCE, register_label(agg)) for target_id, agg in RegisterFigure.objects.filter(
        target_id__in=target_ids).values_list("target_id", "aggregation")}


def refresh_after_commit():
    """Refresh every register-backed target once the current transaction commits (after a register write)."""
    transaction.on_commit(refresh)
