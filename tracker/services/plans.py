"""A plan's lifecycle (草稿 draft → 已发布 published → 已结束 closed, reopened with a reason) and next year's plan.

Every step records history (`tracker.audit`). A draft is seen by administrators only; a published plan takes
figures and is reported; a closed plan's figures are read-only (`targets.models.plan_refusal`, which every write
path and the review workflow ask) until it is reopened.

`CopyPlan` builds next year's draft from a plan: its sections, targets (with their responsible units, threshold
overrides, reporting policies and monthly-plan curves), each new target linked to the one it continues, codes
renumbered by `renumber`, baselines from the final figure of the year, and deadlines moved one year. The preview
(`CopyPlan.rows`) is worked out without writing anything; `CopyPlan.write` writes exactly what it lists.
"""

import datetime
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.audit import service as audit
from tracker.audit.models import Change
from tracker.targets import workdays
from tracker.targets.models import MonthlyPlanPoint, Plan, ProgressEntry, ReportingPolicy, Section, Target
from tracker.targets.numbers import plain_number
from tracker.targets.period import Period
from tracker.targets.policies import Policies

Status = Plan.Status
# Kinds whose figure is a number a baseline can hold; milestones and tasks have none.
NUMERIC = {Target.Kind.GROWTH, Target.Kind.MARGIN, Target.Kind.CUMULATIVE, Target.Kind.RECURRING}
# The plan's own settings a copy takes over as they are.
PLAN_FIELDS = ("unit_id", "ratio_at_risk", "ratio_off_track", "points_at_risk", "points_off_track",
               "growth_jump_points")
# A target's fields a copy does not take over as they are (set below, or the row's own bookkeeping).
NOT_COPIED = {"id", "plan", "section", "code", "parent", "continues", "baseline_value", "baseline_period",
              "deadline"}
POLICY_FIELDS = ("due_working_day", "remind_days_before", "escalate_after_days", "overdue_cap_days")


class PlanError(Exception):
    """A lifecycle step or a copy that cannot be done; the message is for the user."""


def _step(user, plan, wanted_from, to, source, reason=""):
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status not in wanted_from:
            raise PlanError(_("The plan %(plan)s is %(status)s; it cannot be %(step)s.") % {
                "plan": locked, "status": locked.get_status_display(), "step": STEP_WORDS[to]()})
        before = audit.snapshot(locked)
        locked.status = to
        locked.save(update_fields=["status"])
        audit.record(locked, user, source, before, action=Change.Action.TRANSITION, reason=reason)
    plan.status = to
    return locked


STEP_WORDS = {
    Status.PUBLISHED: lambda: _("published"),
    Status.CLOSED: lambda: _("closed"),
}


def publish(user, plan, source="admin"):
    """草稿 → 已发布: clerks see the plan, enter its figures, get its reminders; it is reported."""
    return _step(user, plan, {Status.DRAFT}, Status.PUBLISHED, source)


def last_deadline(plan, policies=None):
    """When the plan's last figure of the year (December) is due: the latest over its targets' policies."""
    policies = policies or Policies()
    targets = list(plan.targets.filter(is_active=True).only("pk", "lead_unit_id", "deadline"))
    dates = [policies.due_date(t, plan.year, 12) for t in targets]
    dates = dates or [workdays.due_date(plan.year, 12, policies.default.due_working_day)]
    dates += [t.deadline for t in targets if t.deadline]
    return max(dates)


def close(user, plan, source="admin", today=None):
    """已发布 → 已结束, once the year's last deadline has passed: its figures become read-only."""
    today = today or timezone.localdate()
    due = last_deadline(plan)
    if today <= due:
        raise PlanError(_("The plan %(plan)s cannot be closed before its last figures are due (%(date)s).") % {
            "plan": plan, "date": due.isoformat()})
    return _step(user, plan, {Status.PUBLISHED}, Status.CLOSED, source)


def reopen(user, plan, reason, source="admin"):
    """已结束 → 已发布 with a reason (kept in the history): the figures can be corrected again."""
    reason = (reason or "").strip()
    if not reason:
        raise PlanError(_("Give a reason for reopening the plan: it is kept in the history."))
    if "\x00" in reason:
        raise PlanError(_("The reason contains a null character; remove it and try again."))
    return _step(user, plan, {Status.CLOSED}, Status.PUBLISHED, source, reason=reason)


def renumber(code, from_year, to_year):
    """The code rule of a copy: the plan's year in the code becomes the new year.

    The four-digit year anywhere in the code ("2022-T01" → "2023-T01"), else the two-digit year right after the
    code's leading letters ("BZ22-1-04" → "BZ23-1-04"). A code without the year stays as it is: codes are unique
    within a plan, so next year's plan may use it again.
    """
    long_from, long_to = f"{from_year:04d}", f"{to_year:04d}"
    if long_from in code:
        return code.replace(long_from, long_to, 1)
    short = re.match(r"^([A-Za-z]*)(\d{2})(?!\d)", code)
    if short and short.group(2) == long_from[2:]:
        return f"{short.group(1)}{long_to[2:]}{code[short.end():]}"
    return code


def shift_year(day, years=1):
    """The same day a year later (29 February becomes 28 February)."""
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def final_figure(entries):
    """(value, Period) of the year's final figure: December, else the latest month with a figure; else None.

    Counted as the reports count it: a returned figure does not count, and while an approved figure is reopened
    for correction its last approved value stands.
    """
    best = None
    for entry in entries:
        if entry.state == ProgressEntry.State.RETURNED and entry.approved_at is None:
            continue
        value = entry.value
        if entry.approved_at is not None and entry.state != ProgressEntry.State.APPROVED:
            value = entry.approved_value
        if value is None:
            continue
        if best is None or entry.month > best[1].month:
            best = (value, Period(entry.year, entry.month))
    return best


@dataclass
class CopyRow:
    source: Target
    code: str
    baseline_value: object
    baseline_period: str
    baseline_note: str
    deadline: datetime.date | None
    points: list
    policy: ReportingPolicy | None

    @property
    def baseline_text(self):
        return plain_number(self.baseline_value) if self.baseline_value is not None else ""


