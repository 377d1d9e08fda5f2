"""`manage.py import_progress`: bad input writes nothing, rights via --user, history, counts."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from tests.factories import make_entry, make_plan, make_target, make_unit, make_user
from tests.import_helpers import csv_bytes, fill_template, xlsx_bytes
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.imports.service import run_import
from tracker.imports.workbook import build_template
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def unit():
    return make_unit("qiaocheng", name="谯城区")


@pytest.fixture
def firms(unit):
    return make_target(Target.Kind.CUMULATIVE, code="NEW-FIRMS", lead_unit=unit)


@pytest.fixture
def growth(unit):
    return make_target(Target.Kind.MARGIN, code="VA-GROWTH", lead_unit=unit, combined_jan_feb=True)


def run(tmp_path, data, *args, name="progress.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_progress", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(tmp_path, data, *args, name="progress.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_progress", str(path), *args, stdout=out, stderr=err)
    return err.getvalue().splitlines(), str(exc.value)


def test_it_imports_a_csv_and_prints_the_counts(tmp_path, firms, growth):
    out, err = run(tmp_path, csv_bytes([
        ["NEW-FIRMS", "2022-03", "12", "", "新增12家"],
        ["VA-GROWTH", "2022-03", "9.6%", "8.8", ""],
    ]))
    assert out.strip() == "Imported: 2 created, 0 changed, 0 unchanged, 0 empty rows left out."
    assert err == ""
    entries = {e.target.code: e for e in ProgressEntry.objects.select_related("target")}
    assert entries["NEW-FIRMS"].value == Decimal("12") and entries["NEW-FIRMS"].note == "新增12家"
    assert (entries["VA-GROWTH"].value, entries["VA-GROWTH"].comparator) == (Decimal("9.6"), Decimal("8.8"))


def test_it_records_history_as_a_system_import_without_user(tmp_path, firms):
    run(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", ""]]))
    change = Change.objects.get()
    assert (change.user, change.source, change.action) == (None, "import", Change.Action.CREATE)
    assert change.changes["value"] == [None, "12"]
    assert ProgressEntry.objects.get().entered_by is None


def test_it_counts_changed_and_unchanged_and_reimporting_adds_no_history(tmp_path, firms, growth):
    rows = [["NEW-FIRMS", "2022-03", "12", "", ""], ["VA-GROWTH", "2022-03", "9.6", "8.8", ""]]
    run(tmp_path, csv_bytes(rows))
    assert Change.objects.count() == 2
    out, _ = run(tmp_path, csv_bytes(rows))
    assert out.strip() == "Imported: 0 created, 0 changed, 2 unchanged, 0 empty rows left out."
    assert Change.objects.count() == 2
    rows[0][2] = "13"
    out, _ = run(tmp_path, csv_bytes(rows))
    assert out.strip() == "Imported: 0 created, 1 changed, 1 unchanged, 0 empty rows left out."
    assert Change.objects.count() == 3
    assert Change.objects.first().changes["value"] == ["12", "13"]


def test_it_writes_nothing_in_a_dry_run(tmp_path, firms):
    out, _ = run(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", ""]]), "--dry-run")
    assert out.strip() == "Dry run, nothing written: 1 to create, 0 to change, 0 unchanged, 0 empty rows left out."
    assert ProgressEntry.objects.count() == 0 and Change.objects.count() == 0


def test_it_leaves_stored_figures_alone_for_empty_cells(tmp_path, growth):
    make_entry(growth, 3, Decimal("9"), comparator=Decimal("8"), note="原说明")
    out, _ = run(tmp_path, csv_bytes([["VA-GROWTH", "2022-03", "9.5", "8", ""]]))
    entry = ProgressEntry.objects.get()
    assert (entry.value, entry.note) == (Decimal("9.5"), "原说明")


def test_it_applies_the_users_unit_rights_and_names_them_in_history(tmp_path, unit, firms):
    other = make_target(Target.Kind.CUMULATIVE, code="OTHER-UNIT", lead_unit=make_unit("guoyang"))
    clerk = make_user("clerk-qc", unit=unit)
    data = csv_bytes([["NEW-FIRMS", "2022-03", "12", "", ""], ["OTHER-UNIT", "2022-03", "5", "", ""]])
    lines, summary = fails(tmp_path, data, "--user", "clerk-qc")
    assert lines == ["row 3, Target code (A): You may not enter figures for OTHER-UNIT (another unit's target)."]
    assert summary == "1 problem; nothing was written."
    assert ProgressEntry.objects.count() == 0, "the allowed row must not be written either"

    run(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", ""]]), "--user", "clerk-qc")
    change = Change.objects.get()
    assert (change.user, change.source) == (clerk, "import")
    assert ProgressEntry.objects.get(target=firms).entered_by == clerk
    # Without --user the same file covers every unit.
    run(tmp_path, csv_bytes([["OTHER-UNIT", "2022-03", "5", "", ""]]))
    assert ProgressEntry.objects.get(target=other).value == 5


def test_it_refuses_a_leader_who_reads_but_does_not_enter(tmp_path, unit, firms):
    make_user("boss", unit=unit, role=Membership.Role.LEADER)
    lines, _ = fails(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", ""]]), "--user", "boss")
    assert lines == ["row 2, Target code (A): You may not enter figures for NEW-FIRMS (another unit's target)."]


def test_it_refuses_an_unknown_user(tmp_path, firms):
    _, summary = fails(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", ""]]), "--user", "nobody")
    assert summary == "No active user named 'nobody'."


def test_it_reports_every_bad_row_with_row_column_and_reason(tmp_path, firms, growth):
    future = make_plan(year=datetime.date.today().year + 1)
    make_target(Target.Kind.CUMULATIVE, code="NEXT-YEAR", plan=future)
    lines, summary = fails(tmp_path, csv_bytes([
        ["NEW-FIRMS", "2022-03", "12", "", ""],      # a good row: still not written
        ["NO-SUCH", "2022-03", "1", "", ""],
        ["NEW-FIRMS", "2022-13", "1", "", ""],
        ["NEXT-YEAR", f"{future.year}-01", "1", "", ""],
        ["NEW-FIRMS", "2022-04", "abc", "", ""],
        ["NEW-FIRMS", "2022-05", "=SUM(A1)", "", ""],
        ["VA-GROWTH", "2022-03", "9", "", ""],
        ["NEW-FIRMS", "2022-03", "13", "", ""],
        ["VA-GROWTH", "2022-01", "9", "8", ""],
        ["NEW-FIRMS", "2021-12", "1", "", ""],
        ["NEW-FIRMS", "2022-06", "-4", "", ""],
    ]))
    assert lines == [
        "row 3, Target code (A): Unknown target code 'NO-SUCH'.",
        "row 4, Period (B): '2022-13' is not a period of the form YYYY-MM.",
        f"row 5, Period (B): The period {future.year}-01 is in the future.",
        "row 6, Year-to-date value (C): 'abc' is not a number.",
        "row 7, Year-to-date value (C): Formulas are not accepted; type the value itself.",
        "row 8, Comparator (D): Enter the comparator (全省) for the same months.",
        "row 9, Target code (A): NEW-FIRMS appears twice for 2022-03.",
        "row 10, Period (B): VA-GROWTH is reported for January and February together; "
        "enter it for February (1~2月).",
        "row 11, Period (B): The period 2021-12 is outside the plan's year 2022.",
        "row 12, Year-to-date value (C): A count or amount cannot be negative.",
    ]
    assert summary == "10 problems; nothing was written."
    assert ProgressEntry.objects.count() == 0 and Change.objects.count() == 0


def test_it_refuses_to_change_an_approved_entry(tmp_path, firms, growth):
    make_entry(firms, 3, Decimal("10"), state=ProgressEntry.State.APPROVED)
    lines, _ = fails(tmp_path, csv_bytes([
        ["VA-GROWTH", "2022-03", "9", "8", ""],
        ["NEW-FIRMS", "2022-03", "11", "", ""],
    ]))
    assert lines == ["row 3, Year-to-date value (C): NEW-FIRMS 2022-03 is approved and locked; "
                     "a reviewer must reopen it first."]
    assert ProgressEntry.objects.count() == 1 and ProgressEntry.objects.get().value == 10
    # The same figure again is not a change, so it passes.
    out, _ = run(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "10", "", ""]]))
    assert "1 unchanged" in out


def test_it_refuses_wrong_columns(tmp_path, firms):
    lines, _ = fails(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12"]], header=["code", "month", "value"]))
    assert lines == [
        "row 1, month (B): Unknown column 'month'. The columns are: target,period,value,comparator,note.",
        "row 1, Period: The column 'period' is missing.",
        "row 1, Comparator: The column 'comparator' is missing.",
        "row 1, Note: The column 'note' is missing.",
    ]


def test_it_refuses_a_file_over_the_size_limit_unread(tmp_path, firms, settings):
    settings.IMPORT_MAX_BYTES = 60
    _, summary = fails(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", ""]] * 3))
    assert summary == "The file is 109 bytes; the limit is 60 bytes."


def test_it_reads_gb18030_and_utf8_bom_files(tmp_path, firms):
    run(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", "亳州新增规上企业"]], encoding="gb18030"))
    assert ProgressEntry.objects.get().note == "亳州新增规上企业"
    run(tmp_path, csv_bytes([["NEW-FIRMS", "2022-04", "13", "", "谯城区"]], bom=True))
    assert ProgressEntry.objects.get(month=4).note == "谯城区"


def test_it_refuses_another_encoding_clearly(tmp_path, firms):
    lines, _ = fails(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "12", "", "谯城区"]], encoding="utf-16"))
    assert lines == ["file: The file is saved as UTF-16, which is not accepted. "
                     "Save it as CSV UTF-8, as CSV (GB18030) or as .xlsx."]


def test_it_imports_an_xlsx_with_the_same_header(tmp_path, firms):
    out, _ = run(tmp_path, xlsx_bytes([["NEW-FIRMS", "2022-03", 12, None, "ok"]]), name="p.xlsx")
    assert "1 created" in out
    assert ProgressEntry.objects.get().value == 12


def test_it_keeps_the_query_count_flat_as_rows_grow(unit):
    def import_size(n):
        codes = [make_target(Target.Kind.CUMULATIVE, lead_unit=unit).code for _ in range(n)]
        data = csv_bytes([[code, "2022-03", "1", "", ""] for code in codes])
        with CaptureQueriesContext(connection) as queries:
            report = run_import(None, data)
        assert report.ok and report.created == n
        return len(queries)

    assert import_size(5) == import_size(60)


def test_it_exits_non_zero_from_the_command_line(tmp_path, firms, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["NEW-FIRMS", "2022-03", "abc", "", ""]]))
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "import_progress", str(path), "--skip-checks"]).execute()
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "row 2, Year-to-date value (C): 'abc' is not a number." in err
    assert "1 problem; nothing was written." in err


def test_a_change_bumps_the_version_and_reopens_a_returned_entry(tmp_path, unit, firms):
    clerk = make_user("clerk-qc", unit=unit)
    entry = make_entry(firms, 3, Decimal("10"), state=ProgressEntry.State.RETURNED, version=4)
    untouched = make_entry(firms, 2, Decimal("7"), state=ProgressEntry.State.SUBMITTED, version=2)
    run(tmp_path, csv_bytes([["NEW-FIRMS", "2022-03", "11", "", ""], ["NEW-FIRMS", "2022-02", "7", "", ""]]),
        "--user", "clerk-qc")
    entry.refresh_from_db()
    assert (entry.value, entry.version, entry.state, entry.entered_by) == (
        Decimal("11"), 5, ProgressEntry.State.DRAFT, clerk)
    assert entry.updated_at > untouched.updated_at
    untouched.refresh_from_db()
    assert (untouched.version, untouched.state, untouched.entered_by) == (2, ProgressEntry.State.SUBMITTED, None)


def test_it_imports_the_template_saved_as_gb18030_csv(tmp_path, unit, firms, growth):
    with translation.override("zh-hans"):
        filled = fill_template(build_template(unit, 2022, 4), {
            "NEW-FIRMS": {"本期累计值": 45, "备注": "谯城区4月新增"},
            "VA-GROWTH": {"本期累计值": 9.6, "对比值": 8.9},
        })
    # What Excel on a Chinese Windows writes for "CSV (逗号分隔)": every cell as text, GB18030.
    sheet = load_workbook(io.BytesIO(filled)).active
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True))
    out, _ = run(tmp_path, text.encode("gb18030"))
    assert out.strip() == "Imported: 2 created, 0 changed, 0 unchanged, 0 empty rows left out."
    firms_entry = ProgressEntry.objects.get(target=firms)
    assert (firms_entry.year, firms_entry.month, firms_entry.value, firms_entry.note) == (
        2022, 4, Decimal("45"), "谯城区4月新增")
    assert ProgressEntry.objects.get(target=growth).comparator == Decimal("8.9")
