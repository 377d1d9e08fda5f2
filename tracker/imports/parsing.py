"""Reading an uploaded progress file (CSV or XLSX) into plain rows.

Two layouts are accepted, in either format:
- a table whose first row is the header `target,period,value,comparator,note`
  (English keys or the template's labels in Chinese or English);
- the downloaded template, whose period stands in a cell above the header and
  which has extra columns (name, target, last figure, hint) that are ignored.

Parsing checks only the file itself (columns, numbers, periods); whether a
target exists, may be touched or is locked is decided afterwards by
`tracker.services.entries.save_entries`, like every other write.

Files are read as a stream of rows: the header is checked before the body is
read, and reading stops at the first limit passed (IMPORT_MAX_ROWS,
IMPORT_MAX_COLUMNS, IMPORT_XLSX_MAX_UNPACKED_BYTES, IMPORT_TIME_BUDGET_SECONDS),
so no upload holds a worker for long or fills its memory.
"""

import codecs
import csv
import datetime
import functools
import io
import re
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils import get_column_letter

from tracker.imports.charset import foreign_encoding
from tracker.targets.models import Target, validate_entry_text
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
HEADER_SEARCH_ROWS = 20
# A header's "target" cell is looked for this far to the right (a real header is never that wide).
HEADER_SEARCH_COLUMNS = 1000
# Empty rows are not counted as rows, but a sheet may hold at most this many times IMPORT_MAX_ROWS rows in all:
# the XML reader keeps a little memory for every row it has passed, filled or not.
ALL_ROWS_FACTOR = 10
# Cell text quoted back in a message is cut to this length.
SHOWN_CHARS = 40
CODE_MAX_CHARS = Target._meta.get_field("code").max_length

LANGUAGES = ("zh-hans", "en")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, for a person (and `line`, where known)."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.line = line


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
    # The stored entry's version when the preview was made (0: there was none); None: not checked.
    base_version: int | None = None

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


# Reading bytes into rows of cells

def check_size(size):
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ImportFileError(_("The file is %(size)s bytes; the limit is %(limit)s bytes.") % {
            "size": f"{size:,}", "limit": f"{limit:,}"})


class TimeBudget:
    """Reading a file stops with a clear message once IMPORT_TIME_BUDGET_SECONDS have passed."""

    def __init__(self, seconds=None):
        self.seconds = settings.IMPORT_TIME_BUDGET_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.seconds

    def check(self):
        if time.monotonic() > self.deadline:
            raise ImportFileError(_(
                "Reading the file took longer than %(seconds)s seconds, the limit. "
                "Split it into smaller files, or save it as CSV."
            ) % {"seconds": self.seconds})


def read_table(data):
    """The cells of the file's first sheet, as an iterator of rows (lists of values).

    Whole-file problems found before the first row (size, format, encoding, a
    zip bomb) raise ImportFileError at once; later ones while iterating.
    """
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
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(_(
            "The file's text encoding is neither UTF-8 nor GB18030. "
            "Save it as CSV UTF-8, as CSV (GB18030) or as .xlsx."
        )) from None
    # GB18030 decodes nearly any bytes: Japanese or Traditional-Chinese files would come out garbled.
    other = foreign_encoding(data, text)
    if other:
        raise ImportFileError(_(
            "The file looks like %(encoding)s text, not Simplified Chinese (GB18030); read as GB18030 it would "
            "come out garbled. Save it as CSV UTF-8 and upload it again."
        ) % {"encoding": other})
    if other == "":
        raise ImportFileError(_(
            "Read as GB18030 the file's text is mostly unusual characters, so it is probably in another encoding. "
            "Save it as CSV UTF-8 and upload it again."
        ))
    return text


def _read_csv(text):
    first_line = text[:text.find("\n")] if "\n" in text else text
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else (";" if ";" in first_line else ",")
    # strict: a quote that is not closed is an error, instead of swallowing the rows after it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row_number = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(_csv_error(exc, row_number + 1, start), line=row_number + 1) from None
        row_number += 1
        _check_swallowed_rows(row, delimiter, row_number)
        yield row


def _csv_error(exc, row, line):
    text = str(exc)
    if "field larger than field limit" in text:
        return _("Row %(row)s (line %(line)s of the file): a cell is far too long to be read.") % {
            "row": row, "line": line}
    if "expected after" in text or "unexpected end of data" in text:
        return _(
            "Row %(row)s (line %(line)s of the file): its quotation marks (\") do not pair up, so this row and "
            "the ones after it cannot be read reliably. Close or remove the quote, then upload the file again."
        ) % {"row": row, "line": line}
    return _("Row %(row)s (line %(line)s of the file): the CSV file is malformed (%(error)s).") % {
        "row": row, "line": line, "error": text}


