"""Admin list filters for large tables: their choices come from small tables, never from
a DISTINCT over the big one (which reads every row on every page load)."""

import datetime

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.utils.dates import MONTHS

from tracker.accounts import scoping
from tracker.targets.models import ProgressEntry, Target


class NumberFilter(admin.SimpleListFilter):
    """Filters on an integer field; a value that is not a number (?year=abc) is a bad lookup, not a 500."""

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            number = int(self.value())
        except ValueError:
            raise IncorrectLookupParameters(self.value()) from None
        return queryset.filter(**{self.parameter_name: number})


class YearFilter(NumberFilter):
    """Years that have a plan."""

    title = ProgressEntry._meta.get_field("year").verbose_name
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = scoping.visible_plans(request.user).order_by("-year").values_list("year", flat=True).distinct()
        return [(str(year), str(year)) for year in years]


class MonthFilter(NumberFilter):
    title = ProgressEntry._meta.get_field("month").verbose_name
    parameter_name = "month"

    def lookups(self, request, model_admin):
        return [(str(number), name) for number, name in MONTHS.items()]


class LeadUnitFilter(admin.RelatedFieldListFilter):
    """For ("target__lead_unit", LeadUnitFilter): the units this person may see that lead a target.

    Unlike RelatedOnlyFieldListFilter it never scans the entries for the units they use.
    """

    def field_choices(self, field, request, model_admin):
        units = scoping.visible_units(request.user).filter(pk__in=Target.objects.values("lead_unit_id"))
        return [(unit.pk, str(unit)) for unit in units.order_by("code")]


class DateHierarchyChangeList(ChangeList):
    """For admins with a date_hierarchy: a date Python cannot handle is a bad lookup, not a 500.

    Django turns ?at__year=abc into a bad lookup, but ?at__year=9999 (the year after it is
    out of range), ?at__year=1 (before year 1 once in UTC) or a 30-digit day raise
    ValueError or OverflowError outside its own check.
    """

    def get_filters(self, request):
        year = self.params.get(f"{self.date_hierarchy}__year") if self.date_hierarchy else None
        try:
            if year and not datetime.MINYEAR < int(year[-1]) < datetime.MAXYEAR:
                raise ValueError(year[-1])
            return super().get_filters(request)
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc
