"""The report as CSV, XLSX, JSON, HTML and the DOCX monthly briefing (月度调度通报).

Numbers stay numbers; text that a spreadsheet would run as a formula (starting
with = + - @, a tab or a carriage return) is prefixed with an apostrophe.
"""

import csv
import io
import json
from decimal import Decimal

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from tracker.reports import briefing
from tracker.reports.completeness import unreported_units
from tracker.targets.numbers import places_for, plain_number
from tracker.targets.period import Period
from tracker.targets.status import STATUSES, gc_paused, status_label

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

TEXT, NUMBER, RATIO = "text", "number", "ratio"

# (row key, header, type). The headers are translated: Chinese by default.
COLUMNS = (
    ("code", pgettext_lazy("report", "Code"), TEXT),
    ("name", pgettext_lazy("report", "Target"), TEXT),
    ("section", pgettext_lazy("report", "Section"), TEXT),
    ("unit_name", pgettext_lazy("report", "Responsible unit"), TEXT),
    ("kind_label", pgettext_lazy("report", "Kind"), TEXT),
    ("measure", pgettext_lazy("report", "Measure"), TEXT),
    ("target", pgettext_lazy("report", "Target value"), NUMBER),
    ("actual", pgettext_lazy("report", "Actual (YTD)"), NUMBER),
    ("last_year", pgettext_lazy("report", "Last year, same months"), NUMBER),
    ("comparator", pgettext_lazy("report", "Comparator"), NUMBER),
    ("expected", pgettext_lazy("report", "Expected by now"), NUMBER),
    ("gap", pgettext_lazy("report", "Gap"), NUMBER),
    ("completion", pgettext_lazy("report", "Completion"), RATIO),
    ("time_adjusted", pgettext_lazy("report", "Time-adjusted completion"), RATIO),
    ("forecast", pgettext_lazy("report", "Year-end forecast"), NUMBER),
    ("status_label", pgettext_lazy("report", "Status"), TEXT),
    ("reason", pgettext_lazy("report", "Reason"), TEXT),
    ("period", pgettext_lazy("report", "Figure for"), TEXT),
    ("figure_note", pgettext_lazy("report", "About the figure"), TEXT),
    # Targets that follow an indicator series: the province's figure for the same months, the gap to it in
    # points and the ranks (published, and computed where every peer has a value).
    ("province", pgettext_lazy("report", "Province (same months)"), NUMBER),
    ("province_gap", pgettext_lazy("report", "Gap to the province (points)"), NUMBER),
    ("rank", pgettext_lazy("report", "Rank"), TEXT),
)

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
FORMATS = tuple(CONTENT_TYPES)


def neutralise(text):
    """Text that cannot become a formula in a spreadsheet."""
    if text is None:
        return ""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(row, key, kind):
    value = row.get(key)
    if kind == TEXT:
        return neutralise(value)
    return value


# Shown only when asked for, like the report page's column.
OPTIONAL = {"last_year"}


def columns(last_year=False):
    return [c for c in COLUMNS if last_year or c[0] not in OPTIONAL]


def _headers(cols):
    return [str(label) for _, label, _ in cols]


def sheet_title(year, month):
    # Excel allows 31 characters and none of []:*?/\ in a sheet name.
    return (_("%(year)s-%(month)02d report") % {"year": year, "month": month})[:31]


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain_number(value)  # 80.0000 -> 80, no exponent
    return value


def to_csv(rows, year, month, last_year=False):
    cols = columns(last_year)
    out = io.StringIO()
    out.write("\ufeff")  # so Excel opens UTF-8 Chinese text correctly
    writer = csv.writer(out)
    writer.writerow(_headers(cols))
    for row in rows:
        writer.writerow([_csv_value(_cell(row, k, t)) for k, _, t in cols])
    return out.getvalue().encode("utf-8")


COLUMN_WIDTHS = {"name": 36, "reason": 60, "section": 24, "unit_name": 18}
NUMBER_FORMATS = {0: "#,##0", 1: "0.0", 2: "#,##0.00", None: "#,##0.##"}


def to_xlsx(rows, year, month, last_year=False):
    # XlsxWriter: over twice as fast as openpyxl's write-only mode, and no temporary files.
    import xlsxwriter

    out = io.BytesIO()
    # Text stays text: never read as a formula, a number or a link.
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                     "strings_to_urls": False})
    sheet = book.add_worksheet(sheet_title(year, month))
    cols = columns(last_year)
    for index, (key, _label, _kind) in enumerate(cols):
        # 7 pixels per character (Calibri 11): the sheet stores exactly this many characters.
        sheet.set_column_pixels(index, index, COLUMN_WIDTHS.get(key, 12) * 7)
    sheet.freeze_panes(1, 2)  # C2: header row and code/name columns stay in view
    sheet.write_row(0, 0, _headers(cols), book.add_format({"bold": True}))
    # Figures as the bureau writes them for their measure: 80 firms, 12.50 亿元, 8.5%.
    by_places = {places: book.add_format({"num_format": NUMBER_FORMATS[places]}) for places in NUMBER_FORMATS}
    formats = {RATIO: book.add_format({"num_format": "0.0%"}), TEXT: None}
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    cells = [(key, kind, wrap if key == "reason" else formats.get(kind)) for key, _label, kind in cols]
    for row_number, row in enumerate(rows, start=1):
        number_format = by_places[places_for(row.get("measure") or "")]
        for column_number, (key, kind, cell_format) in enumerate(cells):
            if kind == NUMBER:
                cell_format = number_format
            value = _cell(row, key, kind)
            if value is None or value == "":
                if kind == TEXT and cell_format is not None:  # an empty reason still wraps
                    sheet.write_blank(row_number, column_number, None, cell_format)
            elif kind == TEXT:
                sheet.write_string(row_number, column_number, value, cell_format)
            else:
                sheet.write_number(row_number, column_number, value, cell_format)
    book.close()
    return out.getvalue()


