from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.registers.models import Coordination, Firm, Listing, Project, ProjectUpdate
from tracker.services.entries import EDITABLE
from tracker.services.review import ACTIONS
from tracker.targets import checks
from tracker.targets.models import Indicator, PeerGroup, Plan, ProgressEntry, Region, Section, SeriesValue, Target, Unit
from tracker.targets.period import Period
from tracker.targets.status import STATUSES


def Figure(**kw):  # noqa: N802 - a field factory, read like a class
    """A figure as a decimal string ("12.5"), or null."""
    return serializers.DecimalField(max_digits=None, decimal_places=None, allow_null=True, **kw)


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "name_en", "kind", "parent", "email"]


class PlanSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Plan
        fields = ["id", "year", "unit", "status", "title", "title_en", "ratio_at_risk", "ratio_off_track",
                  "points_at_risk", "points_off_track"]


class SectionSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="plan.year", read_only=True)

    class Meta:
        model = Section
        fields = ["id", "plan", "year", "number", "name", "name_en"]


class TargetSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="plan.year", read_only=True)
    lead_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Target
        fields = ["id", "code", "plan", "year", "continues", "section", "name", "name_en", "indicator", "kind",
                  "measure", "target_value", "tolerance", "direction", "baseline_value", "comparator_name",
                  "combined_jan_feb", "frequency", "lead_unit", "deadline", "parent", "is_active", "order"]


class StoredWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class EntrySerializer(serializers.ModelSerializer):
    target = serializers.CharField(source="target.code", read_only=True)
    unit = serializers.CharField(source="target.lead_unit.code", read_only=True)
    period = serializers.SerializerMethodField()
    entered_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    assessed_status = serializers.CharField(read_only=True, help_text=_(
        "The reviewer's assessment of a milestone or task (achieved, on_track, at_risk, off_track), or empty."))
    warnings = serializers.SerializerMethodField(help_text=_(
        "The soft checks' warnings the stored figures raised, confirmed or explained when they were saved."))

    class Meta:
        model = ProgressEntry
        fields = ["id", "target", "target_id", "unit", "year", "month", "period", "value", "comparator", "is_done",
                  "done_on", "note", "problems", "state", "assessed_status", "version", "entered_by", "entered_at",
                  "updated_at", "submitted_at", "is_late", "warnings", "warning_note", "review_comment"]
        read_only_fields = fields

    def get_period(self, entry) -> str:
        return f"{entry.year}-{entry.month:02d}"

    @extend_schema_field(StoredWarningSerializer(many=True))
    def get_warnings(self, entry):
        return [{"code": str(w.get("code", "")), "message": checks.word(w)}
                for w in entry.warnings or [] if isinstance(w, dict)]


class EntryWriteSerializer(serializers.Serializer):
    """One figure to save: the target's code, the month and the fields to set (the others stay as stored)."""

    target = serializers.CharField(max_length=40)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    month = serializers.IntegerField(min_value=1, max_value=12)
    value = Figure(required=False)
    comparator = Figure(required=False)
    is_done = serializers.BooleanField(required=False)
    done_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)
    problems = serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)
    warning_note = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=2000, help_text=_(
            "Why figures that raise a soft check's warning are right; a new explanation saves them as they are."))
    confirm = serializers.BooleanField(required=False, default=False, help_text=_(
        "Save despite the soft checks' warnings (the entry screen's confirm tick); without it, figures that "
        "raise a warning are not saved and the warnings come back (422)."))
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1,
        help_text=_("The entry's version you started from; if someone changed it since, nothing is saved (409)."))

    def values(self):
        return {k: v for k, v in self.validated_data.items() if k in EDITABLE}


class EntryBulkSerializer(serializers.Serializer):
    entries = EntryWriteSerializer(many=True, allow_empty=False, max_length=5000)


class EntryErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True)
    target = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    target = serializers.CharField()
    period = serializers.CharField()
    your_version = serializers.IntegerField()
    version = serializers.IntegerField()
    value = Figure()
    comparator = Figure()
    entered_by = serializers.CharField(allow_null=True)
    entered_at = serializers.DateTimeField()


class WriteWarningSerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True)
    target = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class WriteFailedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = EntryErrorSerializer(many=True)
    conflicts = ConflictSerializer(many=True, required=False)
    warnings = WriteWarningSerializer(many=True, required=False)


