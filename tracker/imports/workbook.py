"""The downloadable XLSX template: one row per target a unit leads, for one period.

The unit and period stand in labelled cells above the header, so an upload of
the filled-in sheet knows the period without a period column.
"""

import io
import re

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tracker.imports.parsing import COLUMN_LABELS, MAX_ABS, NOT_APPLICABLE, SHEET_LABELS
from tracker.targets.models import Plan, ProgressEntry, Target
from tracker.targets.period import Period

COLUMNS = ("target", "name", "measure", "target_value", "last_value", "last_period",
           "value", "comparator", "note", "hint")
WIDTHS = {"target": 12, "name": 44, "measure": 10, "target_value": 10, "last_value": 12, "last_period": 14,
          "value": 16, "comparator": 14, "note": 40, "hint": 44}
HEADER_ROW = 4
GREY = PatternFill("solid", fgColor="DDDDDD")
INPUT = PatternFill("solid", fgColor="FFF8DC")
HEADER = PatternFill("solid", fgColor="BDD7EE")


def template_targets(unit, year):
    # Only a published plan takes figures: a draft is not in use yet, a closed plan is read-only.
    return (Target.objects.filter(plan__year=year, plan__status=Plan.Status.PUBLISHED, lead_unit=unit,
                                  is_active=True)
            .select_related("section").order_by("section__number", "order", "code"))


def build_template(unit, year, month):
    """The template as XLSX bytes. Three queries, whatever the number of targets."""
    targets = list(template_targets(unit, year))
    last = {}
    for entry in (ProgressEntry.objects.filter(target__in=targets, year=year, month__lt=month, value__isnull=False)
                  .order_by("month")):
        last[entry.target_id] = entry  # ordered by month: the latest one wins

    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(unit.name, year, month)
    sheet.append([str(SHEET_LABELS["unit"]), unit.code, unit.name])
    period = Period(year, month)
    sheet.append([str(SHEET_LABELS["period"]), period.key, period.label])
    sheet.append([_("Fill in the yellow cells with the year-to-date figure (1~N月累计) and upload the file "
                     "in the admin under Imports. Grey cells need no input; empty rows are left out.")])
    sheet.append([str(COLUMN_LABELS[key]) for key in COLUMNS])
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.fill = HEADER
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for cell in (sheet["A1"], sheet["A2"]):
        cell.font = Font(bold=True)

    numbers = DataValidation(
        type="decimal", operator="between", formula1=str(-MAX_ABS), formula2=str(MAX_ABS), allow_blank=True,
        showErrorMessage=True, errorTitle=_("Not a number"), error=_("Enter a number, e.g. 12.5 or 12.5%."),
    )
    sheet.add_data_validation(numbers)
    col = {key: COLUMNS.index(key) + 1 for key in COLUMNS}
    for row_number, target in enumerate(targets, start=HEADER_ROW + 1):
        entry = last.get(target.pk)
        expected = target.expects_entry(month)
        sheet.append([
            target.code,
            target.name,
            target.measure,
            target.target_value,
            entry.value if entry else None,
            entry.period_label if entry else "",
            None if expected else NOT_APPLICABLE,
            None if expected and target.needs_comparator else NOT_APPLICABLE,
            None,
            _hint(target, month),
        ])
        for key in ("value", "comparator"):
            cell = sheet.cell(row_number, col[key])
            if cell.value == NOT_APPLICABLE:
                cell.fill = GREY
                cell.alignment = Alignment(horizontal="center")
            else:
                cell.fill = INPUT
                numbers.add(cell)
        sheet.cell(row_number, col["note"]).fill = INPUT if expected else GREY
    for key, width in WIDTHS.items():
        sheet.column_dimensions[get_column_letter(col[key])].width = width
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, col["name"] + 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _hint(target, month):
    if not target.expects_entry(month):
        return _("Not expected for January: reported together with February (1~2月).")
    if target.needs_comparator:
        return _(
            "Enter the year-to-date growth rate in percent and the comparator (%(name)s) for the same months."
        ) % {"name": target.comparator_display}
    if target.is_growth:
        return _("Enter the year-to-date growth rate in percent.")
    if target.kind == Target.Kind.CUMULATIVE:
        return _("Enter the cumulative total since January.")
    return ""


def _sheet_title(name, year, month):
    # Excel sheet names: at most 31 characters, none of []:*?/\
    name = re.sub(r"[\[\]:*?/\\]", " ", name).strip()
    suffix = f" {year:04d}-{month:02d}"
    return (name[: 31 - len(suffix)] + suffix).strip()


def template_file_name(unit, year, month):
    return f"{unit.code}-{year:04d}-{month:02d}.xlsx"
