"""Who has reported a period: each unit's expected figures, on time, late or missing.

The deadline is the reporting policy (tracker.targets.policies: the target's,
else its unit's, else the default Nth working day of the following month), so
this page and the reminder emails always agree. Like the
reminders, a figure counts as reported once it is submitted (or approved).

A target whose figure is computed from a register, with no entry yet for the month, is not the clerk's missing
figure: it is counted apart (AWAITING, "no figure from the register yet"), still expected and not reported, so the
rates do not look better than the truth and the report shows it as no data.
"""

from decimal import Decimal

from django.utils import timezone

from tracker import links
from tracker.services.entries import awaiting_computation
from tracker.targets.models import ProgressEntry, Target, Unit
from tracker.targets.period import Period
from tracker.targets.policies import REPORTED_AT, Policies, reported_on
from tracker.targets.status import gc_paused, load_targets

ON_TIME, LATE, MISSING, PENDING, AWAITING = "on_time", "late", "missing", "pending", "register"
# Kinds reported as a figure; the others (milestones, qualitative tasks) report progress, counted apart.
FIGURE_KINDS = {"growth", "margin", "cumulative", "recurring"}


def completeness(targets_qs, year, month, today=None, targets=None):
    """Per unit: expected figures and how each was reported, in a fixed number of queries.

    Figures (growth rates, counts, events) and progress reports (milestones, tasks) are counted apart in
    the totals; a decomposed total that rolls up from its parts is not expected by itself. `targets`: the
    queryset's targets already loaded (status.load_targets), for a page that judges them too.
    """
    # The collector sleeps while thousands of rows and dicts are built (as for the report's rows).
    with gc_paused():
        return _completeness(targets_qs, year, month, today or timezone.localdate(), targets)


def _completeness(targets_qs, year, month, today, targets):
    # Plain rows, not model instances (thousands for a province reader); units come in one query of their own.
    loaded = load_targets(targets_qs) if targets is None else targets
    targets = [t for t in loaded if t.expects_entry(month)]
    all_units = Unit.objects.in_bulk()
    policies = Policies()
    # A decomposed total with no figure of its own rolls up from its parts: not missing by itself.
    # No default ordering on these two: it joins the targets and sections only to sort rows read into a set/dict.
    rolls_up = set(Target.objects.filter(parent__in=targets_qs.values("pk"), is_active=True).order_by()
                   .values_list("parent_id", flat=True))
    entries = {
        target_id: (state, stamp)
        for target_id, state, stamp in ProgressEntry.objects.filter(
            target__in=targets_qs.values("pk"), year=year, month=month
        ).order_by().values_list("target_id", "state", REPORTED_AT)
    }
    state_labels = {value: str(label) for value, label in ProgressEntry.State.choices}
    # The ids as a subquery: a province reader's 4,800 as parameters cost more than the query itself.
    awaiting = awaiting_computation(targets_qs.values("pk"), years=[year])
    units, items = {}, []
    for t in targets:
        deadline = policies.due_date(t, year, month)
        lead_unit = all_units[t.lead_unit_id]
        entry_state, stamp = entries.get(t.pk, ("", None))
        when = reported_on(entry_state, stamp)
        if t.pk in rolls_up and when is None:
            continue
        state, when = _standing(when, deadline, today)
        if state == MISSING and (t.pk, year, month) in awaiting:
            state = AWAITING
        if t.lead_unit_id not in units:
            units[t.lead_unit_id] = {
                "unit": lead_unit, "expected": 0, ON_TIME: 0, LATE: 0, MISSING: 0, PENDING: 0, AWAITING: 0,
                "figures": 0, "figures_reported": 0, "tasks": 0, "tasks_reported": 0,
                "url": links.entry_screen_url(lead_unit, Period(year, month)),
            }
        unit = units[t.lead_unit_id]
        group = "figures" if t.kind in FIGURE_KINDS else "tasks"
        for key in ("expected", state, group):
            unit[key] += 1
        unit[f"{group}_reported"] += state in (ON_TIME, LATE)
        items.append({
            "target": t, "unit": lead_unit, "state": state, "deadline": deadline, "reported_on": when,
            "entry_state": state_labels.get(entry_state, entry_state), "url": unit["url"],
        })
    rows = sorted(units.values(), key=lambda u: u["unit"].code)
    counted = ("expected", ON_TIME, LATE, MISSING, PENDING, AWAITING, "figures", "figures_reported", "tasks",
               "tasks_reported")
    totals = {k: sum(u[k] for u in rows) for k in counted}
    for counts in (*rows, totals):
        counts["reported"] = counts[ON_TIME] + counts[LATE]
        counts["reporting_rate"] = _rate(counts["reported"], counts["expected"])
        counts["on_time_rate"] = _rate(counts[ON_TIME], counts["expected"])
    items.sort(key=lambda i: (i["unit"].code, i["target"].code))
    return {"units": rows, "totals": totals, "items": items}


def _standing(when, deadline, today):
    """(state, day reported) of one expected figure: reported on time or late, pending, or missing."""
    if when is not None and when <= today:
        return (ON_TIME if when <= deadline else LATE), when
    return (PENDING if today <= deadline else MISSING), None


def _rate(part, whole):
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def unreported_units(result):
    """Units with figures missing after the deadline, with how many: for the briefing."""
    return [(u["unit"], u[MISSING]) for u in result["units"] if u[MISSING]]
