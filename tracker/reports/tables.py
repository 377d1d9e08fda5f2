"""The monthly report table: one row dict per target (see report.build_rows)."""

from decimal import Decimal
from urllib.parse import quote

import django_tables2 as tables
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from tracker import links
from tracker.reports.charts import sparkline
from tracker.targets.models import measure_label
from tracker.targets.numbers import fmt_number, fmt_quantity, fmt_rate

GROWTH_KINDS = ("growth", "margin")
# What Django's reverse() leaves unquoted in a path (RFC 3986's sub-delimiters and "~:@"), but for "/".
URL_SAFE = "!$&'()*+,;=~:@"


def _number(record, value):
    if value is None:
        return "—"
    if record["kind"] in GROWTH_KINDS:
        return fmt_rate(value)
    return fmt_quantity(value, record.get("measure") or "")


class NumberColumn(tables.Column):
    """A right-aligned figure, formatted as the target's kind publishes it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)


class ReportTable(tables.Table):
    code = tables.Column(verbose_name=pgettext_lazy("report", "Code"),
                         order_by=("section_number", "order", "code"))
    name = tables.Column(verbose_name=pgettext_lazy("report", "Target"))
    measure = tables.Column(verbose_name=pgettext_lazy("report", "Measure"), empty_values=())
    unit_name = tables.Column(verbose_name=pgettext_lazy("report", "Responsible unit"),
                              order_by=("unit_code", "code"))
    target = NumberColumn(verbose_name=pgettext_lazy("report", "Target value"), empty_values=())
    actual = NumberColumn(verbose_name=pgettext_lazy("report", "Actual (YTD)"), empty_values=())
    # Hidden unless asked for (?yoy=1): last year's figure for the same months, of the target this one continues.
    last_year = NumberColumn(verbose_name=pgettext_lazy("report", "Last year, same months"), empty_values=())
    expected = NumberColumn(verbose_name=pgettext_lazy("report", "Expected by now"), empty_values=())
    # Sorted within each section by the gap's share of the expectation, empty gaps last (views.add_gap_sort_keys).
    gap = NumberColumn(verbose_name=pgettext_lazy("report", "Gap"), empty_values=(), order_by=("gap_sort",))
    province_gap = NumberColumn(verbose_name=pgettext_lazy("report", "Gap to the province (points)"),
                                empty_values=())
    rank = tables.Column(verbose_name=pgettext_lazy("report", "Rank"), empty_values=(), orderable=False)
    status = tables.Column(verbose_name=pgettext_lazy("report", "Status"),
                           order_by=("severity", "section_number", "order", "code"))
    trend = tables.Column(verbose_name=pgettext_lazy("report", "Trend"), orderable=False, empty_values=())

    class Meta:
        template_name = "reports/table.html"
        attrs = {"class": "report-table", "id": "report-table"}
        row_attrs = {"class": lambda record: f"row-{record['status']}", "data-status": lambda record: record["status"]}
        empty_text = _("No targets match.")

    def __init__(self, *args, period=None, last_year=False, register_targets=frozenset(), **kwargs):
        self.period = period
        # Targets whose figure comes from a register: their figure opens the list behind it.
        self.register_targets = register_targets
        if not last_year:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), "last_year")
        super().__init__(*args, **kwargs)

    @property
    def grouped(self):
        """Whether rows stand under their section headings: in plan order, or sorted by gap within sections."""
        return not self.order_by or self.order_by[0].bare == "gap"

    def body_rows(self):
        """The <tr>s of the current page as one string, under their section headings while grouped.

        One string for the page instead of a template loop over rows and cells (see page_cells).
        """
        grouped, width, section, html = self.grouped, len(self.columns), object(), []
        for record, cells in self.page_cells():
            if grouped and record["section_number"] != section:
                section = record["section_number"]
                html.append(f'<tr class="section-row"><th colspan="{width}" scope="colgroup">'
                            f'{escape(section)}. {escape(record["section"])}</th></tr>')
            status = escape(record["status"])
            html.append(f'<tr class="row-{status}" data-status="{status}">{cells}</tr>')
        return mark_safe("\n".join(html))  # every value is escaped above or in page_cells

    def page_cells(self):
        """(record, the row's <td> cells as HTML) for the rows of the current page.

        One call per row instead of django-tables2's per-cell dispatch, which
        inspects each render method's signature for every cell, and one string
        per row instead of a template loop over every cell.
        """
        renderers = []
        for column in self.columns:
            css = "num" if isinstance(column.column, NumberColumn) else ""
            render = getattr(self, f"render_{column.name}", None) or (self.render_number if css else self.render_text)
            # The column's name on each cell: phones show the rows as blocks, each cell under its name.
            label = conditional_escape(column.header)
            opening = f'<td class="num" data-label="{label}">' if css else f'<td data-label="{label}">'
            renderers.append((column.name, render, opening))
        for row in self.paginated_rows:
            record = row.record
            cells = "".join(
                f"{opening}{conditional_escape(render(record.get(name), record))}</td>"
                for name, render, opening in renderers
            )
            yield record, mark_safe(cells)  # each cell's content is escaped above

    def render_text(self, value, record):
        return "—" if value in (None, "") else value

    def render_number(self, value, record):
        return _number(record, value)

    def render_measure(self, value, record):
        return measure_label(value) or "—"

    @cached_property
    def target_url_parts(self):
        """The target page's URL around the code: reverse() once a page, not once a row."""
        before, marker, after = reverse("reports:target", args=["CODE"]).rpartition("CODE")
        return before, after

    def render_name(self, value, record):
        before, after = self.target_url_parts
        # quote() as reverse() quotes a path segment (a code has no "/": the URL pattern would refuse it).
        url = f"{before}{quote(record['code'], safe=URL_SAFE)}{after}"
        if self.period:
            url += f"?period={self.period}"
        if record["code"] in self.shared_codes:  # codes are unique within a plan: name the plan too
            url += f"{'&' if self.period else '?'}plan={record['plan_id']}"
        return format_html('<a href="{}">{}</a>', url, value)

    @cached_property
    def shared_codes(self):
        """Codes that more than one plan of the rows uses (two organisations' "T-1")."""
        seen, shared = {}, set()
        for row in self.data.data:
            if seen.setdefault(row["code"], row.get("plan_id")) != row.get("plan_id"):
                shared.add(row["code"])
        return shared

    def render_actual(self, value, record):
        text = _number(record, value)
        if value is None or record["target_id"] not in self.register_targets or self.period is None:
            return text
        url = links.register_rows_url(record["target_id"], self.period)
        return format_html('<a href="{}" class="register-rows">{}</a>', url, text)

    def render_target(self, value, record):
        if value is None:
            # A milestone's target is its due date, said as such; a qualitative task has no target value.
            if record["kind"] == "milestone" and record.get("deadline"):
                return gettext("due %(date)s") % {"date": record["deadline"].isoformat()}
            return "—"
        text = _number(record, value)
        if record.get("tolerance"):
            text += f" ±{fmt_number(record['tolerance'])}"
        return text

    def render_gap(self, value, record):
        if value is None:
            return "—"
        text = _number(record, value)
        return f"+{text}" if value > Decimal(0) else text

    def render_province_gap(self, value, record):
        """+1.6 (全省 0.2): the gap in points as printed, with the province's own figure for the same months."""
        if value is None:
            return "—" if record.get("province") is None else _("(province %(value)s)") % {
                "value": fmt_rate(record["province"])}
        gap = fmt_rate(value)
        return _("%(gap)s (province %(value)s)") % {"gap": f"+{gap}" if value > 0 else gap,
                                                     "value": fmt_rate(record["province"])}

    def render_status(self, value, record):
        note = record.get("figure_note")
        note = f' <span class="figure-note">{escape(note)}</span>' if note else ""
        # Written with escape() rather than format_html: one of these a row.
        return mark_safe(f'<span class="badge status-{escape(value)}">{escape(record["status_label"])}</span>{note}'
                         f'<div class="reason">{escape(record["reason"])}</div>')

    def render_trend(self, value, record):
        return sparkline(value.items()) or "—"
