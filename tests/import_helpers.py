"""Building CSV and XLSX files for the import tests."""

import io
import zipfile

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


XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        '</Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        '</Relationships>'),
}
SHEET_START = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_END = "</sheetData></worksheet>"


def xlsx_row(values):
    """One <row> of inline-string cells, as a hand-made sheet holds them."""
    cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
    return f"<row>{cells}</row>"


def handmade_xlsx(sheet_chunks, prolog=""):
    """A minimal .xlsx whose sheet XML is SHEET_START + the chunks + SHEET_END, streamed into the zip
    (so a sheet of hundreds of megabytes never sits in memory). `prolog` goes before <worksheet>."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in XLSX_PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            start = SHEET_START
            if prolog:
                start = start.replace("<worksheet", prolog + "<worksheet", 1)
            sheet.write(start.encode())
            for chunk in sheet_chunks:
                sheet.write(chunk.encode() if isinstance(chunk, str) else chunk)
            sheet.write(SHEET_END.encode())
    return out.getvalue()


def xlsx_bomb(unpacked_bytes, header=HEADER):
    """A valid header, then the same empty-ish row repeated until the sheet is `unpacked_bytes` long."""
    row = xlsx_row(["T1"])
    block = row * (65536 // len(row))

    def chunks():
        yield xlsx_row(header)
        for _ in range(unpacked_bytes // len(block)):
            yield block

    return handmade_xlsx(chunks())
