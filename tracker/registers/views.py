"""The registers' pages: the list behind a register-backed figure, and what the leader asks of the registers
(open coordination items by age and handler, projects behind their planned stage, firms expected to enter
the above-scale list this quarter that have not). Each is filterable and exports CSV or XLSX.

Every page goes through tracker.accounts.scoping: a county's clerk sees the county's rows only, and a
target outside their units is not found. Each page runs a fixed number of queries whatever the rows.
"""

import csv
import io
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from tracker import links
from tracker.accounts import scoping
from tracker.registers import figures, lists, review, scheduling
from tracker.registers.forms import FirmMonthForm, ProjectMonthForm
from tracker.registers.models import Coordination, Listing, Project, RegisterFigure, ScheduleMonth
from tracker.services.review import ReviewError
from tracker.targets.models import ProgressEntry, Target, Unit
from tracker.targets.numbers import plain_number
from tracker.targets.period import Period
from tracker.targets.policies import current_period

EXPORTS = ("csv", "xlsx")
# Text a spreadsheet would read as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Column:
    label: str
    value: object  # callable(row) -> cell value


def _cell_text(value):
    if value is None:
        return ""
    if hasattr(value, "quantize"):
        return plain_number(value)
    return str(value)


def _safe(text):
    return "'" + text if text.startswith(FORMULA_START) else text


