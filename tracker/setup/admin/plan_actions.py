"""The plan admin's actions: publish, close, reopen with a reason, and copy to next year with a preview.

The steps are `tracker.services.plans`' (each kept in the history); the copy shows `CopyPlan`'s preview and
writes nothing until the administrator confirms it on that page.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.accounts import scoping
from tracker.services import plans as lifecycle


class PlanActionsMixin:
    actions = ["publish_plans", "close_plans", "reopen_plans", "copy_to_next_year"]
    reopen_template = "admin/targets/plan/reopen.html"
    copy_template = "admin/targets/plan/copy_preview.html"

    def _steps(self, request, queryset, step):
        # Only the plans one administers: a city's administrator reads the province's plan, never closes it.
        for plan in scoping.administered_plans(request.user, queryset).order_by("pk"):
            try:
                step(request.user, plan)
            except lifecycle.PlanError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                self.message_user(request, _("%(plan)s is now %(status)s.") % {
                    "plan": plan, "status": plan.get_status_display()}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Publish the selected draft plans"), permissions=["change"])
    def publish_plans(self, request, queryset):
        self._steps(request, queryset, lambda user, plan: lifecycle.publish(user, plan, source="admin action"))

    @admin.action(description=gettext_lazy("Close the selected plans (figures become read-only)"),
                  permissions=["change"])
    def close_plans(self, request, queryset):
        self._steps(request, queryset, lambda user, plan: lifecycle.close(user, plan, source="admin action"))

    def _page(self, request, template, queryset, **context):
        request.current_app = self.admin_site.name
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request), "opts": self.opts, "plans": list(queryset),
            "action_name": request.POST.get("action", ""), "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context})

    @admin.action(description=gettext_lazy("Reopen the selected closed plans (with a reason)"),
                  permissions=["change"])
    def reopen_plans(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") and reason:
            self._steps(request, queryset,
                        lambda user, plan: lifecycle.reopen(user, plan, reason, source="admin action"))
            return None
        return self._page(request, self.reopen_template, queryset, title=_("Reopen plans"),
                          missing_reason=bool(request.POST.get("confirm")))

    @admin.action(description=gettext_lazy("Copy to next year (preview first)"), permissions=["add"])
    def copy_to_next_year(self, request, queryset):
        queryset = scoping.administered_plans(request.user, queryset)
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one plan to copy."), messages.WARNING)
            return None
        plan = queryset.get()
        try:
            to_year = int(request.POST.get("to_year") or plan.year + 1)
        except ValueError:
            to_year = plan.year + 1
        copy = lifecycle.CopyPlan(plan, to_year)
        if request.POST.get("confirm") and "refresh" not in request.POST and copy.ok:
            new = copy.write(request.user, source="admin action")
            self.message_user(request, _("Created the draft %(plan)s with %(count)s targets.") % {
                "plan": new, "count": len(copy.rows)}, messages.SUCCESS)
            return redirect(reverse("admin:targets_plan_change", args=[new.pk]))
        return self._page(request, self.copy_template, queryset, title=_("Copy to next year"), copy=copy,
                          plan=plan)