def _check_swallowed_rows(row, delimiter, row_number):
    """A quoted cell whose later lines look like rows of the file: its closing quote is missing."""
    for cell in row:
        if "\n" not in cell and "\r" not in cell:
            continue
        for part in cell.splitlines()[1:]:
            fields = part.split(delimiter)
            if len(fields) >= len(REQUIRED) and any(_looks_like_period(f) for f in fields):
                raise ImportFileError(_(
                    "Row %(row)s: one cell runs over several lines that look like rows of their own "
                    "(“%(text)s”): a quotation mark (\") is probably not closed. Close it, then upload the file "
                    "again."
                ) % {"row": row_number, "text": _shown(part)}, line=row_number)


def _looks_like_period(text):
    return len(text) < 20 and bool(PERIOD_RE.match(unicodedata.normalize("NFKC", text).strip()))


def _read_xlsx(data):
    # Imported here: openpyxl is only needed for spreadsheets.
    from openpyxl import load_workbook

    damaged = _("The .xlsx file is damaged and cannot be opened.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # Declared sizes: zipfile never unpacks more than a member declares, so this bounds the work.
            unpacked = sum(info.file_size for info in archive.infolist())
            limit = settings.IMPORT_XLSX_MAX_UNPACKED_BYTES
            if unpacked > limit:
                raise ImportFileError(_(
                    "The .xlsx file unpacks to %(size)s bytes, more than the %(limit)s allowed, so it is not read. "
                    "Delete what the import does not need (other sheets, pictures, very long texts) or save it as "
                    "CSV."
                ) % {"size": f"{unpacked:,}", "limit": f"{limit:,}"})
            _check_sheet_sizes(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, zlib.error):
        raise ImportFileError(damaged) from None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) on a broken file
        raise ImportFileError(damaged) from None
    return _xlsx_rows(workbook, damaged)


# Start tags of rows and cells, with or without a namespace prefix.
SHEET_TAG_RE = re.compile(rb"<(?:\w+:)?(row|c)[\s/>]")
SCAN_CHUNK = 1 << 20
# No spreadsheet program writes more cells in a row (Excel's last column is XFD).
MAX_CELLS_PER_ROW = 16_384


def _check_sheet_sizes(archive):
    """Refuse sheets with far more rows or cells than an import can use, before openpyxl sees them.

    openpyxl reads a whole sheet once on opening when it lacks a size record, keeping a little memory per
    row, and holds all of a row's cells at once: millions of tiny empty rows or cells in a small file would
    cost gigabytes and minutes there, beyond the reach of the time budget.
    """
    max_rows = settings.IMPORT_MAX_ROWS * ALL_ROWS_FACTOR
    max_cells = settings.IMPORT_MAX_ROWS * settings.IMPORT_MAX_COLUMNS
    too_big = ImportFileError(_(
        "A sheet of the .xlsx file holds more than %(rows)s rows, %(cells)s cells or %(per_row)s cells in a row, "
        "far more than an import can use. Delete the empty rows and columns around the figures, or save the "
        "sheet as CSV."
    ) % {"rows": f"{max_rows:,}", "cells": f"{max_cells:,}", "per_row": f"{MAX_CELLS_PER_ROW:,}"})
    for info in archive.infolist():  # every member: all of them together unpack to at most the limit
        rows = cells = in_row = 0
        rest = b""
        with archive.open(info) as member:
            while chunk := member.read(SCAN_CHUNK):
                text = rest + chunk
                cut = text.rfind(b"<")  # a tag may run on into the next chunk
                text, rest = (text[:cut], text[cut:]) if cut > 0 else (text, b"")
                for match in SHEET_TAG_RE.finditer(text):
                    if match.group(1) == b"row":
                        rows += 1
                        in_row = 0
                    else:
                        cells += 1
                        in_row += 1
                    if rows > max_rows or cells > max_cells or in_row > MAX_CELLS_PER_ROW:
                        raise too_big


def _xlsx_rows(workbook, damaged):
    """The first sheet's rows, streamed (read-only mode), each cut one cell past the column limit."""
    try:
        if not workbook.worksheets:
            raise ImportFileError(damaged)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some programs write a wrong sheet size; read what is there
        # One column more than allowed, so a header that is too wide is still seen as such.
        for row in sheet.iter_rows(max_col=settings.IMPORT_MAX_COLUMNS + 1):
            end = len(row)
            while end and row[end - 1] is EMPTY_CELL:  # the padding up to max_col needs no converting
                end -= 1
            yield [_xlsx_cell(cell) for cell in row[:end]]
    except ImportFileError:
        raise
    except Exception:  # damage further into the file (XML, zip or cell errors) shows only while streaming
        raise ImportFileError(damaged) from None
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


# Reading the rows

