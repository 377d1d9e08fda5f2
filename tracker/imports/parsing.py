"""Reading an uploaded progress file (CSV or XLSX) into plain rows.

Two layouts are accepted, in either format:
- a table whose first row is the header `target,period,value,comparator,note`
  (English keys or the template's labels in Chinese or English);
- the downloaded template, whose period stands in a cell above the header and
  which has extra columns (name, target, last figure, hint) that are ignored.

Parsing checks only the file itself (columns, numbers, periods); whether a
target exists, may be touched or is locked is decided afterwards by
`tracker.services.entries.save_entries`, like every other write.
"""

import codecs
import csv
import datetime
import functools
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from openpyxl.utils import get_column_letter

from tracker.targets.period import Period

# Column keys, in template order, with their labels. The labels are the
# template's header cells; on upload every label in every language is accepted.
# Their own context keeps other apps' translations of the same words out.
COLUMN_LABELS = {
    "target": pgettext_lazy("import column", "Target code"),
    "name": pgettext_lazy("import column", "Target name"),
    "measure": pgettext_lazy("import column", "Unit of measure"),
    "target_value": pgettext_lazy("import column", "Target value"),
    "last_value": pgettext_lazy("import column", "Last figure"),
    "last_period": pgettext_lazy("import column", "Last period"),
    "period": pgettext_lazy("import column", "Period"),
    "value": pgettext_lazy("import column", "Year-to-date value"),
    "comparator": pgettext_lazy("import column", "Comparator"),
    "note": pgettext_lazy("import column", "Note"),
    "hint": pgettext_lazy("import column", "How to fill in"),
}
# Other spellings people use for the columns that matter; 指标编号 and 指标名称 are the headers of
# templates downloaded before they said 目标编号 and 目标名称.
EXTRA_ALIASES = {
    "target": ["指标编号", "指标代码", "编号", "代码", "code", "target_code"],
    "name": ["指标名称"],
    "period": ["月份", "时期", "报告期"],
    "value": ["累计值", "本期累计", "数值", "本期数"],
    "last_value": ["上期数", "上期数据"],
    "comparator": ["比较值", "对比"],
    "note": ["进展情况", "说明"],
}
# The plain layout must have all of these; in the template `period` comes from the sheet.
REQUIRED = ("target", "period", "value", "comparator", "note")
NUMBER_COLUMNS = ("value", "comparator")
# Written into cells that need no input; read back as empty.
NOT_APPLICABLE = "—"
BLANK_MARKERS = {"", "-", "--", NOT_APPLICABLE, "——", "n/a", "na", "不适用", "无需填写"}
# Labels of the cells above the template's header that hold the unit and period.
SHEET_LABELS = {"unit": pgettext_lazy("import column", "Unit"), "period": COLUMN_LABELS["period"]}
# Where a problem is about the whole file (not a column); kept out of COLUMN_LABELS, which names readable columns.
FILE_LABEL = pgettext_lazy("import column", "Whole file")

# Bounds of ProgressEntry's DecimalField(max_digits=16, decimal_places=4).
MAX_ABS = Decimal("1e12")
PLACES = Decimal("0.0001")
# An .xlsx is a zip archive; refuse archives that unpack to far more than the upload limit.
XLSX_MAX_RATIO = 40
HEADER_SEARCH_ROWS = 20

LANGUAGES = ("zh-hans", "en")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, for a person."""


@dataclass
class Problem:
    line: int | None
    column: str
    message: str
    letter: str = ""

    @property
    def column_label(self):
        if self.column == "file":
            return str(FILE_LABEL)
        return str(COLUMN_LABELS.get(self.column, self.column))

    def __str__(self):
        where = _("row %(line)s") % {"line": self.line} if self.line else _("file")
        if self.column == "file":
            return f"{where}: {self.message}"
        column = self.column_label + (f" ({self.letter})" if self.letter else "")
        return f"{where}, {column}: {self.message}"


@dataclass
class ParsedRow:
    line: int
    code: str
    year: int
    month: int
    value: Decimal | None = None
    comparator: Decimal | None = None
    note: str = ""

    @property
    def period(self):
        return f"{self.year:04d}-{self.month:02d}"


@dataclass
class ParsedFile:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    skipped: int = 0
    sheet_period: tuple | None = None
    sheet_unit: str = ""
    letters: dict = field(default_factory=dict)  # column key -> spreadsheet letter, for messages


class Formula(str):
    """A spreadsheet formula found in a cell (never evaluated)."""


def _fold(text):
    text = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return " ".join(text.split()).casefold()


@functools.cache
def _aliases():
    """Every accepted header spelling -> column key, in all languages."""
    table = {}
    for key, label in COLUMN_LABELS.items():
        spellings = [key, key.replace("_", " "), *EXTRA_ALIASES.get(key, [])]
        for lang in LANGUAGES:
            with translation.override(lang):
                spellings.append(str(label))
        for spelling in spellings:
            folded = _fold(spelling)
            owner = table.setdefault(folded, key)
            if owner != key:
                raise RuntimeError(f"header spelling {spelling!r} is used by {owner} and {key}")
    return table


@functools.cache
def _sheet_aliases():
    table = {}
    for key, label in SHEET_LABELS.items():
        for lang in LANGUAGES:
            with translation.override(lang):
                table[_fold(label)] = key
    return table


# Reading bytes into a table of cells

def check_size(size):
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ImportFileError(_("The file is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "size": f"{size:,}", "limit": f"{limit:,}"})


def read_table(data):
    """The cells of the file's first sheet, as a list of rows (lists of values)."""
    check_size(len(data))
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("This is an old Excel 97-2003 (.xls) file. Save it as .xlsx or as CSV UTF-8."))
    return _read_csv(decode_text(data))


