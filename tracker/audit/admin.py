"""The history, read-only, limited to the rows of the units a person sees."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.audit.history import describe, source_label
from tracker.audit.models import Change
from tracker.targets.admin import ReadOnlyMixin, ScopedAdmin


@admin.register(Change)
class ChangeAdmin(ReadOnlyMixin, ScopedAdmin):
    """History is written by the code, never by hand."""

    list_display = ["at", "object_repr", "model", "action", "user", "shown_source", "shown_changes", "reason"]
    list_filter = ["action", "source", "model"]
    search_fields = ["object_repr", "object_id", "user__username", "reason"]
    list_select_related = ["user"]
    date_hierarchy = "at"
    fields = ["at", "model", "object_id", "object_repr", "action", "user", "shown_source", "shown_changes", "reason"]
    readonly_fields = fields

    def scope(self, request, queryset):
        return scoping.visible_changes(request.user, queryset)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        describe(changelist.result_list)  # names and labels for the whole page in a few queries
        return changelist

    @admin.display(description=_("where"), ordering="source")
    def shown_source(self, obj):
        return source_label(obj.source)

    @admin.display(description=_("changes (old → new)"))
    def shown_changes(self, obj):
        if not hasattr(obj, "lines"):
            describe([obj])
        return format_html_join("", "<div>{}: {} → {}</div>", obj.lines) or format_html("{}", "—")
