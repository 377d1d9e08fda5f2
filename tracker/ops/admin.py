"""The history list, read-only, limited to the rows of the units a person sees."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tracker.accounts import scoping
from tracker.adminkit.base import ReadOnlyMixin, ScopedAdmin
from tracker.adminkit.filters import DateHierarchyChangeList
from tracker.adminkit.history import HistoryAdminMixin
from tracker.audit.history import SOURCE_LABELS, change_source_label, describe, model_label
from tracker.audit.models import Change


class SourceFilter(admin.SimpleListFilter):
    """The write paths in words; choices from the code, not a DISTINCT over the whole history."""

    title = pgettext_lazy("write path", "source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label in SOURCE_LABELS.items()]

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


class ModelFilter(admin.SimpleListFilter):
    """The kinds of rows that keep history (those edited in admins with a History page), by their names."""

    title = _("model")
    parameter_name = "model"

    def lookups(self, request, model_admin):
        models = {}
        for model, other in model_admin.admin_site._registry.items():
            if isinstance(other, HistoryAdminMixin) and model is not Change:
                for each in (model, *(inline.model for inline in other.inlines)):
                    models[each._meta.label_lower] = capfirst(each._meta.verbose_name_plural)
        return sorted(models.items(), key=lambda item: str(item[1]))

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


@admin.register(Change)
class ChangeAdmin(ReadOnlyMixin, ScopedAdmin):
    """History is written by the code, never by hand."""

    list_display = ["at", "object_repr", "shown_model", "action", "user", "shown_source", "shown_changes", "reason"]
    list_filter = ["action", SourceFilter, ModelFilter]
    search_fields = ["object_repr", "object_id", "user__username", "reason", "token"]
    list_select_related = ["user"]
    date_hierarchy = "at"
    fields = ["at", "shown_model", "object_id", "object_repr", "action", "user", "shown_source", "shown_changes",
              "reason"]
    readonly_fields = fields

    def scope(self, request, queryset):
        return scoping.visible_changes(request.user, queryset)

    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        describe(changelist.result_list)  # names and labels for the whole page in a few queries
        return changelist

    @admin.display(description=_("model"), ordering="model")
    def shown_model(self, obj):
        return model_label(obj.model)

    @admin.display(description=_("where"), ordering="source")
    def shown_source(self, obj):
        return change_source_label(obj)

    @admin.display(description=_("changes (old → new)"))
    def shown_changes(self, obj):
        if not hasattr(obj, "lines"):
            describe([obj])
        return format_html_join("", "<div>{}: {} → {}</div>", obj.lines) or format_html("{}", "—")
