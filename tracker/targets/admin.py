"""Admin for plans, units, targets and monthly entries.

Every list, form, dropdown and object URL goes through tracker.accounts.scoping;
every write records history; entries are saved only through save_entries.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import IntegrityError, router
from django.db.models.deletion import Collector
from django.http import Http404, HttpResponseRedirect
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.audit.history import HistoryAdminMixin
from tracker.audit.models import Change
from tracker.ops.filters import LeadUnitFilter, MonthFilter, YearFilter
from tracker.ops.paginator import EstimatedCountPaginator
from tracker.targets import views
from tracker.targets.forms import ProgressEntryAdminForm, plain_number
from tracker.targets.models import (
    MonthlyPlanPoint,
    Plan,
    ProgressEntry,
    RecordedResult,
    Section,
    Target,
    Unit,
)
from tracker.targets.review_admin import SEEN_PREFIX, ReviewAdminMixin
from tracker.targets.services import SaveFailed, save_entries

admin.site.site_header = _("Target tracker")
admin.site.site_title = _("Target tracker")
admin.site.index_title = _("Targets, figures and reports")


def scoped_choices(model, user):
    """The rows of `model` this user may pick in a dropdown; None when the model is not unit-bound."""
    if model is Unit:
        return scoping.visible_units(user)
    if model is Target:
        return scoping.visible_targets(user)
    if model is ProgressEntry:
        return scoping.visible_entries(user)
    if model is get_user_model():
        ids = scoping.unit_ids(user)
        users = get_user_model().objects.filter(is_active=True)
        return users if ids is None else users.filter(memberships__unit_id__in=ids).distinct()
    return None


# Rows deleted along with another one (a target's entries and monthly plan) get their own history rows.
CASCADE_AUDITED_APPS = {"targets", "accounts"}


def _cascaded(obj):
    collector = Collector(using=router.db_for_write(type(obj)))
    try:
        collector.collect([obj])
    except Exception:  # protected rows: the delete itself will refuse, nothing goes with it
        return []
    found = [o for instances in collector.data.values() for o in instances]
    found += [o for qs in collector.fast_deletes if hasattr(qs, "model") for o in qs]
    return [o for o in found if o._meta.app_label in CASCADE_AUDITED_APPS and not (
        type(o) is type(obj) and o.pk == obj.pk)]


def record_deletion(obj, user, before=None):
    """History for a row about to be deleted (call before deleting, while it still has its id)."""
    before = before if before is not None else audit.snapshot(obj)
    for row, snap in [(obj, before), *((o, audit.snapshot(o)) for o in _cascaded(obj))]:
        audit.record(row, user, "admin", snap, action=Change.Action.DELETE,
                     changes={key: [value, None] for key, value in snap.items()})


class ReadOnlyMixin:
    """For rows only the code writes (history, summaries): never added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedMixin:
    """Rows and dropdown choices limited through scoping (which units' rows a person may see).

    Which models and actions a person may use comes from Django permissions
    (the role groups, see tracker.accounts.roles).
    """

    def scope(self, request, queryset):
        return queryset

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field.related_model, request.user)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = scoped_choices(db_field.related_model, request.user)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedAdmin(HistoryAdminMixin, ScopedMixin, admin.ModelAdmin):
    """Scoped rows, 404 for rows outside them, and history for every write made here."""

    def get_object(self, request, object_id, from_field=None):
        # Another unit's row (or a guessed id) is simply not found: 404, never a redirect that confirms it.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("No such object, or not one of your units'."))
        return obj

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit.record(obj, request.user, "admin", before)

    def delete_model(self, request, obj):
        record_deletion(obj, request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            record_deletion(obj, request.user)
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        model = formset.model
        ids = [f.instance.pk for f in formset.forms if f.instance.pk]
        before = {o.pk: audit.snapshot(o) for o in model.objects.filter(pk__in=ids)}
        for deleted in formset.deleted_forms:
            if deleted.instance.pk in before:
                record_deletion(deleted.instance, request.user, before[deleted.instance.pk])
        super().save_formset(request, form, formset, change)
        audit.record_many(
            [(o, request.user, "admin", None, None, "") for o in formset.new_objects]
            + [(o, request.user, "admin", before.get(o.pk), None, "") for o, _fields in formset.changed_objects]
        )


@admin.register(Unit)
class UnitAdmin(ScopedAdmin):
    list_display = ["code", "name", "name_en", "kind", "parent", "email"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent"]

    def scope(self, request, queryset):
        ids = scoping.unit_ids(request.user)
        return queryset if ids is None else queryset.filter(pk__in=ids)


class SectionInline(ScopedMixin, admin.TabularInline):
    model = Section
    extra = 0
    fields = ["number", "name", "name_en"]


@admin.register(Plan)
class PlanAdmin(ScopedAdmin):
    list_display = ["year", "title", "ratio_at_risk", "ratio_off_track", "points_at_risk", "points_off_track"]
    search_fields = ["title", "title_en"]
    inlines = [SectionInline]


@admin.register(Section)
class SectionAdmin(ScopedAdmin):
    list_display = ["__str__", "plan", "name_en"]
    list_filter = ["plan"]
    search_fields = ["name", "name_en"]
    list_select_related = ["plan"]


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
class TargetAdmin(ScopedAdmin):
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
    inlines = [MonthlyPlanPointInline, EntryInline]
    fieldsets = [
        (None, {"fields": ["plan", "section", "code", "name", "name_en", "indicator", "indicator_en", "description",
                           "kind", "is_active", "order"]}),
        (_("Figure"), {"fields": [
            "measure", "target_value", "tolerance", "direction", "baseline_value", "baseline_period",
            "comparator_name", "comparator_name_en", "combined_jan_feb", "frequency", "deadline",
        ]}),
        (_("Responsibility"), {"fields": ["lead_unit", "responsible_units", "responsible_person", "parent"]}),
        (_("Status thresholds (override the plan's)"), {"classes": ["collapse"], "fields": [
            "ratio_at_risk", "ratio_off_track", "points_at_risk", "points_off_track",
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
class RecordedResultAdmin(ScopedAdmin):
    list_display = ["code", "name", "shown_value", "period_label", "year", "plan", "section"]
    list_filter = [("plan", admin.RelatedOnlyFieldListFilter), ("section", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["plan", "section"]

    @admin.display(description=_("value"), ordering="value")
    def shown_value(self, obj):
        return f"{plain_number(obj.value)}{obj.measure}"


@admin.register(ProgressEntry)
class ProgressEntryAdmin(ReviewAdminMixin, ScopedAdmin):
    form = ProgressEntryAdminForm
    list_display = ["target", "period", "shown_value", "state", "review_link", "is_late", "entered_by", "updated_at"]
    # Built for a million rows: filter choices from small tables, no full COUNT (an estimate
    # beyond 10,000 rows on PostgreSQL), newest first along an index.
    list_filter = [YearFilter, MonthFilter, "state", "is_late", ("target__lead_unit", LeadUnitFilter)]
    search_fields = ["target__code", "target__name", "target__name_en"]
    list_select_related = ["target", "entered_by"]
    ordering = ["-updated_at", "-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = [
        "state", "version", "entered_by", "entered_at", "submitted_by", "submitted_at", "is_late",
        "assessed_status", "reviewed_by", "reviewed_at", "review_comment",
    ]
    fieldsets = [
        (None, {"fields": ["target", "year", "month", "base_version"]}),
        (_("Figures"), {"fields": ["value", "comparator", "is_done", "done_on", "note", "problems", "evidence"]}),
        (_("Workflow"), {"fields": readonly_fields}),
    ]

    def scope(self, request, queryset):
        return scoping.visible_entries(request.user, queryset)

    @admin.display(description=_("period"), ordering="month")
    def period(self, obj):
        return obj.period_label

    @admin.display(description=_("year-to-date value"), ordering="value")
    def shown_value(self, obj):
        if obj.target.kind == Target.Kind.MILESTONE:
            text = gettext("done") if obj.is_done else gettext("not done")
        else:
            text = plain_number(obj.value) or "—"
            if obj.comparator is not None:
                text += " / " + plain_number(obj.comparator)
        # The version shown travels with a bulk action, which then skips rows changed meanwhile.
        return format_html('{}<input type="hidden" name="{}{}" value="{}">', text, SEEN_PREFIX, obj.pk, obj.version)

    # Object-level rights on top of the role permissions: only entries of units
    # the user may edit, and approved entries are read-only for everyone.
    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.is_locked or not scoping.can_edit_unit(request.user, obj.target.lead_unit_id)):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_locked or not scoping.can_edit_unit(request.user, obj.target.lead_unit_id)):
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        # The one write path: rights, lock, version check and history as everywhere else.
        result = save_entries(request.user, [form.entry_row()], "admin")
        if not result.ok:
            raise SaveFailed(result)
        saved = (result.created + result.changed + result.unchanged)[0]
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SaveFailed as exc:
            for error in exc.result.errors:
                self.message_user(request, error.message, messages.ERROR)
        except IntegrityError:
            # Two people created the same entry at the same moment; the other one won.
            self.message_user(request, gettext("Someone saved this entry at the same time; reload and try again."),
                              messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("entry/", wrap(views.EntryChooserView.as_view(model_admin=self)),
                 name="targets_progressentry_entry_chooser"),
            path("entry/<str:unit_code>/<str:period>/", wrap(views.EntryScreenView.as_view(model_admin=self)),
                 name="targets_progressentry_entry"),
            *super().get_urls(),
        ]
