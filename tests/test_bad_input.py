"""Regression tests for bad input that got through or gave a server error (see also test_fuzz.py)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import make_entry, make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.imports.models import ImportBatch
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, validate_entry_values

pytestmark = pytest.mark.django_db
Role = Membership.Role
ADD_ENTRY = "/admin/targets/progressentry/add/"
PASSWORD = "pw-Secret-123"


@pytest.fixture
def unit():
    make_plan(2022)
    return make_unit("county", name="谯城区")


@pytest.fixture
def boss(client, unit):
    user = make_user("boss", unit=unit, role=Role.ADMIN, is_superuser=True)
    client.force_login(user)
    return user


# --- a year of 0 ---------------------------------------------------------------------------------


def test_it_refuses_a_year_of_zero_in_the_admin_entry_form(client, unit):
    target = make_target(lead_unit=unit, code="QC-1")
    client.force_login(make_user("clerk", unit=unit))
    response = client.post(ADD_ENTRY, {"target": target.pk, "year": "0", "month": "5", "value": "3",
                                       "base_version": "0"})
    assert response.status_code == 200
    assert "0-05" in str(response.context["adminform"].form.errors["month"])
    assert not ProgressEntry.objects.exists()


@pytest.mark.parametrize("year", [0, 2021, 2023])
def test_it_runs_the_period_checks_for_any_year_wherever_an_entry_is_saved(unit, year):
    target = make_target(lead_unit=unit)
    assert "month" in validate_entry_values(target, year, 5, Decimal("3"), None)
    result = save_entries(None, [EntryRow(target, year, 5, {"value": Decimal("3")})], "command")
    assert [error.field for error in result.errors] == ["month"]
    assert not ProgressEntry.objects.exists()


# --- NUL and other control characters in the URL ---------------------------------------------------


@pytest.mark.parametrize("url", [
    "/targets/%00/", "/evidence/%00", "/admin/targets/progressentry/?state__exact=%00", "/admin/auth/user/?q=a%00b",
    "/reports/2022-05/?kind=%01", "/admin/targets/progressentry/entry/%00/2022-05/", "/admin/?%00=1",
    "/static/reports/report.css%00",
])
def test_it_answers_400_for_a_control_character_in_the_path_or_query(client, boss, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "请求无法处理" in response.content.decode()


def test_it_still_accepts_a_tab_or_line_break_pasted_into_a_search(client, boss):
    assert client.get("/admin/auth/user/", {"q": "boss\t"}).status_code == 200
    assert client.get("/admin/auth/user/", {"q": "a\r\nb"}).status_code == 200


# --- malformed ids and admin parameters ----------------------------------------------------------


@pytest.mark.parametrize("object_id", ["abc", "-1", "1e400", "99999999999999999999", "%C2%B2"])
def test_it_gives_404_for_a_malformed_import_batch_id_in_the_admin(client, boss, object_id):
    assert client.get(f"/admin/imports/importbatch/{object_id}/change/").status_code == 404


def test_it_still_opens_an_import_batch_from_the_admin_list_but_not_another_persons(client, unit):
    clerk = make_user("clerk", unit=unit)
    mine = ImportBatch.objects.create(user=clerk, file_name="a.csv", sha256="0" * 64, size=1)
    theirs = ImportBatch.objects.create(user=make_user("other", unit=unit), file_name="b.csv", sha256="1" * 64,
                                        size=1)
    client.force_login(clerk)
    response = client.get(f"/admin/imports/importbatch/{mine.pk}/change/")
    assert response.status_code == 302 and response["Location"] == reverse("imports:batch", args=[mine.pk])
    assert client.get(f"/admin/imports/importbatch/{theirs.pk}/change/").status_code == 404


def test_it_answers_400_for_an_empty_to_field_in_the_admin(client, boss, unit):
    url = f"/admin/targets/unit/{unit.pk}/change/"
    assert client.get(url, {"_to_field": ""}).status_code == 400
    assert client.post(url, {"_to_field": "", "code": "x"}).status_code == 400
    assert client.get(f"/admin/auth/group/{Group.objects.first().pk}/change/?_to_field=").status_code == 400
    assert client.get(url, {"_to_field": "id", "_popup": "1"}).status_code == 200


def test_it_treats_a_30_digit_choice_in_a_many_to_many_field_as_an_invalid_choice(client, boss):
    group = Group.objects.first()
    response = client.post(f"/admin/auth/group/{group.pk}/change/", {"name": group.name,
                                                                     "permissions": "1" + "0" * 30})
    assert response.status_code == 200
    assert "permissions" in response.context["adminform"].form.errors


def test_it_ignores_a_30_digit_row_id_in_a_list_action(client, boss, unit):
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("5"), state=ProgressEntry.State.SUBMITTED)
    response = client.post("/admin/targets/progressentry/", {
        "action": "approve_selected", "_selected_action": ["1" + "0" * 30, str(entry.pk)]})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.state == ProgressEntry.State.APPROVED


@pytest.mark.parametrize("query", [
    "at__year=9999", "at__year=9999&at__month=12", "at__year=1", "at__year=2022&at__month=1&at__day=" + "9" * 30,
])
def test_it_treats_a_date_out_of_range_in_the_history_list_as_a_bad_lookup(client, boss, query):
    response = client.get(f"/admin/audit/change/?{query}")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_it_still_narrows_the_history_list_by_year(client, boss, unit):
    save_entries(boss, [EntryRow(make_target(lead_unit=unit), 2022, 3, {"value": Decimal("5")})], "admin")
    year = Change.objects.get().at.year
    assert client.get(f"/admin/audit/change/?at__year={year}").context["cl"].result_count == 1
    assert client.get(f"/admin/audit/change/?at__year={year - 1}").context["cl"].result_count == 0


# --- review comments -----------------------------------------------------------------------------


def test_it_refuses_a_review_comment_with_a_null_character(client, unit):
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("5"), state=ProgressEntry.State.SUBMITTED)
    client.force_login(make_user("reviewer", unit=unit, role=Role.REVIEWER))
    url = reverse("admin:targets_progressentry_review", args=[entry.pk])
    response = client.post(url, {"action": "return", "comment": "请核实\x00"}, follow=True)
    assert "null character" in response.content.decode() or "空字符" in response.content.decode()
    entry.refresh_from_db()
    assert entry.state == ProgressEntry.State.SUBMITTED and entry.review_comment == ""


def test_it_ignores_a_version_that_is_not_a_plain_number_on_the_review_page(client, unit):
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("5"), state=ProgressEntry.State.SUBMITTED)
    client.force_login(make_user("reviewer", unit=unit, role=Role.REVIEWER))
    url = reverse("admin:targets_progressentry_review", args=[entry.pk])
    assert client.post(url, {"action": "approve", "version": "²"}).status_code == 302
    entry.refresh_from_db()
    assert entry.state == ProgressEntry.State.APPROVED


# --- where a login lands --------------------------------------------------------------------------


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_it_lands_on_the_dashboard_when_the_next_address_after_login_is_refused(client, unit, next_url):
    make_user("clerk", unit=unit)
    response = client.post(f"{reverse('admin:login')}?next={next_url}",
                           {"username": "clerk", "password": PASSWORD, "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(response["Location"]).status_code == 200


def test_it_still_follows_a_next_address_on_the_site_after_login(client, unit):
    make_user("clerk", unit=unit)
    response = client.post(reverse("admin:login"), {"username": "clerk", "password": PASSWORD,
                                                    "next": "/reports/"})
    assert response["Location"] == "/reports/"
