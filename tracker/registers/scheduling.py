"""The monthly scheduling of a unit's projects (每月调度项目进展) and cultivation-list firms (一企一策、按月调度):
saving a unit's month all at once.

One `Sheet` per register says what a row is: the subject scheduled (a project, or a firm's place in the
入规培育库), the month's model and fields, the hard checks, the soft checks and what a month changes on the
subject. `Sheet.save` is the one write path of both screens: it validates every row first and writes all of
them or none; it checks the unit rights and that the month is not submitted or approved
(tracker.registers.review), detects concurrent edits through the versions the screen started
from (the subject's month and the subject), runs the soft checks and writes only rows whose warnings are
confirmed, records history for each change, and refreshes the register-backed targets.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.registers import figures, review
from tracker.registers.models import STAGE_ORDER, Coordination, FirmUpdate, Listing, Project, ProjectUpdate
from tracker.targets.period import Period

SOURCE = "schedule_screen"
STAGE_DATES = {Project.Stage.SIGNED: "signed_on", Project.Stage.STARTED: "started_on",
               Project.Stage.BUILDING: "started_on", Project.Stage.COMPLETED: "completed_on",
               Project.Stage.PRODUCING: "producing_on", Project.Stage.SUSPENDED: "suspended_on"}


@dataclass
class MonthRow:
    subject: object  # the Project, or the firm's Listing, scheduled
    values: dict  # the month's fields
    base_version: int  # of the subject's month as displayed (0: none yet)
    subject_version: int
    extra: dict = field(default_factory=dict)  # what the month changes on the subject (dates, reasons, requests)
    confirmed: bool = False


@dataclass
class Outcome:
    errors: dict = field(default_factory=dict)  # subject pk -> [messages]
    warnings: dict = field(default_factory=dict)  # subject pk -> [messages] (unconfirmed)
    created: int = 0
    changed: int = 0

    @property
    def ok(self):
        return not self.errors and not self.warnings


def _same(update, values):
    for key, new in values.items():
        old = getattr(update, key)
        if isinstance(old, Decimal) and isinstance(new, Decimal):
            if old.compare(new) != 0:
                return False
        elif (old or "") != (new or ""):
            return False
    return True


def _number(value):
    return value.normalize() if isinstance(value, Decimal) else value


def _month_label(key):
    try:
        return Period.parse(key).label
    except ValueError:
        return key or "—"


def month_day(period):
    """The day a step taken on the month's screen is dated: today, or the month's last day."""
    today = timezone.localdate()
    return today if period.start <= today <= period.end else period.end


class Sheet:
    """What one register's scheduling screen schedules; subclasses fill in the hooks."""

    register = ""  # the ScheduleMonth register ("projects", "firms")
    subject_model = None
    update_model = None
    key = ""  # the month's foreign key to the subject
    fields = ()  # the month's fields
    texts = ()  # text fields of `values` and `extra`, limited to ENTRY_TEXT_MAX_CHARS
    subject_fields = ()  # the subject's fields a month may change
    refused = conflict = ""  # messages (lazy)

    @property
    def edit_permissions(self):
        name = self.update_model._meta.model_name
        return (f"registers.add_{name}", f"registers.change_{name}")

    def subjects(self, unit_ids, year):
        """The rows the screen of `unit_ids` shows for `year`, in display order (a queryset)."""
        raise NotImplementedError

    def locked(self, ids):
        return self.subject_model.objects.select_for_update(of=("self",)).filter(pk__in=ids)

    def unit_id(self, subject):
        return subject.unit_id

    def check(self, row, subject, period, error):
        """Hard errors of a row."""

    def moves(self, row, subject):
        """Whether the month changes the subject itself."""
        return False

    def move(self, row, subject, period):
        """Apply the month's changes to the subject."""

    def additions(self, row, subject, period):
        """New rows that come with the month (coordination items)."""
        return []

    def warnings(self, subject, previous, values):
        """What questions a month's figures (the soft checks)."""
        return []

    def months(self, subjects, year, month):
        """({subject pk: this month}, {subject pk: the latest earlier month of the year}) in one query."""
        current, previous = {}, {}
        for update in self.update_model.objects.filter(**{f"{self.key}__in": subjects}, year=year,
                                                       month__lte=month).order_by("month"):
            (current if update.month == month else previous)[getattr(update, f"{self.key}_id")] = update
        return current, previous

    def save(self, user, rows, year, month, previous):
        """Save the rows (MonthRow) for (year, month); `previous`: {subject pk: the latest earlier month}."""
        outcome = Outcome()
        try:
            with transaction.atomic():
                self._save(user, rows, Period(year, month), previous, outcome)
                if not outcome.ok:
                    transaction.set_rollback(True)
        except IntegrityError:
            outcome.errors[None] = [str(self.conflict)]
        return outcome

    def _save(self, user, rows, period, previous, outcome):
        ids = [r.subject.pk for r in rows]
        allowed = scoping.edit_unit_ids(user)
        subjects = {s.pk: s for s in self.locked(ids)}
        closed = review.locked_units({self.unit_id(s) for s in subjects.values()}, self.register, period)
        stored = {getattr(u, f"{self.key}_id"): u for u in self.update_model.objects.select_for_update().filter(
            **{f"{self.key}_id__in": ids}, year=period.year, month=period.month)}
        limit = settings.ENTRY_TEXT_MAX_CHARS
        to_create, to_update, history, moved, added = [], [], [], [], []
        for row in rows:
            pk = row.subject.pk
            subject = subjects.get(pk)

            def error(message, pk=pk):
                outcome.errors.setdefault(pk, []).append(str(message))

            if subject is None or (allowed is not None and self.unit_id(subject) not in allowed):
                error(self.refused)
                continue
            if self.unit_id(subject) in closed:
                error(_("%(row)s: the month is submitted or approved, so it is read only until a reviewer returns "
                        "or reopens it.") % {"row": subject})
                continue
            update = stored.get(pk)
            if update is not None:
                setattr(update, self.key, subject)  # its history names the subject's unit: no query per row
            if (update.version if update else 0) != row.base_version or subject.version != row.subject_version:
                error(_("%(row)s was changed by someone else meanwhile; reload and try again.") % {"row": subject})
                continue
            texts = {**row.values, **row.extra}
            for name in self.texts:
                if len(texts.get(name) or "") > limit:
                    error(_("This text has %(length)s characters; at most %(limit)s are allowed.") % {
                        "length": len(texts[name]), "limit": limit})
            self.check(row, subject, period, error)
            if pk in outcome.errors:
                continue
            moves = self.moves(row, subject)
            extra = self.additions(row, subject, period)
            unchanged = update is not None and _same(update, row.values) and not moves
            if unchanged and not extra:
                continue
            if not unchanged:
                found = self.warnings(subject, previous.get(pk), row.values)
                if found and not row.confirmed:
                    outcome.warnings[pk] = found
                    continue
            if update is None:
                update = self.update_model(**{self.key: subject}, year=period.year, month=period.month, **row.values)
                to_create.append(update)
            elif not unchanged:
                before = audit.snapshot(update)
                for name, value in row.values.items():
                    setattr(update, name, value)
                update.version += 1
                to_update.append(update)
                history.append((update, before))
            if moves:
                before = audit.snapshot(subject)
                self.move(row, subject, period)
                subject.version += 1
                moved.append((subject, before))
            added.extend(extra)
        if not outcome.ok:
            return
        self.update_model.objects.bulk_create(to_create, batch_size=500)
        self.update_model.objects.bulk_update(to_update, [*self.fields, "version"], batch_size=500)
        self.subject_model.objects.bulk_update([s for s, _b in moved], [*self.subject_fields, "version"],
                                               batch_size=500)
        for model in {type(a) for a in added}:
            model.objects.bulk_create([a for a in added if type(a) is model], batch_size=500)
        audit.record_many(
            [(u, user, SOURCE, None, None, "") for u in to_create]
            + [(u, user, SOURCE, before, None, "") for u, before in history]
            + [(s, user, SOURCE, before, None, "") for s, before in moved]
            + [(a, user, SOURCE, None, None, "") for a in added]
        )
        outcome.created, outcome.changed = len(to_create), len(to_update)
        if to_create or to_update or moved:
            figures.refresh_after_commit()


