"""What the reminder sweep sends on a day: worked out from the data, nothing written (tracker.reminders.sweep claims).

A sweep on day D (a working day) looks at the plans of D's year and the year
before and, for each month of them, at the figures still missing (no entry in
state submitted or approved by the end of D):

- due soon: the deadline is 1..K working days after D (one email per window);
- due today: D is the deadline;
- overdue: D is 1..cap working days after the deadline (every working day);
- escalation: to the unit's reviewers (else its leaders, else the parent
  unit's) once figures are E or more working days overdue;
- review: entries submitted and waiting, to the reviewers of their units;
- digest: to leaders, the first working day after the default deadline of the
  latest month, within the chase window.

Each person gets one email per kind per run listing all that is theirs. Every
email is claimed first by inserting a `Reminder` row under the unique key
(user, kind, period, day); whoever fails to insert it leaves it alone.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from tracker import links
from tracker.accounts import scoping
from tracker.accounts.models import Membership
from tracker.reminders import registers
from tracker.reminders.models import Reminder
from tracker.services.entries import awaiting_computation
from tracker.targets import status, workdays
from tracker.targets.models import Plan, ProgressEntry, Target
from tracker.targets.period import Period
from tracker.targets.policies import Policies, end_of, submitted_by

logger = logging.getLogger(__name__)

Kind = Reminder.Kind
Role = Membership.Role
URGENCY = {Kind.OVERDUE: 0, Kind.DUE_TODAY: 1, Kind.DUE_SOON: 2}


@dataclass
class Item:
    """One missing figure: a target's month, its deadline and where it stands on the sweep's day."""

    target: Target
    year: int
    month: int
    due: datetime.date
    kind: str
    days: int  # working days before (due soon) or after (overdue) the deadline
    window_start: datetime.date  # the first day of the due-soon window
    escalate_on: datetime.date
    escalate: bool

    @property
    def period(self):
        return Period(self.year, self.month).key

    @property
    def period_label(self):
        return Period(self.year, self.month).label

    @property
    def unit(self):
        return self.target.lead_unit

    @property
    def status_text(self):
        if self.kind == Kind.DUE_TODAY:
            return _("due today")
        if self.kind == Kind.DUE_SOON:
            return ngettext("due in %(days)s working day", "due in %(days)s working days", self.days) % {
                "days": self.days}
        return ngettext("%(days)s working day overdue", "%(days)s working days overdue", self.days) % {
            "days": self.days}

    @property
    def url(self):
        return links.absolute(links.entry_screen_url(self.unit, Period(self.year, self.month)))

    def as_json(self):
        return {"target": self.target.pk, "period": self.period}


@dataclass
class Planned:
    """An email the sweep wants to send."""

    user: object
    kind: str
    period: str
    day: datetime.date
    template: str
    targets: list
    items: list = field(default_factory=list)
    context: dict = field(default_factory=dict)

    @property
    def recipient(self):
        return self.user.email

    @property
    def key(self):
        return (self.user.pk, self.kind, self.period, self.day)

    def as_dict(self):
        return {"recipient": self.recipient, "kind": self.kind, "period": self.period, "targets": self.targets}


def language_of(user):
    profile = getattr(user, "profile", None)
    return profile.language if profile is not None else None


def _codes(targets):
    return sorted({t.code for t in targets})


def _stand(due, today, policy):
    """(kind, days, window start, escalation day, escalate now) of a figure due on `due`, or None if not chased."""
    window_start = workdays.add_working_days(due, -policy.remind_days_before)
    escalate_on = workdays.add_working_days(due, policy.escalate_after_days)
    if today == due:
        return Kind.DUE_TODAY, 0, window_start, escalate_on, False
    days = workdays.working_days_between(due, today) if today > due else workdays.working_days_between(today, due)
    if today < due:
        if 1 <= days <= policy.remind_days_before:
            return Kind.DUE_SOON, days, window_start, escalate_on, False
        return None
    if 1 <= days <= policy.overdue_cap_days:
        return Kind.OVERDUE, days, window_start, escalate_on, days >= policy.escalate_after_days
    return None


def _rough_bounds(today, policy):
    """Calendar-day bounds outside which a deadline cannot be in the chase window (saves counting days)."""
    # Two calendar days per working day, plus the longest run of days off, always covers the window.
    slack = 12
    ahead = datetime.timedelta(days=policy.remind_days_before * 2 + slack)
    behind = datetime.timedelta(days=policy.overdue_cap_days * 2 + slack)
    return today - behind, today + ahead


def missing_items(today, targets, policies):
    """The chased figures still missing on `today`, for active targets of the given plans (not those a register
    has not computed yet: no clerk can type them)."""
    submitted = set(
        ProgressEntry.objects.filter(submitted_by(today), target__in=[t.pk for t in targets])
        .values_list("target_id", "year", "month")
    )
    awaiting = awaiting_computation([t.pk for t in targets])
    items, stands = [], {}
    for target in targets:
        policy = policies.for_target(target)
        low, high = _rough_bounds(today, policy)
        year = target.plan.year
        for month in range(1, 13):
            if not target.expects_entry(month):
                continue
            due = workdays.due_date(year, month, policy.due_working_day)
            key = (target.pk, year, month)
            if not low <= due <= high or key in submitted or key in awaiting:
                continue
            cache_key = (due, policy.remind_days_before, policy.escalate_after_days, policy.overdue_cap_days)
            if cache_key not in stands:
                stands[cache_key] = _stand(due, today, policy)
            stand = stands[cache_key]
            if stand is not None:
                items.append(Item(target, year, month, due, *stand))
    return items


class People:
    """Active members by unit and role, loaded once per sweep."""

    def __init__(self):
        self.by_unit_role = {}
        self.users = {}
        memberships = Membership.objects.filter(user__is_active=True).select_related("user__profile", "unit")
        for m in memberships.order_by("user__username"):
            user = self.users.setdefault(m.user_id, m.user)
            self.by_unit_role.setdefault((m.unit_id, m.role), []).append(user)

    def of(self, unit_id, role):
        return self.by_unit_role.get((unit_id, role), [])

    def with_role(self, role):
        seen = {}
        for (_unit_id, r), users in self.by_unit_role.items():
            if r == role:
                for user in users:
                    seen.setdefault(user.pk, user)
        return sorted(seen.values(), key=lambda u: u.get_username())

    def heads_of(self, unit):
        """Who hears of a unit's overdue figures: its reviewers, else its leaders, else the parent unit's."""
        seen = set()
        while unit is not None and unit.pk not in seen:
            seen.add(unit.pk)
            heads = self.of(unit.pk, Role.REVIEWER) or self.of(unit.pk, Role.LEADER)
            if heads:
                return heads
            unit = unit.parent
        return []


@dataclass
class Group:
    """A unit's missing figures for one month, shown together with one link to the entry screen."""

    unit: object
    year: int
    month: int
    items: list = field(default_factory=list)
    clerks: list = field(default_factory=list)

    @property
    def period_label(self):
        return Period(self.year, self.month).label

    @property
    def url(self):
        return links.absolute(links.entry_screen_url(self.unit, Period(self.year, self.month)))

    @property
    def clerk_names(self):
        return pgettext("list separator", ", ").join(c.get_full_name() or c.get_username() for c in self.clerks)


