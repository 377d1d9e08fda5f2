"""The plan, its units and targets, and the monthly year-to-date entries.

Conventions (see shared/DOMAIN.md): an entry holds the cumulative figure for
months 1..N as published; growth rates are entered as published, never
recomputed; some indicators have no January figure (1-2月 combined).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tracker.targets.period import Period


class BilingualNameMixin:
    """Names in the active language: `<field>_en` when English is active and it is filled in."""

    def in_language(self, field):
        english = getattr(self, f"{field}_en", "")
        if english and (get_language() or "").startswith("en"):
            return english
        return getattr(self, field)

    @property
    def display_name(self):
        return self.in_language("name")

    @property
    def comparator_display(self):
        return self.in_language("comparator_name")


class Unit(BilingualNameMixin, models.Model):
    class Kind(models.TextChoices):
        BUREAU = "bureau", _("Bureau")
        SECTION = "section", _("Section (科室)")
        COUNTY = "county", _("County / district")
        ZONE = "zone", _("Development zone")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SECTION)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent unit")
    )
    email = models.EmailField(_("contact email"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self):
        return self.display_name


class Plan(models.Model):
    """A year's work plan (工作要点) with its status thresholds.

    Thresholds: for counts and amounts the ratio actual/expected (by now);
    below `ratio_at_risk` is at risk, below `ratio_off_track` off track.
    For growth targets the gap in percentage points below the target (after
    the 左右 tolerance); beyond `points_at_risk` at risk, beyond
    `points_off_track` off track. Targets may override each.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft (草稿)")
        PUBLISHED = "published", _("Published (已发布)")
        CLOSED = "closed", _("Closed (已结束)")

    year = models.PositiveSmallIntegerField(_("year"))
    # The unit that issues the plan (a bureau, a city government, a province's department): the plan is that
    # organisation's, and its staff are the people of the unit's tree. Several plans may share a year.
    unit = models.ForeignKey(
        Unit, models.PROTECT, null=True, blank=False, related_name="plans", verbose_name=_("issuing unit"),
        help_text=_("The unit that issues the plan; it covers that unit's tree."),
    )
    # A draft is seen by administrators only; a published plan takes figures and is reported; a closed one is
    # read-only until it is reopened with a reason. Plans made before the lifecycle existed were all in use,
    # so the stored default is "published"; new plans in the admin and copies start as drafts.
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    source = models.TextField(_("source"), blank=True)
    ratio_at_risk = models.DecimalField(
        _("at risk below (share of expected)"), max_digits=5, decimal_places=3, default=Decimal("0.900")
    )
    ratio_off_track = models.DecimalField(
        _("off track below (share of expected)"), max_digits=5, decimal_places=3, default=Decimal("0.700")
    )
    points_at_risk = models.DecimalField(
        _("at risk when behind by more than (points)"), max_digits=6, decimal_places=2, default=Decimal("0.00")
    )
    points_off_track = models.DecimalField(
        _("off track when behind by more than (points)"), max_digits=6, decimal_places=2, default=Decimal("2.00")
    )
    growth_jump_points = models.DecimalField(
        _("question a rate that moves by more than (points)"), max_digits=6, decimal_places=2,
        default=Decimal("10.00"), validators=[MinValueValidator(Decimal("0"))],
        help_text=_("A growth rate that moves more than this many points from the month before is shown as a "
                    "warning to confirm or explain."),
    )

    class Meta:
        ordering = ["-year", "pk"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self):
        if (get_language() or "").startswith("en") and self.title_en:
            return self.title_en
        return self.title

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT

    @property
    def takes_figures(self):
        """Only a published plan takes figures: a draft is not in use yet, a closed one is read-only."""
        return self.status == self.Status.PUBLISHED

    def clean(self):
        if self.ratio_off_track is not None and self.ratio_at_risk is not None:
            if self.ratio_off_track > self.ratio_at_risk:
                raise ValidationError(_("The off-track ratio must not be above the at-risk ratio."))
        if self.points_off_track is not None and self.points_at_risk is not None:
            if self.points_off_track < self.points_at_risk:
                raise ValidationError(_("The off-track gap must not be smaller than the at-risk gap."))


class Section(BilingualNameMixin, models.Model):
    plan = models.ForeignKey(Plan, models.CASCADE, related_name="sections", verbose_name=_("plan"))
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "number"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="unique_section_number")]

    def __str__(self):
        return f"{self.number}. {self.display_name}"