class ProjectSheet(Sheet):
    """Each project's stage this month, investment completed this year (亿元), progress, problems and help asked.

    A stage reached this month needs its date when the project has none (the counts of projects signed,
    started or in production this year read those dates)."""

    register = "projects"
    subject_model = Project
    update_model = ProjectUpdate
    key = "project"
    fields = ("stage", "completed_ytd", "progress", "problems")
    texts = ("progress", "problems", "request")
    subject_fields = ("stage", "suspended_reason", *set(STAGE_DATES.values()))
    refused = gettext_lazy("You may not schedule this project (another unit's).")
    conflict = gettext_lazy("Someone saved this month's projects meanwhile; reload and try again.")

    def subjects(self, unit_ids, year):
        return Project.objects.filter(unit_id__in=unit_ids).exclude(
            stage=Project.Stage.PRODUCING, producing_on__lt=Period(year, 1).start,
        ).select_related("unit", "firm").order_by("unit__code", "name", "pk")

    def check(self, row, project, period, error):
        stage = row.values["stage"]
        if stage != project.stage and not getattr(project, STAGE_DATES[stage]) and not row.extra.get("stage_on"):
            error(_("Give the date the project reached the stage %(stage)s.") % {
                "stage": Project.Stage(stage).label})
        if stage == Project.Stage.SUSPENDED and not (project.suspended_reason or row.values.get("problems")):
            error(_("Say in the problems why the project is suspended or slowed."))

    def moves(self, row, project):
        return row.values["stage"] != project.stage

    def move(self, row, project, period):
        stage = row.values["stage"]
        date_field = STAGE_DATES[stage]
        project.stage = stage
        if row.extra.get("stage_on") and not getattr(project, date_field):
            setattr(project, date_field, row.extra["stage_on"])
        if stage == Project.Stage.SUSPENDED and not project.suspended_reason:
            project.suspended_reason = row.values.get("problems") or ""

    def additions(self, row, project, period):
        if not row.extra.get("request"):
            return []
        return [Coordination(project=project, raised_on=month_day(period), request=row.extra["request"],
                             handler=row.extra.get("handler", ""))]

    def warnings(self, project, previous, values):
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
                "before": _number(previous.completed_ytd), "after": _number(done)})
        if done is not None and project.total_investment is not None and done > project.total_investment:
            found.append(_("Investment completed this year (%(done)s 亿元) is above the project's total "
                           "(%(total)s 亿元).") % {"done": _number(done), "total": _number(project.total_investment)})
        return found


