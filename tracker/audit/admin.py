"""The history, read-only, limited to the rows of the units a person sees."""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.audit.models import Change
from tracker.targets.admin import ReadOnlyMixin, ScopedAdmin


@admin.register(Change)
class ChangeAdmin(ReadOnlyMixin, ScopedAdmin):
    """History is written by the code, never by hand."""

    list_display = ["at", "object_repr", "model", "action", "user", "source"]
    list_filter = ["action", "source", "model"]
    search_fields = ["object_repr", "object_id", "user__username", "reason"]
    list_select_related = ["user"]
    date_hierarchy = "at"
    fields = ["at", "model", "object_id", "object_repr", "action", "user", "source", "shown_changes", "reason"]
    readonly_fields = fields

    def scope(self, request, queryset):
        return scoping.visible_changes(request.user, queryset)

    @admin.display(description=_("changes"))
    def shown_changes(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.changes, ensure_ascii=False, indent=1))
