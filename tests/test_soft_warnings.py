"""Soft checks at every write path: a questioned figure is saved only when confirmed or explained.

save_entries refuses it with RowWarnings (not errors); the entry screen, the admin form, the import
preview and the import command each let the person confirm or explain; the warnings and the
explanation stay with the entry and in its history.
"""

import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tests.import_helpers import csv_bytes
from tracker.audit.models import Change
from tracker.imports.models import ImportBatch
from tracker.services.entries import EntryRow, RowWarning, save_entries
from tracker.targets import checks
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db
Kind = Target.Kind
State = ProgressEntry.State
D = Decimal


@pytest.fixture
def world():
    plan = make_plan(2022)
    section = make_section(plan, 1)
    w = type("World", (), {})()
    w.unit = make_unit("qiaocheng", name="谯城区")
    w.clerk = make_user("clerk_qc", unit=w.unit)
    w.count = make_target(Kind.CUMULATIVE, code="C1", name="新增规上企业", section=section, lead_unit=w.unit)
    w.growth = make_target(Kind.GROWTH, code="G1", section=section, lead_unit=w.unit)
    w.margin = make_target(Kind.MARGIN, code="M1", section=section, lead_unit=w.unit, comparator_name="全省增速")
    w.other_margin = make_target(Kind.MARGIN, code="M2", section=section, lead_unit=make_unit("guoyang"),
                                 comparator_name="全省增速")
    # 谯城: 18 firms by June.
    w.june = make_entry(w.count, 6, D("18"))
    return w


def row(target, month, confirmed=False, **values):
    return EntryRow(target, 2022, month, values, confirmed=confirmed)


def entry(target, month):
    return ProgressEntry.objects.filter(target=target, year=2022, month=month).first()


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- save_entries, the one write path -----------------------------------------------------------------------

def test_it_refuses_an_unconfirmed_warning_as_a_warning_not_an_error_and_writes_nothing(world):
    with translation.override("zh-hans"):
        result = save_entries(world.clerk, [row(world.count, 7, value=D("10")), row(world.growth, 7, value=D("8"))],
                              "command")
    assert not result.ok and result.errors == []
    assert result.warnings == [RowWarning(None, checks.YTD_DECREASE,
                                          "累计值10家低于1—6月已填报的18家；累计数只增不减，是否误填了当月数？", "C1")]
    # All or none: the row without a warning is not written either.
    assert entry(world.count, 7) is None and entry(world.growth, 7) is None
    assert not Change.objects.exists()


def test_it_saves_a_confirmed_warning_and_keeps_it_with_the_entry_and_in_the_history(world):
    result = save_entries(world.clerk, [row(world.count, 7, confirmed=True, value=D("10"))], "command")
    assert result.ok and len(result.created) == 1
    saved = entry(world.count, 7)
    assert [w["code"] for w in saved.warnings] == [checks.YTD_DECREASE]
    assert saved.warnings[0]["params"]["previous"] == "18" and saved.warning_note == ""
    change = Change.objects.get(object_id=str(saved.pk))
    assert change.changes["warnings"][1] == saved.warnings


def test_it_saves_an_explained_warning_with_the_explanation(world):
    result = save_entries(world.clerk, [row(world.count, 7, value=D("10"), warning_note=" 统计局核减8家 ")],
                          "command")
    assert result.ok
    saved = entry(world.count, 7)
    assert saved.warning_note == "统计局核减8家" and saved.warnings[0]["code"] == checks.YTD_DECREASE
    assert Change.objects.get(object_id=str(saved.pk)).changes["warning_note"] == [None, "统计局核减8家"]


def test_it_does_not_ask_again_while_the_figures_stay_but_does_when_they_change(world):
    save_entries(world.clerk, [row(world.count, 7, value=D("10"), warning_note="统计局核减")], "command")
    # Only the progress note changes: the warning confirmed for these figures holds.
    assert save_entries(world.clerk, [row(world.count, 7, note="新增2家在建")], "command").ok
    # A new figure is a new question; the old explanation, sent back unchanged, does not answer it.
    result = save_entries(world.clerk, [row(world.count, 7, value=D("9"), warning_note="统计局核减")], "command")
    assert [w.code for w in result.warnings] == [checks.YTD_DECREASE]
    assert entry(world.count, 7).value == 10
    assert save_entries(world.clerk, [row(world.count, 7, value=D("9"), warning_note="统计局再次核减")],
                        "command").ok