def _group(items):
    groups = {}
    for item in sorted(items, key=lambda i: (i.year, i.month, i.unit.code, i.target.code)):
        key = (item.unit.pk, item.year, item.month)
        groups.setdefault(key, Group(item.unit, item.year, item.month)).items.append(item)
    return list(groups.values())


def plan_chasers(today, items, people):
    """One email per clerk listing every missing figure of their units."""
    by_user = {}
    for item in items:
        for user in people.of(item.target.lead_unit_id, Role.CLERK):
            by_user.setdefault(user.pk, (user, []))[1].append(item)
    planned = []
    for user, mine in by_user.values():
        mine.sort(key=lambda i: (URGENCY[i.kind], i.year, i.month, i.target.code))
        kind = mine[0].kind
        oldest = min(mine, key=lambda i: (i.year, i.month))
        # Daily kinds are keyed by the day; a due-soon email once per window.
        day = today if kind != Kind.DUE_SOON else max(i.window_start for i in mine)
        planned.append(Planned(
            user, kind, oldest.period, day, "reminder", _codes(i.target for i in mine), mine,
            {"kind": kind, "groups": _group(mine), "count": len(mine), "first_due": min(i.due for i in mine)},
        ))
    return planned


def plan_escalations(today, items, people):
    by_user = {}
    for item in items:
        if not item.escalate:
            continue
        for user in people.heads_of(item.unit):
            by_user.setdefault(user.pk, (user, []))[1].append(item)
    planned = []
    for user, theirs in by_user.values():
        oldest = min(theirs, key=lambda i: (i.year, i.month))
        groups = _group(theirs)
        for group in groups:
            group.clerks = people.of(group.unit.pk, Role.CLERK)
        planned.append(Planned(
            user, Kind.ESCALATION, oldest.period, max(i.escalate_on for i in theirs), "escalation",
            _codes(i.target for i in theirs), theirs, {"groups": groups, "count": len(theirs)},
        ))
    return planned


