"""The monthly report's rows: one dict per target, computed with the status engine.

Every screen, export and the `monthly_report` command builds its rows here,
so they always agree. Loading is a fixed number of queries however many
targets, units and entries there are.
"""

from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.accounts import scoping
from tracker.targets.models import Plan, Target
from tracker.targets.period import Period, months_label
from tracker.targets.ranks import competition_ranks, places_text, rank_table
from tracker.targets.status import (
    SEVERITY,
    STATUSES,
    actual_series,
    assess_loaded,
    gc_paused,
    last_year_series,
    load_period,
    status_label,
)


def _reason(assessment):
    return assessment.reason


_lazy_reason = lazy(_reason, str)


# What a reader must know about the figure behind a status, beside the status itself.
FIGURE_NOTES = {
    "": "",
    "correction": gettext_lazy("correction pending"),
    "late": gettext_lazy("figure overdue"),
    "unreviewed": gettext_lazy("not yet approved"),
}


def _figure_note(a):
    if a.correction:
        return "correction"
    if a.late:
        return "late"
    if a.unreviewed:
        return "unreviewed"
    return ""


def report_targets(user, year):
    """The active targets of the year's plans that this user may see (no user: every plan but drafts)."""
    qs = Target.objects.filter(plan__year=year, is_active=True)
    if user is None:
        return qs.exclude(plan__status=Plan.Status.DRAFT)
    return scoping.visible_targets(user, qs)


def build_rows(targets_qs, year, month, today=None, last_year=True, targets=None):
    """Report rows for the targets, grouped by section in plan order.

    `last_year`: whether to read last year's figures for the rows' "last_year" (two queries over last year's
    entries); without it that column is empty, for pages that never show it (dashboards, the report without
    ?yoy=1). `targets`: the queryset's targets already loaded (status.load_targets).
    """
    with gc_paused():
        data = load_period(targets_qs, year, month, targets=targets)
        last = last_year_series(data, targets_qs) if last_year else {}
        rows = _rows(data, assess_loaded(data, year, month, today), last)
        add_series_columns(data, rows, month)
        # Freed while the collector still sleeps, so that it never walks the tens of thousands of entries.
        del data
    return rows


def _rows(data, results, last_year):
    kinds = {key: str(label) for key, label in Target.Kind.choices}
    labels = {key: status_label(key) for key in STATUSES}
    rows = []
    sections = {pk: (s.display_name, s.number) for pk, s in data.sections.items()}
    units = {pk: (u.code, u.display_name) for pk, u in data.units.items()}
    periods = {}  # month -> label: a dozen distinct labels for thousands of rows
    figure_notes = {key: str(label) for key, label in FIGURE_NOTES.items()}
    mixed = str(_(" (partly older)"))
    for t in data.targets:
        a = results[t.pk]
        period = ""
        if a.as_of_month:
            if a.as_of_month not in periods:
                periods[a.as_of_month] = months_label(a.as_of_month)
            period = periods[a.as_of_month]
        section_name, section_number = sections[t.section_id]
        unit_code, unit_name = units[t.lead_unit_id]
        # {month: value}: one small dict per row, which the cycle collector need not even track.
        trend = {e.month: e.value for e in data.entries.get(t.pk, []) if e.value is not None}
        if not trend and t.pk in data.children:
            # A decomposed total with no figure of its own: its sub-targets' sum, as on the target page.
            trend = actual_series(t, [], data.year, data.month, data.children[t.pk])
        rows.append({
            "target_id": t.pk,
            "plan_id": t.plan_id,
            "code": t.code,
            "name": t.display_name,
            "section": section_name,
            "section_number": section_number,
            "order": t.order,
            "unit_code": unit_code,
            "unit_name": unit_name,
            "unit_id": t.lead_unit_id,
            "kind": t.kind,
            "kind_label": kinds.get(t.kind, t.kind),
            "measure": t.measure,
            "target": t.target_value,
            "tolerance": t.tolerance,
            "deadline": t.deadline,
            "actual": a.actual,
            "comparator": a.comparator,
            "expected": a.expected,
            "gap": a.gap,
            "completion": a.completion,
            "time_adjusted": a.time_adjusted,
            "forecast": a.forecast,
            "status": a.status,
            "status_label": labels[a.status],
            "severity": SEVERITY[a.status],
            "reason": _lazy_reason(a),  # worded only for the rows that are shown or exported
            "as_of_month": a.as_of_month,
            "period": period + (mixed if a.rolled and a.rolled.lagging else ""),
            "parent_id": t.parent_id,
            "figure_note": figure_notes[_figure_note(a)],
            "trend": trend,
            # Last year's figure for the same months (1..the months this year's figure covers), of the target
            # this one continues; None when it has none for those months (or continues none).
            **_last_year(last_year.get(t.pk), a.as_of_month or data.month, data.year),
        })
    rows.sort(key=lambda r: (r["section_number"], r["order"], r["code"]))
    return rows