def test_it_clears_warnings_and_explanation_once_the_figures_pass(world):
    save_entries(world.clerk, [row(world.count, 7, confirmed=True, value=D("10"), warning_note="核减")], "command")
    assert save_entries(world.clerk, [row(world.count, 7, value=D("20"))], "command").ok
    saved = entry(world.count, 7)
    assert (saved.warnings, saved.warning_note) == ([], "")


def test_it_leaves_unchanged_rows_alone_even_when_their_figures_would_be_questioned(world):
    old = make_entry(world.count, 7, D("10"))  # from before the checks: never confirmed
    result = save_entries(world.clerk, [row(world.count, 7, value=D("10"))], "command")
    assert result.ok and result.unchanged == [old]


def test_it_reads_the_jump_limit_from_the_plan_and_the_target(world):
    make_entry(world.growth, 6, D("8"))
    assert save_entries(world.clerk, [row(world.growth, 7, value=D("11"))], "command", dry_run=True).ok
    plan = world.growth.plan
    plan.growth_jump_points = D("2")
    plan.save()
    world.growth.refresh_from_db()
    result = save_entries(world.clerk, [row(world.growth, 7, value=D("11"))], "command", dry_run=True)
    assert [w.code for w in result.warnings] == [checks.GROWTH_JUMP]
    world.growth.growth_jump_points = D("5")
    world.growth.save()
    assert save_entries(world.clerk, [row(world.growth, 7, value=D("11"))], "command", dry_run=True).ok


def test_the_history_page_shows_the_confirmed_warnings_in_the_readers_language(client, world):
    with translation.override("zh-hans"):
        save_entries(world.clerk, [row(world.count, 7, value=D("10"), warning_note="统计局核减8家")], "entry_screen")
    client.force_login(world.clerk)
    client.cookies["django_language"] = "en"
    history = client.get(reverse("admin:targets_progressentry_history", args=[entry(world.count, 7).pk]))
    html = history.content.decode()
    assert "The year-to-date figure 10 firms is below the 18 firms entered for Jan–Jun" in html
    assert "统计局核减8家" in html


def test_it_checks_a_row_against_an_earlier_month_in_the_same_batch(world):
    rows = [row(world.growth, 6, value=D("8")), row(world.growth, 7, value=D("20"))]
    result = save_entries(world.clerk, rows, "import")
    assert [(w.target_code, w.code) for w in result.warnings] == [("G1", checks.GROWTH_JUMP)]


def test_it_passes_over_a_returned_earlier_figure(world):
    world.june.state = State.RETURNED
    world.june.save()
    make_entry(world.count, 5, D("6"))
    assert save_entries(world.clerk, [row(world.count, 7, value=D("10"))], "command").ok


def test_it_compares_the_comparator_with_another_target_of_the_same_series(world):
    make_entry(world.other_margin, 6, D("7"), comparator=D("5.0"))
    with translation.override("en"):
        result = save_entries(world.clerk, [row(world.margin, 6, value=D("6"), comparator=D("5.2"))], "command")
    assert [(w.code, w.message) for w in result.warnings] == [(
        checks.COMPARATOR_MISMATCH, "The comparator 5.2 differs from what other targets of the same series (全省增速) "
        "have for this month: 5 (M2).")]
    assert save_entries(world.clerk, [row(world.margin, 6, value=D("6"), comparator=D("5"))], "command").ok


def test_it_compares_comparators_entered_together_in_one_batch(world):
    rows = [row(world.margin, 6, value=D("6"), comparator=D("5.2")),
            row(world.other_margin, 6, value=D("6"), comparator=D("5.0"))]
    result = save_entries(None, rows, "import")
    assert sorted(w.target_code for w in result.warnings) == ["M1", "M2"]


