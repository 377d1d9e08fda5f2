"""Writes through the API end to end: the token in the history, soft warnings, the review workflow, conflicts."""

from decimal import Decimal

import pytest
from django.utils import translation

from tests.api_helpers import client_for, token_for, two_units
from tests.factories import make_entry, make_user
from tracker.accounts.models import Membership
from tracker.audit.history import change_source_label, describe
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
State = ProgressEntry.State


@pytest.fixture
def world():
    data = two_units()
    data["reviewer"] = make_user("api_reviewer", unit=data["own"], role=Membership.Role.REVIEWER)
    return data


def _entry_changes(entry):
    return list(Change.objects.filter(model="targets.progressentry", object_id=str(entry.pk)).order_by("pk"))


def test_it_names_the_token_in_the_history_of_every_api_write(world):
    own = world["targets"]["own-unit"]
    token, key = token_for(world["clerk"], name="城市大屏")
    client = client_for(key)
    created = client.post("/api/entries/", {"target": own[0].code, "year": 2022, "month": 3, "value": "4"},
                          format="json")
    assert created.status_code == 201, created.json()
    entry_id = created.json()["id"]
    assert client.patch(f"/api/entries/{entry_id}/", {"value": "5"}, format="json").status_code == 200
    assert client.post("/api/entries/bulk/", {"entries": [
        {"target": own[1].code, "year": 2022, "month": 3, "value": "2"}]}, format="json").status_code == 200
    changes = list(Change.objects.filter(model="targets.progressentry"))
    assert len(changes) == 3
    assert {(c.source, c.token_id, c.token) for c in changes} == {("api", token.pk, str(token))}
    assert token.prefix in changes[0].token and "城市大屏" in changes[0].token


def test_it_shows_the_token_where_the_history_says_where_a_change_came_from(world, client):
    token, key = token_for(world["clerk"], name="dashboard")
    target = world["targets"]["own-unit"][0]
    client_for(key).post("/api/entries/", {"target": target.code, "year": 2022, "month": 3, "value": "4"},
                         format="json")
    with translation.override("en"):
        (change,) = describe(Change.objects.all())
        assert change.source_label == change_source_label(change) == f"API, token {token}"
    client.force_login(make_user("history_admin", is_superuser=True))
    page = client.get("/admin/audit/change/").content.decode()
    assert token.prefix in page


def test_it_leaves_no_token_on_history_written_outside_a_token_request(world, client):
    token, key = token_for(world["clerk"])
    target = world["targets"]["own-unit"][0]
    client_for(key).post("/api/entries/", {"target": target.code, "year": 2022, "month": 3, "value": "4"},
                         format="json")
    entry = ProgressEntry.objects.get()
    from tracker.services import review

    review.submit(world["clerk"], entry, source="admin")  # after the request, in the same thread
    first, second = _entry_changes(entry)
    assert first.token_id == token.pk and second.token_id is None and second.token == ""