def plan_reviews(today, people):
    """Entries submitted by the end of `today` and still waiting, to the reviewers of their units, with the
    registers' rows that need following up in those units (tracker.reminders.registers): one email a day while
    entries or scheduling months wait; with nothing waiting, the registers' part alone on the month's first
    working day."""
    reviewers = people.with_role(Role.REVIEWER)
    if not reviewers:
        return []
    waiting = list(
        ProgressEntry.objects.filter(
            Q(submitted_at__isnull=True) | Q(submitted_at__lt=end_of(today)),
            state=ProgressEntry.State.SUBMITTED, target__is_active=True,
            target__plan__status=Plan.Status.PUBLISHED,
        ).select_related("target__lead_unit", "submitted_by").order_by("year", "month", "target__code")
    )
    register_only = registers.register_only_day(today)
    lines = registers.RegisterLines(today)
    if not waiting and not register_only and not lines.months:
        return []
    planned = []
    for user in reviewers:
        allowed = scoping.review_unit_ids(user)
        theirs = [e for e in waiting if allowed is None or e.target.lead_unit_id in allowed]
        register = lines.for_user(user)
        # Scheduling months waiting bring the email every day, as entries do; the rest rides along.
        if not theirs and not (register and (register_only or register["months_waiting"])):
            continue
        # Keyed by the oldest waiting month, else the registers' month: one email per reviewer per day.
        period = theirs[0].period.key if theirs else register["period"].key
        planned.append(Planned(
            user, Kind.REVIEW, period, today, "review", _codes(e.target for e in theirs), [],
            {"rows": [{"entry": e, "period": e.period} for e in theirs],
             "count": len(theirs), "review_url": links.absolute(links.review_queue_url()), "registers": register},
        ))
    return planned


def _digest_month(plan, today, default):
    """The latest month of the plan whose default deadline has passed, within the chase window."""
    for month in range(12, 0, -1):
        due = workdays.due_date(plan.year, month, default.due_working_day)
        if due < today:
            behind = workdays.working_days_between(due, today)
            return month if behind <= default.overdue_cap_days else None
    return None


