"""A preview remembers each row's entry version; confirming refuses figures changed since, names the other
person's value, writes nothing, and a refreshed preview can then be confirmed. The command line is unaffected."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from tests.factories import make_entry, make_target, make_unit, make_user
from tests.import_helpers import csv_bytes
from tests.test_conflict import race
from tracker.audit.models import Change
from tracker.imports.models import ImportBatch
from tracker.imports.service import run_import
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return make_unit("qiaocheng", name="谯城区")


@pytest.fixture
def firms(unit):
    # A target large enough that the figures of these tests raise no soft warning (3× the target).
    return make_target(Target.Kind.CUMULATIVE, code="NEW-FIRMS", lead_unit=unit, target_value=Decimal("1000"))


@pytest.fixture
def clerk(unit):
    return make_user("clerk", unit=unit)


@pytest.fixture
def colleague(unit):
    return make_user("colleague", unit=unit)


def english_client(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def preview(client, rows):
    response = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile("p.csv", csv_bytes(rows))})
    assert response.status_code == 302, response.content[:2000]
    return ImportBatch.objects.latest("pk")


def confirm(client, batch):
    return client.post(reverse("imports:confirm", args=[batch.pk]), follow=True).content.decode()


def refresh(client, batch):
    return client.post(reverse("imports:refresh", args=[batch.pk]), follow=True).content.decode()


CONFLICT = "Nothing was written: 1 figure was changed by someone else after your preview"


def test_the_preview_records_the_version_of_each_rows_entry(client, unit, firms, clerk):
    entry = make_entry(firms, 4, Decimal("40"))
    ProgressEntry.objects.filter(pk=entry.pk).update(version=7)
    other = make_target(Target.Kind.CUMULATIVE, code="PLATFORM", lead_unit=unit)
    batch = preview(english_client(client, clerk), [["NEW-FIRMS", "2022-04", "45", "", ""],
                                                    [other.code, "2022-04", "1", "", ""]])
    assert [(r["code"], r["version"]) for r in batch.rows] == [("NEW-FIRMS", 7), ("PLATFORM", 0)]


def test_confirm_refuses_a_figure_a_colleague_changed_after_the_preview(client, firms, clerk, colleague):
    entry = make_entry(firms, 5, Decimal("500"))
    client = english_client(client, clerk)
    batch = preview(client, [["NEW-FIRMS", "2022-05", "777", "", ""]])
    assert batch.rows[0]["outcome"] == "changed"

    # The colleague saves 888 from the entry screen's figures (the version they were shown).
    result = save_entries(colleague, [EntryRow(firms, 2022, 5, {"value": Decimal("888")}, entry.version)],
                          "entry screen")
    assert result.ok

    page = confirm(client, batch)
    assert CONFLICT in page
    assert "NEW-FIRMS was changed by colleague meanwhile (now 888); reload and try again." in page
    entry.refresh_from_db()
    assert (entry.value, entry.entered_by) == (Decimal("888"), colleague)
    assert not Change.objects.filter(source="import").exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and not batch.can_confirm
    assert "Confirm and import" not in page and "Refresh preview" in page

    # A fresh preview shows 888 -> 777; confirming it writes 777.
    page = refresh(client, batch)
    assert "The preview now compares with the figures stored at" in page
    batch.refresh_from_db()
    assert batch.can_confirm
    assert (batch.rows[0]["old_value"], batch.rows[0]["value"], batch.rows[0]["version"]) == ("888", "777", 2)
    assert "888 → 777" in page
    assert "Imported: 0 created, 1 changed, 0 unchanged." in confirm(client, batch)
    entry.refresh_from_db()
    assert (entry.value, entry.entered_by) == (Decimal("777"), clerk)


def test_confirm_refuses_an_entry_a_colleague_created_on_the_entry_screen_after_the_preview(
        client, unit, firms, clerk, colleague):
    batch = preview(english_client(client, clerk), [["NEW-FIRMS", "2022-05", "777", "", ""]])
    assert (batch.rows[0]["outcome"], batch.rows[0]["version"]) == ("created", 0)

    screen = reverse("admin:targets_progressentry_entry", args=[unit.code, "2022-05"])
    other = type(client)()
    other.force_login(colleague)
    form = next(r.form for _s, rows in other.get(screen).context["sections"] for r in rows if r.target == firms)
    response = other.post(screen, {form["version"].html_name: "0", form["value"].html_name: "888",
                                   form["note"].html_name: "", form["problems"].html_name: ""})
    assert response.status_code == 302
    assert ProgressEntry.objects.get(target=firms).value == Decimal("888")

    page = confirm(client, batch)
    assert CONFLICT in page
    assert "NEW-FIRMS was changed by colleague meanwhile (now 888); reload and try again." in page
    assert ProgressEntry.objects.get(target=firms).value == Decimal("888")


def test_a_refused_confirm_writes_none_of_the_other_rows(client, unit, firms, clerk, colleague):
    entry = make_entry(firms, 5, Decimal("500"))
    platform = make_target(Target.Kind.CUMULATIVE, code="PLATFORM", lead_unit=unit)
    client = english_client(client, clerk)
    batch = preview(client, [["PLATFORM", "2022-05", "3", "", ""], ["NEW-FIRMS", "2022-05", "777", "", ""]])
    assert save_entries(colleague, [EntryRow(firms, 2022, 5, {"note": "checked"}, entry.version)], "admin").ok
    assert CONFLICT in confirm(client, batch)
    assert not ProgressEntry.objects.filter(target=platform).exists()


def test_confirm_refuses_a_row_whose_entry_was_deleted_after_the_preview(client, firms, clerk):
    entry = make_entry(firms, 5, Decimal("500"))
    client = english_client(client, clerk)
    batch = preview(client, [["NEW-FIRMS", "2022-05", "777", "", ""]])
    entry.delete()
    page = confirm(client, batch)
    assert "The entry for NEW-FIRMS 2022-05 was deleted after the preview; refresh the preview." in page
    assert not ProgressEntry.objects.exists()


def test_a_preview_kept_from_before_versions_must_be_refreshed(client, firms, clerk):
    make_entry(firms, 5, Decimal("500"))
    client = english_client(client, clerk)
    batch = preview(client, [["NEW-FIRMS", "2022-05", "777", "", ""]])
    for row in batch.rows:
        del row["version"]
    batch.save()
    page = confirm(client, batch)
    assert "This preview was made before figures were checked for changes; refresh the preview." in page
    assert ProgressEntry.objects.get().value == Decimal("500")
    refresh(client, batch)
    assert "Imported: 0 created, 1 changed, 0 unchanged." in confirm(client, batch)


def test_a_file_with_problems_of_its_own_cannot_be_refreshed_into_a_partial_import(client, unit, firms, clerk):
    client = english_client(client, clerk)
    batch = preview(client, [["NEW-FIRMS", "2022-05", "777", "", ""], ["NEW-FIRMS", "2022-06", "abc", "", ""]])
    assert batch.file_problems and not batch.can_refresh
    page = client.get(reverse("imports:batch", args=[batch.pk])).content.decode()
    assert "Refresh preview" not in page
    page = refresh(client, batch)
    assert "This preview cannot be refreshed" in page
    batch.refresh_from_db()
    assert len(batch.problems) == 1 and not batch.can_confirm
    assert not ProgressEntry.objects.exists()


def test_only_the_uploader_may_refresh_a_preview(client, firms, clerk, colleague):
    batch = preview(english_client(client, clerk), [["NEW-FIRMS", "2022-05", "777", "", ""]])
    client.force_login(colleague)
    assert client.post(reverse("imports:refresh", args=[batch.pk])).status_code == 404
    assert client.get(reverse("imports:refresh", args=[batch.pk])).status_code == 405  # only a POST refreshes


def test_the_command_line_previews_and_writes_in_one_go_without_a_version_check(firms, clerk):
    make_entry(firms, 5, Decimal("500"))
    report = run_import(clerk, csv_bytes([["NEW-FIRMS", "2022-05", "777", "", ""]]))
    assert report.ok and report.changed == 1
    assert ProgressEntry.objects.get().value == Decimal("777")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_confirm_waiting_on_a_colleagues_save_is_refused_once_it_commits(postgres, client, firms, clerk,
                                                                         colleague):
    """The confirm blocks on the row the colleague is saving, then sees their new version: refused, not lost."""
    entry = make_entry(firms, 5, Decimal("500"))
    client = english_client(client, clerk)
    batch = preview(client, [["NEW-FIRMS", "2022-05", "777", "", ""]])

    saved, page = race(
        lambda: save_entries(colleague, [EntryRow(firms, 2022, 5, {"value": Decimal("888")}, entry.version)],
                             "entry screen"),
        lambda: confirm(client, batch),
    )
    assert saved.ok
    assert CONFLICT in page
    assert "NEW-FIRMS was changed by colleague meanwhile (now 888); reload and try again." in page
    entry.refresh_from_db()
    assert (entry.value, entry.version) == (Decimal("888"), 2)
    assert not Change.objects.filter(source="import").exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_earlier_previews_problems_as_file_problems(clerk):
    """Earlier previews did not tell file problems from row problems: none of them may be refreshed away."""
    before, after = [("imports", "0001_initial")], [("imports", "0002_importbatch_file_problems")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("imports", "ImportBatch")
        problem = {"line": 3, "column": "value", "message": "'abc' is not a number.", "letter": "C"}
        bad = old.objects.create(user_id=clerk.pk, file_name="bad.csv", sha256="0" * 64, size=1,
                                 rows=[{"line": 2}], problems=[problem])
        good = old.objects.create(user_id=clerk.pk, file_name="good.csv", sha256="1" * 64, size=1,
                                  rows=[{"line": 2}], problems=[])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        # And on to the latest migrations (later ones of the app, e.g. 0003's register imports), as the tests after
        # this one expect.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert ImportBatch.objects.get(pk=bad.pk).file_problems == [problem]
    assert not ImportBatch.objects.get(pk=bad.pk).can_refresh
    assert ImportBatch.objects.get(pk=good.pk).file_problems == []