def _json_number(value):
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


JSON_KEYS = (
    "code", "name", "section", "unit_code", "unit_name", "kind", "measure", "target", "actual", "comparator",
    "province", "province_gap", "rank", "expected", "gap", "completion", "time_adjusted", "forecast", "status",
    "reason", "period", "last_year", "last_year_period",
)
JSON_NUMBERS = {"target", "actual", "comparator", "province", "province_gap", "expected", "gap", "completion",
                "time_adjusted", "forecast", "last_year"}


def to_json(rows, year, month):
    """A list of rows; numbers as JSON numbers and null where a value does not apply."""
    data = [
        {k: _json_number(r.get(k)) if k in JSON_NUMBERS else (str(r[k]) if r.get(k, "") != "" else None)
         for k in JSON_KEYS}
        for r in rows
    ]
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def summary_text(summary, completeness, year, month):
    """The briefing's opening paragraphs: counts by status, red targets with reasons, units not reported."""
    counts = summary["by_status"]
    values = {"year": year, "month": month, "total": summary["total"],
              **{s: counts[s] for s in STATUSES}}
    paragraphs = [_(
        "%(year)s-%(month)02d: %(total)s targets tracked. Achieved %(achieved)s, on track %(on_track)s, "
        "at risk %(at_risk)s, off track %(off_track)s, no data %(no_data)s, not due %(not_due)s."
    ) % values]
    red = [r for r in summary["flagged"] if r["status"] == "off_track"]
    if red:
        paragraphs.append(_("Off track: %(list)s.") % {
            "list": _("; ").join(_("%(code)s %(name)s (%(unit)s): %(reason)s") % {
                "code": r["code"], "name": r["name"], "unit": r["unit_name"], "reason": r["reason"]} for r in red)})
    missing = unreported_units(completeness) if completeness else []
    if missing:
        paragraphs.append(_("Units that have not reported: %(list)s.") % {
            "list": _(", ").join(
                _("%(unit)s (%(count)s missing)") % {"unit": u.display_name, "count": n} for u, n in missing)})
    else:
        paragraphs.append(_("Every unit has reported its figures for the period or is not yet due."))
    return paragraphs


BRIEFING_COLUMNS = ("code", "name", "unit_name", "target", "actual", "expected", "gap", "status_label", "reason")


def to_html(rows, year, month, summary, completeness):
    """A self-contained printable page (styles inline): for the command line and e-mail."""
    return render_to_string("reports/report_print.html", {
        "rows": rows, "year": year, "month": month, "period": Period(year, month).label, "summary": summary,
        "paragraphs": summary_text(summary, completeness, year, month),
        "columns": [(k, label) for k, label, _ in COLUMNS if k in BRIEFING_COLUMNS],
        "status_labels": {s: status_label(s) for s in STATUSES},
    }).encode("utf-8")


def render(fmt, rows, year, month, summary=None, completeness=None, next_steps="", last_year=False,
           register_problems=()):
    """The report in a format, as bytes; `last_year` adds the column of last year's figures (CSV, XLSX);
    `register_problems`: the registers' lines for the bulletin's 存在问题."""
    with gc_paused():  # tens of thousands of short-lived cells, no cycles
        return _render(fmt, rows, year, month, summary, completeness, next_steps, last_year, register_problems)


def _render(fmt, rows, year, month, summary, completeness, next_steps, last_year=False, register_problems=()):
    if fmt == "csv":
        return to_csv(rows, year, month, last_year)
    if fmt == "xlsx":
        return to_xlsx(rows, year, month, last_year)
    if fmt == "json":
        return to_json(rows, year, month)
    if fmt == "docx":
        return briefing.to_docx(briefing.build(rows, summary or {}, year, month, next_steps,
                                               register_problems=register_problems))
    if fmt == "html":
        return to_html(rows, year, month, summary, completeness)
    raise ValueError(fmt)


def filename(fmt, year, month):
    return f"report-{year}-{month:02d}.{fmt}"


def response(fmt, rows, year, month, summary=None, completeness=None, next_steps="", last_year=False,
             register_problems=()):
    resp = HttpResponse(render(fmt, rows, year, month, summary, completeness, next_steps, last_year,
                               register_problems),
                        content_type=CONTENT_TYPES[fmt])
    resp["Content-Disposition"] = f'attachment; filename="{filename(fmt, year, month)}"'
    return resp