def _last_year(series, month, year):
    if not series or month is None or series.get(month) is None:
        return {"last_year": None, "last_year_period": ""}
    return {"last_year": series[month], "last_year_period": Period(year - 1, month).label}


def by_organisation(rows, plans):
    """[(issuing unit, summary)] of the rows grouped by the unit that issued their plan, in unit code order.

    `plans` are the plans the rows belong to (with their units); a plan issued by no unit counts under None.
    """
    issuer = {p.pk: p.unit for p in plans}
    groups = {}
    for row in rows:
        unit = issuer.get(row["plan_id"])
        groups.setdefault(unit.pk if unit else None, (unit, []))[1].append(row)
    ordered = sorted(groups.values(), key=lambda g: (g[0] is None, g[0].code if g[0] else ""))
    return [(unit, summarise(group)) for unit, group in ordered]


def add_series_columns(data, rows, month):
    """The province's figure, the gap to it and the ranks beside each row of a target that follows a series.

    The gap is the target's year-to-date figure less the province's for the same months, both as published
    (工业投资 1.8% against 0.2%: 1.6 points above). Ranks: the published ones (全省第9位), the computed one beside
    it where every peer has a value and it differs; a county's sub-target is placed among its siblings (by
    completion for counts, by growth for rates) when all of them are in the rows. Five queries at most.
    """
    linked = {t.pk: t for t in data.targets if t.series_indicator_id}
    # Only the months the rows stand at (mostly one): a year's values of every peer would be twelve times as many.
    months = {row["as_of_month"] or month for row in rows if row["target_id"] in linked}
    table = rank_table({t.series_indicator_id for t in linked.values()}, data.year, months,
                       {r for t in linked.values() for r in (t.series_region_id, t.comparator_region_id) if r})
    siblings = {}
    shown = {r["target_id"] for r in rows}
    for row in rows:
        row.update(province=None, province_gap=None, rank="", places=[])
        if row["parent_id"] in shown:
            siblings.setdefault(row["parent_id"], []).append(row)
        t = linked.get(row["target_id"])
        if t is None:
            continue
        as_of = row["as_of_month"] or month
        if t.comparator_region_id:
            province = table.value(t.series_indicator_id, t.comparator_region_id, as_of)
            row["province"] = province
            if province is not None and row["actual"] is not None and t.kind in ("growth", "margin"):
                row["province_gap"] = row["actual"] - province
        if t.series_region_id:
            row["places"] = table.places(t.series_indicator_id, t.series_region_id, as_of)
            row["rank"] = places_text(row["places"])
    children = {parent: len(kids) for parent, kids in data.children.items()}
    for parent_id, parts in siblings.items():
        if len(parts) != children.get(parent_id, -1) or len(parts) < 2:
            continue  # a sibling the user may not see: no place that could mislead
        rates = parts[0]["kind"] in ("growth", "margin")
        places = competition_ranks({r["target_id"]: r["actual"] if rates else r["completion"] for r in parts})
        for r in parts:
            if r["target_id"] in places and not r["rank"]:
                r["rank"] = _("no. %(place)s of %(count)s") % {"place": places[r["target_id"]], "count": len(parts)}


def summarise(rows):
    """Counts by status, by section (in plan order) and the red then yellow rows.

    The counts are of plan targets: a decomposition's parts (county sub-targets) are counted under
    their parent, not as targets of their own, unless the parent is not among the rows (a county's clerk).
    """
    by_status = {s: 0 for s in STATUSES}
    sections = {}
    shown = {r["target_id"] for r in rows}
    counted = [r for r in rows if r.get("parent_id") is None or r["parent_id"] not in shown]
    for r in counted:
        by_status[r["status"]] += 1
        sec = sections.setdefault(r["section_number"], {
            "number": r["section_number"], "name": r["section"], "total": 0, "counts": {s: 0 for s in STATUSES}})
        sec["total"] += 1
        sec["counts"][r["status"]] += 1
    for sec in sections.values():
        sec["cells"] = [sec["counts"][s] for s in STATUSES]
    flagged = sorted(
        (r for r in rows if r["status"] in ("off_track", "at_risk")),
        key=lambda r: (r["severity"], r["section_number"], r["order"], r["code"]),
    )
    return {
        "total": len(counted),
        "by_status": by_status,
        "status_cells": [(s, status_label(s), by_status[s]) for s in STATUSES],
        "sections": [sections[k] for k in sorted(sections)],
        "flagged": flagged,
    }