def export(columns, rows, name, fmt):
    """The rows as a CSV (UTF-8 with BOM, for Excel) or XLSX download."""
    header = [str(c.label) for c in columns]
    body = [[_safe(_cell_text(c.value(row))) for c in columns] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(body)
        response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    else:
        import xlsxwriter

        data = io.BytesIO()
        book = xlsxwriter.Workbook(data, {"in_memory": True, "strings_to_formulas": False,
                                          "strings_to_numbers": False, "strings_to_urls": False})
        sheet = book.add_worksheet(name[:31])
        sheet.write_row(0, 0, header, book.add_format({"bold": True}))
        for number, row in enumerate(body, start=1):
            sheet.write_row(number, 0, row)
        book.close()
        response = HttpResponse(
            data.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


class RegisterPage(LoginRequiredMixin, TemplateView):
    """A scoped list of rows with columns, filters from the query string and exports."""

    template_name = "registers/list.html"
    title = ""
    export_name = "register"

    def get(self, request, *args, **kwargs):
        self.today = timezone.localdate()
        try:
            self.period = Period.parse(request.GET["period"]) if request.GET.get("period") else current_period()
        except ValueError as exc:
            return HttpResponseBadRequest(str(exc))
        self.units = list(scoping.visible_units(request.user).order_by("code"))
        self.unit = None
        chosen = request.GET.get("unit")
        if chosen:
            self.unit = next((u for u in self.units if str(u.pk) == chosen), None)
            if self.unit is None:
                raise Http404(_("No such unit, or not one of yours."))
        rows = list(self.rows())
        fmt = request.GET.get("_export")
        if fmt in EXPORTS:
            return export(self.columns(), rows, self.export_name, fmt)
        context = self.get_context_data(rows=rows, **kwargs)
        return self.render_to_response(context)

    def scoped(self, queryset, field="unit_id"):
        queryset = scoping.visible_by_unit(self.request.user, queryset, field)
        if self.unit is not None:
            queryset = queryset.filter(**{f"{field}__in": figures.unit_tree(self.unit.pk)})
        return queryset

    def get_context_data(self, rows, **kwargs):
        context = super().get_context_data(**kwargs)
        columns = self.columns()
        query = self.request.GET.copy()
        exports = []
        for fmt in EXPORTS:
            query["_export"] = fmt
            exports.append((fmt.upper(), "?" + query.urlencode()))
        context.update(
            title=self.title, columns=columns, rows=[[_cell_text(c.value(r)) for c in columns] for r in rows],
            count=len(rows), units=self.units, unit=self.unit, period=self.period, exports=exports,
            filters=self.filters(),
        )
        return context

    def filters(self):
        return []


def _age(today):
    return lambda item: (today - item.raised_on).days


class OpenItemsView(RegisterPage):
    """Open coordination items (协调事项), oldest first, by handler."""

    title = gettext_lazy("Open coordination items (协调事项)")
    export_name = "open-items"

    def rows(self):
        items = lists.open_items(self.scoped(Coordination.objects.all(), "project__unit_id"))
        handler = self.request.GET.get("handler", "").strip()
        if handler:
            items = items.filter(handler=handler)
        return items.select_related("project__unit").order_by("raised_on", "pk")

    def filters(self):
        handlers = self.scoped(Coordination.objects.filter(solved_on__isnull=True), "project__unit_id")
        names = sorted(set(handlers.exclude(handler="").values_list("handler", flat=True)))
        return [("handler", _("Handled by"), [(n, n) for n in names], self.request.GET.get("handler", ""))]

    def columns(self):
        return [
            Column(_("County or zone"), lambda i: i.project.unit),
            Column(_("Project"), lambda i: i.project.name),
            Column(_("Help asked"), lambda i: i.request),
            Column(_("Handled by"), lambda i: i.handler or "—"),
            Column(_("Raised on"), lambda i: i.raised_on.isoformat()),
            Column(_("Days open"), _age(self.today)),
        ]


class BehindView(RegisterPage):
    """Projects behind their planned stage at the month: not started by the planned start, not in production by
    the planned production month, or suspended."""

    title = gettext_lazy("Projects behind their planned stage")
    export_name = "projects-behind"

    def rows(self):
        projects = self.scoped(Project.objects.all()).select_related("unit", "firm").order_by("unit__code", "name")
        return lists.behind(projects, self.period)

    def columns(self):
        return [
            Column(_("County or zone"), lambda p: p.unit),
            Column(_("Project"), lambda p: p.name),
            Column(_("Owner firm"), lambda p: p.firm or "—"),
            Column(_("Total investment (亿元)"), lambda p: p.total_investment),
            Column(_("Stage"), lambda p: p.get_stage_display()),
            Column(_("Behind"), lambda p: p.behind),
        ]


class ExpectedView(RegisterPage):
    """Firms of the cultivation list expected to enter the above-scale list in the month's quarter (up to the
    month, or earlier and overdue) that have not entered it."""

    title = gettext_lazy("Firms expected to enter the above-scale list by the end of this quarter that have not")
    export_name = "expected-firms"

    def rows(self):
        listings = lists.expected_not_entered(self.scoped(Listing.objects.all(), "firm__unit_id"), self.period)
        return listings.select_related("firm__unit", "firm__industry").order_by("expected_month", "firm__name")

    def columns(self):
        return [
            Column(_("County or zone"), lambda x: x.firm.unit),
            Column(_("Firm"), lambda x: x.firm.name),
            Column(_("Unified social credit code"), lambda x: x.firm.credit_code),
            Column(_("Industry"), lambda x: x.firm.industry or "—"),
            Column(_("Expected month"), lambda x: lists.month_text(x.expected_month)),
            Column(_("Contact"), lambda x: " ".join(filter(None, [x.firm.contact_person, x.firm.contact_phone]))),
        ]


class FigureRowsView(RegisterPage):
    """The firms or projects behind a register-backed target's figure for a month."""

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        target = scoping.visible_targets(request.user, Target.objects.filter(pk=kwargs["target_id"])).first()
        self.figure = RegisterFigure.objects.filter(target=target).select_related("target").first()
        if target is None or self.figure is None:
            raise Http404(_("No register-backed target %(code)s that you may see.") % {"code": kwargs["target_id"]})
        try:
            self.month_of = Period.parse(kwargs["period"])
        except ValueError as exc:
            return HttpResponseBadRequest(str(exc))
        self.title = _("%(target)s, %(period)s: %(figure)s") % {
            "target": target, "period": self.month_of.label, "figure": self.figure.get_aggregation_display()}
        self.export_name = f"{target.code}-{self.month_of.key}"
        return super().get(request, *args, **kwargs)

    def rows(self):
        rows = figures.rows_behind(self.figure, self.month_of.year, self.month_of.month)
        if self.figure.is_about_projects:
            return self.scoped(rows).select_related("unit", "firm").order_by("unit__code", "name")
        return self.scoped(rows).select_related("unit", "industry").order_by("unit__code", "name")

    def columns(self):
        if self.figure.is_about_projects:
            return [
                Column(_("County or zone"), lambda p: p.unit),
                Column(_("Project"), lambda p: p.name),
                Column(_("Owner firm"), lambda p: p.firm or "—"),
                Column(_("Kind"), lambda p: p.get_kind_display()),
                Column(_("Total investment (亿元)"), lambda p: p.total_investment),
                Column(_("Stage"), lambda p: p.get_stage_display()),
            ]
        return [
            Column(_("County or zone"), lambda f: f.unit),
            Column(_("Firm"), lambda f: f.name),
            Column(_("Unified social credit code"), lambda f: f.credit_code),
            Column(_("Industry"), lambda f: f.industry or "—"),
            Column(_("Size"), lambda f: f.get_size_display() or "—"),
        ]



SCHEDULE_PAGE_SIZE = 100
STEP_DONE = {
    "submit": gettext_lazy("%(month)s was submitted for review."),
    "approve": gettext_lazy("%(month)s was approved."),
    "return": gettext_lazy("%(month)s was returned to the clerk."),
    "reopen": gettext_lazy("%(month)s was reopened."),
}


class ScheduleView(LoginRequiredMixin, View):
    """A unit's monthly scheduling (and its sub-units'): last month beside this month, saved all at once.

    Reading needs the subject's view permission and a unit one sees; saving needs the months' add and change
    permissions and a unit one edits (leaders read only). The sheet (tracker.registers.scheduling) says what
    a row is; this view shows and saves a page of rows.
    """

    template_name = "registers/schedule.html"
    sheet = scheduling.PROJECTS
    link = staticmethod(links.schedule_url)
    form_class = ProjectMonthForm
    view_permission = "registers.view_project"
    row_prefix, columns = "project", 8
    title = gettext_lazy("Project scheduling: %(unit)s, %(period)s")
    read_only = gettext_lazy("You may read this unit's projects but not schedule them.")

    def dispatch(self, request, unit_code, period):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.unit = get_object_or_404(Unit, code=unit_code)
        if not (request.user.has_perm(self.view_permission) and scoping.can_see_unit(request.user, self.unit.pk)):
            raise PermissionDenied(_("This unit is not one of yours."))
        try:
            self.period = Period.parse(period)
        except ValueError:
            raise Http404(_("'%(text)s' is not a period of the form YYYY-MM.") % {"text": period}) from None
        if self.period > Period.of(timezone.localdate()):
            raise Http404(_("The period %(period)s is in the future.") % {"period": self.period.key})
        self.may_edit = review.may_edit(request.user, self.sheet, self.unit.pk)
        self.month = review.month_of(self.unit, self.sheet, self.period)
        self.locked = bool(review.locked_units([self.unit.pk], self.sheet.register, self.period))
        self.editable = self.may_edit and not self.locked
        return super().dispatch(request)

    def rows(self, data=None):
        year, month = self.period.year, self.period.month
        self.tree = figures.unit_tree(self.unit.pk)
        subjects = self.sheet.subjects(self.tree, year)
        # A page of rows at a time: a county may follow hundreds, and every row is a form.
        self.page_obj = Paginator(subjects, SCHEDULE_PAGE_SIZE).get_page(self.request.GET.get("page"))
        subjects = list(self.page_obj.object_list)
        current, previous = self.sheet.months(subjects, year, month)
        # A sub-unit's rows are read only while its own month is submitted or approved.
        closed = review.locked_units({self.sheet.unit_id(s) for s in subjects}, self.sheet.register, self.period) \
            if self.editable else set()
        rows = []
        for subject in subjects:
            editable = self.editable and self.sheet.unit_id(subject) not in closed
            form = self.form_class(data, subject=subject, update=current.get(subject.pk),
                                   previous=previous.get(subject.pk)) if editable else None
            rows.append((subject, current.get(subject.pk), previous.get(subject.pk), form))
        return rows, previous

    def url(self, period):
        return self.link(self.unit, period)

    def page(self, request, rows, status=200):
        context = {
            **admin.site.each_context(request), "title": self.title % {"unit": self.unit, "period": self.period.label},
            "unit": self.unit, "period": self.period, "rows": rows, "editable": self.editable,
            "page_obj": self.page_obj, "row_prefix": self.row_prefix, "columns": self.columns,
            "month": self.month, "locked": self.locked, "steps": self.steps(),
            "actions": review.allowed_actions(request.user, self.sheet, self.month),
            "prev_url": self.url(self.period.previous),
            "next_url": self.url(self.period.next),
        }
        return TemplateResponse(request, self.template_name, context, status=status)

    def steps(self):
        """The month's review steps: (when, who, the state it reached, why)."""
        found = []
        for change in review.steps(self.month):
            state = (change.changes.get("state") or [None, self.month.state])[1]
            found.append((change.at, change.user, ProgressEntry.State(state).label, change.reason))
        return found

    def get(self, request):
        return self.page(request, self.rows()[0])

    def transition(self, request):
        try:
            version = int(request.POST.get("month_version", ""))
        except ValueError:
            version = None
        action = request.POST["_action"]
        try:
            review.transition(request.user, self.sheet, self.unit, self.period, action,
                              request.POST.get("comment", ""), base_version=version,
                              unit_ids=figures.unit_tree(self.unit.pk))
        except ReviewError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, STEP_DONE[action] % {"month": self.month})
        return redirect(request.get_full_path())

    def post(self, request):
        if "_action" in request.POST:
            return self.transition(request)
        if not self.may_edit:
            raise PermissionDenied(self.read_only)
        if self.locked:
            messages.error(request, _("Nothing was saved: %(month)s is %(state)s and read only until a reviewer "
                                      "returns or reopens it.") % {"month": self.month,
                                                                   "state": self.month.get_state_display()})
            return redirect(request.get_full_path())
        rows, previous = self.rows(request.POST)
        forms = [form for _s, _u, _prev, form in rows if form is not None]
        if not all([form.is_valid() for form in forms]):
            messages.error(request, _("Nothing was saved: correct the marked rows."))
            return self.page(request, rows)
        edited = {form.subject.pk: form for form in forms if form.edited}
        outcome = self.sheet.save(request.user, [f.month_row() for f in edited.values()],
                                  self.period.year, self.period.month, previous)
        if not outcome.ok:
            for pk, found in outcome.errors.items():
                for message in found:
                    if pk in edited:
                        edited[pk].add_error(None, message)
                    else:
                        messages.error(request, message)
            for pk, found in outcome.warnings.items():
                edited[pk].soft_warnings = found
            summaries = [
                (outcome.errors, messages.error, _("Nothing was saved: correct the marked rows.")),
                (outcome.warnings, messages.warning, _(
                    "Nothing was saved: the checks question some figures. Correct them, or tick “confirm” under "
                    "each row marked, then save again.")),
            ]
            for found, say, text in summaries:
                if found:
                    say(request, text)
            return self.page(request, rows)
        if outcome.created or outcome.changed or edited:
            messages.success(request, _("Saved: %(created)s new, %(changed)s changed.") % {
                "created": outcome.created, "changed": outcome.changed})
        else:
            messages.info(request, _("Nothing was changed."))
        return redirect(request.get_full_path())


class FirmScheduleView(ScheduleView):
    """A unit's monthly scheduling of the firms of its above-scale cultivation list (入规培育库)."""

    template_name = "registers/schedule_firms.html"
    sheet = scheduling.FIRMS
    link = staticmethod(links.firm_schedule_url)
    form_class = FirmMonthForm
    view_permission = "registers.view_listing"
    row_prefix, columns = "firm", 7
    title = gettext_lazy("Firm scheduling: %(unit)s, %(period)s")
    read_only = gettext_lazy("You may read this unit's firms but not schedule them.")


class RegistersHomeView(LoginRequiredMixin, TemplateView):
    """The registers' pages: each of one's units' scheduling screens for the month being reported, and the lists."""

    template_name = "registers/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        period = current_period()
        units = scoping.visible_units(self.request.user).order_by("code")
        with_projects = units.filter(pk__in=Project.objects.values("unit_id"))
        with_firms = units.filter(pk__in=Listing.objects.filter(kind=Listing.Kind.CULTIVATION).values("firm__unit_id"))
        states = {(m.unit_id, m.register): m.get_state_display() for m in ScheduleMonth.objects.filter(
            year=period.year, month=period.month, unit__in=units)}
        draft = ProgressEntry.State.DRAFT.label
        Register = ScheduleMonth.Register
        context.update(
            admin.site.each_context(self.request), title=_("Registers (企业库、项目库)"), period=period,
            schedules=[(unit, links.schedule_url(unit, period), states.get((unit.pk, Register.PROJECTS), draft))
                       for unit in with_projects],
            firm_schedules=[(unit, links.firm_schedule_url(unit, period), states.get((unit.pk, Register.FIRMS), draft))
                            for unit in with_firms])
        return context