class Measure(models.TextChoices):
    PERCENT = "%", "%"
    POINTS = "百分点", _("percentage points (百分点)")
    FIRMS = "家", _("firms (家)")
    ITEMS = "个", _("items (个)")
    TIMES = "次", _("times (次)")
    HOUSEHOLDS = "户", _("enterprises (户)")
    PROJECTS = "项", _("projects (项)")
    SETS = "台", _("sets (台)")
    YI_YUAN = "亿元", _("100 million yuan (亿元)")
    WAN_YUAN = "万元", _("10 thousand yuan (万元)")


# A measure after a number in English sentences ("26 firms"); Chinese writes the symbol itself ("26家").
MEASURE_IN_ENGLISH = {
    Measure.POINTS: " points", Measure.FIRMS: " firms", Measure.ITEMS: " items", Measure.TIMES: " times",
    Measure.HOUSEHOLDS: " enterprises", Measure.PROJECTS: " projects", Measure.SETS: " sets",
    Measure.YI_YUAN: " hundred million yuan", Measure.WAN_YUAN: " ten thousand yuan",
}


class Region(BilingualNameMixin, models.Model):
    """A place whose figures a bulletin quotes: the plan's own city, counties and zones, or outside ones
    (the province, the other cities). Names as printed in releases; `aliases` lists other spellings."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County / district")
        ZONE = "zone", _("Development zone")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CITY)
    aliases = models.CharField(
        _("other spellings"), max_length=300, blank=True,
        help_text=_("Separated by commas, e.g. 亳州市. A name with or without 市/省 is always accepted."),
    )
    unit = models.OneToOneField(
        Unit, models.SET_NULL, null=True, blank=True, related_name="region", verbose_name=_("own unit"),
        help_text=_("For the plan's own city, counties and zones: the unit that reports for it."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.display_name

    def spellings(self):
        """Every name a release may print for the region (亳州 and 亳州市 alike)."""
        names = {self.name, self.name_en, *(a.strip() for a in self.aliases.replace("，", ",").split(","))}
        names = {n for n in names if n}
        for name in list(names):
            for suffix in REGION_SUFFIXES:
                if name.endswith(suffix) and len(name) > len(suffix) + 1:
                    names.add(name[: -len(suffix)])
            if self.kind in (self.Kind.CITY, self.Kind.PROVINCE) and name[-1:] not in REGION_SUFFIXES:
                names.add(name + ("省" if self.kind == self.Kind.PROVINCE else "市"))
        return names


# Suffixes a release may print or leave off: 亳州市 / 亳州, 安徽省 / 安徽.
REGION_SUFFIXES = ("市", "省")


class PeerGroup(BilingualNameMixin, models.Model):
    """Regions ranked together: 全省 (the province's 16 cities) or 皖北六市. `province` is the region whose
    figure is "the province" for the group's gap (安徽省 for both)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, help_text=_("As a bulletin writes the rank: 全省, 皖北."))
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    members = models.ManyToManyField(Region, related_name="peer_groups", verbose_name=_("members"))
    province = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("province"),
        help_text=_("The region the members' gap is measured against."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("peer group")
        verbose_name_plural = _("peer groups")

    def __str__(self):
        return self.display_name


class Indicator(BilingualNameMixin, models.Model):
    """A published statistic (规上工业增加值增速, 工业投资增速…) with year-to-date values per region and month."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=300, blank=True)
    aliases = models.CharField(
        _("other spellings"), max_length=300, blank=True,
        help_text=_("Column headings a release may print, separated by commas."),
    )
    is_rate = models.BooleanField(_("growth rate"), default=True, help_text=_("A YTD growth rate in percent."))
    measure = models.CharField(_("unit of measure"), max_length=10, choices=Measure.choices, default=Measure.PERCENT)
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self):
        return self.display_name

    def spellings(self):
        names = {self.code, self.name, self.name_en, *(a.strip() for a in self.aliases.replace("，", ",").split(","))}
        return {n for n in names if n}


class SeriesValue(models.Model):
    """An indicator's year-to-date value for a region and month (1..N月累计), as published: never recomputed."""

    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="values", verbose_name=_("indicator"))
    region = models.ForeignKey(Region, models.PROTECT, related_name="values", verbose_name=_("region"))
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    value = models.DecimalField(_("year-to-date value"), max_digits=16, decimal_places=4, null=True, blank=True)
    # Optimistic locking as for entries: a save based on an older version is a conflict.
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["indicator", "region", "year", "month"]
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            models.UniqueConstraint(fields=["indicator", "region", "year", "month"], name="unique_series_value"),
        ]
        indexes = [models.Index(fields=["year", "month"])]

    def __str__(self):
        return f"{self.indicator} {self.region} {Period(self.year, self.month).label}"


