from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tracker.accounts import scoping
from tracker.imports.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """The list of uploads; uploading and previewing happen on the imports pages linked from here."""

    list_display = ("file_name", "uploaded_at", "user", "status", "created", "changed", "unchanged",
                    "problem_count", "open_link")
    list_display_links = None
    list_filter = ("status",)
    search_fields = ("file_name",)
    change_list_template = "admin/imports/importbatch/change_list.html"

    # Any staff member may import (the rows are checked against their units);
    # these pages do not depend on model permissions being granted.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user").defer("rows")
        return scoping.visible_people(request.user, qs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # get_object answers None for a malformed id ("abc", "-1") as for another person's batch.
        batch = self.get_object(request, unquote(object_id))
        if batch is None:
            raise Http404(_("No such import, or not one of yours."))
        return redirect("imports:batch", batch.pk)

    @admin.display(description=_("problems"))
    def problem_count(self, obj):
        return len(obj.problems)

    @admin.display(description=_("details"))
    def open_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("imports:batch", args=[obj.pk]), _("open"))
