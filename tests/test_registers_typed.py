"""A register-backed target's figure is written by the register refresh only: every other path (entry screen,
admin entry form, import, management command, API) refuses a typed figure with the reason, and its notes
(进展情况、存在问题) stay the clerk's, never erased by the refresh."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from tests.api_helpers import client_for, token_for
from tests.factories import make_user
from tests.import_helpers import csv_bytes
from tests.test_registers import TODAY, county_world  # noqa: F401 (a fixture)
from tracker.accounts.models import Membership
from tracker.imports.service import run_import
from tracker.registers import figures
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
Role = Membership.Role
REFUSED_EN = "computed automatically from the enterprise register"
REFUSED_ZH = "由企业库自动计算，不能手工填报"


def refused(text):
    """The reason, in whichever language the request ran (the admin follows the browser or the default 中文)."""
    return REFUSED_EN in text or REFUSED_ZH in text


@pytest.fixture
def world(county_world):  # noqa: F811
    city, county, other, total, part = county_world
    figures.refresh(today=TODAY)
    clerk = make_user("gy_clerk", unit=county, role=Role.CLERK)
    return {"county": county, "part": part, "clerk": clerk}


def stored(target, month=5):
    return ProgressEntry.objects.get(target=target, year=2022, month=month)


def test_it_refuses_a_typed_figure_in_the_one_write_path_naming_the_register(world):
    part = world["part"]
    with translation.override("en"):
        result = save_entries(world["clerk"], [EntryRow(part, 2022, 5, {"value": Decimal("9")}, line=4)], "command")
    assert not result.ok
    (error,) = result.errors
    assert (error.line, error.field, error.target_code) == (4, "value", "NEW-ABOVE-GY")
    assert REFUSED_EN in error.message
    with translation.override("zh-hans"):
        result = save_entries(world["clerk"], [EntryRow(part, 2022, 5, {"value": Decimal("9")})], "command")
    assert REFUSED_ZH in result.errors[0].message
    assert stored(part).value == 2


def test_it_refuses_a_figure_typed_before_the_first_refresh_and_takes_the_same_figure_as_unchanged(world):
    part, clerk = world["part"], world["clerk"]
    ProgressEntry.objects.filter(target=part, month=6).delete()
    result = save_entries(clerk, [EntryRow(part, 2022, 6, {"value": Decimal("2")})], "import", today=TODAY)
    assert [e.field for e in result.errors] == ["value"]
    assert not ProgressEntry.objects.filter(target=part, month=6).exists()
    same = save_entries(clerk, [EntryRow(part, 2022, 5, {"value": Decimal("2")})], "import", today=TODAY)
    assert same.ok and same.unchanged == [stored(part)]


def test_it_takes_notes_on_a_register_target_and_the_refresh_never_erases_them(world):
    part, clerk = world["part"], world["clerk"]
    result = save_entries(clerk, [EntryRow(part, 2022, 5, {"note": "两户本月入规", "problems": "一户资料未齐"})],
                          "entry_screen", today=TODAY)
    assert result.ok and result.changed
    listing = figures.Listing.objects.get(firm__name="示例企业5")
    listing.state, listing.entered_month = figures.Listing.State.ENTERED, "2022-04"
    listing.save()
    figures.refresh(today=TODAY)
    entry = stored(part)
    assert entry.value == 3  # the register moved the figure
    assert (entry.note, entry.problems) == ("两户本月入规", "一户资料未齐")


def entry_url(unit, period="2022-05"):
    return reverse("admin:targets_progressentry_entry", args=[unit.code, period])


def test_it_shows_a_register_row_read_only_with_the_list_behind_it_and_saves_its_notes(client, world):
    part, county = world["part"], world["county"]
    client.force_login(world["clerk"])
    with translation.override("en"):
        page = client.get(entry_url(county))
    (row,) = [r for _section, rows in page.context["sections"] for r in rows if r.target == part]
    assert row.computed and "value" not in row.form.fields and "note" in row.form.fields
    html = page.content.decode()
    assert reverse("registers:figure_rows", args=[part.pk, "2022-05"]) in html
    assert f'name="t{part.pk}-value"' not in html and "按月调度" not in html
    entry = stored(part)
    posted = client.post(entry_url(county), {
        f"t{part.pk}-version": str(entry.version), f"t{part.pk}-value": "99",  # forged: the field is not shown
        f"t{part.pk}-note": "按月调度", f"t{part.pk}-problems": ""})
    assert posted.status_code == 302
    entry = stored(part)
    assert (entry.value, entry.note) == (2, "按月调度")


def test_it_refuses_a_typed_figure_in_the_admin_entry_form(client, world):
    part = world["part"]
    ProgressEntry.objects.filter(target=part, month=6).delete()
    client.force_login(world["clerk"])
    with translation.override("en"):
        response = client.post("/admin/targets/progressentry/add/", {
            "target": part.pk, "year": "2022", "month": "6", "value": "7", "base_version": "0"})
    assert response.status_code == 200
    assert refused(str(response.context["adminform"].form.errors["value"]))
    assert not ProgressEntry.objects.filter(target=part, month=6).exists()


def test_it_rejects_an_import_row_typing_a_register_figure_with_its_line_and_reason(world):
    data = csv_bytes([["NEW-ABOVE-GY", "2022-05", "9", "", ""]])
    with translation.override("en"):
        report = run_import(world["clerk"], data, today=TODAY)
    assert not report.ok
    assert any(p.line == 2 and REFUSED_EN in p.message for p in report.problems), report.problems
    assert stored(world["part"]).value == 2


def test_it_refuses_a_register_figure_in_the_import_command(tmp_path, world):
    path = tmp_path / "progress.csv"
    path.write_bytes(csv_bytes([["NEW-ABOVE-GY", "2022-05", "9", "", ""]]))
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("import_progress", str(path), stdout=io.StringIO(), stderr=err)
    assert REFUSED_EN in err.getvalue()
    assert stored(world["part"]).value == 2


def test_it_answers_400_with_the_reason_when_the_api_types_a_register_figure(world):
    _token, key = token_for(world["clerk"])
    client = client_for(key)
    response = client.post("/api/entries/", {"target": "NEW-ABOVE-GY", "year": 2022, "month": 5, "value": "9"},
                           format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert refused(str(response.json()))
    entry = stored(world["part"])
    patched = client.patch(f"/api/entries/{entry.pk}/", {"value": "9"}, format="json")
    assert patched.status_code == 400 and refused(str(patched.json()))
    noted = client.patch(f"/api/entries/{entry.pk}/", {"note": "进展顺利"}, format="json")
    assert noted.status_code == 200, noted.json()
    entry = stored(world["part"])
    assert (entry.value, entry.note) == (2, "进展顺利")


def test_it_still_lets_the_refresh_write_the_figure(world):
    assert figures.refresh(today=datetime.date(2022, 7, 10)).ok
