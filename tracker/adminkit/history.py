"""The admin "History" page of every audited model, from the tracker's own history rows."""

from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from tracker.audit.history import describe
from tracker.audit.models import Change


class HistoryAdminMixin:
    """Admin "History" page from the tracker's own history (every write path), not Django's LogEntry.

    The object comes through the admin's (unit-scoped) queryset: another
    unit's id gives 404.
    """

    object_history_template = "admin/audit/object_history.html"

    def history_models(self):
        """Model labels whose rows about this object are shown (child rows may add theirs)."""
        return [self.model._meta.label_lower]

    def history_queryset(self, obj):
        return Change.objects.filter(model__in=self.history_models(), object_id=str(obj.pk))

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("No such object, or not yours to see."))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        rows = self.history_queryset(obj).select_related("user").order_by("-at", "-pk")
        paginator = self.get_paginator(request, rows, 100)
        page = paginator.get_page(request.GET.get(PAGE_VAR, 1))
        page.object_list = describe(page.object_list)
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %(object)s") % {"object": obj},
            "subtitle": None,
            "action_list": page,
            "page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.count > 100,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)
