"""Admin for what an administrator sets up: units, plans, sections, targets and recorded results.

Every list, form, dropdown and object URL goes through tracker.accounts.scoping
(via ScopedAdmin); every write records history.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.adminkit.base import AdministeredMixin, ReadOnlyMixin, ScopedAdmin, ScopedMixin, SharedDataMixin
from tracker.setup.admin.plan_actions import PlanActionsMixin
from tracker.targets.models import (
    Indicator,
    MonthlyPlanPoint,
    PeerGroup,
    Plan,
    ProgressEntry,
    RecordedResult,
    Region,
    Section,
    Target,
    Unit,
)
from tracker.targets.numbers import plain_number


@admin.register(Unit)
class UnitAdmin(AdministeredMixin, ScopedAdmin):
    list_display = ["code", "name", "name_en", "kind", "parent", "email"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent"]
    administered_unit_fields = ["parent"]

    def scope(self, request, queryset):
        ids = scoping.unit_ids(request.user)
        return queryset if ids is None else queryset.filter(pk__in=ids)

    def administers(self, user, obj):
        return scoping.can_administer_unit(user, obj.pk)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # The top of an administrator's tree hangs under a unit they do not administer: only a superuser moves it.
        if obj is not None and obj.parent_id and not scoping.can_administer_unit(request.user, obj.parent_id):
            fields.append("parent")
        return fields


class SectionInline(ScopedMixin, admin.TabularInline):
    model = Section
    extra = 0
    fields = ["number", "name", "name_en"]


@admin.register(Plan)
class PlanAdmin(PlanActionsMixin, AdministeredMixin, ScopedAdmin):
    list_display = ["year", "title", "unit", "status", "ratio_at_risk", "ratio_off_track", "points_at_risk",
                    "points_off_track"]
    list_filter = ["status", "year", ("unit", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["unit"]
    search_fields = ["title", "title_en"]
    # The status moves only through the actions (publish, close, reopen with a reason), each kept in the history.
    readonly_fields = ["status"]
    inlines = [SectionInline]
    administered_unit_fields = ["unit"]

    def scope(self, request, queryset):
        return scoping.visible_plans(request.user, queryset)

    def administers(self, user, obj):
        return scoping.can_administer_plan(user, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.status = Plan.Status.DRAFT  # a new plan starts as a draft, seen by administrators only
        super().save_model(request, obj, form, change)


class PlanRowAdmin(AdministeredMixin, ScopedAdmin):
    """Rows of a plan (sections, targets, recorded results): changed by the administrators of the plan's
    organisation; a plan issued above them (the province's) is read, never changed, by a city's."""

    def administers(self, user, obj):
        return scoping.can_administer_plan(user, obj.plan)


@admin.register(Section)
class SectionAdmin(PlanRowAdmin):
    list_display = ["__str__", "plan", "name_en"]
    list_filter = [("plan", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "name_en"]
    list_select_related = ["plan"]

    def scope(self, request, queryset):
        return queryset.filter(plan__in=scoping.visible_plans(request.user))


class MonthlyPlanPointInline(ScopedMixin, admin.TabularInline):
    model = MonthlyPlanPoint
    extra = 0
    max_num = 12


class EntryInline(ReadOnlyMixin, ScopedMixin, admin.TabularInline):
    """A read-only summary; figures are entered on the entry screen or the entry form."""

    model = ProgressEntry
    fields = ["period_label", "value", "comparator", "is_done", "state", "entered_by", "updated_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name_plural = _("monthly entries")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("target", "entered_by")

    @admin.display(description=_("period"))
    def period_label(self, obj):
        return obj.period_label


@admin.register(Target)
class TargetAdmin(PlanRowAdmin):
    list_display = ["code", "name", "section", "lead_unit", "kind", "shown_target", "deadline", "is_active"]
    list_display_links = ["code", "name"]
    list_filter = [
        ("section", admin.RelatedOnlyFieldListFilter),
        ("lead_unit", admin.RelatedOnlyFieldListFilter),
        "kind",
        ("plan", admin.RelatedOnlyFieldListFilter),
        "is_active",
    ]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["section", "lead_unit", "plan"]
    filter_horizontal = ["responsible_units"]
    raw_id_fields = ["continues"]
    inlines = [MonthlyPlanPointInline, EntryInline]
    fieldsets = [
        (None, {"fields": ["plan", "section", "code", "name", "name_en", "indicator", "indicator_en", "description",
                           "kind", "is_active", "order", "continues"]}),
        (_("Figure"), {"fields": [
            "measure", "target_value", "tolerance", "direction", "baseline_value", "baseline_period",
            "comparator_name", "comparator_name_en", "combined_jan_feb", "frequency", "deadline",
        ]}),
        (_("Indicator series"), {"fields": ["series_indicator", "series_region", "comparator_region"]}),
        (_("Responsibility"), {"fields": ["lead_unit", "responsible_units", "responsible_person", "parent"]}),
        (_("Status thresholds (override the plan's)"), {"classes": ["collapse"], "fields": [
            "ratio_at_risk", "ratio_off_track", "points_at_risk", "points_off_track", "growth_jump_points",
        ]}),
    ]

    def scope(self, request, queryset):
        return scoping.visible_targets(request.user, queryset)

    @admin.display(description=_("target value"), ordering="target_value")
    def shown_target(self, obj):
        if obj.target_value is None:
            return "—"
        return f"{plain_number(obj.target_value)} {obj.measure}".strip()


@admin.register(RecordedResult)
class RecordedResultAdmin(PlanRowAdmin):
    list_display = ["code", "name", "shown_value", "period_label", "year", "plan", "section"]
    list_filter = [("plan", admin.RelatedOnlyFieldListFilter), ("section", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["plan", "section"]

    def scope(self, request, queryset):
        return queryset.filter(plan__in=scoping.visible_plans(request.user))

    @admin.display(description=_("value"), ordering="value")
    def shown_value(self, obj):
        return f"{plain_number(obj.value)}{obj.measure}"




# Regions, peer groups and indicators are shared reference data (published statistics), not any unit's rows:
# every staff member may read them; scoping.can_edit_shared says who changes them.


@admin.register(Region)
class RegionAdmin(SharedDataMixin, ScopedAdmin):
    list_display = ["code", "name", "name_en", "kind", "aliases", "unit", "order"]
    list_editable = ["order"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "name_en", "aliases"]
    list_select_related = ["unit"]


@admin.register(PeerGroup)
class PeerGroupAdmin(SharedDataMixin, ScopedAdmin):
    list_display = ["code", "name", "name_en", "province", "order"]
    search_fields = ["code", "name", "name_en"]
    filter_horizontal = ["members"]
    list_select_related = ["province"]


@admin.register(Indicator)
class IndicatorAdmin(SharedDataMixin, ScopedAdmin):
    list_display = ["code", "name", "name_en", "is_rate", "measure", "higher_is_better", "order"]
    list_editable = ["order"]
    search_fields = ["code", "name", "name_en", "aliases"]