class CopyPlan:
    """Next year's draft from `plan`, worked out in a fixed number of queries and written only by `write`."""

    def __init__(self, plan, to_year=None):
        self.plan = plan
        self.to_year = to_year or plan.year + 1
        self.problems, self.notes = [], []
        if self.to_year <= plan.year:
            self.problems.append(_("The new plan's year must come after %(year)s.") % {"year": plan.year})
        if plan.status == Status.DRAFT:
            self.problems.append(_("The plan %(plan)s is a draft; copy a published or closed plan.") % {"plan": plan})
        elif plan.status != Status.CLOSED:
            self.notes.append(_("The plan %(plan)s is not closed yet: baselines are its figures as they stand now.")
                              % {"plan": plan})
        self.title = self._year_in(plan.title)
        self.title_en = self._year_in(plan.title_en)
        if Plan.objects.filter(year=self.to_year, unit_id=plan.unit_id, title=self.title).exists():
            self.problems.append(_("There is already a plan %(title)s for %(year)s.") % {
                "title": self.title, "year": self.to_year})
        self.sections = list(plan.sections.order_by("number"))
        self.rows = self._rows()
        codes = [r.code for r in self.rows]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            self.problems.append(_("Renumbering gives these codes twice: %(codes)s.") % {"codes": ", ".join(twice)})

    def _year_in(self, text):
        return text.replace(str(self.plan.year), str(self.to_year)) if text else text

    def _rows(self):
        targets = list(self.plan.targets.filter(is_active=True).select_related("section")
                       .prefetch_related("responsible_units").order_by("section__number", "order", "code"))
        ids = [t.pk for t in targets]
        entries, points, policies = {}, {}, {}
        for entry in ProgressEntry.objects.filter(target_id__in=ids, year=self.plan.year):
            entries.setdefault(entry.target_id, []).append(entry)
        for point in MonthlyPlanPoint.objects.filter(target_id__in=ids).order_by("month"):
            points.setdefault(point.target_id, []).append(point)
        for policy in ReportingPolicy.objects.filter(target_id__in=ids):
            policies[policy.target_id] = policy
        rows = []
        for t in targets:
            value, label, note = None, "", ""
            if t.kind in NUMERIC:
                found = final_figure(entries.get(t.pk, []))
                if found is None:
                    note = _("no figure for %(year)s: baseline left empty") % {"year": self.plan.year}
                else:
                    value, period = found
                    label = period.label
                    note = "" if period.month == 12 else _("latest figure (%(period)s), not December") % {
                        "period": period.label}
            rows.append(CopyRow(t, renumber(t.code, self.plan.year, self.to_year), value, label, note,
                                shift_year(t.deadline), points.get(t.pk, []), policies.get(t.pk)))
        return rows

    @property
    def ok(self):
        return not self.problems

    def write(self, user, source="copy_plan"):
        """Write the draft as previewed; returns the new plan. PlanError if the preview found problems."""
        if not self.ok:
            raise PlanError(" ".join(str(p) for p in self.problems))
        with transaction.atomic():
            new = Plan(year=self.to_year, title=self.title, title_en=self.title_en, status=Status.DRAFT,
                       source=_("Copied from %(plan)s (%(year)s).") % {"plan": self.plan.title,
                                                                      "year": self.plan.year})
            for name in PLAN_FIELDS:
                setattr(new, name, getattr(self.plan, name))
            new.save()
            sections = {}
            for s in self.sections:
                sections[s.pk] = Section.objects.create(plan=new, number=s.number, name=s.name, name_en=s.name_en)
            made = {}
            for row in self.rows:
                made[row.source.pk] = self._target(new, sections, row)
            for row in self.rows:  # parents once every new target exists
                if row.source.parent_id in made:
                    target = made[row.source.pk]
                    target.parent = made[row.source.parent_id]
                    target.save(update_fields=["parent"])
            MonthlyPlanPoint.objects.bulk_create([
                MonthlyPlanPoint(target=made[row.source.pk], month=p.month, value=p.value)
                for row in self.rows for p in row.points])
            ReportingPolicy.objects.bulk_create([
                ReportingPolicy(target=made[row.source.pk], **{f: getattr(row.policy, f) for f in POLICY_FIELDS})
                for row in self.rows if row.policy is not None])
            audit.record(new, user, source, None, reason=_("copied from %(plan)s") % {"plan": self.plan})
            audit.record_many([(made[row.source.pk], user, source, None, None, "") for row in self.rows])
        return new

    def _target(self, plan, sections, row):
        src = row.source
        fields = {f.attname: getattr(src, f.attname) for f in Target._meta.concrete_fields
                  if f.name not in NOT_COPIED}
        target = Target.objects.create(
            **fields, plan=plan, section=sections[src.section_id], code=row.code, continues=src,
            baseline_value=row.baseline_value if src.kind in NUMERIC else src.baseline_value,
            baseline_period=row.baseline_period if src.kind in NUMERIC else src.baseline_period,
            deadline=row.deadline,
        )
        target.responsible_units.set(src.responsible_units.all())
        return target


def find_plan(year=None, unit=None, plan_id=None):
    """The one plan a command means: by id, or by year (and issuing unit code when several share the year)."""
    qs = Plan.objects.select_related("unit").order_by("pk")
    if plan_id is not None:
        qs = qs.filter(pk=plan_id)
    if year is not None:
        qs = qs.filter(year=year)
    if unit:
        qs = qs.filter(unit__code=unit)
    plans = list(qs[:21])
    if not plans:
        raise PlanError(_("No plan matches (year %(year)s, unit %(unit)s, id %(id)s).") % {
            "year": year or "—", "unit": unit or "—", "id": plan_id or "—"})
    if len(plans) > 1:
        raise PlanError(_("Several plans match; name one with --plan-id: %(plans)s") % {"plans": "; ".join(
            f"{p.pk}: {p} ({p.unit.code if p.unit_id else '—'}, {p.get_status_display()})" for p in plans)})
    return plans[0]
