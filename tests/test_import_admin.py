"""Admin: template download, upload with preview, confirm; the round trip and idempotent re-upload."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import make_entry, make_target, make_unit, make_user
from tests.import_helpers import csv_bytes, fill_template
from tracker.audit.models import Change
from tracker.imports.models import ImportBatch
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return make_unit("qiaocheng", name="谯城区")


@pytest.fixture
def targets(unit):
    return {
        "firms": make_target(Target.Kind.CUMULATIVE, code="NEW-FIRMS", name="新增规上企业", lead_unit=unit,
                             combined_jan_feb=True, order=1),
        "growth": make_target(Target.Kind.MARGIN, code="VA-GROWTH", name="规上工业增加值增速", lead_unit=unit,
                              combined_jan_feb=True, order=2),
        "platform": make_target(Target.Kind.CUMULATIVE, code="PLATFORM", name="工业互联网平台", lead_unit=unit,
                                order=3),
    }


@pytest.fixture
def clerk(unit):
    return make_user("clerk-qc", unit=unit)


@pytest.fixture
def client_en(client, clerk):
    client.force_login(clerk)
    client.cookies["django_language"] = "en"
    return client


def download(client, unit, period):
    response = client.get(reverse("imports:template"), {"unit": unit.pk, "period": period})
    assert response.status_code == 200, response.content[:500]
    return response


def upload(client, data, name="progress.xlsx"):
    response = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content[:2000]
    return ImportBatch.objects.latest("pk"), client.get(response["Location"])


def confirm(client, batch):
    return client.post(reverse("imports:confirm", args=[batch.pk]), follow=True)


def test_it_downloads_a_units_template_for_a_period(client_en, unit, targets):
    make_entry(targets["firms"], 2, Decimal("30"))
    make_entry(targets["firms"], 3, Decimal("41"))
    make_target(Target.Kind.CUMULATIVE, code="OTHER-UNIT", lead_unit=make_unit())
    response = download(client_en, unit, "2022-04")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="qiaocheng-2022-04.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "谯城区 2022-04"
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:3] == ["Unit", "qiaocheng", "谯城区"]
    assert cells[1][:3] == ["Period", "2022-04", "Jan–Apr 2022"]
    assert cells[3] == ["Target code", "Target name", "Unit of measure", "Target value", "Last figure",
                        "Last period", "Year-to-date value", "Comparator", "Note", "How to fill in"]
    rows = {row[0]: row for row in cells[4:]}
    assert list(rows) == ["NEW-FIRMS", "VA-GROWTH", "PLATFORM"]
    assert rows["NEW-FIRMS"][:8] == ["NEW-FIRMS", "新增规上企业", "家", 80, 41, "Jan–Mar 2022", None, "—"]
    assert rows["VA-GROWTH"][6:8] == [None, None], "a margin target needs value and comparator"
    assert rows["VA-GROWTH"][9] == ("Enter the year-to-date growth rate in percent and the comparator (全省) "
                                    "for the same months.")


def test_it_marks_combined_targets_as_not_expected_in_january(client_en, unit, targets):
    sheet = load_workbook(io.BytesIO(download(client_en, unit, "2022-01").content)).active
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=5)}
    assert rows["NEW-FIRMS"][6:8] == ["—", "—"]
    assert rows["NEW-FIRMS"][9] == "Not expected for January: reported together with February (1~2月)."
    assert rows["PLATFORM"][6] is None


def test_the_template_speaks_chinese_by_default(client, clerk, unit, targets):
    client.force_login(clerk)
    sheet = load_workbook(io.BytesIO(download(client, unit, "2022-04").content)).active
    assert [c.value for c in sheet[4]][:3] == ["目标编号", "目标名称", "计量单位"]
    assert sheet["A2"].value == "期间"


def test_the_template_takes_a_constant_number_of_queries(client_en, unit, django_assert_max_num_queries):
    for _ in range(3):
        make_target(Target.Kind.CUMULATIVE, lead_unit=unit)
    with django_assert_max_num_queries(12) as few:
        download(client_en, unit, "2022-04")
    for _ in range(40):
        make_entry(make_target(Target.Kind.CUMULATIVE, lead_unit=unit), 3, Decimal("1"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        download(client_en, unit, "2022-04")


def test_it_refuses_a_template_for_another_unit_or_a_bad_period(client_en, unit, targets):
    other = make_unit("guoyang")
    response = client_en.get(reverse("imports:template"), {"unit": other.pk, "period": "2022-04"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    for period, message in (("2022-13", "is not a period of the form YYYY-MM"), ("2031-01", "no plan for 2031")):
        response = client_en.get(reverse("imports:template"), {"unit": unit.pk, "period": period})
        assert message in response.content.decode()


def report_rows(client, year, month):
    response = client.get(reverse("reports:report", args=[year, f"{month:02d}"]))
    assert response.status_code == 200
    return {row["code"]: row for row in response.context["table"].data.data}


def test_round_trip_template_fill_upload_confirm(client_en, clerk, unit, targets):
    assert report_rows(client_en, 2022, 4)["NEW-FIRMS"]["actual"] is None
    template = download(client_en, unit, "2022-04").content
    filled = fill_template(template, {
        "NEW-FIRMS": {"Year-to-date value": 45, "Note": "4月新增4家"},
        "VA-GROWTH": {"Year-to-date value": "9.6%", "Comparator": 8.9},
    })
    batch, preview = upload(client_en, filled, "qiaocheng-2022-04.xlsx")
    page = preview.content.decode()
    assert "Preview of qiaocheng-2022-04.xlsx" in page
    assert [(r["code"], r["period"], r["value"], r["comparator"], r["outcome"]) for r in batch.rows] == [
        ("NEW-FIRMS", "2022-04", "45", "", "created"),
        ("VA-GROWTH", "2022-04", "9.6", "8.9", "created"),
    ]
    assert batch.skipped == 1  # PLATFORM left empty
    assert "Confirm and import" in page
    assert ProgressEntry.objects.count() == 0, "a preview writes nothing"

    done = confirm(client_en, batch)
    assert "Imported: 2 created, 0 changed, 0 unchanged." in done.content.decode()
    entries = {e.target.code: e for e in ProgressEntry.objects.select_related("target")}
    assert (entries["NEW-FIRMS"].value, entries["NEW-FIRMS"].note) == (Decimal("45"), "4月新增4家")
    assert (entries["VA-GROWTH"].value, entries["VA-GROWTH"].comparator) == (Decimal("9.6"), Decimal("8.9"))
    assert all(e.entered_by == clerk for e in entries.values())
    history = Change.objects.filter(source="import", user=clerk)
    assert history.count() == 2
    batch.refresh_from_db()
    assert (batch.status, batch.created, batch.changed, batch.unchanged) == ("applied", 2, 0, 0)

    # The monthly report shows the imported figures.
    shown = report_rows(client_en, 2022, 4)
    assert (shown["NEW-FIRMS"]["actual"], shown["NEW-FIRMS"]["as_of_month"]) == (Decimal("45"), 4)
    assert (shown["VA-GROWTH"]["actual"], shown["VA-GROWTH"]["comparator"]) == (Decimal("9.6"), Decimal("8.9"))
    assert shown["PLATFORM"]["actual"] is None

    # The next month's template shows the figures just imported as the last figures.
    sheet = load_workbook(io.BytesIO(download(client_en, unit, "2022-05").content)).active
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=5)}
    assert rows["NEW-FIRMS"][4:6] == [45, "Jan–Apr 2022"]
    assert rows["VA-GROWTH"][4] == 9.6


def test_uploading_the_same_file_again_changes_nothing_and_adds_no_history(client_en, unit, targets):
    data = csv_bytes([["NEW-FIRMS", "2022-04", "45", "", "note"], ["VA-GROWTH", "2022-04", "9.6", "8.9", ""]])
    batch, _ = upload(client_en, data, "p.csv")
    confirm(client_en, batch)
    history = Change.objects.count()
    versions = list(ProgressEntry.objects.order_by("pk").values_list("version", "updated_at"))

    again, preview = upload(client_en, data, "p.csv")
    assert [r["outcome"] for r in again.rows] == ["unchanged", "unchanged"]
    page = preview.content.decode()
    assert "Every row is the same as what is stored: confirming changes nothing." in page
    assert "The same file was already imported on" in page
    done = confirm(client_en, again)
    assert "Imported: 0 created, 0 changed, 2 unchanged." in done.content.decode()
    assert Change.objects.count() == history
    assert list(ProgressEntry.objects.order_by("pk").values_list("version", "updated_at")) == versions


def test_the_preview_shows_every_error_with_row_column_and_reason_and_cannot_be_confirmed(
        client_en, unit, targets):
    other = make_target(Target.Kind.CUMULATIVE, code="OTHER-UNIT", lead_unit=make_unit())
    data = csv_bytes([
        ["NEW-FIRMS", "2022-04", "45", "", ""],
        ["OTHER-UNIT", "2022-04", "3", "", ""],
        ["PLATFORM", "2022-04", "abc", "", ""],
    ])
    batch, preview = upload(client_en, data, "bad.csv")
    page = preview.content.decode()
    assert "2 problems found. Nothing will be written: fix the file and upload it again." in page
    assert ("<tr><td>3</td><td>Target code (A)</td>"
            "<td>You may not enter figures for OTHER-UNIT (another unit&#x27;s target).</td></tr>") in page
    assert "<tr><td>4</td><td>Year-to-date value (C)</td><td>&#x27;abc&#x27; is not a number.</td></tr>" in page
    assert [r["outcome"] for r in batch.rows] == ["created", "error"]
    assert "Confirm and import" not in page
    response = confirm(client_en, batch)
    assert "This import cannot be confirmed" in response.content.decode()
    assert ProgressEntry.objects.count() == 0 and not ProgressEntry.objects.filter(target=other).exists()


def test_confirm_checks_again_and_writes_nothing_if_an_entry_was_approved_meanwhile(client_en, unit, targets):
    entry = make_entry(targets["firms"], 4, Decimal("40"))
    batch, _ = upload(client_en, csv_bytes([["PLATFORM", "2022-04", "1", "", ""],
                                            ["NEW-FIRMS", "2022-04", "45", "", ""]]), "p.csv")
    assert [r["outcome"] for r in batch.rows] == ["created", "changed"]
    ProgressEntry.objects.filter(pk=entry.pk).update(state=ProgressEntry.State.APPROVED)
    page = confirm(client_en, batch).content.decode()
    assert "Nothing was written" in page
    assert "NEW-FIRMS 2022-04 is approved and locked" in page
    assert not ProgressEntry.objects.filter(target=targets["platform"]).exists()
    assert ProgressEntry.objects.get(pk=entry.pk).value == 40
    batch.refresh_from_db()
    assert batch.status == "previewed"


def test_the_upload_form_refuses_a_file_over_the_limit(client_en, unit, targets, settings):
    settings.IMPORT_MAX_BYTES = 40
    response = client_en.post(reverse("imports:upload"), {
        "file": SimpleUploadedFile("big.csv", csv_bytes([["NEW-FIRMS", "2022-04", "45", "", ""]] * 3))})
    assert response.status_code == 200
    assert "The file is 109 bytes; the limit is 40 bytes." in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_a_bad_encoding_is_shown_as_a_file_problem(client_en, unit, targets):
    batch, preview = upload(client_en, "target,period\r\n".encode("utf-16"), "u16.csv")
    assert "The file is saved as UTF-16, which is not accepted." in preview.content.decode()
    assert batch.rows == [] and not batch.can_confirm


def test_a_batch_belongs_to_its_uploader(client, unit, targets, clerk):
    client.force_login(clerk)
    batch, _ = upload(client, csv_bytes([["NEW-FIRMS", "2022-04", "45", "", ""]]), "p.csv")
    intruder = make_user("other-clerk", unit=make_unit())
    client.force_login(intruder)
    assert client.get(reverse("imports:batch", args=[batch.pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[batch.pk])).status_code == 404
    assert ProgressEntry.objects.count() == 0


def test_the_pages_need_a_staff_login(client, unit):
    for name in ("imports:upload", "imports:template"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_admin_lists_own_imports_with_links(client_en, clerk, unit, targets):
    batch, _ = upload(client_en, csv_bytes([["NEW-FIRMS", "2022-04", "45", "", ""]]), "mine.csv")
    ImportBatch.objects.create(user=make_user("someone"), file_name="theirs.csv", sha256="0" * 64, size=1)
    page = client_en.get(reverse("admin:imports_importbatch_changelist")).content.decode()
    assert "mine.csv" in page and "theirs.csv" not in page
    assert reverse("imports:upload") in page and reverse("imports:template") in page
    assert reverse("imports:batch", args=[batch.pk]) in page


def test_the_preview_pages_take_a_constant_number_of_queries(client_en, unit, django_assert_max_num_queries):
    codes = [make_target(Target.Kind.CUMULATIVE, lead_unit=unit).code for _ in range(80)]
    batch, _ = upload(client_en, csv_bytes([[c, "2022-04", "1", "", ""] for c in codes]), "p.csv")
    with django_assert_max_num_queries(10):
        client_en.get(reverse("imports:batch", args=[batch.pk]))


def test_the_entry_screen_and_entry_list_link_to_the_template_and_the_upload(client_en, unit, targets):
    page = client_en.get(reverse("admin:targets_progressentry_entry", args=[unit.code, "2022-04"]))
    assert page.status_code == 200
    html = page.content.decode()
    template_url = f'{reverse("imports:template")}?unit={unit.pk}&amp;period=2022-04'
    assert f'<a href="{template_url}">Download this month\'s template (XLSX)</a>' in html
    assert f'<a href="{reverse("imports:upload")}">Upload a filled-in file</a>' in html
    # The link downloads exactly that unit's template for that month.
    response = client_en.get(template_url.replace("&amp;", "&"))
    assert response["Content-Disposition"] == 'attachment; filename="qiaocheng-2022-04.xlsx"'

    html = client_en.get(reverse("admin:targets_progressentry_changelist")).content.decode()
    assert f'<a href="{reverse("imports:upload")}">Import from a file</a>' in html


def test_the_preview_names_the_period_as_the_other_screens_do(client_en, clerk, unit, targets):
    data = csv_bytes([["NEW-FIRMS", "2022-04", "45", "", ""]])
    _, preview = upload(client_en, data, "p.csv")
    page = preview.content.decode()
    assert "<td>Jan–Apr 2022</td>" in page
    assert "<td>2022-04</td>" not in page

    client_en.cookies["django_language"] = "zh-hans"
    batch = ImportBatch.objects.latest("pk")
    page = client_en.get(reverse("imports:batch", args=[batch.pk])).content.decode()
    assert "<td>2022年1—4月</td>" in page
