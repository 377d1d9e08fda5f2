"""The API's indicator series: indicators, regions with their peer groups, values with published and computed
ranks (tracker.targets.ranks, as the grid and the report), read by every staff member; and the report rows'
province, gap and ranks as on the report page."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.api_helpers import client_for, token_for
from tests.factories import make_unit, make_user
from tracker.accounts.models import Membership
from tracker.reports.report import build_rows, report_targets
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import Indicator, PeerGroup, PublishedRank, Region, SeriesValue, Target, Unit
from tracker.targets.ranks import rank_table

pytestmark = pytest.mark.django_db
Role = Membership.Role
SERIES_LISTS = ["/api/indicators/", "/api/regions/", "/api/peer-groups/", "/api/series/?year=2022"]


@pytest.fixture
def bozhou():
    call_command("loaddata", "bozhou_2022", verbosity=0)
    return Target.objects.filter(plan__year=2022)


def _places(value_json):
    return {p["group"]: p for p in value_json["ranks"]}


def test_it_serves_values_with_the_published_rank_and_the_computed_one_of_the_ranks_module(bozhou):
    clerk = make_user("clerk", unit=make_unit("somewhere"), role=Role.CLERK)
    client = client_for(token_for(clerk)[1])
    investment, city = Indicator.objects.get(code="gytz"), Region.objects.get(code="bozhou")
    body = client.get("/api/series/?year=2022&month=9&indicator=gytz&region=bozhou").json()
    assert body["count"] == 1
    value = body["results"][0]
    assert (value["value"], value["period"]) == ("1.8000", "2022-09")
    # As published (全省第9位); not computed while a city's value is missing.
    assert (_places(value)["全省"]["published"], _places(value)["全省"]["computed"]) == (9, None)
    assert _places(value)["全省"]["size"] == 16 and _places(value)["皖北"]["published"] is None
    # Every city's value: seven grew faster, so the computed place is 8th, shown beside the published 9th.
    others = [c for c in PeerGroup.objects.get(code="anhui-cities").members.all() if c != city]
    SeriesValue.objects.filter(indicator=investment, year=2022, month=9, region__in=others).delete()
    for i, region in enumerate(others):
        SeriesValue.objects.create(indicator=investment, region=region, year=2022, month=9,
                                   value=D("5") if i < 7 else D("-1"))
    value = client.get(f"/api/series/{value['id']}/").json()
    place = _places(value)["全省"]
    assert (place["published"], place["computed"], place["differs"]) == (9, 8, True)
    assert place["text"] == "全省第9位（按数据计算第8位）"
    # Field by field what the grid and the report read from the ranks module, for every value of the year.
    every = client.get("/api/series/?year=2022&page_size=1000").json()["results"]
    table = rank_table(Indicator.objects.values_list("pk", flat=True), 2022)
    ids = {i.code: i.pk for i in Indicator.objects.all()}
    regions = {r.code: r.pk for r in Region.objects.all()}
    assert len(every) == SeriesValue.objects.filter(year=2022).count()
    for v in every:
        want = table.places(ids[v["indicator"]], regions[v["region"]], v["month"])
        assert [(p["group_id"], p["published"], p["computed"], p["size"]) for p in v["ranks"]] == [
            (p.group_id, p.published, p.computed, p.size) for p in want]


def test_it_filters_values_and_wants_a_year(bozhou):
    client = client_for(token_for(make_user("clerk", unit=make_unit("u")))[1])
    assert client.get("/api/series/").status_code == 400
    assert client.get("/api/series/?year=2022&month=13").status_code == 400
    body = client.get("/api/series/?year=2022&indicator=gyzjz&page_size=1000").json()
    assert body["count"] == SeriesValue.objects.filter(year=2022, indicator__code="gyzjz").count() > 0
    assert {v["indicator"] for v in body["results"]} == {"gyzjz"}
    assert client.get("/api/series/?year=2030").json()["count"] == 0
    assert client.get("/api/series/?year=2021").json()["results"][0]["year"] == 2021
    regions = client.get("/api/regions/?peer_group=wanbei").json()
    assert regions["count"] == 6 and all("wanbei" in r["peer_groups"] for r in regions["results"])
    group = client.get("/api/peer-groups/?code=wanbei").json()["results"][0]
    assert group["province"] == "anhui" and "bozhou" in group["members"]


def test_every_staff_member_reads_the_series_and_no_one_else(bozhou):
    county = make_unit("county")
    clerk = make_user("county_clerk", unit=county, role=Role.CLERK)
    outsider = make_user("outsider", unit=county, role=Role.CLERK)
    outsider.is_staff = False
    outsider.save()
    for path in SERIES_LISTS:
        assert client_for(token_for(clerk, read_only=True)[1]).get(path).status_code == 200, path
        assert client_for(token_for(outsider)[1]).get(path).status_code == 403, path
    # Not the province's secrets: a county clerk reads every region's published values, as on the grid.
    body = client_for(token_for(clerk)[1]).get("/api/series/?year=2022&month=9&page_size=1000").json()
    stored = set(SeriesValue.objects.filter(year=2022, month=9).values_list("region__code", flat=True))
    assert {v["region"] for v in body["results"]} == stored and len(stored) > 1


def _grow(n):
    province = Region.objects.get_or_create(code="p", defaults={"name": "全省", "kind": Region.Kind.PROVINCE})[0]
    group = PeerGroup.objects.get_or_create(code="g", defaults={"name": "全省", "province": province})[0]
    start = Region.objects.count()
    regions = [Region.objects.create(code=f"r{start + k}", name=f"城市{start + k}") for k in range(n)]
    group.members.add(*regions)
    PeerGroup.objects.create(code=f"g{start}", name=f"片区{start}", province=province).members.set(regions)
    indicators = [Indicator.objects.create(code=f"i{start + k}", name=f"指标{start + k}") for k in range(n)]
    values = SeriesValue.objects.bulk_create(
        SeriesValue(indicator=i, region=r, year=2022, month=m, value=D(k % 7))
        for k, (i, r, m) in enumerate((i, r, m) for i in indicators for r in regions for m in (3, 6)))
    PublishedRank.objects.bulk_create(PublishedRank(value=v, group=group, rank=1 + k % 3)
                                      for k, v in enumerate(values))


def _count(client, path):
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(path + ("&" if "?" in path else "?") + "page_size=1000")
    assert answer.status_code == 200
    return len(queries), answer.json()["count"]


def test_every_series_list_costs_the_same_number_of_queries_at_two_sizes():
    client = client_for(token_for(make_user("clerk", unit=make_unit("u")))[1])
    client.get("/api/indicators/")  # the token's last_used_at is written once a minute: not part of the count
    _grow(2)
    small = {path: _count(client, path) for path in SERIES_LISTS}
    _grow(12)
    large = {path: _count(client, path) for path in SERIES_LISTS}
    for path in SERIES_LISTS:
        assert small[path][0] == large[path][0], (path, small, large)
        assert large[path][1] > small[path][1]
    # Two months of every indicator by every region of each growth.
    assert large["/api/series/?year=2022"][1] == 2 * (2 * 2 + 12 * 12)


def test_report_rows_carry_the_report_pages_province_gap_and_ranks(bozhou):
    today = datetime.date(2022, 10, 25)
    for code, value in (("BZ22-2-03", "1.8"), ("BZ22-2-04", "14.8"), ("BZ22-1-04", "6.2")):
        result = save_entries(None, [EntryRow(bozhou.get(code=code), 2022, 9, {"value": D(value)}, confirmed=True)],
                              "test", today=today)
        assert result.ok, result.errors
    boss = make_user("boss", unit=Unit.objects.get(code="bozhou-jxj"), role=Role.ADMIN)  # the plan's bureau
    rows = client_for(token_for(boss)[1]).get("/api/reports/?period=2022-09&page_size=1000").json()["results"]
    with translation.override("zh-hans"):
        expected = build_rows(report_targets(boss, 2022), 2022, 9)
        for want in expected:
            want["places"] = [(p.group_id, p.group, p.size, p.published, p.computed, p.differs, p.text())
                              for p in want["places"]]
    assert [r["code"] for r in rows] == [e["code"] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        for figure in ("province", "province_gap"):
            assert (row[figure] is None) == (want[figure] is None), (row["code"], figure)
            assert row[figure] is None or D(row[figure]) == want[figure], (row["code"], figure)
        assert row["rank"] == str(want["rank"]), row["code"]
        assert [(p["group_id"], p["group"], p["size"], p["published"], p["computed"], p["differs"], p["text"])
                for p in row["places"]] == want["places"], row["code"]
    by_code = {r["code"]: r for r in rows}
    assert (D(by_code["BZ22-2-03"]["province_gap"]), by_code["BZ22-2-03"]["rank"]) == (D("1.6"), "全省第9位")
    assert D(by_code["BZ22-1-04"]["province"]) == D("5.8")


def test_it_reads_an_offset_postgresql_refuses_in_utc_and_refuses_a_time_utc_cannot_hold():
    """Python reads an offset of +16:03, which PostgreSQL refuses: it is put in UTC (a server error before); year 1
    at +01:00 is before year 1 in UTC: a bad value (400), never a 500."""
    client = client_for(token_for(make_user("clerk", unit=make_unit("u")))[1])
    for path in ("/api/entries/", "/api/series/?year=2022"):
        join = "&" if "?" in path else "?"
        for moment, status in (("2356-01-29T02:25:14%2B16:03", 200), ("0001-01-01T00:00:00%2B01:00", 400),
                               ("9999-12-31T23:59:00-01:00", 400), ("2022-01-01T00:00:00%2B08:00", 200)):
            assert client.get(f"{path}{join}updated_since={moment}").status_code == status, (path, moment)