def test_a_dry_run_reports_the_warnings_and_what_the_row_would_do(world):
    result = save_entries(world.clerk, [row(world.count, 7, value=D("10"))], "import", dry_run=True)
    assert [w.code for w in result.warnings] == [checks.YTD_DECREASE] and len(result.created) == 1
    assert entry(world.count, 7) is None


# --- the monthly entry screen -----------------------------------------------------------------------------

def screen_url(world, period="2022-07"):
    return reverse("admin:targets_progressentry_entry", args=[world.unit.code, period])


def screen_post(client, world, **fields):
    data = {f"t{t.pk}-version": "0" for t in (world.count, world.growth, world.margin)}
    data.update({f"t{world.count.pk}-{name}": value for name, value in fields.items()})
    return client.post(screen_url(world), data)


def test_the_entry_screen_shows_the_warning_under_the_row_and_saves_nothing(client, world):
    client.force_login(world.clerk)
    response = screen_post(client, world, value="10")
    assert response.status_code == 200
    assert texts(response) == [
        "未保存任何数据：数据校验对部分数据提出了疑问。请修改，或在标出的各行下方勾选“确认”或填写情况说明，然后重新保存。"]
    html = response.content.decode()
    assert 'id="warnings-C1"' in html and "累计值10家低于1—6月已填报的18家" in html
    assert f'name="t{world.count.pk}-confirm_warnings"' in html and f'name="t{world.count.pk}-warning_note"' in html
    assert "errorlist" not in html  # a warning, not an error
    assert entry(world.count, 7) is None


def test_the_entry_screen_saves_a_confirmed_figure_and_shows_its_warning_as_confirmed(client, world):
    client.force_login(world.clerk)
    response = screen_post(client, world, value="10", confirm_warnings="on")
    assert response.status_code == 302
    saved = entry(world.count, 7)
    assert saved.value == 10 and [w["code"] for w in saved.warnings] == [checks.YTD_DECREASE]
    change = Change.objects.get(object_id=str(saved.pk))
    assert change.source == "entry_screen" and "warnings" in change.changes
    html = client.get(screen_url(world)).content.decode()
    assert "已确认的校验提示" in html and "累计值10家低于1—6月已填报的18家" in html


def test_the_entry_screen_saves_an_explained_figure(client, world):
    client.force_login(world.clerk)
    response = screen_post(client, world, value="10", warning_note="统计局核减8家")
    assert response.status_code == 302
    assert entry(world.count, 7).warning_note == "统计局核减8家"


def test_the_entry_screen_speaks_english_for_warnings(client, world):
    client.force_login(world.clerk)
    client.cookies["django_language"] = "en"
    html = screen_post(client, world, value="10").content.decode()
    assert "The year-to-date figure 10 firms is below the 18 firms entered for Jan–Jun" in html
    assert "Confirm: the figures are right" in html


# --- the admin's entry form ---------------------------------------------------------------------------------

def admin_add(client, world, **fields):
    return client.post(reverse("admin:targets_progressentry_add"),
                       {"target": world.count.pk, "year": "2022", "month": "7", "done_on": "", **fields})


def test_the_admin_form_lists_the_warnings_and_saves_nothing_unconfirmed(client, world):
    client.force_login(world.clerk)
    client.cookies["django_language"] = "en"
    response = admin_add(client, world, value="10")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="entry-warnings"' in html and "is below the 18 firms entered for Jan–Jun" in html
    assert list(response.context["adminform"].form.errors) == ["confirm_warnings"]
    assert entry(world.count, 7) is None


@pytest.mark.parametrize("answer", [{"confirm_warnings": "on"}, {"warning_note": "统计局核减8家"}])
def test_the_admin_form_saves_a_confirmed_or_explained_figure(client, world, answer):
    client.force_login(world.clerk)
    response = admin_add(client, world, value="10", **answer)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = entry(world.count, 7)
    assert [w["code"] for w in saved.warnings] == [checks.YTD_DECREASE]
    assert saved.warning_note == answer.get("warning_note", "")
    assert Change.objects.get(object_id=str(saved.pk)).source == "admin"
    # The change form shows what was confirmed.
    page = client.get(reverse("admin:targets_progressentry_change", args=[saved.pk])).content.decode()
    assert "累计值10家低于1—6月已填报的18家" in page


