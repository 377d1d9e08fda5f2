"""The REST API: tokens, scoping, writes through save_entries, conflicts, throttling, query counts, docs."""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api_helpers import client_for, token_for, two_units, with_series
from tests.factories import make_entry, make_section, make_target, make_unit
from tracker.api.models import ApiToken, hash_key
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return two_units()


def test_it_stores_only_the_hash_and_prefix_of_a_key(world):
    token, key = token_for(world["clerk"])
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_key(key) and key not in (stored.key_hash, stored.prefix)
    assert key.startswith(stored.prefix)


def test_it_refuses_missing_wrong_revoked_and_expired_tokens(world):
    assert APIClient().get("/api/targets/").status_code == 401
    assert client_for("tt_wrong").get("/api/targets/").status_code == 401
    token, key = token_for(world["clerk"])
    assert client_for(key).get("/api/targets/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client_for(key).get("/api/targets/").status_code == 401
    _, expired = token_for(world["clerk"], expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client_for(expired).get("/api/targets/").status_code == 401
    world["clerk"].is_active = False
    world["clerk"].save()
    _, inactive = token_for(world["clerk"])
    assert client_for(inactive).get("/api/targets/").status_code == 401


def test_it_records_when_a_token_was_last_used(world):
    token, key = token_for(world["clerk"])
    client_for(key).get("/api/units/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_it_shows_a_clerk_only_their_units_rows(world):
    for unit_targets in world["targets"].values():
        make_entry(unit_targets[0], 3, Decimal("5"))
    _, key = token_for(world["clerk"])
    client = client_for(key)
    targets = client.get("/api/targets/").json()["results"]
    assert {t["lead_unit"] for t in targets} == {"own-unit"}
    entries = client.get("/api/entries/").json()["results"]
    assert [e["unit"] for e in entries] == ["own-unit"]
    other_entry = ProgressEntry.objects.get(target__lead_unit=world["other"])
    assert client.get(f"/api/entries/{other_entry.pk}/").status_code == 404
    assert {u["code"] for u in client.get("/api/units/").json()["results"]} == {"own-unit"}
    rows = client.get("/api/reports/?period=2022-03").json()["results"]
    assert {r["unit_code"] for r in rows} == {"own-unit"}


def test_it_shows_a_leader_every_unit(world):
    _, key = token_for(world["leader"])
    targets = client_for(key).get("/api/targets/").json()["results"]
    assert {t["lead_unit"] for t in targets} == {"own-unit", "other-unit"}


def test_it_filters_entries_by_target_and_month(world):
    target = world["targets"]["own-unit"][0]
    make_entry(target, 3, Decimal("5"))
    make_entry(target, 4, Decimal("6"))
    _, key = token_for(world["clerk"])
    found = client_for(key).get(f"/api/entries/?target={target.code}&month=4").json()
    assert found["count"] == 1 and found["results"][0]["value"] == "6.0000"


def test_it_refuses_bad_filters_and_periods_with_400(world):
    _, key = token_for(world["clerk"])
    client = client_for(key)
    assert client.get("/api/entries/?year=99999999999999999999").status_code == 400
    assert client.get("/api/reports/?period=2022-13").status_code == 400
    assert client.get("/api/reports/").status_code == 400
    assert client.get("/api/completeness/?period=nonsense").status_code == 400


def test_it_saves_a_figure_through_save_entries_with_history_from_the_api(world):
    target = world["targets"]["own-unit"][0]
    _, key = token_for(world["clerk"])
    answer = client_for(key).post("/api/entries/", {"target": target.code, "year": 2022, "month": 3,
                                                    "value": "12.5", "note": "按月推进"}, format="json")
    assert answer.status_code == 201, answer.json()
    entry = ProgressEntry.objects.get(target=target, year=2022, month=3)
    assert entry.value == Decimal("12.5") and entry.entered_by == world["clerk"]
    change = Change.objects.get(model="targets.progressentry", object_id=str(entry.pk))
    assert change.source == "api" and change.user == world["clerk"]


def test_it_answers_409_with_the_other_persons_value_on_a_stale_version(world):
    target = world["targets"]["own-unit"][0]
    entry = make_entry(target, 3, Decimal("5"))
    _, key = token_for(world["clerk"])
    client = client_for(key)
    first = client.patch(f"/api/entries/{entry.pk}/", {"value": "6", "version": 1}, format="json")
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(f"/api/entries/{entry.pk}/", {"value": "7", "version": 1}, format="json")
    assert stale.status_code == 409
    conflict = stale.json()["conflicts"][0]
    assert conflict["value"] == "6.0000" and conflict["entered_by"] == "api_clerk" and conflict["version"] == 2
    entry.refresh_from_db()
    assert entry.value == Decimal("6")


def test_it_refuses_writes_with_a_read_only_token(world):
    target = world["targets"]["own-unit"][0]
    _, key = token_for(world["clerk"], read_only=True)
    answer = client_for(key).post("/api/entries/", {"target": target.code, "year": 2022, "month": 3,
                                                    "value": "1"}, format="json")
    assert answer.status_code == 403
    assert not ProgressEntry.objects.exists()


def test_it_refuses_another_units_target_and_a_leaders_write(world):
    other_target = world["targets"]["other-unit"][0]
    _, clerk_key = token_for(world["clerk"])
    answer = client_for(clerk_key).post("/api/entries/", {"target": other_target.code, "year": 2022, "month": 3,
                                                          "value": "1"}, format="json")
    assert answer.status_code == 400  # not among the targets this clerk sees: nothing tells it exists
    _, leader_key = token_for(world["leader"])
    answer = client_for(leader_key).post("/api/entries/", {"target": other_target.code, "year": 2022, "month": 3,
                                                           "value": "1"}, format="json")
    assert answer.status_code == 403
    assert not ProgressEntry.objects.exists()


def test_it_writes_a_bulk_all_or_nothing(world):
    own = world["targets"]["own-unit"]
    _, key = token_for(world["clerk"])
    client = client_for(key)
    bad = client.post("/api/entries/bulk/", {"entries": [
        {"target": own[0].code, "year": 2022, "month": 3, "value": "1"},
        {"target": own[1].code, "year": 2022, "month": 3, "value": "1", "comparator": "1"},
        {"target": own[1].code, "year": 2031, "month": 3, "value": "1"},
    ]}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"]
    assert not ProgressEntry.objects.exists()
    good = client.post("/api/entries/bulk/", {"entries": [
        {"target": t.code, "year": 2022, "month": 3, "value": "1"} for t in own]}, format="json")
    assert good.status_code == 200 and good.json()["created"] == 2
    assert Change.objects.filter(source="api").count() == 2


@override_settings(API_RATE_LIMIT="3/minute")
def test_it_throttles_each_token_on_its_own(world):
    from django.core.cache import cache

    cache.clear()
    _, first = token_for(world["clerk"])
    _, second = token_for(world["clerk"])
    codes = [client_for(first).get("/api/plans/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client_for(second).get("/api/plans/").status_code == 200


def test_it_serves_report_rows_with_status_reason_and_forecast(world):
    target = world["targets"]["own-unit"][0]
    make_entry(target, 3, Decimal("30"))
    _, key = token_for(world["clerk"])
    rows = client_for(key).get("/api/reports/?period=2022-03").json()["results"]
    row = next(r for r in rows if r["code"] == target.code)
    assert row["status"] and row["reason"] and "forecast" in row and row["actual"] == "30.0000"


def test_it_serves_completeness_of_the_month(world):
    _, key = token_for(world["leader"])
    body = client_for(key).get("/api/completeness/?period=2022-03").json()
    assert body["period"] == "2022-03" and body["totals"]["expected"] == 4
    assert {u["unit"] for u in body["units"]} == {"own-unit", "other-unit"}


def _fill(n):
    section = make_section()
    unit = make_unit(f"bulk-{n}")
    for _ in range(n):
        target = make_target(section=section, lead_unit=unit)
        make_entry(target, 3, Decimal("1"))


@pytest.mark.parametrize("n", [5, 50])
@pytest.mark.parametrize("path", ["/api/units/", "/api/plans/", "/api/sections/", "/api/targets/", "/api/entries/",
                                  "/api/reports/?period=2022-03", "/api/completeness/?period=2022-03",
                                  "/api/indicators/", "/api/regions/", "/api/peer-groups/", "/api/series/?year=2022"])
def test_it_reads_every_list_in_a_constant_number_of_queries(world, django_assert_max_num_queries, n, path):
    _fill(n)
    with_series(world["targets"]["own-unit"][0])
    _, key = token_for(world["leader"])
    client = client_for(key)
    client.get(path)  # the token's last_used_at is written once a minute: not part of the count
    # 13: a leader's scope reads the unit tree and the units leading their organisation's targets; the report's
    # province and ranks (a target follows a series here) read the rank tables in five more.
    with django_assert_max_num_queries(18 if path.startswith("/api/reports/") else 13):
        assert client.get(path).status_code == 200


def test_it_serves_the_schema_and_docs_from_vendored_files(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200


def test_it_answers_a_body_that_is_not_json_with_400_in_the_documented_shape(world):
    entry = make_entry(world["targets"]["own-unit"][0], 3, Decimal("5"))
    _, key = token_for(world["clerk"])
    answer = client_for(key).generic("PATCH", f"/api/entries/{entry.pk}/", "not json",
                                     content_type="application/json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["message"]