def test_it_runs_the_review_workflow_with_history_naming_the_token(world):
    entry = make_entry(world["targets"]["own-unit"][0], 3, Decimal("5"))
    clerk_token, clerk_key = token_for(world["clerk"])
    reviewer_token, reviewer_key = token_for(world["reviewer"])
    url = f"/api/entries/{entry.pk}/transition/"
    submitted = client_for(clerk_key).post(url, {"action": "submit"}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["state"] == State.SUBMITTED
    returned = client_for(reviewer_key).post(url, {"action": "return", "comment": "口径不对", "version": 1},
                                             format="json")
    assert returned.status_code == 200 and returned.json()["review_comment"] == "口径不对"
    client_for(clerk_key).post(url, {"action": "submit"}, format="json")
    approved = client_for(reviewer_key).post(url, {"action": "approve"}, format="json")
    assert approved.status_code == 200 and approved.json()["state"] == State.APPROVED
    changes = _entry_changes(entry)
    assert [c.action for c in changes] == [Change.Action.TRANSITION] * 4
    assert [c.token_id for c in changes] == [clerk_token.pk, reviewer_token.pk, clerk_token.pk, reviewer_token.pk]
    assert {c.source for c in changes} == {"api"} and changes[1].reason == "口径不对"


def test_it_refuses_review_steps_that_are_not_the_persons_or_not_possible(world):
    entry = make_entry(world["targets"]["own-unit"][0], 3, Decimal("5"))
    other = make_entry(world["targets"]["other-unit"][0], 3, Decimal("5"))
    _, clerk_key = token_for(world["clerk"])
    _, reviewer_key = token_for(world["reviewer"])
    _, read_only_key = token_for(world["reviewer"], read_only=True)
    url = f"/api/entries/{entry.pk}/transition/"
    assert client_for(clerk_key).post(f"/api/entries/{other.pk}/transition/", {"action": "submit"},
                                      format="json").status_code == 404
    refused = client_for(clerk_key).post(url, {"action": "approve"}, format="json")
    assert refused.status_code == 403 and refused.json()["errors"][0]["message"]
    assert client_for(read_only_key).post(url, {"action": "submit"}, format="json").status_code == 403
    draft = client_for(reviewer_key).post(url, {"action": "approve"}, format="json")
    assert draft.status_code == 400 and draft.json()["errors"][0]["message"] == draft.json()["detail"]
    no_reason = client_for(clerk_key).post(url, {"action": "submit"}, format="json")
    assert no_reason.status_code == 200
    assert client_for(reviewer_key).post(url, {"action": "return"}, format="json").status_code == 400
    assert client_for(reviewer_key).post(url, {"action": "dance"}, format="json").status_code == 400
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED
    assert Change.objects.filter(action=Change.Action.TRANSITION).count() == 1  # only the submit


def test_it_refuses_to_approve_figures_changed_since_the_version_sent_with_409(world):
    entry = make_entry(world["targets"]["own-unit"][0], 3, Decimal("5"), state=State.SUBMITTED,
                       submitted_by=world["clerk"], entered_by=world["other_clerk"], version=3)
    _, reviewer_key = token_for(world["reviewer"])
    answer = client_for(reviewer_key).post(f"/api/entries/{entry.pk}/transition/",
                                           {"action": "approve", "version": 2}, format="json")
    assert answer.status_code == 409
    (conflict,) = answer.json()["conflicts"]
    assert conflict["value"] == "5.0000" and conflict["version"] == 3 and conflict["your_version"] == 2
    assert conflict["entered_by"] == "api_other_clerk"
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED


def test_it_answers_409_with_the_other_persons_value_in_a_bulk_write(world):
    own = world["targets"]["own-unit"]
    entry = make_entry(own[0], 3, Decimal("5"), entered_by=world["other_clerk"], version=2)
    _, key = token_for(world["clerk"])
    answer = client_for(key).post("/api/entries/bulk/", {"entries": [
        {"target": own[1].code, "year": 2022, "month": 3, "value": "1"},
        {"target": own[0].code, "year": 2022, "month": 3, "value": "9", "version": 1},
    ]}, format="json")
    assert answer.status_code == 409
    (conflict,) = answer.json()["conflicts"]
    assert conflict["index"] == 1 and conflict["value"] == "5.0000" and conflict["entered_by"] == "api_other_clerk"
    assert "api_other_clerk" in answer.json()["errors"][0]["message"]
    entry.refresh_from_db()
    assert entry.value == Decimal("5") and ProgressEntry.objects.count() == 1


def test_it_returns_soft_warnings_and_saves_only_when_they_are_confirmed_or_explained(world):
    target = world["targets"]["own-unit"][0]  # a year-to-date count: it never goes down
    make_entry(target, 2, Decimal("30"))
    _, key = token_for(world["clerk"])
    client = client_for(key)
    row = {"target": target.code, "year": 2022, "month": 3, "value": "20"}
    warned = client.post("/api/entries/", row, format="json")
    assert warned.status_code == 422
    body = warned.json()
    assert body["errors"] == [] and body["warnings"][0]["target"] == target.code
    assert body["warnings"][0]["code"] and "30" in body["warnings"][0]["message"]
    assert not ProgressEntry.objects.filter(month=3).exists()
    confirmed = client.post("/api/entries/", {**row, "confirm": True}, format="json")
    assert confirmed.status_code == 201, confirmed.json()
    stored = confirmed.json()
    assert stored["warnings"][0]["code"] == body["warnings"][0]["code"] and stored["warnings"][0]["message"]
    explained = client.patch(f"/api/entries/{stored['id']}/", {"value": "19", "warning_note": "统计口径调整"},
                             format="json")
    assert explained.status_code == 200, explained.json()
    assert explained.json()["warning_note"] == "统计口径调整" and explained.json()["warnings"]


def test_it_returns_warnings_beside_errors_when_a_bulk_has_both(world):
    own = world["targets"]["own-unit"]
    make_entry(own[0], 2, Decimal("30"))
    _, key = token_for(world["clerk"])
    answer = client_for(key).post("/api/entries/bulk/", {"entries": [
        {"target": own[0].code, "year": 2022, "month": 3, "value": "20"},
        {"target": own[1].code, "year": 2031, "month": 3, "value": "1"},
    ]}, format="json")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["index"] == 1 and answer.json()["warnings"][0]["index"] == 0
    assert not ProgressEntry.objects.filter(month=3).exists()


LISTS = ["/api/units/", "/api/plans/", "/api/sections/", "/api/targets/", "/api/entries/",
         "/api/reports/?period=2022-03", "/api/completeness/?period=2022-03"]


def _grow(world, n):
    from tests.factories import make_target

    unit = world["own"]
    for i in range(n):
        target = make_target(section=world["targets"]["own-unit"][0].section, lead_unit=unit)
        make_entry(target, 3, Decimal(i + 1), entered_by=world["clerk"], state=State.SUBMITTED)


def _queries(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        answer = client.get(path + ("&" if "?" in path else "?") + "page_size=200")
    assert answer.status_code == 200
    return len(queries), answer.json()


@pytest.mark.parametrize("who", ["clerk", "leader"])
def test_every_list_costs_the_same_number_of_queries_at_two_sizes(world, who):
    _, key = token_for(world[who])
    client = client_for(key)
    client.get("/api/plans/")  # the token's last_used_at is written once a minute: not part of the count
    _grow(world, 3)
    small = {path: _queries(client, path) for path in LISTS}
    _grow(world, 60)
    large = {path: _queries(client, path) for path in LISTS}
    for path in LISTS:
        assert small[path][0] == large[path][0], (path, small[path][0], large[path][0])
    assert large["/api/entries/"][1]["count"] == small["/api/entries/"][1]["count"] + 60


def test_report_rows_and_completeness_are_the_report_pages_own(world):
    from tracker.reports.completeness import completeness
    from tracker.reports.report import build_rows, report_targets

    _grow(world, 4)
    make_entry(world["targets"]["own-unit"][0], 3, None, note="进展顺利", is_done=True)
    _, key = token_for(world["clerk"])
    client = client_for(key)
    rows = client.get("/api/reports/?period=2022-03&page_size=200").json()["results"]
    with translation.override("zh-hans"):
        expected = build_rows(report_targets(world["clerk"], 2022), 2022, 3)
    assert [r["code"] for r in rows] == [e["code"] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert row["status"] == want["status"] and row["reason"] == str(want["reason"])
        for figure in ("forecast", "expected", "actual", "completion"):
            assert (row[figure] is None) == (want[figure] is None), figure
            assert row[figure] is None or Decimal(row[figure]) == Decimal(want[figure]), figure
        assert row["status"] and row["reason"]
    assert {r["unit_code"] for r in rows} == {"own-unit"}  # a clerk's report: their unit's targets only
    body = client.get("/api/completeness/?period=2022-03").json()
    want = completeness(report_targets(world["clerk"], 2022), 2022, 3)
    assert body["totals"]["expected"] == want["totals"]["expected"]
    assert body["totals"]["reported"] == want["totals"]["reported"]
    assert {u["unit"] for u in body["units"]} == {"own-unit"}
    assert len(body["items"]) == len(want["items"])


def test_it_refuses_to_change_an_approved_entry_until_a_reviewer_reopens_it(world):
    entry = make_entry(world["targets"]["own-unit"][0], 3, Decimal("5"), state=State.APPROVED)
    _, clerk_key = token_for(world["clerk"])
    _, reviewer_key = token_for(world["reviewer"])
    locked = client_for(clerk_key).patch(f"/api/entries/{entry.pk}/", {"value": "6"}, format="json")
    assert locked.status_code == 400 and locked.json()["errors"][0]["field"] == "value"
    entry.refresh_from_db()
    assert entry.value == Decimal("5") and not Change.objects.exists()
    reopened = client_for(reviewer_key).post(f"/api/entries/{entry.pk}/transition/",
                                             {"action": "reopen", "comment": "更正"}, format="json")
    assert reopened.status_code == 200 and reopened.json()["state"] == State.RETURNED
    assert client_for(clerk_key).patch(f"/api/entries/{entry.pk}/", {"value": "6"},
                                       format="json").status_code == 200


def test_it_forgets_the_token_after_a_request_that_failed_unexpectedly(world, monkeypatch):
    from tracker.api import views
    from tracker.audit import service

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(views, "save_entries", broken)
    _, key = token_for(world["clerk"])
    target = world["targets"]["own-unit"][0]
    with pytest.raises(RuntimeError):
        client_for(key).post("/api/entries/", {"target": target.code, "year": 2022, "month": 3, "value": "4"},
                             format="json")
    assert service._token_fields() == {}


def test_the_review_step_and_the_bulk_write_take_the_json_suffix_too(world):
    """/transition.json and /bulk.json (the router's format suffix) answered 500 ("unexpected keyword argument
    'format'"); found by the fuzz test."""
    entry = make_entry(world["targets"]["own-unit"][0], 3, Decimal("5"))
    _, clerk_key = token_for(world["clerk"])
    answer = client_for(clerk_key).post(f"/api/entries/{entry.pk}/transition.json", {"action": "submit"},
                                        format="json")
    assert answer.status_code == 200 and answer.json()["state"] == State.SUBMITTED
    assert client_for(clerk_key).post("/api/entries/bulk.json", {"entries": []}, format="json").status_code < 500