def test_the_admin_form_asks_again_when_a_stored_figure_is_changed(client, world):
    client.force_login(world.clerk)
    july = make_entry(world.count, 7, D("20"))
    url = reverse("admin:targets_progressentry_change", args=[july.pk])
    response = client.post(url, {"value": "12", "note": "", "problems": "", "done_on": "",
                                 "base_version": july.version})
    assert response.status_code == 200 and 'id="entry-warnings"' in response.content.decode()
    july.refresh_from_db()
    assert july.value == 20


# --- imports: preview, confirm, command -------------------------------------------------------------------

def upload(client, rows):
    response = client.post(reverse("imports:upload"),
                           {"file": SimpleUploadedFile("progress.csv", csv_bytes(rows))})
    assert response.status_code == 302
    return ImportBatch.objects.latest("pk")


def test_the_import_preview_lists_the_warnings_and_confirming_without_the_tick_writes_nothing(client, world):
    client.force_login(world.clerk)
    client.cookies["django_language"] = "en"
    batch = upload(client, [["C1", "2022-07", "10", "", "7月新增"], ["G1", "2022-07", "8", "", ""]])
    assert batch.problems == [] and batch.can_confirm
    preview = client.get(reverse("imports:batch", args=[batch.pk])).content.decode()
    assert 'id="warnings"' in preview and "is below the 18 firms entered for Jan–Jun" in preview
    assert 'name="confirm_warnings"' in preview
    response = client.post(reverse("imports:confirm", args=[batch.pk]))
    assert texts(response) == ["Nothing was written: the checks question some figures. Tick “confirm” or explain "
                               "them, then confirm the import again."]
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and batch.can_confirm
    assert entry(world.count, 7) is None and entry(world.growth, 7) is None


@pytest.mark.parametrize("answer", [{"confirm_warnings": "1"}, {"warning_note": "统计局核减8家"}])
def test_the_import_writes_confirmed_or_explained_figures_with_their_warnings(client, world, answer):
    client.force_login(world.clerk)
    batch = upload(client, [["C1", "2022-07", "10", "", ""], ["G1", "2022-07", "8", "", ""]])
    response = client.post(reverse("imports:confirm", args=[batch.pk]), answer)
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.created == 2
    saved = entry(world.count, 7)
    assert [w["code"] for w in saved.warnings] == [checks.YTD_DECREASE]
    assert saved.warning_note == answer.get("warning_note", "")
    # The explanation goes only with the figures it explains.
    assert (entry(world.growth, 7).warnings, entry(world.growth, 7).warning_note) == ([], "")
    assert Change.objects.get(object_id=str(saved.pk)).changes["warnings"][1] == saved.warnings


def write_csv(tmp_path, rows):
    path = tmp_path / "progress.csv"
    path.write_bytes(csv_bytes(rows))
    return str(path)


def test_the_import_command_refuses_warnings_unless_confirmed_or_explained(world, tmp_path):
    path = write_csv(tmp_path, [["C1", "2022-07", "10", "", ""]])
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="1 warning; nothing was written"):
        call_command("import_progress", path, stderr=err)
    assert "is below the 18 firms entered for Jan–Jun" in err.getvalue()
    assert entry(world.count, 7) is None
    out = io.StringIO()
    call_command("import_progress", path, "--dry-run", stdout=out, stderr=io.StringIO())
    assert entry(world.count, 7) is None
    call_command("import_progress", path, "--explain", "统计局核减8家", stdout=out, stderr=io.StringIO())
    assert entry(world.count, 7).warning_note == "统计局核减8家"


def test_the_import_command_writes_with_confirm_warnings(world, tmp_path):
    path = write_csv(tmp_path, [["C1", "2022-07", "10", "", ""]])
    call_command("import_progress", path, "--confirm-warnings", stdout=io.StringIO(), stderr=io.StringIO())
    assert [w["code"] for w in entry(world.count, 7).warnings] == [checks.YTD_DECREASE]
