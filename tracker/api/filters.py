import datetime

import django_filters as filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from tracker.registers.models import Coordination, Firm, Listing, Project
from tracker.targets.models import Indicator, PeerGroup, Plan, ProgressEntry, Region, Section, SeriesValue, Target, Unit


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC: PostgreSQL refuses offsets beyond ±15:59 (2356-01-29T02:25+16:03), which Python
    parses; one that cannot be put in UTC (year 1 at -01:00) is a bad value, not a server error."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UpdatedSince(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField

    def __init__(self, **kw):
        super().__init__(field_name="updated_at", lookup_expr="gte", **kw)


def _int(field_name, low, high, **kw):
    return filters.NumberFilter(field_name=field_name, min_value=low, max_value=high, **kw)


class UnitFilter(filters.FilterSet):
    parent = filters.CharFilter(field_name="parent__code", max_length=40)

    class Meta:
        model = Unit
        fields = ["code", "kind", "parent"]


class PlanFilter(filters.FilterSet):
    year = _int("year", 1, 9999)

    class Meta:
        model = Plan
        fields = ["year"]


class SectionFilter(filters.FilterSet):
    year = _int("plan__year", 1, 9999)

    class Meta:
        model = Section
        fields = ["year"]


class TargetFilter(filters.FilterSet):
    year = _int("plan__year", 1, 9999)
    section = _int("section_id", 1, 2**31 - 1)
    unit = filters.CharFilter(field_name="lead_unit__code", max_length=40)
    code = filters.CharFilter(max_length=40)

    class Meta:
        model = Target
        fields = ["year", "section", "unit", "code", "kind", "is_active"]


class EntryFilter(filters.FilterSet):
    target = filters.CharFilter(field_name="target__code", max_length=40)
    unit = filters.CharFilter(field_name="target__lead_unit__code", max_length=40)
    year = _int("year", 1, 9999)
    month = _int("month", 1, 12)
    updated_since = UpdatedSince()

    class Meta:
        model = ProgressEntry
        fields = ["target", "unit", "year", "month", "state", "updated_since"]


class IndicatorFilter(filters.FilterSet):
    code = filters.CharFilter(max_length=40)

    class Meta:
        model = Indicator
        fields = ["code", "is_rate", "measure"]


class RegionFilter(filters.FilterSet):
    code = filters.CharFilter(max_length=40)
    peer_group = filters.CharFilter(field_name="peer_groups__code", max_length=40)

    class Meta:
        model = Region
        fields = ["code", "kind", "peer_group"]


class PeerGroupFilter(filters.FilterSet):
    code = filters.CharFilter(max_length=40)

    class Meta:
        model = PeerGroup
        fields = ["code"]


class SeriesValueFilter(filters.FilterSet):
    # One year at a time, as the grid and the report: its ranks are computed from that year's values at once.
    year = _int("year", 1, 9999, required=True)
    month = _int("month", 1, 12)
    indicator = filters.CharFilter(field_name="indicator__code", max_length=40)
    region = filters.CharFilter(field_name="region__code", max_length=40)
    updated_since = UpdatedSince()

    class Meta:
        model = SeriesValue
        fields = ["year", "month", "indicator", "region", "updated_since"]


class FirmFilter(filters.FilterSet):
    unit = filters.CharFilter(field_name="unit__code", max_length=40)
    list = filters.ChoiceFilter(field_name="listings__kind", choices=Listing.Kind.choices, distinct=True)
    industry = filters.CharFilter(field_name="industry__code", max_length=2)

    class Meta:
        model = Firm
        fields = ["unit", "list", "size", "industry"]


class ProjectFilter(filters.FilterSet):
    unit = filters.CharFilter(field_name="unit__code", max_length=40)
    year = _int("signed_on__year", 1, 9999, label=_("year signed"))

    class Meta:
        model = Project
        fields = ["unit", "stage", "kind", "in_province_list", "year"]


class CoordinationFilter(filters.FilterSet):
    unit = filters.CharFilter(field_name="project__unit__code", max_length=40)
    project = _int("project_id", 1, 2**31 - 1)
    year = _int("raised_on__year", 1, 9999, label=_("year raised"))

    class Meta:
        model = Coordination
        fields = ["unit", "project", "year"]