def decode_text(data):
    """UTF-8 (with or without BOM) or GB18030; anything else is refused with a reason."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            raise ImportFileError(_(
                "The file is saved as %(encoding)s, which is not accepted. "
                "Save it as CSV UTF-8, as CSV (GB18030) or as .xlsx."
            ) % {"encoding": name})
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if b"\x00" in data:
        raise ImportFileError(_("This is not a CSV or XLSX file."))
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_(
        "The file's text encoding is neither UTF-8 nor GB18030. Save it as CSV UTF-8, as CSV (GB18030) or as .xlsx."
    ))


def _read_csv(text):
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else (";" if ";" in first_line else ",")
    try:
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(error)s") % {"error": exc})


def _read_xlsx(data):
    # Imported here: openpyxl is only needed for spreadsheets.
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError(_("The .xlsx file is damaged and cannot be opened."))
    if unpacked > settings.IMPORT_MAX_BYTES * XLSX_MAX_RATIO:
        raise ImportFileError(_("The .xlsx file unpacks to too much data to be a progress sheet."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) on a broken file
        raise ImportFileError(_("The .xlsx file is damaged and cannot be opened."))
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some programs write a wrong sheet size; read what is there
        return [[_xlsx_cell(cell) for cell in row] for row in sheet.iter_rows()]
    finally:
        workbook.close()


def _xlsx_cell(cell):
    value = cell.value
    if cell.data_type == "f":
        return Formula(value if isinstance(value, str) else getattr(value, "text", "") or "=")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in (cell.number_format or ""):
        # Excel stores a typed "12.5%" as 0.125 shown as a percentage.
        return Decimal(repr(value)) * 100
    return value


# Reading the table into rows

def parse(data):
    """Read file bytes into a ParsedFile; a file-level problem raises ImportFileError."""
    return parse_table(read_table(data))


def parse_table(table):
    result = ParsedFile()
    header_index = _find_header(table)
    if header_index is None:
        raise ImportFileError(_(
            "No header row found. The first row must be: target,period,value,comparator,note "
            "(or use the downloaded template)."
        ))
    _read_sheet_labels(table[:header_index], result)
    columns = _map_columns(table[header_index], header_index + 1, result)
    if result.problems:
        return result
    for index in range(header_index + 1, len(table)):
        _parse_row(table[index], index + 1, columns, result)
    return result


def _is_empty(value):
    return value is None or (isinstance(value, str) and _fold(value) in BLANK_MARKERS)


def _find_header(table):
    aliases = _aliases()
    for index, row in enumerate(table[:HEADER_SEARCH_ROWS]):
        if any(isinstance(v, str) and aliases.get(_fold(v)) == "target" for v in row):
            return index
    return None


def _read_sheet_labels(rows, result):
    """The template's unit and period cells: a label followed by its value."""
    labels = _sheet_aliases()
    for line, row in enumerate(rows, start=1):
        cells = [v for v in row if not _is_empty(v)]
        if len(cells) < 2 or not isinstance(cells[0], str):
            continue
        key = labels.get(_fold(cells[0]))
        if key == "unit":
            result.sheet_unit = str(cells[1]).strip()
        elif key == "period":
            try:
                result.sheet_period = parse_period_cell(cells[1])
            except ValueError as exc:
                result.problems.append(Problem(line, "period", str(exc)))


