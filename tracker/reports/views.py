"""Dashboard, monthly report (with exports), completeness and the target page.

Everything shown goes through tracker.accounts.scoping: a clerk sees only the
targets of their units. Each page runs a fixed number of queries.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from tracker import links
from tracker.accounts import navigation, scoping
from tracker.accounts.models import Membership
from tracker.audit import service as audit
from tracker.registers import lists as register_lists
from tracker.registers.models import RegisterFigure
from tracker.reports import briefing, exports, summaries
from tracker.reports.charts import line_chart
from tracker.reports.completeness import completeness
from tracker.reports.filters import ReportFilter
from tracker.reports.models import BriefingNote
from tracker.reports.report import build_rows, by_organisation, report_targets, summarise
from tracker.reports.tables import ReportTable
from tracker.targets.models import MonthlyPlanPoint, ProgressEntry, Target, measure_label, with_measure
from tracker.targets.numbers import fmt_number
from tracker.targets.period import Period
from tracker.targets.policies import current_period
from tracker.targets.ranks import places_text, rank_table
from tracker.targets.status import (
    actual_series,
    assess_loaded,
    expected_value,
    gc_paused,
    last_year_series,
    load_period,
    load_targets,
    status_label,
)

EXPORT_FORMATS = ("csv", "xlsx", "docx")
Role = Membership.Role
# The query parameter that asks for an export (django-tables2's name for it).
EXPORT_PARAM = "_export"


def bad_request(request, message):
    return render(request, "reports/error.html", {"message": message}, status=400)


class PeriodMixin(LoginRequiredMixin):
    """Resolves the period from the URL (year, month) or ?period=YYYY-MM, else the month being reported."""

    period_in_url = False
    # Which of the navigation's links is this page (marked aria-current).
    nav_key = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        try:
            self.period = self.resolve_period(request, kwargs)
        except ValueError as exc:
            return bad_request(request, str(exc))
        self.year, self.month = self.period.year, self.period.month
        # Several plans may share a year: the report covers all the user sees (the bulletin's note: note_plan).
        self.plans = list(scoping.plans_for_year(request.user, self.year))
        self.plan = self.plans[0] if self.plans else None
        return super().dispatch(request, *args, **kwargs)

    def resolve_period(self, request, kwargs):
        """The Period asked for; ValueError with a message for the user when it is not one."""
        if self.period_in_url:
            return Period.parse(f"{kwargs['year']}-{kwargs['month']}")
        text = request.GET.get("period")
        return Period.parse(text) if text else current_period()

    def period_url(self, period):
        return f"{self.request.path}?period={period.key}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            year=self.year, month=self.month, period=self.period, plan=self.plan,
            month_label=self.period.label,
            prev_url=self.period_url(self.period.previous), next_url=self.period_url(self.period.next),
            report_url=links.report_url(self.period), completeness_url=links.completeness_url(self.period),
            dashboard_url=links.dashboard_url(self.period),
            nav_links=navigation.nav_links(self.request.user, self.period), nav_current=self.nav_key,
        )
        return context


# How many of the off-track and at-risk targets the dashboard lists (red first, as `summarise` sorts them).
DASHBOARD_FLAGGED = 100
# What the dashboard's table of indicators against the province reads of a row.
RANKED_KEYS = ("status", "code", "name", "period", "actual", "province", "province_gap", "rank")


class DashboardView(PeriodMixin, TemplateView):
    template_name = "reports/dashboard.html"
    nav_key = "dashboard"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if len({p.unit_id for p in self.plans}) > 1:
            context["organisations_url"] = f"{links.organisations_url()}?period={self.period.key}"
        context.update(summaries.cached("dashboard", self.request.user, self.period, self.judged))
        return context

    def judged(self):
        """What the dashboard shows of the judged targets, as plain data (kept by `summaries`)."""
        # No ordering: the rows and the counts are sorted of their own (and the sort joins the sections).
        targets = report_targets(self.request.user, self.year).order_by()
        # Read once for the judging and the completeness (a province reader's 4,800).
        loaded = load_targets(targets)
        rows = build_rows(targets, self.year, self.month, last_year=False, targets=loaded)
        summary = summarise(rows)
        flagged = summary["flagged"]
        found = {
            "summary": summaries.light(summary),
            # The worst first, a screen's worth: a province reader may have thousands; the report lists them all.
            "flagged_rows": self.flagged_rows(flagged[:DASHBOARD_FLAGGED]),
            # The indicators that follow a series: the gap to the province and the ranks, as a bulletin quotes them.
            "ranked_rows": [{k: r[k] for k in RANKED_KEYS} for r in rows
                            if r.get("province") is not None or r.get("places")],
        }
        if len(flagged) > DASHBOARD_FLAGGED:
            found["flagged_more"] = _(
                "The %(shown)s most serious of %(total)s are shown; the report lists them all:") % {
                "shown": DASHBOARD_FLAGGED, "total": len(flagged)}
        totals = completeness(targets, self.year, self.month, targets=loaded)["totals"]
        found["completeness"] = totals
        if totals["expected"]:
            found["rates"] = _(
                "%(reported)s of %(expected)s figures reported for this month (%(rate)s%%), %(on_time)s on time."
            ) % {"reported": totals["reported"], "expected": totals["expected"], "on_time": totals["on_time"],
                 "rate": fmt_number(totals["reporting_rate"] * 100, 0)}
            # Figures and progress reports counted apart (a task's progress is not a figure).
            found["rates_split"] = _(
                "Figures: %(figures_reported)s of %(figures)s reported; progress of tasks and milestones: "
                "%(tasks_reported)s of %(tasks)s."
            ) % totals
        return found

    def flagged_rows(self, flagged):
        """The red and yellow rows as table rows: built in one pass, as there may be hundreds of them."""
        return format_html_join(
            "\n",
            '<tr class="row-{}"><td>{}</td><td><a href="{}?period={}">{}</a></td><td>{}</td>'
            '<td><span class="badge status-{}">{}</span> <span class="figure-note">{}</span></td><td>{}</td></tr>',
            ((r["status"], r["code"], links.target_url(r["code"]), self.period, r["name"],
              r["unit_name"], r["status"], r["status_label"], r["figure_note"], r["reason"]) for r in flagged),
        )


class OrganisationsView(PeriodMixin, TemplateView):
    """The combined dashboard of a province or city reader: status counts per organisation (issuing unit)."""

    template_name = "reports/organisations.html"

    def period_url(self, period):
        return f"{links.organisations_url()}?period={period.key}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(summaries.cached("organisations", self.request.user, self.period, self.judged))
        return context

    def judged(self):
        """Status counts per organisation and in all, as plain data (kept by `summaries`)."""
        rows = build_rows(report_targets(self.request.user, self.year).order_by(), self.year, self.month,
                          last_year=False)
        return {"organisations": [(unit, summaries.light(s, ())) for unit, s in by_organisation(rows, self.plans)],
                "summary": summaries.light(summarise(rows), ())}


def gap_share(row):
    """The gap as a share of what is expected by now: comparable across measures (+27.5家 of 30, −0.3 points
    of 8%). None when there is no gap or nothing is expected."""
    gap, expected = row.get("gap"), row.get("expected")
    if gap is None or not expected:
        return None
    return Decimal(gap) / abs(Decimal(expected))


def add_gap_sort_keys(rows, descending):
    """Each row's "gap_sort": within its section by the gap's share of the expectation, rows without one last,
    whichever way the column is sorted (the table reverses the whole key for a descending sort)."""
    for row in rows:
        share = gap_share(row)
        if descending:
            row["gap_sort"] = (-row["section_number"], share is not None, share or 0, -row["order"])
        else:
            row["gap_sort"] = (row["section_number"], share is None, share or 0, row["order"])


def report_index(request):
    return redirect(links.report_url(current_period()))


# Which plan's 下步工作 the report page edits and its bulletin prints, when several plans share the year.
NOTE_PLAN_PARAM = "note_plan"


class NotePlanMixin:
    def note_plans(self, chosen):
        """(the plan whose bulletin note is meant, all the user may write): `chosen` is a plan id, else the first."""
        plans = list(scoping.own_plans(self.request.user, self.year))
        picked = next((p for p in plans if str(p.pk) == chosen), plans[0] if plans else None)
        return picked, plans

    def note_plan_to_read(self, chosen):
        """The plan whose note a bulletin prints: the one chosen among those seen, else the user's own, else the
        first seen (a county's clerk prints the city bureau's note)."""
        seen = next((p for p in self.plans if str(p.pk) == chosen), None)
        return seen or self.note_plans(chosen)[0] or self.plan


class ReportView(NotePlanMixin, PeriodMixin, SingleTableMixin, FilterView):
    period_in_url = True
    table_class = ReportTable
    filterset_class = ReportFilter
    template_name = "reports/report.html"
    nav_key = "report"
    table_pagination = {"per_page": 100}

    def period_url(self, period):
        url = links.report_url(period)
        query = self.request.GET.copy()
        query.pop("page", None)
        return f"{url}?{query.urlencode()}" if query else url

    def get_queryset(self):
        return report_targets(self.request.user, self.year).order_by()

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs.update(user=self.request.user, year=self.year)
        return kwargs

    def all_rows(self):
        """(rows before the status filter, rows after it); computed once per request."""
        if not hasattr(self, "_rows"):
            rows = build_rows(self.object_list, self.year, self.month, last_year=self.shows_last_year)
            status = self.filterset.chosen_status
            self._rows = rows, [r for r in rows if status is None or r["status"] == status]
        return self._rows

    def get_table_data(self):
        rows = self.all_rows()[1]
        sort = self.request.GET.get("sort", "")
        if sort.lstrip("-") == "gap":
            add_gap_sort_keys(rows, descending=sort.startswith("-"))
        return rows

    @property
    def shows_last_year(self):
        return self.request.GET.get("yoy") == "1"

    def get_table_kwargs(self):
        # Which of the year's targets take their figure from a register (their figure is a link): one query, run
        # only when a page shows the figures (never for an export).
        ids = RegisterFigure.objects.filter(target__plan__year=self.year).values_list("target_id", flat=True)
        return {"period": self.period, "last_year": self.shows_last_year,
                "register_targets": SimpleLazyObject(lambda: frozenset(ids))}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unfiltered, _rows = self.all_rows()
        summary = summarise(unfiltered)
        query = self.request.GET.copy()
        query.pop("page", None)
        status_links = []
        for key, label, count in summary["status_cells"]:
            q = query.copy()
            q["status"] = key
            status_links.append({"key": key, "label": label, "count": count, "url": "?" + q.urlencode(),
                          "active": self.filterset.chosen_status == key})
        clear = query.copy()
        clear.pop("status", None)
        toggle = query.copy()
        if self.shows_last_year:
            toggle.pop("yoy", None)
        else:
            toggle["yoy"] = "1"
        context.update(summary=summary, status_links=status_links, all_url="?" + clear.urlencode(),
                       export_links=self.export_links(query), last_year_shown=self.shows_last_year,
                       last_year_url="?" + toggle.urlencode())
        note_plan, note_plans = self.note_plans(self.request.GET.get(NOTE_PLAN_PARAM))
        if note_plan is not None and may_write_briefing(self.request.user):
            context["briefing_form"] = BriefingNoteForm(initial={
                "next_steps": briefing.next_steps_of(note_plan, self.year, self.month)})
            context["briefing_url"] = links.briefing_note_url(self.period)
            context["note_plan"] = note_plan
            if len(note_plans) > 1:
                choices = []
                for plan in note_plans:
                    q = query.copy()
                    q[NOTE_PLAN_PARAM] = str(plan.pk)
                    choices.append({"plan": plan, "url": "?" + q.urlencode(), "active": plan == note_plan})
                context["note_plan_choices"] = choices
        return context

    def export_links(self, query):
        found = []
        for fmt in EXPORT_FORMATS:
            q = query.copy()
            q[EXPORT_PARAM] = fmt
            found.append((fmt.upper(), "?" + q.urlencode()))
        return found

    def render_to_response(self, context, **kwargs):
        fmt = self.request.GET.get(EXPORT_PARAM)
        if fmt is None:
            return super().render_to_response(context, **kwargs)
        if fmt not in EXPORT_FORMATS:
            return bad_request(self.request, _("Unknown export format '%(format)s'; use csv, xlsx or docx.") % {
                "format": fmt})
        return self.export(fmt, context["table"])

    def export(self, export_format, table):
        """The report as a file, rows in the order the user sorted them, all pages (exports.py writes it)."""
        rows = list(table.data.data)
        summary = summarise(rows)
        next_steps, register_problems = "", ()
        if export_format == "docx":
            note_plan = self.note_plan_to_read(self.request.GET.get(NOTE_PLAN_PARAM))
            next_steps = briefing.next_steps_of(note_plan, self.year, self.month) if note_plan else ""
            register_problems = register_lists.problems(self.request.user, self.period)
        return exports.response(export_format, rows, self.year, self.month, summary, next_steps=next_steps,
                                last_year=self.shows_last_year, register_problems=register_problems)


class CompletenessView(PeriodMixin, TemplateView):
    period_in_url = True
    template_name = "reports/completeness.html"
    nav_key = "completeness"

    def period_url(self, period):
        return links.completeness_url(period)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        result = completeness(report_targets(self.request.user, self.year), self.year, self.month)
        # "Enter figures" only where this person may enter them (a leader reads, a clerk enters their own).
        editable = scoping.edit_unit_ids(self.request.user)
        for row in (*result["units"], *result["items"]):
            if editable is not None and row["unit"].pk not in editable:
                row["url"] = ""
        context["result"] = result
        context["today"] = timezone.localdate()
        if navigation.can_chase(self.request.user):
            context["chase_url"] = links.chase_url(self.period)
        return context


class TargetView(PeriodMixin, TemplateView):
    template_name = "reports/target.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            qs = scoping.visible_targets(
                request.user, Target.objects.select_related(
                    "plan", "section", "lead_unit", "continues", "series_indicator", "series_region",
                    "comparator_region"))
            # Codes are unique within a plan: ?plan= names one; else scoping prefers one's own organisation's
            # plan of the period's year, and lists the candidates where that still leaves several.
            plan_id = request.GET.get("plan", "")
            if plan_id and not (plan_id.isdigit() and len(plan_id) < 10):
                qs = qs.none()
            try:
                year = Period.parse(request.GET["period"]).year if request.GET.get("period") else current_period().year
            except ValueError as exc:
                return bad_request(request, str(exc))
            self.target, candidates = scoping.target_for_code(
                request.user, kwargs["code"], year, int(plan_id) if plan_id.isdigit() else None, qs)
            if self.target is None and candidates:
                return self.choose(request, kwargs["code"], candidates)
            if self.target is None:
                raise Http404(_("No target %(code)s that you may see.") % {"code": kwargs["code"]})
        return super().dispatch(request, *args, **kwargs)

    def choose(self, request, code, candidates):
        """Several plans hold this code and none is clearly the one meant: list them, each with its link."""
        query = request.GET.copy()
        rows = []
        for t in candidates:
            query["plan"] = str(t.plan_id)
            rows.append({"target": t, "url": f"{links.target_url(code)}?{query.urlencode()}"})
        return render(request, "reports/target_choices.html", {
            "code": code, "rows": rows, "nav_links": navigation.nav_links(request.user, current_period())})

    def resolve_period(self, request, kwargs):
        period = super().resolve_period(request, kwargs)
        if period.year != self.target.plan.year and not request.GET.get("period"):
            period = Period(self.target.plan.year, 12)
        return period

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        t = self.target
        entries = list(
            ProgressEntry.objects.filter(target=t, year=self.year)
            .select_related("entered_by", "submitted_by", "reviewed_by")
            .order_by("month")
        )
        for e in entries:
            e.target = t  # period labels read the target; no query per entry
        points = dict(MonthlyPlanPoint.objects.filter(target=t).values_list("month", "value"))
        sub_targets = list(t.children.filter(is_active=True).select_related("lead_unit").order_by("code"))
        # The target and its sub-targets in one go (the sub-targets are judged on their own).
        with gc_paused():
            data = load_period(Target.objects.filter(pk__in=[t.pk, *(s.pk for s in sub_targets)]),
                               self.year, self.month)
            judged = assess_loaded(data, self.year, self.month)
        assessment = judged[t.pk]
        actual = actual_series(t, data.entries.get(t.pk, []), self.year, self.month, data.children.get(t.pk))
        last_year = last_year_series(data).get(t.pk, {})
        continued = t.continues if t.continues_id else None
        province, by_month = self.series(t, actual)
        context.update(
            target=t, assessment=assessment, status_label=status_label(assessment.status), entries=entries,
            chart=self.chart(t, entries, points, actual, last_year, province), plan_points=sorted(points.items()),
            continued=continued,
            continued_url=(links.target_url(continued.code) + f"?plan={continued.plan_id}") if continued else "",
            year_over_year=[(Period(self.year, m).months_label, actual.get(m), last_year.get(m))
                            for m in range(1, self.month + 1) if m in actual or m in last_year],
            series_months=by_month,
            sub_targets=[(s, judged.get(s.pk)) for s in sub_targets],
            target_text=with_measure(fmt_number(t.target_value), t.measure) if t.target_value is not None else "",
        )
        figure = RegisterFigure.objects.filter(target=t).first()
        if figure is not None:
            context["register_figure"] = figure
            context["register_url"] = links.register_rows_url(t.pk, self.period)
            for e in entries:
                e.register_url = links.register_rows_url(t.pk, e.period)
        return context

    def series(self, t, actual):
        """({month: the province's value}, [(month label, city, province, gap, rank text)]) for a target that
        follows a series: the city against the province and its place among its peers, month by month."""
        if not t.series_indicator_id:
            return None, []
        table = rank_table([t.series_indicator_id], self.year, None, [t.series_region_id, t.comparator_region_id])
        province, by_month = {}, []
        for m in range(1, 13):
            value = table.value(t.series_indicator_id, t.comparator_region_id, m) if t.comparator_region_id else None
            if value is not None:
                province[m] = value
            places = table.places(t.series_indicator_id, t.series_region_id, m) if t.series_region_id else []
            rank, city = places_text(places), actual.get(m)
            if city is None and value is None and not rank:
                continue
            gap = city - value if None not in (city, value) and t.is_growth else None
            by_month.append((Period(self.year, m).months_label, city, value, gap, rank))
        return province, by_month

    def chart(self, t, entries, points, actual, last_year=None, province=None):
        if t.kind not in ("growth", "margin", "cumulative", "recurring"):
            return ""
        months = [m for m in range(1, 13) if t.expects_entry(m)]
        if t.comparator_from_series:
            comparators = province or {}
        else:
            comparators = {e.month: e.comparator for e in entries if e.comparator is not None}
        expected = {}
        for m in months:
            value = expected_value(t, m, points, comparators.get(m))
            if value is not None:
                expected[m] = value
        series = [(_("Actual (YTD)"), "actual", actual, False), (_("Expected path"), "expected", expected, True)]
        if t.comparator_region_id and province is not None:
            name = f"{t.comparator_region.display_name}{t.series_indicator.display_name}"
            series.append((name, "comparator", province, False))
        elif t.kind == "margin":
            series.append((t.comparator_display or _("Comparator"), "comparator", comparators, False))
        if last_year:
            series.append((_("Last year (YTD)"), "last-year", last_year, True))
        hline = None
        if t.kind != "margin" and t.target_value is not None:
            hline = (pgettext("report", "Target"), t.target_value)
        unit = "%" if t.kind in ("growth", "margin") else measure_label(t.measure)
        y_unit = _("Unit: %(unit)s") % {"unit": unit} if unit else ""
        return line_chart(series, [(m, Period(self.year, m).month_name) for m in months], str(t), hline=hline,
                          y_unit=y_unit)


def may_write_briefing(user):
    """Reviewers, leaders and administrators write the bulletin's next steps; clerks do not."""
    return scoping.is_admin(user) or bool(scoping.roles(user) & {Role.REVIEWER, Role.LEADER})


class BriefingNoteForm(forms.Form):
    next_steps = forms.CharField(
        label=_("Next steps (下步工作), as the bulletin will print them"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )


class BriefingNoteView(NotePlanMixin, PeriodMixin, View):
    """Save the 下步工作 text of the month's bulletin of one plan of the user's organisation (POST only)."""

    period_in_url = True

    def post(self, request, *args, **kwargs):
        plan, plans = self.note_plans(request.POST.get(NOTE_PLAN_PARAM))
        chosen = request.POST.get(NOTE_PLAN_PARAM)
        if plan is None or not may_write_briefing(request.user) or (chosen and str(plan.pk) != chosen):
            raise PermissionDenied  # a plan of another organisation, or one not seen
        form = BriefingNoteForm(request.POST)
        if not form.is_valid():
            return bad_request(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        note, created = BriefingNote.objects.get_or_create(plan=plan, year=self.year, month=self.month)
        before = None if created else audit.snapshot(note)
        note.next_steps, note.updated_by = form.cleaned_data["next_steps"], request.user
        note.save()
        audit.record(note, request.user, "report", before)
        messages.success(request, _("The next steps of the bulletin are saved."))
        url = links.report_url(self.period)
        return redirect(f"{url}?{NOTE_PLAN_PARAM}={plan.pk}" if len(plans) > 1 else url)
