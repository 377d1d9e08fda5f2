"""The registers a bureau schedules every month: firms and their lists (企业库), projects (项目库).

Every row belongs to a unit (a county or zone), which decides who sees it (tracker.accounts.scoping) and
whose history it is (`audit_unit_id`). Months are written "YYYY-MM" (a Period key), so they sort and compare
as text. `RegisterFigure` lets a target take its figure from a register (see `figures`).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tracker.registers.creditcode import normalise, validate_credit_code
from tracker.targets.models import ProgressEntry, Target, Unit
from tracker.targets.period import Period

month_validator = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", _("Write the month as YYYY-MM, e.g. 2022-06."))


def month_field(verbose_name, **kw):
    return models.CharField(verbose_name, max_length=7, blank=True, validators=[month_validator], **kw)


class IndustryManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class Industry(models.Model):
    """A division (大类) of GB/T 4754-2017, e.g. C27 医药制造业 (fixtures name it by its code: ["27"])."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    section = models.CharField(_("section (门类)"), max_length=1)
    name = models.CharField(_("name"), max_length=100)

    objects = IndustryManager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry (GB/T 4754-2017)")
        verbose_name_plural = _("industries (GB/T 4754-2017)")

    def __str__(self):
        return f"{self.section}{self.code} {self.name}"

    def natural_key(self):
        return (self.code,)


