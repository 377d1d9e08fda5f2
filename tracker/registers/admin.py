"""Admin of the registers: firms with their lists, projects with their months and coordination items, and the
targets that take their figures from a register.

Rows are limited to the person's units through tracker.accounts.scoping (a firm's or project's unit; a figure's
target's lead unit); dropdowns offer only those units and firms; every write records history (ScopedAdmin) and
then refreshes the register-backed targets' figures.
"""

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tracker import links
from tracker.accounts import scoping
from tracker.adminkit.base import ReadOnlyMixin, ScopedAdmin, ScopedMixin
from tracker.audit.models import Change
from tracker.registers import figures
from tracker.registers.models import (
    Coordination,
    Firm,
    FirmUpdate,
    Industry,
    Listing,
    Project,
    ProjectUpdate,
    RegisterFigure,
    ScheduleMonth,
)


class UnitFilter(admin.RelatedFieldListFilter):
    """The units this person may see (never another county's name in the filter)."""

    def field_choices(self, field, request, model_admin):
        return [(unit.pk, str(unit)) for unit in scoping.visible_units(request.user).order_by("code")]


def _scoped_firms(user):
    return scoping.visible_by_unit(user, Firm.objects.all())


class SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks up the posted value to show it again: a value that is no id
    (NUL, "abc") would raise there instead of giving the form's own error."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if str(v).isdigit()], attr)


class RegisterAdmin(ScopedAdmin):
    """Scoped by the row's unit (`unit_field`), with the version bumped and the figures refreshed on a write."""

    unit_field = "unit_id"
    child_models = ()

    def scope(self, request, queryset):
        return scoping.visible_by_unit(request.user, queryset, self.unit_field)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Firm:
            kwargs["queryset"] = _scoped_firms(request.user)
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change and hasattr(obj, "version"):
            obj.version += 1
        super().save_model(request, obj, form, change)
        figures.refresh_after_commit()

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        figures.refresh_after_commit()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        figures.refresh_after_commit()

    def history_queryset(self, obj):
        rows = Q(model=self.model._meta.label_lower, object_id=str(obj.pk))
        for model, relation in self.child_models:
            ids = [str(pk) for pk in model.objects.filter(**{relation: obj}).values_list("pk", flat=True)]
            rows |= Q(model=model._meta.label_lower, object_id__in=ids)
        return Change.objects.filter(rows)


@admin.register(Industry)
class IndustryAdmin(ReadOnlyMixin, ScopedAdmin):
    list_display = ["code", "section", "name"]
    list_filter = ["section"]
    search_fields = ["code", "name"]


class ListingInline(ScopedMixin, admin.StackedInline):
    model = Listing
    extra = 0
    fields = [("kind", "state"), ("joined_on", "left_on"), ("expected_month", "entered_month"),
              ("level", "recognised_year"), "reason", "note"]


@admin.register(Firm)
class FirmAdmin(RegisterAdmin):
    list_display = ["name", "credit_code", "unit", "industry", "size", "contact_person", "contact_phone"]
    list_filter = [("unit", UnitFilter), "size", "listings__kind", "industry__section"]
    search_fields = ["name", "credit_code"]
    list_select_related = ["unit", "industry"]
    autocomplete_fields = ["industry"]
    readonly_fields = ["version"]
    inlines = [ListingInline]
    child_models = [(Listing, "firm")]


class FirmUpdateInline(ReadOnlyMixin, ScopedMixin, admin.TabularInline):
    """Shown, not edited: the scheduling screen is the one write path of the months (version checks, soft
    warnings, and the lock of a submitted or approved month)."""

    model = FirmUpdate
    extra = 0
    fields = ["year", "month", "revenue_ytd", "state", "expected_month", "progress", "problems"]


