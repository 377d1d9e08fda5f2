"""Admin for monthly entries: the list, the entry form, the monthly entry screen and the review pages.

Entries are saved only through tracker.services.entries.save_entries; rights,
locks, version checks and history are the same as on every other write path.
"""

from django.contrib import admin, messages
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.adminkit.base import ScopedAdmin
from tracker.adminkit.filters import LeadUnitFilter, MonthFilter, YearFilter
from tracker.adminkit.paginator import EstimatedCountPaginator
from tracker.entry import views
from tracker.entry.forms import ProgressEntryAdminForm
from tracker.entry.review_admin import SEEN_PREFIX, ReviewAdminMixin
from tracker.services.entries import SaveFailed, save_entries
from tracker.targets import checks
from tracker.targets.models import ProgressEntry, Target
from tracker.targets.numbers import plain_number


@admin.register(ProgressEntry)
class ProgressEntryAdmin(ReviewAdminMixin, ScopedAdmin):
    form = ProgressEntryAdminForm
    # Six columns, so the list fits 1366 px beside the sidebar and the filters (state with its review link, and
    # who entered it with when it last changed, share a column).
    list_display = ["target", "period", "shown_value", "state_and_review", "shown_late", "last_change"]
    # Built for a million rows: filter choices from small tables, no full COUNT (an estimate
    # beyond 10,000 rows on PostgreSQL), newest first along an index.
    list_filter = [YearFilter, MonthFilter, "state", "is_late", ("target__lead_unit", LeadUnitFilter)]
    search_fields = ["target__code", "target__name", "target__name_en"]
    list_select_related = ["target", "entered_by"]
    ordering = ["-updated_at", "-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    workflow_fields = [
        "state", "version", "entered_by", "entered_at", "submitted_by", "submitted_at", "is_late",
        "assessed_status", "reviewed_by", "reviewed_at", "review_comment",
    ]
    readonly_fields = [*workflow_fields, "shown_warnings"]
    fieldsets = [
        (None, {"fields": ["target", "year", "month", "base_version"]}),
        (_("Figures"), {"fields": ["value", "comparator", "is_done", "done_on", "note", "problems", "evidence"]}),
        (_("Checks"), {"fields": ["shown_warnings", "confirm_warnings", "warning_note"]}),
        (_("Workflow"), {"fields": workflow_fields}),
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

    @admin.display(description=ProgressEntry._meta.get_field("state").verbose_name, ordering="state")
    def state_and_review(self, obj):
        return format_html("{}<br>{}", obj.get_state_display(), self.review_link(obj))

    @admin.display(description=ProgressEntry._meta.get_field("updated_at").verbose_name, ordering="updated_at")
    def last_change(self, obj):
        when = date_format(timezone.localtime(obj.updated_at), "Y-m-d H:i") if obj.updated_at else ""
        return format_html("{}<br>{}", when, obj.entered_by.get_username() if obj.entered_by else "")

    @admin.display(description=ProgressEntry._meta.get_field("is_late").verbose_name, ordering="is_late")
    def shown_late(self, obj):
        """In words: Django's boolean icon draws a green tick for "late", which reads as good."""
        return format_html('<span class="late-yes">{}</span>', gettext("Late")) if obj.is_late else "—"

    @admin.display(description=_("warnings confirmed"))
    def shown_warnings(self, obj):
        if not obj.warnings:
            return "—"
        return format_html_join(mark_safe("<br>"), "{}", ((checks.word(w),) for w in obj.warnings))

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
            for warning in exc.result.warnings:
                self.message_user(request, warning.message, messages.WARNING)
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