class TransitionSerializer(serializers.Serializer):
    """A step of the review workflow for one entry, as a reviewer or clerk takes it on the review page."""

    action = serializers.ChoiceField(choices=list(ACTIONS), help_text=_(
        "submit (clerk), approve, return or reopen (reviewer of the unit)."))
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=False,
                                    help_text=_("Required to return or reopen: the clerk sees it."))
    version = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**31 - 1, help_text=_(
        "The entry's version you looked at; if its figures changed since, nothing happens (409)."))


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    entries = EntrySerializer(many=True)


class PeriodQuerySerializer(serializers.Serializer):
    period = serializers.RegexField(r"^\d{4}-\d{2}$", help_text=_("The report month, YYYY-MM."))

    def validate_period(self, text):
        try:
            period = Period.parse(text)
        except (ValueError, TypeError):
            raise serializers.ValidationError(_("Enter a month as YYYY-MM.")) from None
        if not 2000 <= period.year <= 2100:
            raise serializers.ValidationError(_("Enter a month as YYYY-MM."))
        return period


class PlaceSerializer(serializers.Serializer):
    """A region's place in a peer group (tracker.targets.ranks.Place): published as printed, computed beside it."""

    group_id = serializers.IntegerField(help_text=_("The peer group (see /api/peer-groups/)."))
    group = serializers.CharField(help_text=_("The group as a bulletin names it (全省, 皖北)."))
    size = serializers.IntegerField(help_text=_("How many regions the group has."))
    published = serializers.IntegerField(allow_null=True, help_text=_("The rank as published; null if none."))
    computed = serializers.IntegerField(allow_null=True, help_text=_(
        "The rank computed from the values; null unless every member of the group has a value."))
    differs = serializers.BooleanField(help_text=_("Both ranks are known and they differ."))
    text = serializers.CharField(allow_blank=True, help_text=_("The place as the report writes it."))


class ReportRowSerializer(serializers.Serializer):
    target_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    section = serializers.CharField()
    section_number = serializers.IntegerField()
    unit_code = serializers.CharField()
    unit_name = serializers.CharField()
    kind = serializers.CharField()
    measure = serializers.CharField(allow_blank=True)
    target = Figure()
    tolerance = Figure()
    deadline = serializers.DateField(allow_null=True)
    actual = Figure()
    comparator = Figure()
    expected = Figure()
    gap = Figure()
    completion = Figure()
    time_adjusted = Figure()
    forecast = Figure()
    status = serializers.CharField()
    status_label = serializers.CharField()
    reason = serializers.CharField()
    as_of_month = serializers.IntegerField(allow_null=True)
    period = serializers.CharField(allow_blank=True)
    figure_note = serializers.CharField(allow_blank=True)
    last_year = Figure(help_text="Last year's figure for the same months, of the target this one continues.")
    last_year_period = serializers.CharField(allow_blank=True)
    province = Figure(help_text=_("The province's figure of the series for the same months, for a target that "
                                  "follows an indicator series."))
    province_gap = Figure(help_text=_("The target's figure less the province's, in points (rates only)."))
    rank = serializers.CharField(allow_blank=True, help_text=_("The ranks as the report page writes them."))
    places = PlaceSerializer(many=True, help_text=_("The region's places in its peer groups, one by one."))


class CompletenessCountsSerializer(serializers.Serializer):
    expected = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    missing = serializers.IntegerField()
    pending = serializers.IntegerField()
    awaiting_register = serializers.IntegerField(
        source="register", help_text=_("Expected figures computed from a register with none computed yet: not "
                                       "missing from the clerk, and not reported."))
    reported = serializers.IntegerField()
    figures = serializers.IntegerField()
    figures_reported = serializers.IntegerField()
    tasks = serializers.IntegerField()
    tasks_reported = serializers.IntegerField()
    reporting_rate = Figure()
    on_time_rate = Figure()


class CompletenessUnitSerializer(CompletenessCountsSerializer):
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.display_name")


class CompletenessItemSerializer(serializers.Serializer):
    target = serializers.CharField(source="target.code")
    unit = serializers.CharField(source="unit.code")
    state = serializers.CharField()
    deadline = serializers.DateField(allow_null=True)
    reported_on = serializers.DateField(allow_null=True)
    entry_state = serializers.CharField(allow_blank=True)