State = Listing.State


class FirmSheet(Sheet):
    """Each firm of the above-scale cultivation list (入规培育库): revenue this year (万元, year to date), the month
    it is expected to enter the above-scale list, progress, problems, and the state: still in the list, entered
    (已入规, with the month) or removed (退库, with a reason). The firm's membership takes the state and months.

    The screen of a year shows the firms in the list and those that entered or left it that year."""

    register = "firms"
    subject_model = Listing
    update_model = FirmUpdate
    key = "listing"
    fields = ("revenue_ytd", "state", "expected_month", "progress", "problems")
    texts = ("progress", "problems", "reason")
    subject_fields = ("state", "expected_month", "entered_month", "left_on", "reason")
    refused = gettext_lazy("You may not schedule this firm (another unit's).")
    conflict = gettext_lazy("Someone saved this month's firms meanwhile; reload and try again.")

    def subjects(self, unit_ids, year):
        this_year = (Q(state=State.ENTERED, entered_month__gte=f"{year:04d}-01")
                     | Q(state=State.REMOVED, left_on__gte=Period(year, 1).start))
        return Listing.objects.filter(kind=Listing.Kind.CULTIVATION, firm__unit_id__in=unit_ids).filter(
            Q(state=State.ACTIVE) | this_year).select_related("firm__unit", "firm__industry").order_by(
            "firm__unit__code", "firm__name", "pk")

    def locked(self, ids):
        return super().locked(ids).select_related("firm")

    def unit_id(self, listing):
        return listing.firm.unit_id

    def check(self, row, listing, period, error):
        state, expected = row.values["state"], row.values["expected_month"]
        if state == State.ACTIVE and not expected:
            error(_("Give the month the firm is expected to enter the above-scale list."))
        if state == State.ENTERED:
            entered = row.extra.get("entered_month") or period.key
            if entered > period.key:
                error(_("The firm cannot have entered the above-scale list after %(period)s.") % {
                    "period": period.label})
            if entered < listing.joined_on.strftime("%Y-%m"):
                error(_("The firm cannot have entered the above-scale list before it joined the cultivation list."))
        if state == State.REMOVED and not (row.extra.get("reason") or listing.reason).strip():
            error(_("Say why the firm was removed from the list."))

    def moves(self, row, listing):
        state = row.values["state"]
        if state != listing.state or row.values["expected_month"] != listing.expected_month:
            return True
        if state == State.ENTERED and row.extra.get("entered_month") not in ("", None, listing.entered_month):
            return True
        return state == State.REMOVED and bool(row.extra.get("reason")) and row.extra["reason"] != listing.reason

    def move(self, row, listing, period):
        state = row.values["state"]
        listing.expected_month = row.values["expected_month"]
        if state == State.ENTERED:
            listing.entered_month = row.extra.get("entered_month") or listing.entered_month or period.key
        else:
            listing.entered_month = ""
        if state == State.REMOVED:
            listing.reason = row.extra.get("reason") or listing.reason
            listing.left_on = listing.left_on if listing.state == State.REMOVED else month_day(period)
        elif listing.state == State.REMOVED:
            listing.left_on, listing.reason = None, ""
        listing.state = state

    def warnings(self, listing, previous, values):
        found = []
        expected, before = values.get("expected_month"), listing.expected_month
        if values.get("state") == State.ACTIVE and expected and before and expected > before:
            found.append(_("The month expected to enter the above-scale list moves later, from %(before)s to "
                           "%(after)s.") % {"before": _month_label(before), "after": _month_label(expected)})
        if listing.state == State.ENTERED and values.get("state") != State.ENTERED:
            found.append(_("The firm entered the above-scale list in %(month)s; it is now marked %(state)s.") % {
                "month": _month_label(listing.entered_month),
                "state": State(values["state"]).label})
        revenue = values.get("revenue_ytd")
        if revenue is not None and previous is not None and previous.revenue_ytd is not None \
                and revenue < previous.revenue_ytd:
            found.append(_("Revenue this year fell from %(before)s to %(after)s 万元.") % {
                "before": _number(previous.revenue_ytd), "after": _number(revenue)})
        return found


PROJECTS = ProjectSheet()
FIRMS = FirmSheet()