class Firm(models.Model):
    class Size(models.TextChoices):
        LARGE = "large", _("Large (大型)")
        MEDIUM = "medium", _("Medium (中型)")
        SMALL = "small", _("Small (小型)")
        MICRO = "micro", _("Micro (微型)")

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code (统一社会信用代码)"), max_length=18, unique=True,
        validators=[validate_credit_code],
    )
    unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="firms", verbose_name=_("county or zone"),
    )
    industry = models.ForeignKey(
        Industry, models.PROTECT, null=True, blank=True, related_name="firms", verbose_name=_("industry (大类)")
    )
    size = models.CharField(_("size"), max_length=6, choices=Size.choices, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["unit__code", "name"]
        verbose_name = _("firm")
        verbose_name_plural = _("firms (企业库)")
        indexes = [models.Index(fields=["unit", "name"])]

    def __str__(self):
        return self.name

    @property
    def audit_unit_id(self):
        return self.unit_id

    def clean(self):
        self.credit_code = normalise(self.credit_code)


class Listing(models.Model):
    """A firm's place in one of the bureau's lists, with its dates and state."""

    class Kind(models.TextChoices):
        CULTIVATION = "cultivation", _("Above-scale cultivation (入规培育库)")
        SPECIALISED = "specialised", _("Specialised and innovative (专精特新)")
        LISTING_PLAN = "listing_plan", _("Listing cultivation plan (上市培育计划)")
        MONITORED = "monitored", _("Key monitored firms (重点监测企业)")

    class State(models.TextChoices):
        ACTIVE = "active", _("In the list")
        ENTERED = "entered", _("Entered the above-scale list (已入规)")
        REMOVED = "removed", _("Removed (退库)")

    class Level(models.TextChoices):
        CITY = "city", _("City level (市级)")
        PROVINCE = "province", _("Province level (省级)")
        NATIONAL = "national", _("National 'little giant' (国家级小巨人)")

    firm = models.ForeignKey(Firm, models.CASCADE, related_name="listings", verbose_name=_("firm"))
    kind = models.CharField(_("list"), max_length=12, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.ACTIVE)
    joined_on = models.DateField(_("joined on"))
    expected_month = month_field(_("expected to enter (month)"), help_text=_("入规培育库: YYYY-MM."))
    entered_month = month_field(_("entered the above-scale list (month)"))
    level = models.CharField(_("level"), max_length=8, choices=Level.choices, blank=True)
    recognised_year = models.PositiveSmallIntegerField(
        _("year recognised"), null=True, blank=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    reason = models.TextField(_("reason for removal"), blank=True)
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["firm", "kind"]
        verbose_name = _("list membership")
        verbose_name_plural = _("list memberships")
        constraints = [models.UniqueConstraint(fields=["firm", "kind"], name="one_listing_per_firm_and_list")]
        indexes = [models.Index(fields=["kind", "state", "entered_month"])]

    def __str__(self):
        return f"{self.firm} · {self.get_kind_display()}"

    @property
    def audit_unit_id(self):
        return self.firm.unit_id if self.firm_id else None

    def clean(self):
        errors = {}
        Kind, State = self.Kind, self.State
        if self.state == State.ENTERED and self.kind != Kind.CULTIVATION:
            errors["state"] = _("Only a firm of the above-scale cultivation list enters the above-scale list.")
        if self.kind == Kind.CULTIVATION and self.state == State.ACTIVE and not self.expected_month:
            errors["expected_month"] = _("Give the month the firm is expected to enter the above-scale list.")
        if self.state == State.ENTERED and not self.entered_month:
            errors["entered_month"] = _("Give the month the firm entered the above-scale list.")
        if self.state != State.ENTERED and self.entered_month:
            errors["entered_month"] = _("Only a firm that entered the above-scale list has this month.")
        if self.state == State.REMOVED:
            if not self.reason.strip():
                errors["reason"] = _("Say why the firm was removed from the list.")
            if not self.left_on:
                errors["left_on"] = _("Give the date the firm left the list.")
        if self.kind == Kind.SPECIALISED:
            if not self.level:
                errors["level"] = _("Choose the level of the recognition.")
            if not self.recognised_year:
                errors["recognised_year"] = _("Give the year the firm was recognised.")
        elif self.level:
            errors["level"] = _("Only the 专精特新 list has levels.")
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            errors["left_on"] = _("A firm cannot leave a list before it joined it.")
        if errors:
            raise ValidationError(errors)


class RegisterMonth(models.Model):
    """A row's month on a scheduling screen (a project's or a firm's): with its progress, problems and version."""

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    progress = models.TextField(_("progress (进展情况)"), blank=True)
    problems = models.TextField(_("problems (存在问题)"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class FirmUpdate(RegisterMonth):
    """A cultivation-list firm's month (一企一策、按月调度): revenue year to date, the month it is expected to enter
    the above-scale list and its state as told that month, progress and problems."""

    listing = models.ForeignKey(Listing, models.CASCADE, related_name="updates", verbose_name=_("list membership"))
    revenue_ytd = models.DecimalField(
        _("revenue this year (营业收入, 万元)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    state = models.CharField(_("state"), max_length=8, choices=Listing.State.choices)
    expected_month = month_field(_("expected to enter (month)"))

    class Meta:
        ordering = ["listing", "year", "month"]
        verbose_name = _("firm's month")
        verbose_name_plural = _("firms' months")
        constraints = [models.UniqueConstraint(fields=["listing", "year", "month"], name="one_firm_update_per_month")]
        indexes = [models.Index(fields=["year", "month"])]

    def __str__(self):
        return f"{self.listing.firm} {Period(self.year, self.month).label}"

    @property
    def audit_unit_id(self):
        return self.listing.firm.unit_id if self.listing_id else None


class Project(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New (新建)")
        RENOVATION = "renovation", _("Technical renovation (技改)")
        EXPANSION = "expansion", _("Expansion (扩建)")

    class Stage(models.TextChoices):
        SIGNED = "signed", _("Signed (签约)")
        STARTED = "started", _("Started (开工)")
        BUILDING = "building", _("Under construction (在建)")
        COMPLETED = "completed", _("Completed (竣工)")
        PRODUCING = "producing", _("In production (投产)")
        SUSPENDED = "suspended", _("Suspended or slowed (停缓建)")

    name = models.CharField(_("name"), max_length=200)
    unit = models.ForeignKey(Unit, models.PROTECT, related_name="projects", verbose_name=_("county or zone"))
    firm = models.ForeignKey(
        Firm, models.PROTECT, null=True, blank=True, related_name="projects", verbose_name=_("owner firm")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    total_investment = models.DecimalField(
        _("total investment (亿元)"), max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    in_province_list = models.BooleanField(_("in the province's technical renovation list"), default=False)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.SIGNED)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    producing_on = models.DateField(_("in production since"), null=True, blank=True)
    suspended_on = models.DateField(_("suspended on"), null=True, blank=True)
    suspended_reason = models.TextField(_("reason for suspension"), blank=True)
    planned_start = month_field(_("planned start (month)"))
    planned_production = month_field(_("planned production (month)"))
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["unit__code", "name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects (项目库)")
        indexes = [models.Index(fields=["unit", "stage"])]

    def __str__(self):
        return self.name

    @property
    def audit_unit_id(self):
        return self.unit_id

    @property
    def above_100m(self):
        """亿元以上: a total of 1亿元 or more."""
        return self.total_investment is not None and self.total_investment >= 1

    def clean(self):
        errors = {}
        Stage = self.Stage
        needs = {
            Stage.SIGNED: "signed_on", Stage.STARTED: "started_on", Stage.BUILDING: "started_on",
            Stage.COMPLETED: "completed_on", Stage.PRODUCING: "producing_on", Stage.SUSPENDED: "suspended_on",
        }
        wanted = needs.get(self.stage)
        if wanted and not getattr(self, wanted):
            errors[wanted] = _("The stage %(stage)s needs this date.") % {"stage": self.get_stage_display()}
        if self.stage == Stage.SUSPENDED and not self.suspended_reason.strip():
            errors["suspended_reason"] = _("Say why the project is suspended or slowed.")
        order = [("signed_on", self.signed_on), ("started_on", self.started_on),
                 ("completed_on", self.completed_on), ("producing_on", self.producing_on)]
        dated = [(name, day) for name, day in order if day]
        for (_earlier, a), (later, b) in zip(dated, dated[1:], strict=False):
            if b < a:
                errors.setdefault(later, _("The stages' dates must follow each other (签约 → 开工 → 竣工 → 投产)."))
        if errors:
            raise ValidationError(errors)


# The order of the stages, for "a stage going backwards" (停缓建 is apart from it).
STAGE_ORDER = [Project.Stage.SIGNED, Project.Stage.STARTED, Project.Stage.BUILDING, Project.Stage.COMPLETED,
               Project.Stage.PRODUCING]


class ProjectUpdate(RegisterMonth):
    """A project's month: investment completed year to date (亿元), progress and problems."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="updates", verbose_name=_("project"))
    stage = models.CharField(_("stage"), max_length=10, choices=Project.Stage.choices)
    completed_ytd = models.DecimalField(
        _("investment completed this year (亿元)"), max_digits=12, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["project", "year", "month"]
        verbose_name = _("project's month")
        verbose_name_plural = _("projects' months")
        constraints = [models.UniqueConstraint(fields=["project", "year", "month"], name="one_update_per_month")]
        indexes = [models.Index(fields=["year", "month"])]

    def __str__(self):
        return f"{self.project} {Period(self.year, self.month).label}"

    @property
    def audit_unit_id(self):
        return self.project.unit_id if self.project_id else None


class ScheduleMonth(models.Model):
    """A unit's scheduling month of one register (its projects, or its cultivation-list firms), submitted and
    reviewed as figures are: draft → submitted → approved, or returned with a reason (tracker.registers.review).
    No row yet means a draft. A submitted or approved month is read only on the screen."""

    class Register(models.TextChoices):
        PROJECTS = "projects", _("projects")
        FIRMS = "firms", _("firms")

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="+", verbose_name=_("county or zone"))
    register = models.CharField(_("register"), max_length=8, choices=Register.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    state = models.CharField(_("state"), max_length=10, choices=ProgressEntry.State.choices,
                             default=ProgressEntry.State.DRAFT)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        ordering = ["-year", "-month", "unit__code", "register"]
        verbose_name = _("scheduling month")
        verbose_name_plural = _("scheduling months")
        constraints = [models.UniqueConstraint(fields=["unit", "register", "year", "month"],
                                               name="one_schedule_month_per_unit")]
        indexes = [models.Index(fields=["register", "year", "month", "state"])]

    def __str__(self):
        return f"{self.unit} · {self.get_register_display()} · {Period(self.year, self.month).label}"

    @property
    def audit_unit_id(self):
        return self.unit_id

    @property
    def is_locked(self):
        return self.state in (ProgressEntry.State.SUBMITTED, ProgressEntry.State.APPROVED)


class Coordination(models.Model):
    """Help a project asks of the bureau (协调事项): who handles it and when it was solved."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="coordinations", verbose_name=_("project"))
    raised_on = models.DateField(_("raised on"))
    request = models.TextField(_("help asked (协调事项)"))
    handler = models.CharField(_("handled by"), max_length=100, blank=True)
    solved_on = models.DateField(_("solved on"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["raised_on", "pk"]
        verbose_name = _("coordination item (协调事项)")
        verbose_name_plural = _("coordination items (协调事项)")
        indexes = [models.Index(fields=["solved_on", "raised_on"])]

    def __str__(self):
        return f"{self.project} · {self.request[:30]}"

    @property
    def audit_unit_id(self):
        return self.project.unit_id if self.project_id else None

    def clean(self):
        if self.solved_on and self.raised_on and self.solved_on < self.raised_on:
            raise ValidationError({"solved_on": _("An item cannot be solved before it was raised.")})


class RegisterFigure(models.Model):
    """A target whose figure comes from a register: which aggregation, over which rows."""

    class Aggregation(models.TextChoices):
        ENTERED = "entered", _("Firms that entered the above-scale list this year (up to the month)")
        IN_LIST = "in_list", _("Firms in a list at the end of the month")
        SIGNED = "signed", _("Projects signed this year")
        STARTED = "started", _("Projects started this year")
        PRODUCING = "producing", _("Projects in production this year")
        INVESTMENT = "investment", _("Investment completed this year (亿元)")

    target = models.OneToOneField(
        Target, models.CASCADE, related_name="register_figure", verbose_name=_("target"),
    )
    aggregation = models.CharField(_("figure"), max_length=10, choices=Aggregation.choices)
    list_kind = models.CharField(_("list"), max_length=12, choices=Listing.Kind.choices, blank=True)
    level = models.CharField(_("level (专精特新)"), max_length=8, choices=Listing.Level.choices, blank=True)
    min_investment = models.DecimalField(
        _("total investment at least (亿元)"), max_digits=12, decimal_places=4, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))], help_text=_("Projects only; e.g. 1 for 亿元以上 projects."),
    )
    project_kind = models.CharField(_("project kind"), max_length=10, choices=Project.Kind.choices, blank=True)
    unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("county or zone"),
        help_text=_("Only the rows of this unit and its sub-units (for a county's sub-target); empty: all."),
    )

    class Meta:
        verbose_name = _("figure from a register")
        verbose_name_plural = _("figures from registers")

    def __str__(self):
        return f"{self.target.code} ← {self.get_aggregation_display()}"

    @property
    def audit_unit_id(self):
        return self.target.lead_unit_id if self.target_id else None

    @property
    def is_about_projects(self):
        return self.aggregation in (self.Aggregation.SIGNED, self.Aggregation.STARTED, self.Aggregation.PRODUCING,
                                    self.Aggregation.INVESTMENT)

    def clean(self):
        errors = {}
        if self.aggregation == self.Aggregation.IN_LIST and not self.list_kind:
            errors["list_kind"] = _("Choose the list whose firms are counted.")
        if self.aggregation != self.Aggregation.IN_LIST and (self.list_kind or self.level):
            errors["list_kind"] = _("Only the count of firms in a list takes a list.")
        if not self.is_about_projects and (self.min_investment or self.project_kind):
            errors["min_investment"] = _("Only project figures take an investment or a project kind.")
        if self.target_id and self.target.kind != Target.Kind.CUMULATIVE:
            errors["target"] = _("Only a cumulative count or amount can take its figure from a register.")
        if errors:
            raise ValidationError(errors)