class CompletenessSerializer(serializers.Serializer):
    period = serializers.CharField()
    units = CompletenessUnitSerializer(many=True)
    totals = CompletenessCountsSerializer()
    items = CompletenessItemSerializer(many=True)


class ReportFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=list(STATUSES), required=False, help_text=_("Only rows with this status."))
    unit = serializers.CharField(required=False, max_length=40, help_text=_("Only this lead unit's targets (code)."))


class IndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Indicator
        fields = ["id", "code", "name", "name_en", "is_rate", "measure", "higher_is_better", "order"]


class RegionSerializer(serializers.ModelSerializer):
    peer_groups = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True, help_text=_(
        "The peer groups the region is ranked in (codes)."))

    class Meta:
        model = Region
        fields = ["id", "code", "name", "name_en", "kind", "order", "peer_groups"]


class PeerGroupSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    province = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True, help_text=_(
        "The region the members' gap is measured against."))

    class Meta:
        model = PeerGroup
        fields = ["id", "code", "name", "name_en", "province", "members", "order"]


class SeriesValueSerializer(serializers.ModelSerializer):
    """A published year-to-date value with the region's places: published ranks, and computed ones where every
    peer has a value (tracker.targets.ranks, as on the grid and the report)."""

    indicator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    period = serializers.SerializerMethodField()
    ranks = serializers.SerializerMethodField()

    class Meta:
        model = SeriesValue
        fields = ["id", "indicator", "region", "year", "month", "period", "value", "version", "updated_at", "ranks"]
        read_only_fields = fields

    def get_period(self, value) -> str:
        return f"{value.year}-{value.month:02d}"

    @extend_schema_field(PlaceSerializer(many=True))
    def get_ranks(self, value):
        tables = self.context["rank_tables"]
        return PlaceSerializer(tables[value.year].places(value.indicator_id, value.region_id, value.month),
                               many=True).data


def BlankChoice(choices):  # noqa: N802 - a field factory
    """A choice a register may leave empty: documented with the empty string among its values."""
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True)


class ListingSerializer(serializers.ModelSerializer):
    level = BlankChoice(Listing.Level.choices)

    class Meta:
        model = Listing
        fields = ["id", "kind", "state", "joined_on", "expected_month", "entered_month", "level", "recognised_year",
                  "left_on", "reason", "version"]
        read_only_fields = fields


class FirmSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    industry = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    size = BlankChoice(Firm.Size.choices)
    listings = ListingSerializer(many=True, read_only=True, help_text=_("The lists the firm is or was in."))

    class Meta:
        model = Firm
        fields = ["id", "name", "credit_code", "unit", "industry", "size", "contact_person", "contact_phone",
                  "address", "note", "version", "updated_at", "listings"]
        read_only_fields = fields


class ProjectUpdateSerializer(serializers.ModelSerializer):
    period = serializers.SerializerMethodField()

    class Meta:
        model = ProjectUpdate
        fields = ["id", "year", "month", "period", "stage", "completed_ytd", "progress", "problems", "version",
                  "updated_at"]
        read_only_fields = fields

    def get_period(self, update) -> str:
        return Period(update.year, update.month).key


class ProjectSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True)
    above_100m = serializers.BooleanField(read_only=True)
    latest_update = serializers.SerializerMethodField(help_text=_(
        "The project's latest monthly update (investment completed this year, progress, problems), or null."))

    class Meta:
        model = Project
        fields = ["id", "name", "unit", "firm", "kind", "total_investment", "above_100m", "in_province_list",
                  "stage", "signed_on", "started_on", "completed_on", "producing_on", "suspended_on",
                  "suspended_reason", "planned_start", "planned_production", "version", "updated_at",
                  "latest_update"]
        read_only_fields = fields

    @extend_schema_field(ProjectUpdateSerializer(allow_null=True))
    def get_latest_update(self, project):
        updates = project.newest_updates  # prefetched newest first by the view
        return ProjectUpdateSerializer(updates[0]).data if updates else None


class CoordinationSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="project.unit.code", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta:
        model = Coordination
        fields = ["id", "project", "project_name", "unit", "raised_on", "request", "handler", "solved_on", "outcome"]
        read_only_fields = fields
