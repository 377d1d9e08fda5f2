"""Who has reported a period: each unit's expected figures, on time, late or missing.

The deadline is the reminders' reporting policy (`tracker.reminders`: the
target's, else its unit's, else the default Nth working day of the following
month), so this page and the reminder emails always agree. Like the
reminders, a figure counts as reported once it is submitted (or approved).
"""

from decimal import Decimal

from django.utils import timezone

from tracker.targets.models import ProgressEntry, Unit

ON_TIME, LATE, MISSING, PENDING = "on_time", "late", "missing", "pending"
REPORTED_STATES = (ProgressEntry.State.SUBMITTED, ProgressEntry.State.APPROVED)


def deadline_resolver(targets):
    """A function (target, year, month) -> due date, for these targets, in two queries.

    Units are loaded once and linked to their parents so the policy lookup
    (which walks up the unit tree) needs no query per target.
    """
    from tracker.reminders import deadlines
    from tracker.reminders.sweep import Policies

    units = {u.pk: u for u in Unit.objects.all()}
    for unit in units.values():
        unit.parent = units.get(unit.parent_id)
    for target in targets:
        target.lead_unit = units.get(target.lead_unit_id, target.lead_unit)
    policies = Policies()

    def due_date(target, year, month):
        return deadlines.due_date(year, month, policies.for_target(target).due_working_day)

    return due_date


def entry_screen_url(unit, year, month):
    """The unit's monthly entry screen for the period (built in the targets admin)."""
    from tracker.targets.views import entry_screen_url

    return entry_screen_url(unit.code, f"{year:04d}-{month:02d}")


def completeness(targets_qs, year, month, today=None):
    """Per unit: expected figures and how each was reported. Four queries (targets, entries, units, policies)."""
    today = today or timezone.localdate()
    targets = [t for t in targets_qs.select_related("lead_unit", "plan") if t.expects_entry(month)]
    due_date = deadline_resolver(targets)
    entries = {
        e.target_id: e
        for e in ProgressEntry.objects.filter(target__in=targets_qs.values("pk"), year=year, month=month).only(
            "target_id", "state", "submitted_at", "entered_at", "value", "note", "is_done"
        )
    }
    units, items = {}, []
    for t in targets:
        deadline = due_date(t, year, month)
        entry = entries.get(t.pk)
        when = None
        if entry is not None and entry.state in REPORTED_STATES:
            stamp = entry.submitted_at or entry.entered_at
            when = timezone.localdate(stamp) if stamp else None
            state = ON_TIME if when is not None and when <= deadline else LATE
        else:
            state = PENDING if today <= deadline else MISSING
        if t.lead_unit_id not in units:
            units[t.lead_unit_id] = {
                "unit": t.lead_unit, "expected": 0, ON_TIME: 0, LATE: 0, MISSING: 0, PENDING: 0,
                "url": entry_screen_url(t.lead_unit, year, month),
            }
        unit = units[t.lead_unit_id]
        unit["expected"] += 1
        unit[state] += 1
        items.append({
            "target": t, "unit": t.lead_unit, "state": state, "deadline": deadline, "reported_on": when,
            "entry_state": entry.get_state_display() if entry is not None else "", "url": unit["url"],
        })
    rows = sorted(units.values(), key=lambda u: u["unit"].code)
    for u in rows:
        u["reported"] = u[ON_TIME] + u[LATE]
        u["reporting_rate"] = _rate(u["reported"], u["expected"])
        u["on_time_rate"] = _rate(u[ON_TIME], u["expected"])
    totals = {k: sum(u[k] for u in rows) for k in ("expected", ON_TIME, LATE, MISSING, PENDING, "reported")}
    totals["reporting_rate"] = _rate(totals["reported"], totals["expected"])
    totals["on_time_rate"] = _rate(totals[ON_TIME], totals["expected"])
    items.sort(key=lambda i: (i["unit"].code, i["target"].code))
    return {"units": rows, "totals": totals, "items": items}


def _rate(part, whole):
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def unreported_units(result):
    """Units with figures missing after the deadline, with how many: for the briefing."""
    return [(u["unit"], u[MISSING]) for u in result["units"] if u[MISSING]]