class PublishedRank(models.Model):
    """A rank as published ("居全省第9位"): a figure in its own right, stored as given."""

    value = models.ForeignKey(SeriesValue, models.CASCADE, related_name="ranks", verbose_name=_("value"))
    group = models.ForeignKey(PeerGroup, models.PROTECT, related_name="+", verbose_name=_("peer group"))
    rank = models.PositiveSmallIntegerField(_("published rank"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["value", "group"]
        verbose_name = _("published rank")
        verbose_name_plural = _("published ranks")
        constraints = [models.UniqueConstraint(fields=["value", "group"], name="unique_published_rank")]

    def __str__(self):
        return f"{self.value} {self.group} {self.rank}"


def measure_label(measure):
    """The measure as a table cell shows it, in the active language: 家 / firms, 百分点 / points, % alike."""
    if measure and (get_language() or "").startswith("en"):
        return MEASURE_IN_ENGLISH.get(measure, f" {measure}").strip()
    return measure or ""


def with_measure(text, measure):
    """A figure followed by its measure: 0.5百分点 / 0.5 points, 26家 / 26 firms, 8.5%."""
    if not text or not measure:
        return text
    if (get_language() or "").startswith("en"):
        return text + MEASURE_IN_ENGLISH.get(measure, measure if measure == "%" else f" {measure}")
    return text + measure


class Target(BilingualNameMixin, models.Model):
    class Kind(models.TextChoices):
        GROWTH = "growth", _("YTD growth rate vs target rate")
        MARGIN = "margin", _("YTD growth above a comparator")
        CUMULATIVE = "cumulative", _("Cumulative count or amount")
        MILESTONE = "milestone", _("Milestone")
        RECURRING = "recurring", _("Recurring event")
        QUALITATIVE = "qualitative", _("Qualitative task")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    class Frequency(models.TextChoices):
        MONTH = "month", _("Every month")
        QUARTER = "quarter", _("Every quarter")
        HALF = "half", _("Every half year")
        YEAR = "year", _("Once a year")

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="targets", verbose_name=_("plan"))
    section = models.ForeignKey(Section, models.PROTECT, related_name="targets", verbose_name=_("section"))
    code = models.CharField(_("code"), max_length=40, help_text=_("Unique within the plan."))
    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("English name"), max_length=400, blank=True)
    description = models.TextField(_("wording in the plan"), blank=True)
    # The statistic itself ("工业投资"), so a reason reads "1–6月工业投资增长6.0%" rather than
    # repeating the whole target ("工业投资增长8%左右增长6.0%").
    indicator = models.CharField(
        _("indicator"), max_length=100, blank=True, help_text=_("Short name of the statistic, e.g. 工业投资.")
    )
    indicator_en = models.CharField(_("English indicator"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    measure = models.CharField(_("unit of measure"), max_length=10, choices=Measure.choices, blank=True)
    target_value = models.DecimalField(
        _("target value"), max_digits=16, decimal_places=4, null=True, blank=True,
        help_text=_("Growth kinds: the rate in %; margin: the points above the comparator; "
                    "recurring: events required in the year."),
    )
    tolerance = models.DecimalField(
        _("tolerance (左右)"), max_digits=16, decimal_places=4, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("How far from the figure still counts as met, for targets worded 'about'."),
    )
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    baseline_value = models.DecimalField(_("baseline"), max_digits=16, decimal_places=4, null=True, blank=True)
    baseline_period = models.CharField(
        _("baseline period"), max_length=40, blank=True, help_text=_("e.g. 2021年1~11月")
    )
    comparator_name = models.CharField(
        _("comparator series"), max_length=200, blank=True, help_text=_("e.g. 全省规上工业增加值增速")
    )
    comparator_name_en = models.CharField(_("English comparator series"), max_length=300, blank=True)
    # The series the target follows: its own figures are the region's values of the indicator; a margin
    # target's comparator is the comparator region's value for the same months (the province's, entered once).
    series_indicator = models.ForeignKey(
        Indicator, models.PROTECT, null=True, blank=True, related_name="targets", verbose_name=_("indicator series"),
    )
    series_region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="targets", verbose_name=_("region"),
        help_text=_("The region whose figure this target is (the city, or a county for a sub-target)."),
    )
    comparator_region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="compared_targets",
        verbose_name=_("compared with"),
        help_text=_("Usually the province: a margin target's comparator, and the gap every report shows."),
    )
    combined_jan_feb = models.BooleanField(
        _("January and February reported together"), default=False,
        help_text=_("No January figure is expected (1月份数据免报)."),
    )
    frequency = models.CharField(_("frequency"), max_length=8, choices=Frequency.choices, blank=True)
    lead_unit = models.ForeignKey(
        Unit, models.PROTECT, related_name="led_targets", verbose_name=_("lead unit (牵头单位)")
    )
    responsible_units = models.ManyToManyField(
        Unit, blank=True, related_name="supported_targets", verbose_name=_("responsible units (责任单位)")
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("responsible person (责任人)"),
    )
    deadline = models.DateField(_("deadline (完成时限)"), null=True, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent target"), help_text=_("For a sub-target in a decomposition (目标分解)."),
    )
    ratio_at_risk = models.DecimalField(
        _("at risk below (override)"), max_digits=5, decimal_places=3, null=True, blank=True
    )
    ratio_off_track = models.DecimalField(
        _("off track below (override)"), max_digits=5, decimal_places=3, null=True, blank=True
    )
    points_at_risk = models.DecimalField(
        _("at risk gap (override, points)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    points_off_track = models.DecimalField(
        _("off track gap (override, points)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    growth_jump_points = models.DecimalField(
        _("question a rate that moves by more than (override, points)"), max_digits=6, decimal_places=2,
        null=True, blank=True, validators=[MinValueValidator(Decimal("0"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    # The target of an earlier plan this one continues (set by copy_plan): year-over-year figures read it.
    continues = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="continued_by",
        verbose_name=_("continues"), help_text=_("The target of last year's plan this one continues."),
    )

    class Meta:
        ordering = ["section__number", "order", "code"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        indexes = [models.Index(fields=["lead_unit", "plan"])]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="unique_target_code_in_plan")]

    def __str__(self):
        return f"{self.code} {self.display_name}"

    @property
    def needs_comparator(self):
        """Whether an entry carries its own comparator: a margin target not taking it from a series."""
        return self.kind == self.Kind.MARGIN and not self.comparator_from_series

    @property
    def comparator_from_series(self):
        return bool(self.series_indicator_id and self.comparator_region_id)

    @property
    def is_growth(self):
        return self.kind in (self.Kind.GROWTH, self.Kind.MARGIN)

    @property
    def measure_text(self):
        """家 / firms: the measure in the active language (measure_label)."""
        return measure_label(self.measure)

    def expects_entry(self, month):
        """Whether a figure is expected for this month (no January for 1-2月 indicators)."""
        return not (self.combined_jan_feb and month == 1)

    def clean(self):
        errors = {}
        numeric = {self.Kind.GROWTH, self.Kind.MARGIN, self.Kind.CUMULATIVE, self.Kind.RECURRING}
        if self.kind in numeric and self.target_value is None:
            errors["target_value"] = _("This kind of target needs a target value.")
        if self.comparator_region_id and not self.series_indicator_id:
            errors["series_indicator"] = _("Choose the indicator whose values are compared.")
        if self.kind == self.Kind.MARGIN and not self.comparator_name and not self.comparator_from_series:
            errors["comparator_name"] = _("Name the comparator series (e.g. the province's growth).")
        if self.kind == self.Kind.RECURRING and not self.frequency:
            errors["frequency"] = _("A recurring event needs a frequency.")
        if self.kind == self.Kind.MILESTONE and not self.deadline:
            errors["deadline"] = _("A milestone needs a deadline.")
        if self.kind in (self.Kind.CUMULATIVE, self.Kind.RECURRING) and self.target_value is not None:
            if self.target_value < 0:
                errors["target_value"] = _("A count or amount cannot be negative.")
        if self.parent_id and self.parent_id == self.pk:
            errors["parent"] = _("A target cannot be its own parent.")
        if self.plan_id and self.section_id and self.section.plan_id != self.plan_id:
            errors["section"] = _("The section belongs to another plan.")
        if self.parent_id and self.plan_id and self.parent.plan_id != self.plan_id:
            errors["parent"] = _("The parent target belongs to another plan.")
        if errors:
            raise ValidationError(errors)


class MonthlyPlanPoint(models.Model):
    """Optional 分月计划: the cumulative value expected by the end of a month."""

    target = models.ForeignKey(Target, models.CASCADE, related_name="plan_points", verbose_name=_("target"))
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    value = models.DecimalField(_("expected by end of month"), max_digits=16, decimal_places=4)

    class Meta:
        ordering = ["target", "month"]
        verbose_name = _("monthly plan point")
        verbose_name_plural = _("monthly plan (分月计划)")
        constraints = [models.UniqueConstraint(fields=["target", "month"], name="unique_plan_point")]

    def __str__(self):
        return f"{self.target.code} {self.month}: {self.value}"


class RecordedResult(BilingualNameMixin, models.Model):
    """A figure the plan's source reports for an earlier period (e.g. 2021 results)."""

    plan = models.ForeignKey(Plan, models.CASCADE, related_name="results", verbose_name=_("plan"))
    section = models.ForeignKey(
        Section, models.SET_NULL, null=True, blank=True, related_name="results", verbose_name=_("section")
    )
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("English name"), max_length=400, blank=True)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4)
    measure = models.CharField(_("unit of measure"), max_length=10, choices=Measure.choices, blank=True)
    year = models.PositiveSmallIntegerField(_("year"))
    through_month = models.PositiveSmallIntegerField(
        _("through month"), null=True, blank=True, help_text=_("Blank for the whole year or 'so far'.")
    )
    period_label = models.CharField(_("period"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["plan", "code"]
        verbose_name = _("recorded result")
        verbose_name_plural = _("recorded results")
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="unique_result_code_in_plan")]

    def __str__(self):
        return f"{self.code} {self.display_name}: {self.value}{self.measure}"


# Sanity bounds for published growth rates, in percent: a typo like 5000% is
# caught, while genuine swings (e.g. -60% or +300% in small series) still fit.
GROWTH_MIN = Decimal("-100")
GROWTH_MAX = Decimal("1000")


class ProgressEntry(models.Model):
    """One target's year-to-date figure for one month (1..N月累计)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Returned")

    class Assessment(models.TextChoices):
        ACHIEVED = "achieved", _("Achieved")
        ON_TRACK = "on_track", _("On track")
        AT_RISK = "at_risk", _("At risk")
        OFF_TRACK = "off_track", _("Off track")

    target = models.ForeignKey(Target, models.CASCADE, related_name="entries", verbose_name=_("target"))
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    value = models.DecimalField(_("year-to-date value"), max_digits=16, decimal_places=4, null=True, blank=True)
    comparator = models.DecimalField(
        _("comparator value"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    is_done = models.BooleanField(_("completed"), default=False)
    done_on = models.DateField(_("completed on"), null=True, blank=True)
    assessed_status = models.CharField(
        _("reviewer's assessment"), max_length=10, choices=Assessment.choices, blank=True
    )
    note = models.TextField(_("progress (进展情况)"), blank=True)
    problems = models.TextField(_("problems (存在问题)"), blank=True)
    evidence = models.FileField(_("evidence file"), upload_to="evidence/%Y/%m/", blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    # Optimistic locking: every save increments it; a save based on an older
    # version is a conflict, never a silent overwrite.
    version = models.PositiveIntegerField(_("version"), default=1)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("entered by"),
    )
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    is_late = models.BooleanField(_("submitted late"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    # The figures as last approved. While an approved entry is reopened for correction, reports keep
    # showing these (marked "correction pending") until the corrected figures are approved.
    approved_at = models.DateTimeField(_("last approved at"), null=True, blank=True)
    approved_value = models.DecimalField(
        _("last approved value"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    approved_comparator = models.DecimalField(
        _("last approved comparator"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    approved_is_done = models.BooleanField(_("last approved as completed"), default=False)
    # The soft checks (tracker.targets.checks) the figure failed when it was saved, as the clerk saw and
    # confirmed them: [{"code", "params", "message"}]; and the clerk's explanation of them.
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    warning_note = models.TextField(_("explanation of the warnings"), blank=True)

    class Meta:
        ordering = ["target", "year", "month"]
        verbose_name = _("progress entry")
        verbose_name_plural = _("progress entries")
        constraints = [
            models.UniqueConstraint(fields=["target", "year", "month"], name="unique_entry_per_period"),
        ]
        indexes = [
            models.Index(fields=["year", "month", "state"]),
            # The admin's entries list, newest first with a tie-break, reads this index (no sort of the table).
            models.Index(fields=["-updated_at", "-id"], name="entry_recent_first"),
            models.Index(fields=["year", "-updated_at", "-id"], name="entry_year_recent_first"),
            # The few figures reopened for correction (their approved values count): read beside every period's
            # entries, found here instead of in a second pass over all of them.
            models.Index(fields=["year", "month"], name="entry_in_correction",
                         condition=models.Q(approved_at__isnull=False) & ~models.Q(state="approved")),
        ]

    def __str__(self):
        return f"{self.target.code} {self.period_label}"

    @property
    def period(self):
        return Period(self.year, self.month)

    @property
    def period_label(self):
        return self.period.label

    @property
    def is_locked(self):
        return self.state == self.State.APPROVED

    def clean(self):
        errors = validate_entry_values(
            self.target if self.target_id else None, self.year, self.month, self.value, self.comparator
        )
        if errors:
            raise ValidationError(errors)


def plan_refusal(plan):
    """Why the plan's figures cannot be written or reviewed now (a draft, or closed), else None."""
    if plan.status == Plan.Status.CLOSED:
        return _("The plan %(plan)s is closed: its figures are read-only unless an administrator reopens it "
                 "with a reason.") % {"plan": plan}
    if plan.status == Plan.Status.DRAFT:
        return _("The plan %(plan)s is a draft: it takes figures once it is published.") % {"plan": plan}
    return None


def validate_period(plan_year, year, month, today=None):
    """Errors for a period outside the plan's year or in the future (a month can be entered once it has begun)."""
    today = today or timezone.localdate()
    period = f"{year}-{month:02d}"
    if year != plan_year:
        return _("The period %(period)s is outside the plan's year %(year)s.") % {"period": period, "year": plan_year}
    if Period(year, month) > Period.of(today):
        return _("The period %(period)s is in the future.") % {"period": period}
    return None


def validate_entry_values(target, year, month, value, comparator, today=None):
    """Field errors for one entry; shared by admin forms, the entry screen and imports."""
    errors = {}
    if target is None:
        return errors
    refused = plan_refusal(target.plan)
    if refused:
        return {"target": refused}
    # `is not None`: a year or month of 0 is a bad period, not a missing one.
    if year is not None and month is not None:
        if not 1 <= month <= 12:
            errors["month"] = _("The month must be between 1 and 12.")
        else:
            msg = validate_period(target.plan.year, year, month, today)
            if msg:
                errors["month"] = msg
            elif not target.expects_entry(month):
                errors["month"] = _(
                    "%(target)s is reported for January and February together; enter it for February (1~2月)."
                ) % {"target": target.code}
    Kind = Target.Kind
    if value is not None:
        if target.kind in (Kind.CUMULATIVE, Kind.RECURRING, Kind.MILESTONE) and value < 0:
            errors["value"] = _("A count or amount cannot be negative.")
        elif target.kind == Kind.RECURRING and value != value.to_integral_value():
            errors["value"] = _("The number of events held must be a whole number.")
        elif target.is_growth and not (GROWTH_MIN <= value <= GROWTH_MAX):
            errors["value"] = _("A growth rate of %(value)s%% is not plausible (allowed %(min)s to %(max)s).") % {
                "value": value, "min": GROWTH_MIN, "max": GROWTH_MAX}
    if target.kind == Kind.MARGIN and getattr(target, "comparator_from_series", False):
        if comparator is not None:
            errors["comparator"] = _("The comparator comes from the indicator series (%(region)s); enter it "
                                     "once on the indicator grid, and leave it empty here.") % {
                "region": target.comparator_region}
    elif target.kind == Kind.MARGIN:
        if value is not None and comparator is None:
            errors["comparator"] = _("Enter the comparator (%(name)s) for the same months.") % {
                "name": target.comparator_display or _("comparator")}
        elif comparator is not None and not (GROWTH_MIN <= comparator <= GROWTH_MAX):
            errors["comparator"] = _("A growth rate of %(value)s%% is not plausible (allowed %(min)s to %(max)s).") % {
                "value": comparator, "min": GROWTH_MIN, "max": GROWTH_MAX}
    elif comparator is not None:
        errors["comparator"] = _("This target has no comparator series; leave it empty.")
    return errors


DEFAULT_DUE_WORKING_DAY = 5
DEFAULT_REMIND_DAYS_BEFORE = 3
DEFAULT_ESCALATE_AFTER_DAYS = 2
DEFAULT_OVERDUE_CAP_DAYS = 10


class ReportingPolicy(models.Model):
    """When a month's figures are due and how they are chased.

    One row with neither unit nor target is the default; a row for a unit
    (it applies to its sub-units too) or for a target overrides it. The most
    specific row applies as a whole.
    """

    unit = models.OneToOneField(
        Unit, models.CASCADE, null=True, blank=True, related_name="reporting_policy", verbose_name=_("unit"),
        help_text=_("Leave unit and target empty for the default policy."),
    )
    target = models.OneToOneField(
        Target, models.CASCADE, null=True, blank=True, related_name="reporting_policy", verbose_name=_("target")
    )
    due_working_day = models.PositiveSmallIntegerField(
        _("due on working day"), default=DEFAULT_DUE_WORKING_DAY,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Figures for a month are due on this working day of the following month."),
    )
    remind_days_before = models.PositiveSmallIntegerField(
        _("remind working days before"), default=DEFAULT_REMIND_DAYS_BEFORE,
        validators=[MaxValueValidator(20)],
        help_text=_("Send the 'due soon' reminder this many working days before the deadline (0: none)."),
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        _("escalate after working days overdue"), default=DEFAULT_ESCALATE_AFTER_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Tell the unit's reviewer once figures are this many working days overdue."),
    )
    overdue_cap_days = models.PositiveSmallIntegerField(
        _("chase for working days"), default=DEFAULT_OVERDUE_CAP_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Overdue reminders go out each working day after the deadline, for at most this many "
                    "working days."),
    )

    class Meta:
        # The table keeps the name it had when the policy lived in the reminders app.
        db_table = "reminders_reportingpolicy"
        verbose_name = _("reporting policy")
        verbose_name_plural = _("reporting policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=True) | Q(target__isnull=True), name="policy_unit_or_target"
            ),
        ]

    def __str__(self):
        if self.target_id:
            return _("Policy for target %(code)s") % {"code": self.target.code}
        if self.unit_id:
            return _("Policy for %(unit)s") % {"unit": self.unit}
        return str(_("Default reporting policy"))

    def clean(self):
        errors = []
        if self.unit_id and self.target_id:
            errors.append(_("A policy is for a unit or for a target, not both."))
        if not self.unit_id and not self.target_id:
            others = ReportingPolicy.objects.filter(unit__isnull=True, target__isnull=True).exclude(pk=self.pk)
            if others.exists():
                errors.append(_("There is already a default policy; choose a unit or a target."))
        if self.escalate_after_days is not None and self.overdue_cap_days is not None:
            if self.escalate_after_days > self.overdue_cap_days:
                errors.append(_("Escalation must come within the days overdue figures are chased."))
        if errors:
            raise ValidationError(errors)


ENTRY_TEXT_FIELDS = ("note", "problems")


def validate_entry_text(values):
    """Field errors for a note or problems text over ENTRY_TEXT_MAX_CHARS; used by save_entries and imports."""
    limit = settings.ENTRY_TEXT_MAX_CHARS
    errors = {}
    for name in ENTRY_TEXT_FIELDS:
        length = len(values.get(name) or "")
        if length > limit:
            errors[name] = _("This text has %(length)s characters; at most %(limit)s are allowed.") % {
                "length": f"{length:,}", "limit": f"{limit:,}"}
    return errors


class DataStamp(models.Model):
    """One row per statement that wrote something a status is judged from (see tracker.targets.stamps).

    Written by the database wrapper in the writing transaction, never by hand; `weight` lets old rows be
    folded into one without changing the sum.
    """

    weight = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = _("data stamp")
        verbose_name_plural = _("data stamps")

    def __str__(self):
        return f"{self.pk} (+{self.weight})"