def parse(data):
    """Read file bytes into a ParsedFile; a file-level problem raises ImportFileError."""
    budget = TimeBudget()
    rows = read_table(data)
    try:
        return parse_table(rows, budget)
    finally:
        rows.close()  # stops the stream (and closes the workbook) when parsing ended early


def parse_table(table, budget=None):
    budget = budget or TimeBudget()
    result = ParsedFile()
    rows = iter(table)
    head = []
    for row in rows:
        head.append(row)
        if _is_header(row) or len(head) == HEADER_SEARCH_ROWS:
            break
    if not head or not _is_header(head[-1]):
        raise ImportFileError(_(
            "No header row found. The first row must be: target,period,value,comparator,note "
            "(or use the downloaded template)."
        ))
    header_line = len(head)
    header = head[-1]
    width = _header_width(header, header_line)
    _read_sheet_labels(head[:-1], result)
    columns = _map_columns(header[:width], header_line, result)
    if result.problems:
        return result  # the body is not read when the header is wrong
    limit = settings.IMPORT_MAX_ROWS
    last_line = header_line + limit * ALL_ROWS_FACTOR
    filled = 0
    for line, row in enumerate(rows, start=header_line + 1):
        budget.check()
        row = row[:width]
        if all(value is None or value == "" for value in row):
            if line > last_line:
                raise ImportFileError(_(
                    "The sheet goes on for more than %(count)s rows, most of them empty. Delete the empty rows "
                    "below the figures, or save the sheet as CSV."
                ) % {"count": f"{last_line:,}"}, line=line)
            continue
        filled += 1
        if filled > limit:
            raise ImportFileError(_(
                "The file has more than %(limit)s rows; at most %(limit)s rows can be imported at once. "
                "Split it into smaller files."
            ) % {"limit": f"{limit:,}"}, line=line)
        _parse_row(row, line, columns, result)
    return result


def _shown(value):
    """Cell text as quoted back in a message: never more than SHOWN_CHARS characters."""
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def _is_empty(value):
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    return len(text) <= 8 and _fold(text) in BLANK_MARKERS  # every marker is short; long notes are not folded


def _is_header(row):
    aliases = _aliases()
    return any(isinstance(v, str) and len(v) < 100 and aliases.get(_fold(v)) == "target"
               for v in row[:HEADER_SEARCH_COLUMNS])


def _header_width(header, line):
    """The header's columns up to its last filled cell; more than IMPORT_MAX_COLUMNS is refused."""
    width = len(header)
    while width and _is_empty(header[width - 1]):
        width -= 1
    limit = settings.IMPORT_MAX_COLUMNS
    if width > limit:
        raise ImportFileError(_(
            "The header row has more than %(limit)s columns. Delete the columns the import does not need."
        ) % {"limit": limit}, line=line)
    return width


def _read_sheet_labels(rows, result):
    """The template's unit and period cells: a label followed by its value."""
    labels = _sheet_aliases()
    for line, row in enumerate(rows, start=1):
        cells = [v for v in row[:HEADER_SEARCH_COLUMNS] if not _is_empty(v)]
        if len(cells) < 2 or not isinstance(cells[0], str):
            continue
        key = labels.get(_fold(cells[0]))
        if key == "unit":
            result.sheet_unit = _shown(cells[1]).strip()
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
        key = aliases.get(_fold(cell)) if isinstance(cell, str) and len(cell) < 100 else None
        if key is None:
            result.problems.append(Problem(line, _shown(cell), _(
                "Unknown column '%(name)s'. The columns are: target,period,value,comparator,note."
            ) % {"name": _shown(cell)}, letter))
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
    if len(code) > CODE_MAX_CHARS:
        problem("target", _("'%(code)s' is not a target code: codes have at most %(limit)s characters.") % {
            "code": _shown(code), "limit": CODE_MAX_CHARS})
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
    for message in validate_entry_text({"note": note}).values():
        problem("note", message)  # checked here too, so an overlong note is never kept in the preview
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
        raise ValueError(_("'%(text)s' is not a period of the form YYYY-MM.") % {"text": _shown(text)})
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
        raise ValueError(_("'%(value)s' is not a number.") % {"value": _shown(value)})
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
            raise ValueError(_("'%(value)s' is not a number.") % {"value": _shown(value)})
    if not number.is_finite():
        raise ValueError(_("'%(value)s' is not a number.") % {"value": _shown(value)})
    if abs(number) >= MAX_ABS:
        raise ValueError(_("%(value)s is too large.") % {"value": _shown(value)})
    if number.as_tuple().exponent < PLACES.as_tuple().exponent:
        # Four decimal places are stored; Excel's long fractions are rounded, not refused.
        number = number.quantize(PLACES, rounding=ROUND_HALF_UP)
    return number
