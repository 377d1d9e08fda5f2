"""Reading CSV/XLSX files: layouts, numbers, periods, encodings and file-level errors."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import Workbook

from tests.import_helpers import csv_bytes, xlsx_bytes
from tracker.imports.parsing import ImportFileError, parse, parse_number, parse_period_cell


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def messages(parsed):
    return [(p.line, p.column, p.message) for p in parsed.problems]


def test_it_reads_a_plain_csv():
    parsed = parse(csv_bytes([["T1", "2022-03", "12.5", "", "按计划推进"], ["T2", "2022-03", "", "", ""]]))
    assert parsed.problems == []
    (row,) = parsed.rows
    assert (row.line, row.code, row.year, row.month, row.value, row.comparator, row.note) == (
        2, "T1", 2022, 3, Decimal("12.5"), None, "按计划推进")


@pytest.mark.parametrize("text, expected", [
    ("12.5", "12.5"), ("12.5%", "12.5"), (" 12.5 % ", "12.5"), ("-3", "-3"), ("1,234.5", "1234.5"),
    ("１２．５", "12.5"), ("\u22122.1", "-2.1"), ("0", "0"), ("8.333333333", "8.3333"), (7, "7"),
    (0.1, "0.1"),
])
def test_it_accepts_common_ways_of_writing_a_number(text, expected):
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text, reason", [
    ("abc", "'abc' is not a number."),
    ("=SUM(A1)", "Formulas are not accepted; type the value itself."),
    ("12,5", "'12,5' is not a number."),
    ("NaN", "'NaN' is not a number."),
    ("1e3", "'1e3' is not a number."),
    (True, "'True' is not a number."),
    ("9999999999999", "9999999999999 is too large."),
])
def test_it_refuses_what_is_not_a_number(text, reason):
    with pytest.raises(ValueError) as exc:
        parse_number(text)
    assert str(exc.value) == reason


@pytest.mark.parametrize("text", ["2022-03", "2022-3", "2022/03", "2022年3月", "2022年1~3月", "2022年1—3月",
                                  "2022年1-3月", datetime.datetime(2022, 3, 1)])
def test_it_reads_a_period_in_the_usual_spellings(text):
    assert parse_period_cell(text) == (2022, 3)


@pytest.mark.parametrize("text", ["2022-13", "March", "22-03", "2022"])
def test_it_refuses_a_bad_period(text):
    with pytest.raises(ValueError, match="is not a period of the form YYYY-MM"):
        parse_period_cell(text)


def test_it_reports_text_and_formulas_in_number_cells_with_row_and_column():
    parsed = parse(csv_bytes([["T1", "2022-03", "abc", "", ""], ["T2", "2022-03", "=SUM(A1)", "", ""],
                              ["T3", "2022-03", "5", "x1", ""]]))
    assert parsed.rows == []
    assert messages(parsed) == [
        (2, "value", "'abc' is not a number."),
        (3, "value", "Formulas are not accepted; type the value itself."),
        (4, "comparator", "'x1' is not a number."),
    ]
    assert str(parsed.problems[0]) == "row 2, Year-to-date value (C): 'abc' is not a number."


def test_it_refuses_a_formula_cell_in_a_spreadsheet():
    parsed = parse(xlsx_bytes([["T1", "2022-03", "=1+1", None, None], ["T2", "2022-03", 4, None, None]]))
    assert messages(parsed) == [(2, "value", "Formulas are not accepted; type the value itself.")]
    assert [r.code for r in parsed.rows] == ["T2"]


def test_it_reads_a_percentage_formatted_cell_as_percent():
    book = Workbook()
    sheet = book.active
    sheet.append(["target", "period", "value", "comparator", "note"])
    sheet.append(["T1", datetime.datetime(2022, 3, 1), 0.125, None, None])
    sheet["C2"].number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    (row,) = parse(out.getvalue()).rows
    assert (row.year, row.month, row.value) == (2022, 3, Decimal("12.5"))


@pytest.mark.parametrize("header, expected", [
    (["target", "period", "amount", "comparator", "note"], [
        (1, "amount", "Unknown column 'amount'. The columns are: target,period,value,comparator,note."),
        (1, "value", "The column 'value' is missing."),
    ]),
    (["target", "period", "value"], [
        (1, "comparator", "The column 'comparator' is missing."),
        (1, "note", "The column 'note' is missing."),
    ]),
    (["target", "value", "value", "comparator", "note"], [
        (1, "value", "The column appears twice."),
        (1, "period", "The column 'period' is missing."),
    ]),
])
def test_it_refuses_wrong_or_missing_columns(header, expected):
    parsed = parse(csv_bytes([["T1", "2022-03", "1", "", ""]], header=header))
    assert messages(parsed) == expected
    assert parsed.rows == []


ZH_HEADER = ["目标编号", "期间", "本期累计值", "对比值", "备注"]


def test_it_accepts_the_chinese_headers():
    parsed = parse(csv_bytes([["T1", "2022-03", "1", "", "备注"]], header=ZH_HEADER))
    assert parsed.problems == [] and parsed.rows[0].value == 1


def test_it_still_accepts_the_headers_of_older_templates():
    # Templates downloaded before the catalogue said 目标 for "target" are headed 指标编号 and 指标名称.
    header = ["指标编号", "指标名称", "期间", "本期累计值", "对比值", "备注"]
    parsed = parse(csv_bytes([["T1", "新增规上企业", "2022-03", "1", "", ""]], header=header))
    assert parsed.problems == [] and (parsed.rows[0].code, parsed.rows[0].value) == ("T1", 1)


def test_it_says_when_there_is_no_header():
    with pytest.raises(ImportFileError, match="No header row found"):
        parse(b"hello,world\r\n1,2\r\n")


def test_it_reads_utf8_with_and_without_bom_and_gb18030_alike():
    rows = [["T1", "2022-03", "12", "", "亳州：新增规上企业"]]
    for data in (csv_bytes(rows), csv_bytes(rows, bom=True), csv_bytes(rows, encoding="gb18030")):
        parsed = parse(data)
        assert parsed.problems == []
        assert parsed.rows[0].note == "亳州：新增规上企业"


def test_it_reads_gb18030_chinese_headers():
    data = csv_bytes([["T1", "2022-03", "12", "", "进展顺利"]], header=ZH_HEADER, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GB18030 bytes, as Excel on a Chinese Windows saves them
    assert parse(data).rows[0].note == "进展顺利"


@pytest.mark.parametrize("data, reason", [
    ("target,period,value,comparator,note\r\n".encode("utf-16"), "saved as UTF-16, which is not accepted"),
    (b"target,period,value,comparator,note\r\nT1,2022-03,1,,Caf\xe9\r\n", "neither UTF-8 nor GB18030"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel 97-2003 (.xls) file"),
    (b"PK\x03\x04 not really a zip", "damaged"),
    (b"\x00\x01binary", "not a CSV or XLSX file"),
])
def test_it_refuses_other_encodings_and_formats_clearly(data, reason):
    with pytest.raises(ImportFileError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse(data)


def test_it_refuses_a_file_over_the_size_limit(settings):
    settings.IMPORT_MAX_BYTES = 50
    with pytest.raises(ImportFileError, match="the limit is 50 bytes"):
        parse(csv_bytes([["T1", "2022-03", "1", "", ""]] * 5))


def test_it_skips_blank_lines_and_counts_unfilled_rows():
    parsed = parse(csv_bytes([["T1", "2022-03", "", "", ""], [], ["T2", "2022-03", "3", "", ""]]))
    assert [r.line for r in parsed.rows] == [4]
    assert parsed.skipped == 1


def test_it_speaks_chinese_by_default():
    with translation.override("zh-hans"):
        parsed = parse(csv_bytes([["T1", "2022-03", "abc", "", ""]]))
        assert str(parsed.problems[0]) == "第 2 行, 本期累计值 (C): “abc”不是数字。"
