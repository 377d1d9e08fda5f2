"""Building CSV and XLSX files for the import tests."""

import io

from openpyxl import Workbook, load_workbook

HEADER = ["target", "period", "value", "comparator", "note"]


def csv_bytes(rows, header=HEADER, encoding="utf-8", bom=False):
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows, header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fill_template(data, values):
    """Fill a downloaded template: values maps target code -> {column header: value}."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    header_row = next(r for r in range(1, 10) if sheet.cell(r, 1).value in ("目标编号", "Target code"))
    columns = {sheet.cell(header_row, c).value: c for c in range(1, sheet.max_column + 1)}
    for row in range(header_row + 1, sheet.max_row + 1):
        code = sheet.cell(row, 1).value
        for header, value in values.get(code, {}).items():
            sheet.cell(row, columns[header]).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