def _map_columns(header, line, result):
    aliases = _aliases()
    columns = {}
    for position, cell in enumerate(header):
        if _is_empty(cell):
            continue
        letter = get_column_letter(position + 1)
        key = aliases.get(_fold(cell)) if isinstance(cell, str) else None
        if key is None:
            result.problems.append(Problem(line, str(cell), _(
                "Unknown column '%(name)s'. The columns are: target,period,value,comparator,note."
            ) % {"name": cell}, letter))
        elif key in columns:
            result.problems.append(Problem(line, key, _("The column appears twice."), letter))
        else:
            columns[key] = position
            result.letters[key] = letter
    for key in REQUIRED:
        if key not in columns and not (key == "period" and result.sheet_period):
            result.problems.append(Problem(line, key, _("The column '%(name)s' is missing.") % {"name": key}))
    return columns


def _parse_row(row, line, columns, result):
    def cell(key):
        position = columns.get(key)
        return row[position] if position is not None and position < len(row) else None

    def problem(key, message):
        letter = get_column_letter(columns[key] + 1) if key in columns else ""
        result.problems.append(Problem(line, key, message, letter))

    if all(_is_empty(cell(key)) for key in ("value", "comparator", "note")):
        if any(not _is_empty(v) for v in row):
            result.skipped += 1  # a template row nobody filled in
        return
    before = len(result.problems)
    code = cell("target")
    if _is_empty(code):
        problem("target", _("Enter the target code."))
    elif isinstance(code, Formula):
        problem("target", _("Formulas are not accepted; type the value itself."))
    code = _code_text(code)
    period = None
    raw_period = cell("period")
    if _is_empty(raw_period) and "period" in columns and not result.sheet_period:
        problem("period", _("Enter the period as YYYY-MM."))
    elif _is_empty(raw_period):
        period = result.sheet_period
    else:
        try:
            period = parse_period_cell(raw_period)
        except ValueError as exc:
            problem("period", str(exc))
    numbers = {}
    for key in NUMBER_COLUMNS:
        try:
            numbers[key] = parse_number(cell(key))
        except ValueError as exc:
            problem(key, str(exc))
    note = cell("note")
    if isinstance(note, Formula):
        problem("note", _("Formulas are not accepted; type the value itself."))
    note = "" if _is_empty(note) else _note_text(note)
    if len(result.problems) == before:
        result.rows.append(ParsedRow(line, code, period[0], period[1], numbers["value"], numbers["comparator"], note))


def _code_text(value):
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel turns a code typed as 101 into 101.0
    return "" if value is None else str(value).strip()


def _note_text(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).strip()


PERIOD_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(?:1\s*[~～\-–—至到]\s*)?(\d{1,2})\s*(?:月份?)?$")


def parse_period_cell(value):
    """'2022-03', '2022/3', '2022年3月', '2022年1—3月' or an Excel date -> (2022, 3); ValueError otherwise."""
    if isinstance(value, Formula):
        raise ValueError(_("Formulas are not accepted; type the value itself."))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.year, value.month
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = PERIOD_RE.match(text)
    if not match:
        raise ValueError(_("'%(text)s' is not a period of the form YYYY-MM.") % {"text": text})
    period = Period.parse(f"{match.group(1)}-{match.group(2)}")
    return period.year, period.month


THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_number(value):
    """A cell's number as a Decimal (None when empty); ValueError with a reason otherwise.

    Accepts 12.5, '12.5', '12.5%', ' 1,234.5 ', full-width digits; refuses text,
    formulas, dates and booleans, which are never a figure.
    """
    if isinstance(value, Formula):
        raise ValueError(_("Formulas are not accepted; type the value itself."))
    if _is_empty(value):
        return None
    if isinstance(value, bool) or isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        raise ValueError(_("'%(value)s' is not a number.") % {"value": value})
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, (int, float)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).replace("\u2212", "-")
        text = "".join(text.split())
        if text.startswith("="):
            raise ValueError(_("Formulas are not accepted; type the value itself."))
        if text.endswith("%"):
            text = text[:-1]
        if THOUSANDS_RE.match(text):
            text = text.replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not re.match(r"^[+-]?(\d+\.?\d*|\.\d+)$", text):
            raise ValueError(_("'%(value)s' is not a number.") % {"value": value})
    if not number.is_finite():
        raise ValueError(_("'%(value)s' is not a number.") % {"value": value})
    if abs(number) >= MAX_ABS:
        raise ValueError(_("%(value)s is too large.") % {"value": value})
    if number.as_tuple().exponent < PLACES.as_tuple().exponent:
        # Four decimal places are stored; Excel's long fractions are rounded, not refused.
        number = number.quantize(PLACES, rounding=ROUND_HALF_UP)
    return number