def plan_digests(today, plans, targets, policies, people):
    leaders = people.with_role(Role.LEADER)
    if not leaders:
        return []
    # A leader gets the digest of the plans of their own organisation only: one email a month, however many
    # plans (a province reader's sixteen cities) that month has.
    readable = {user.pk: set(scoping.visible_plans(user).values_list("pk", flat=True)) for user in leaders}
    digests = {}  # (leader id, period key) -> [plan's digest]
    for plan in plans:
        month = _digest_month(plan, today, policies.default)
        if month is None:
            continue
        due = workdays.due_date(plan.year, month, policies.default.due_working_day)
        plan_targets = [t for t in targets if t.plan_id == plan.pk]
        assessments = status.assess_period(
            Target.objects.filter(pk__in=[t.pk for t in plan_targets]), plan.year, month, today=today
        )
        by_id = {t.pk: t for t in plan_targets}
        submitted = set(
            ProgressEntry.objects.filter(submitted_by(today), year=plan.year, month=month,
                                         target__in=list(by_id)).values_list("target_id", flat=True)
        )
        awaiting = awaiting_computation(list(by_id), years=[plan.year])
        silent = {t.lead_unit for t in plan_targets if t.expects_entry(month) and t.pk not in submitted
                  and (t.pk, plan.year, month) not in awaiting}
        red = [(by_id[pk], a) for pk, a in assessments.items() if a.status == status.OFF_TRACK]
        yellow = [(by_id[pk], a) for pk, a in assessments.items() if a.status == status.AT_RISK]
        red.sort(key=lambda pair: pair[0].code)
        yellow.sort(key=lambda pair: pair[0].code)
        counts = {s: 0 for s in status.STATUSES}
        for a in assessments.values():
            counts[a.status] += 1
        period = Period(plan.year, month)
        one = {"plan": plan, "period": period, "due": due, "counts": counts, "red": red, "yellow": yellow,
               "silent": silent}
        for user in leaders:
            if plan.pk in readable[user.pk]:
                digests.setdefault((user.pk, period.key), (user, []))[1].append(one)
    return [_digest(user, parts) for user, parts in digests.values()]


def _digest(user, parts):
    """One leader's digest of a month over the plans they read (usually one)."""
    period = parts[0]["period"]
    counts = {s: sum(p["counts"][s] for p in parts) for s in status.STATUSES}
    red = sorted((pair for p in parts for pair in p["red"]), key=lambda pair: pair[0].code)
    yellow = sorted((pair for p in parts for pair in p["yellow"]), key=lambda pair: pair[0].code)
    silent = {unit for p in parts for unit in p["silent"]}
    plan = parts[0]["plan"] if len(parts) == 1 else "、".join(str(p["plan"]) for p in parts)
    return Planned(
        user, Kind.DIGEST, period.key, max(p["due"] for p in parts), "digest",
        _codes(t for t, _a in red + yellow), [],
        {"plan": plan, "plans": [p["plan"] for p in parts], "period": period,
         "counts": [{"status": s, "label": status.STATUS_LABELS[s], "number": n} for s, n in counts.items()],
         "red": red, "yellow": yellow, "silent_units": sorted(silent, key=lambda u: u.code),
         "report_url": links.absolute(links.report_url(period))},
    )


def plan_emails(today):
    """Every email due on `today`, before claiming (nothing is written)."""
    if not workdays.is_working_day(today):
        return []
    targets = list(
        # Only published plans are chased: a draft is not in use yet, a closed plan's year is over.
        Target.objects.filter(is_active=True, plan__year__in=[today.year - 1, today.year],
                              plan__status=Plan.Status.PUBLISHED)
        .select_related("plan", "lead_unit__parent__parent")
        .order_by("plan__year", "code")
    )
    policies = Policies()
    people = People()
    items = missing_items(today, targets, policies)
    plans = sorted({t.plan for t in targets}, key=lambda p: p.year)
    planned = []
    # One kind failing (say, the report engine for the digest) must not stop the others.
    for kind, make in (
        ("reminders", lambda: plan_chasers(today, items, people)),
        ("escalations", lambda: plan_escalations(today, items, people)),
        ("reviews", lambda: plan_reviews(today, people)),
        ("digests", lambda: plan_digests(today, plans, targets, policies, people)),
    ):
        try:
            planned += make()
        except Exception:
            logger.exception("Could not work out the %s due on %s", kind, today)
    order = list(Kind.values)
    return sorted(planned, key=lambda p: (order.index(p.kind), p.recipient, p.period))
