"""The monthly project scheduling (每月调度项目进展): saving a unit's projects' months all at once.

`save_months` validates every row first and writes all of them or none: it checks the unit rights, detects
concurrent edits through the versions the screen started from (the project's month and the project), runs
the soft checks (a stage going backwards, completed investment falling or above the total) and writes only
rows whose warnings are confirmed, records history for each change, and refreshes the register-backed
targets. A stage reached this month needs its date when the project has none (the counts of projects signed,
started or in production this year read those dates).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.registers import figures
from tracker.registers.models import STAGE_ORDER, Coordination, Project, ProjectUpdate
from tracker.targets.period import Period

FIELDS = ("stage", "completed_ytd", "progress", "problems")
STAGE_DATES = {Project.Stage.SIGNED: "signed_on", Project.Stage.STARTED: "started_on",
               Project.Stage.BUILDING: "started_on", Project.Stage.COMPLETED: "completed_on",
               Project.Stage.PRODUCING: "producing_on", Project.Stage.SUSPENDED: "suspended_on"}
SOURCE = "schedule_screen"


@dataclass
class MonthRow:
    project: Project
    values: dict  # stage, completed_ytd, progress, problems
    base_version: int  # of the project's month as displayed (0: none yet)
    project_version: int
    stage_on: object = None  # the date the stage was reached, when the project has none
    confirmed: bool = False
    request: str = ""  # a new coordination item (协调事项)
    handler: str = ""


@dataclass
class Outcome:
    errors: dict = field(default_factory=dict)  # project pk -> [messages]
    warnings: dict = field(default_factory=dict)  # project pk -> [messages] (unconfirmed)
    created: int = 0
    changed: int = 0

    @property
    def ok(self):
        return not self.errors and not self.warnings


def soft_warnings(project, previous, values):
    """What questions a month's figures (the same rules as the entry screen's checks, for projects)."""
    found = []
    before = previous.stage if previous is not None else None
    stage = values.get("stage")
    if before in STAGE_ORDER and stage in STAGE_ORDER and STAGE_ORDER.index(stage) < STAGE_ORDER.index(before):
        found.append(_("The stage goes back from %(before)s to %(after)s.") % {
            "before": Project.Stage(before).label, "after": Project.Stage(stage).label})
    done = values.get("completed_ytd")
    if done is not None and previous is not None and previous.completed_ytd is not None \
            and done < previous.completed_ytd:
        found.append(_("Investment completed this year fell from %(before)s to %(after)s 亿元.") % {
            "before": previous.completed_ytd.normalize(), "after": done.normalize()})
    if done is not None and project.total_investment is not None and done > project.total_investment:
        found.append(_("Investment completed this year (%(done)s 亿元) is above the project's total "
                       "(%(total)s 亿元).") % {"done": done.normalize(), "total": project.total_investment.normalize()})
    return found


def _same(update, values):
    for key, new in values.items():
        old = getattr(update, key)
        if isinstance(old, Decimal) and isinstance(new, Decimal):
            if old.compare(new) != 0:
                return False
        elif (old or "") != (new or ""):
            return False
    return True


def save_months(user, rows, year, month, previous):
    """Save the rows (MonthRow) for (year, month); `previous`: {project pk: the latest earlier ProjectUpdate}."""
    outcome = Outcome()
    try:
        with transaction.atomic():
            _save(user, rows, year, month, previous, outcome)
            if not outcome.ok:
                transaction.set_rollback(True)
    except IntegrityError:
        outcome.errors[None] = [_("Someone saved this month's projects meanwhile; reload and try again.")]
    return outcome


def _save(user, rows, year, month, previous, outcome):
    ids = [r.project.pk for r in rows]
    allowed = scoping.edit_unit_ids(user)
    projects = {p.pk: p for p in Project.objects.select_for_update().filter(pk__in=ids)}
    stored = {u.project_id: u for u in ProjectUpdate.objects.select_for_update().filter(
        project_id__in=ids, year=year, month=month)}
    limit = settings.ENTRY_TEXT_MAX_CHARS
    to_create, to_update, history, moved, items = [], [], [], [], []
    for row in rows:
        pk = row.project.pk
        project = projects.get(pk)

        def error(message, pk=pk):
            outcome.errors.setdefault(pk, []).append(str(message))

        if project is None or (allowed is not None and project.unit_id not in allowed):
            error(_("You may not schedule this project (another unit's)."))
            continue
        update = stored.get(pk)
        if update is not None:
            update.project = project  # its history names the project's unit: no query per row
        if (update.version if update else 0) != row.base_version or project.version != row.project_version:
            error(_("%(project)s was changed by someone else meanwhile; reload and try again.") % {
                "project": project})
            continue
        for name in ("progress", "problems"):
            if len(row.values.get(name) or "") > limit:
                error(_("This text has %(length)s characters; at most %(limit)s are allowed.") % {
                    "length": len(row.values[name]), "limit": limit})
        stage = row.values["stage"]
        date_field = STAGE_DATES[stage]
        stage_changed = stage != project.stage
        if stage_changed and not getattr(project, date_field) and not row.stage_on:
            error(_("Give the date the project reached the stage %(stage)s.") % {
                "stage": Project.Stage(stage).label})
        if stage == Project.Stage.SUSPENDED and not (project.suspended_reason or row.values.get("problems")):
            error(_("Say in the problems why the project is suspended or slowed."))
        if row.request and len(row.request) > limit:
            error(_("This text has %(length)s characters; at most %(limit)s are allowed.") % {
                "length": len(row.request), "limit": limit})
        if pk in outcome.errors:
            continue
        unchanged = update is not None and _same(update, row.values) and not stage_changed
        if unchanged and not row.request:
            continue
        if not unchanged:
            found = soft_warnings(project, previous.get(pk), row.values)
            if found and not row.confirmed:
                outcome.warnings[pk] = found
                continue
        if update is None:
            update = ProjectUpdate(project=project, year=year, month=month, **row.values)
            to_create.append(update)
        elif not unchanged:
            before = audit.snapshot(update)
            for key, value in row.values.items():
                setattr(update, key, value)
            update.version += 1
            to_update.append(update)
            history.append((update, before))
        if stage_changed:
            before = audit.snapshot(project)
            project.stage = stage
            if row.stage_on and not getattr(project, date_field):
                setattr(project, date_field, row.stage_on)
            if stage == Project.Stage.SUSPENDED and not project.suspended_reason:
                project.suspended_reason = row.values.get("problems") or ""
            project.version += 1
            moved.append((project, before))
        if row.request:
            items.append(Coordination(project=project, raised_on=_month_day(year, month), request=row.request,
                                      handler=row.handler))
    if not outcome.ok:
        return
    ProjectUpdate.objects.bulk_create(to_create, batch_size=500)
    ProjectUpdate.objects.bulk_update(to_update, [*FIELDS, "version"], batch_size=500)
    Project.objects.bulk_update([p for p, _b in moved], [
        "stage", "version", "suspended_reason", *set(STAGE_DATES.values())], batch_size=500)
    Coordination.objects.bulk_create(items, batch_size=500)
    audit.record_many(
        [(u, user, SOURCE, None, None, "") for u in to_create]
        + [(u, user, SOURCE, before, None, "") for u, before in history]
        + [(p, user, SOURCE, before, None, "") for p, before in moved]
        + [(c, user, SOURCE, None, None, "") for c in items]
    )
    outcome.created, outcome.changed = len(to_create), len(to_update)
    if to_create or to_update or moved:
        figures.refresh_after_commit()


def _month_day(year, month):
    """The day a coordination item raised on the month's screen is dated: today, or the month's last day."""
    today = timezone.localdate()
    period = Period(year, month)
    return today if period.start <= today <= period.end else period.end