@admin.register(Listing)
class ListingAdmin(RegisterAdmin):
    unit_field = "firm__unit_id"
    list_display = ["firm", "kind", "state", "joined_on", "expected_month", "entered_month", "level",
                    "recognised_year", "left_on"]
    list_filter = ["kind", "state", "level", ("firm__unit", UnitFilter)]
    search_fields = ["firm__name", "firm__credit_code"]
    list_select_related = ["firm"]
    autocomplete_fields = ["firm"]
    readonly_fields = ["version"]
    inlines = [FirmUpdateInline]
    child_models = [(FirmUpdate, "listing")]


class ProjectUpdateInline(ReadOnlyMixin, ScopedMixin, admin.TabularInline):
    """Shown, not edited: the scheduling screen is the one write path of the months (version checks, soft
    warnings, and the lock of a submitted or approved month)."""

    model = ProjectUpdate
    extra = 0
    fields = ["year", "month", "stage", "completed_ytd", "progress", "problems"]


class CoordinationInline(ScopedMixin, admin.TabularInline):
    model = Coordination
    extra = 0
    fields = ["raised_on", "request", "handler", "solved_on", "outcome"]


@admin.register(Project)
class ProjectAdmin(RegisterAdmin):
    # Ten columns did not fit 1366 px in English; the stage's dates are on the project's page.
    list_display = ["name", "unit", "firm", "kind", "total_investment", "stage", "province_list", "signed_on"]
    list_filter = [("unit", UnitFilter), "kind", "stage", "in_province_list"]
    search_fields = ["name", "firm__name", "firm__credit_code"]
    list_select_related = ["unit", "firm"]
    autocomplete_fields = ["firm"]
    readonly_fields = ["version"]
    inlines = [ProjectUpdateInline, CoordinationInline]
    child_models = [(ProjectUpdate, "project"), (Coordination, "project")]

    # The field's own name ("in the province's technical renovation list") is too long a column heading.
    @admin.display(boolean=True, description=_("province list"), ordering="in_province_list")
    def province_list(self, obj):
        return obj.in_province_list


class OpenFilter(admin.SimpleListFilter):
    title = _("solved")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("1", _("Open")), ("0", _("Solved"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(solved_on__isnull=True)
        if self.value() == "0":
            return queryset.filter(solved_on__isnull=False)
        return queryset


@admin.register(Coordination)
class CoordinationAdmin(RegisterAdmin):
    unit_field = "project__unit_id"
    list_display = ["project", "request", "handler", "raised_on", "solved_on"]
    list_filter = [OpenFilter, ("project__unit", UnitFilter), "handler"]
    search_fields = ["project__name", "request", "handler"]
    list_select_related = ["project"]
    autocomplete_fields = ["project"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Project:
            kwargs["queryset"] = scoping.visible_by_unit(request.user, Project.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RegisterFigure)
class RegisterFigureAdmin(RegisterAdmin):
    unit_field = "target__lead_unit_id"
    list_display = ["target", "aggregation", "list_kind", "level", "min_investment", "project_kind", "unit"]
    list_filter = ["aggregation"]
    search_fields = ["target__code", "target__name"]
    list_select_related = ["target", "unit"]
    autocomplete_fields = ["target"]


@admin.register(ScheduleMonth)
class ScheduleMonthAdmin(ReadOnlyMixin, ScopedAdmin):
    """The units' scheduling months and their review state (steps are taken on the scheduling screen)."""

    list_display = ["unit", "register", "year", "month", "state", "submitted_by", "submitted_at", "reviewed_by",
                    "reviewed_at", "screen"]
    list_filter = ["state", "register", "year", ("unit", UnitFilter)]
    list_select_related = ["unit", "submitted_by", "reviewed_by"]

    def scope(self, request, queryset):
        return scoping.visible_by_unit(request.user, queryset, "unit_id")

    @admin.display(description=_("scheduling screen"))
    def screen(self, obj):
        link = links.firm_schedule_url if obj.register == ScheduleMonth.Register.FIRMS else links.schedule_url
        return format_html('<a href="{}">{}</a>', link(obj.unit, f"{obj.year:04d}-{obj.month:02d}"), _("open"))
