"""Limits that protect the service: rows, columns, text length, XLSX unpacked size, reading time, CSV quotes,
a paged problem list. Every bad file is a clear problem on the preview (never a 500, never half an import)."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from tests.factories import make_target, make_unit, make_user
from tests.import_helpers import HEADER, csv_bytes, handmade_xlsx, xlsx_bomb, xlsx_bytes, xlsx_row
from tracker.imports.models import ImportBatch
from tracker.imports.parsing import ImportFileError, parse
from tracker.imports.service import run_import
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refused(data):
    with pytest.raises(ImportFileError) as exc:
        parse(data)
    return exc.value


ROW = ["T1", "2022-03", "1", "", ""]


# Rows

def test_it_refuses_a_file_with_more_rows_than_the_limit_and_names_the_first_row_over_it(settings):
    settings.IMPORT_MAX_ROWS = 3
    assert len(parse(csv_bytes([ROW] * 3)).rows) == 3
    error = refused(csv_bytes([ROW] * 4))
    assert str(error) == ("The file has more than 3 rows; at most 3 rows can be imported at once. "
                          "Split it into smaller files.")
    assert error.line == 5


def test_blank_lines_do_not_count_towards_the_row_limit(settings):
    settings.IMPORT_MAX_ROWS = 2
    assert [r.line for r in parse(csv_bytes([ROW, [], [""] * 5, [], ROW])).rows] == [2, 6]


def test_a_sheet_of_endless_empty_rows_is_refused_too(settings):
    settings.IMPORT_MAX_ROWS = 2  # so at most 20 rows in all, empty ones included
    # A row numbered far down: the XLSX reader makes up the empty rows in between, the CSV has them.
    far = '<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>'
    assert len(parse(handmade_xlsx([xlsx_row(HEADER), xlsx_row(ROW), far % (21, 21)])).rows) == 1
    error = refused(handmade_xlsx([xlsx_row(HEADER), xlsx_row(ROW), far % (1000, 1000)]))
    assert str(error) == ("The sheet goes on for more than 21 rows, most of them empty. Delete the empty rows "
                          "below the figures, or save the sheet as CSV.")
    assert error.line == 22
    error = refused(csv_bytes([ROW] + [[]] * 1000))
    assert str(error) == ("The sheet goes on for more than 21 rows, most of them empty. Delete the empty rows "
                          "below the figures, or save the sheet as CSV.")
    assert error.line == 22


def test_it_stops_reading_at_the_row_limit(settings):
    settings.IMPORT_MAX_ROWS = 2
    # A broken quote after the limit is never reached: the file is refused for its size alone.
    data = csv_bytes([ROW] * 3) + b'T9,2022-03,1,,"never closed\r\n'
    assert "more than 2 rows" in str(refused(data))


def test_it_streams_an_xlsx_and_stops_at_the_row_limit(settings):
    settings.IMPORT_MAX_ROWS = 5
    assert "more than 5 rows" in str(refused(xlsx_bytes([ROW] * 6)))


# Columns and the header

def test_it_refuses_a_header_wider_than_the_column_limit_with_a_clear_message():
    header = HEADER + [f"x{i}" for i in range(18_280)]
    for data in (csv_bytes([ROW], header=header), xlsx_bytes([ROW], header=header[:16_384])):
        error = refused(data)
        assert str(error) == "The header row has more than 50 columns. Delete the columns the import does not need."
        assert error.line == 1


def test_a_header_of_exactly_the_column_limit_is_read(settings):
    settings.IMPORT_MAX_COLUMNS = 6
    header = HEADER + ["name"]
    for data in (csv_bytes([ROW + ["x"]], header=header), xlsx_bytes([ROW + ["x"]], header=header)):
        assert len(parse(data).rows) == 1
    with pytest.raises(ImportFileError, match="more than 6 columns"):
        parse(xlsx_bytes([ROW], header=header + ["hint"]))


def test_empty_cells_after_the_header_do_not_count_as_columns():
    assert len(parse(csv_bytes([ROW], header=HEADER + [""] * 500)).rows) == 1


def test_the_header_is_checked_before_the_body_is_read():
    # The body's broken quote is never reached: the header's problem is the only one.
    data = csv_bytes([ROW], header=["target", "period", "amount", "comparator", "note"]) + b'T2,"x\r\n'
    parsed = parse(data)
    assert [p.message for p in parsed.problems] == [
        "Unknown column 'amount'. The columns are: target,period,value,comparator,note.",
        "The column 'value' is missing."]
    assert parsed.rows == []


def test_cell_text_is_cut_short_when_quoted_back_in_a_message():
    parsed = parse(csv_bytes([["T1", "2022-03", "九" * 5000, "", ""]]))
    (problem,) = parsed.problems
    assert problem.message == f"'{'九' * 40}…' is not a number."


def test_an_overlong_target_code_is_refused_on_its_row():
    parsed = parse(csv_bytes([["C" * 41, "2022-03", "1", "", ""]]))
    assert [(p.line, p.column) for p in parsed.problems] == [(2, "target")]
    assert "codes have at most 40 characters" in parsed.problems[0].message


# Text length

def test_an_import_refuses_an_overlong_note_on_its_row_and_keeps_nothing_of_it(settings):
    settings.ENTRY_TEXT_MAX_CHARS = 10
    unit = make_unit("qiaocheng")
    make_target(code="T1", lead_unit=unit)
    report = run_import(make_user("clerk", unit=unit), csv_bytes([["T1", "2022-03", "4", "", "n" * 11]]),
                        dry_run=True)
    assert [(p.line, p.column, p.message) for p in report.problems] == [
        (2, "note", "This text has 11 characters; at most 10 are allowed.")]
    assert report.rows == []


def test_an_xlsx_with_a_huge_note_is_refused_before_it_is_read(settings):
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = 200_000
    data = handmade_xlsx([xlsx_row(HEADER), xlsx_row(["T1", "2022-03", "1", "", "x" * 300_000])])
    assert len(data) < 5_000
    assert re.match(r"The \.xlsx file unpacks to 30\d,\d{3} bytes, more than the 200,000 allowed", str(refused(data)))


# XLSX size and damage

def test_it_refuses_an_xlsx_that_unpacks_to_more_than_the_limit_by_the_declared_sizes(settings):
    settings.IMPORT_XLSX_MAX_UNPACKED_BYTES = 1_000_000
    bomb = xlsx_bomb(3_000_000)  # a little under 3 MB
    assert len(bomb) < 30_000
    message = str(refused(bomb))
    assert re.match(r"The \.xlsx file unpacks to 2,9\d\d,\d{3} bytes, more than the 1,000,000 allowed", message)
    assert message.endswith("more than the 1,000,000 allowed, so it is not read. Delete what the import "
                            "does not need (other sheets, pictures, very long texts) or save it as CSV.")


SHEET_TOO_BIG = ("A sheet of the .xlsx file holds more than 100 rows, 60 cells or 16,384 cells in a row, far more "
                 "than an import can use. Delete the empty rows and columns around the figures, or save the sheet "
                 "as CSV.")


@pytest.mark.parametrize("body", [
    b"<row/>" * 101,  # openpyxl would read every row on opening (no size record) and keep a little of each
    b"<row><c/><c/><c/><c/><c/><c/></row>" * 11,
    b'<x:row><x:c r="A2"/></x:row>' * 101,  # with a namespace prefix
    b"<row>" + b"<c/>" * 16_385 + b"</row>",  # one row's cells are held all at once
])
def test_it_counts_a_sheets_rows_and_cells_before_opening_it(settings, body):
    settings.IMPORT_MAX_ROWS = 10
    settings.IMPORT_MAX_COLUMNS = 6
    if body.startswith(b"<row>") and len(body) > 60_000:
        settings.IMPORT_MAX_ROWS = 10_000  # the total is not the limit here, the row is
        message = SHEET_TOO_BIG.replace("100 rows, 60 cells", "100,000 rows, 60,000 cells")
    else:
        message = SHEET_TOO_BIG
    assert str(refused(handmade_xlsx([xlsx_row(HEADER), body]))) == message


def test_rows_and_cells_within_the_sheet_limits_are_read(settings):
    settings.IMPORT_MAX_ROWS = 10
    settings.IMPORT_MAX_COLUMNS = 6
    parsed = parse(handmade_xlsx([xlsx_row(HEADER), xlsx_row(ROW) * 9, b"<row/>" * 80]))
    assert len(parsed.rows) == 9


def test_an_xlsx_damaged_further_down_the_sheet_is_refused_cleanly():
    data = handmade_xlsx([xlsx_row(HEADER), xlsx_row(ROW), "<row><c t=\"inlineStr\"><is><t>broken"])
    assert str(refused(data)) == "The .xlsx file is damaged and cannot be opened."


def test_an_xml_entity_bomb_is_refused_as_damaged():
    entities = '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]>"
    data = handmade_xlsx([xlsx_row(HEADER), '<row><c t="inlineStr"><is><t>&i;</t></is></c></row>'],
                         prolog=entities)
    assert "damaged" in str(refused(data))


def test_a_percentage_and_a_formula_still_read_in_streaming_mode():
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["T1", "2022-03", 0.125, None, None])
    sheet.append(["T2", "2022-03", "=1+1", None, None])
    sheet["C2"].number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    parsed = parse(out.getvalue())
    assert [str(r.value) for r in parsed.rows] == ["12.500"]
    assert [(p.line, p.message) for p in parsed.problems] == [
        (3, "Formulas are not accepted; type the value itself.")]


# Time

def test_reading_stops_when_the_time_budget_is_spent(settings):
    settings.IMPORT_TIME_BUDGET_SECONDS = 0
    assert str(refused(csv_bytes([ROW] * 50))) == (
        "Reading the file took longer than 0 seconds, the limit. Split it into smaller files, or save it as CSV.")


# CSV quotes

def test_an_unclosed_quote_is_an_error_on_its_row_instead_of_swallowing_the_rows_after_it():
    data = csv_bytes([ROW]) + b'T2,2022-03,2,,"starts here\r\nT3,2022-03,3,,fine\r\nT4,2022-03,4,,fine\r\n'
    error = refused(data)
    assert error.line == 3
    assert str(error) == (
        "Row 3 (line 3 of the file): its quotation marks (\") do not pair up, so this row and the ones after it "
        "cannot be read reliably. Close or remove the quote, then upload the file again.")


def test_a_quote_closed_by_a_later_cell_is_an_error_too():
    data = csv_bytes([ROW]) + b'T2,2022-03,2,,"starts here\r\nT3,2022-03,3,,"a, b"\r\n'
    assert refused(data).line == 3


def test_a_quote_that_swallows_rows_up_to_a_stray_quote_is_caught():
    data = csv_bytes([ROW]) + b'T2,2022-03,2,,"starts here\r\nT3,2022-03,3,,"\r\nT4,2022-03,4,,\r\n'
    error = refused(data)
    assert error.line == 3
    assert "look like rows of their own (“T3,2022-03,3,,”): a quotation mark (\") is probably not closed" in str(
        error)


def test_multi_line_notes_and_quotes_inside_text_still_read():
    data = csv_bytes([ROW]) + '"T2",2022-03,2,,"第一项，完成\r\n第二项，推进中"\r\nT3,2022-03,3,,他说"好"\r\n'.encode()
    parsed = parse(data)
    assert parsed.problems == []
    assert [r.note for r in parsed.rows] == ["", "第一项，完成\r\n第二项，推进中", '他说"好"']


def test_a_cell_longer_than_the_csv_reader_allows_is_a_clear_error():
    error = refused(csv_bytes([["T1", "2022-03", "1", "", "x" * 200_000]]))
    assert str(error) == "Row 2 (line 2 of the file): a cell is far too long to be read."


# Through the upload page: a problem on the preview, never a 500, nothing written

@pytest.fixture
def clerk_client(client):
    unit = make_unit("qiaocheng")
    make_target(code="T1", lead_unit=unit)
    client.force_login(make_user("clerk", unit=unit))
    client.cookies["django_language"] = "en"
    return client


def upload(client, data, name):
    response = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.status_code
    return ImportBatch.objects.latest("pk"), client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("name, make, message", [
    ("wide.csv", lambda: csv_bytes([ROW], header=HEADER + [f"x{i}" for i in range(18_280)]), "more than 50 columns"),
    ("quote.csv", lambda: csv_bytes([ROW]) + b'T1,2022-04,2,,"open\r\n', "quotation marks (&quot;) do not pair up"),
    ("bomb.xlsx", lambda: xlsx_bomb(60 * 1024 * 1024), "unpacks to 6"),
    ("sjis.csv", lambda: csv_bytes([["T1", "2022-03", "1", "", "今月の進捗は計画どおりです"]], encoding="cp932"),
     "looks like Shift-JIS text"),
])
def test_a_bad_file_is_a_problem_on_the_preview_and_nothing_is_written(clerk_client, name, make, message):
    batch, page = upload(clerk_client, make(), name)
    assert message in page
    assert not batch.can_confirm and not batch.can_refresh and batch.rows == []
    assert not ProgressEntry.objects.exists()


def test_too_many_rows_is_a_problem_on_the_preview(clerk_client, settings):
    settings.IMPORT_MAX_ROWS = 10
    batch, page = upload(clerk_client, csv_bytes([ROW] * 11), "many.csv")
    assert "The file has more than 10 rows" in page
    assert batch.problems[0]["line"] == 12 and not batch.can_confirm


def test_the_preview_pages_its_problems(clerk_client):
    batch, page = upload(clerk_client, csv_bytes([["T1", f"2022-{m:02d}", "x", "", ""] for m in (1, 2)] * 225),
                         "bad.csv")
    assert len(batch.problems) == 450
    assert "450 problems found." in page
    assert "Showing problems 1 to 200 of 450." in page
    assert page.count("is not a number.</td>") == 200
    assert '<a href="?problems=2">next ›</a>' in page
    last = clerk_client.get(reverse("imports:batch", args=[batch.pk]), {"problems": 3}).content.decode()
    assert "Showing problems 401 to 450 of 450." in last
    assert last.count("is not a number.</td>") == 50


def test_the_upload_form_states_the_limits(clerk_client):
    page = clerk_client.get(reverse("imports:upload")).content.decode()
    assert "at most 20,000 rows and 5.0\xa0MB" in page
