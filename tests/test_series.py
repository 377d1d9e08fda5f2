"""Indicators, regions and peer groups as data: series values, the province's figure of margin targets, ranks
(published as given, computed where every peer has a value) and the gap to the province, checked with the
published facts of Bozhou's 1–9月 2022 release."""

import datetime
import importlib
import io
from decimal import Decimal as D

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from docx import Document

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.reports import briefing
from tracker.reports.report import build_rows, summarise
from tracker.services.entries import EntryRow, save_entries
from tracker.services.series import CLEAR, SeriesRow, save_series
from tracker.targets.models import Indicator, PeerGroup, ProgressEntry, PublishedRank, Region, SeriesValue, Target, Unit
from tracker.targets.ranks import rank_table

pytestmark = pytest.mark.django_db
Role = Membership.Role
TODAY = datetime.date(2022, 10, 25)


@pytest.fixture
def bozhou():
    """The 2022 plan with the regions, peer groups, indicators and the published 1–9月 figures it ships."""
    call_command("loaddata", "bozhou_2022", verbosity=0)
    return Target.objects.filter(plan__year=2022)


def enter(target, month, value):
    result = save_entries(None, [EntryRow(target, 2022, month, {"value": D(value)}, confirmed=True)], "test",
                          today=TODAY)
    assert result.ok, result.errors


def row_of(rows, code):
    return next(r for r in rows if r["code"] == code)


def test_the_published_gaps_and_ranks_come_out_as_printed(bozhou):
    """工业投资 +1.8%, 1.6 points above the province, 9th; 技改投资 +14.8%, 23.7 points above, 3rd;
    规上工业增加值 +6.2% against Anhui's +5.8%."""
    enter(bozhou.get(code="BZ22-2-03"), 9, "1.8")
    enter(bozhou.get(code="BZ22-2-04"), 9, "14.8")
    enter(bozhou.get(code="BZ22-1-04"), 9, "6.2")
    with __import__("django.utils.translation", fromlist=["override"]).override("zh-hans"):
        rows = build_rows(bozhou, 2022, 9, today=TODAY)
        investment, renovation, value_added = (row_of(rows, c) for c in ("BZ22-2-03", "BZ22-2-04", "BZ22-1-04"))
        assert (investment["province_gap"], investment["rank"]) == (D("1.6"), "全省第9位")
        assert (renovation["province_gap"], renovation["rank"]) == (D("23.7"), "全省第3位")
        assert (value_added["actual"], value_added["province"], value_added["province_gap"]) == (
            D("6.2"), D("5.8"), D("0.4"))
        # The margin target takes the province's figure from the series: 0.4 points above, 0.5 required.
        assert value_added["comparator"] == D("5.8") and value_added["status"] == "at_risk"
        assert "高于全省规模以上工业增加值累计增速（5.8%）0.4个百分点" in str(value_added["reason"])
        made = briefing.build(rows, summarise(rows), 2022, 9, today=TODAY)
        by_name = {i["name"]: i for i in made.indicators}
        assert by_name["工业投资增长8%左右"]["province"] == "高于全省1.6个百分点（全省0.2%）"
        assert by_name["技改投资增长10%左右"]["province"] == "高于全省23.7个百分点（全省-8.9%）"
        assert by_name["技改投资增长10%左右"]["rank"] == "全省第3位"
        doc = Document(io.BytesIO(briefing.to_docx(made)))
        cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
        assert cells[0][5:7] == ["与全省比较", "位次"]
        assert ["高于全省1.6个百分点（全省0.2%）", "全省第9位"] in [c[5:7] for c in cells]


def test_a_published_rank_stays_as_given_and_a_computed_one_is_shown_beside_it_when_it_differs(bozhou):
    cities = list(PeerGroup.objects.get(code="anhui-cities").members.all())
    investment = Indicator.objects.get(code="gytz")
    bozhou_city = Region.objects.get(code="bozhou")
    # Every city's value: 亳州 (1.8) comes out 8th when seven cities grew faster; the release said 9th.
    values = {c.pk: D("5") if i < 7 else D("-1") for i, c in enumerate(c for c in cities if c != bozhou_city)}
    for region_id, value in values.items():
        SeriesValue.objects.create(indicator=investment, region_id=region_id, year=2022, month=9, value=value)
    place = next(p for p in rank_table([investment.pk], 2022, [9]).places(investment.pk, bozhou_city.pk, 9)
                 if p.group == "全省")
    assert (place.published, place.computed, place.size, place.differs) == (9, 8, 16, True)
    from django.utils import translation

    with translation.override("zh-hans"):
        assert place.text() == "全省第9位（按数据计算第8位）"
    # Ties share a place: 皖北 has 亳州 1.8 and five others; two of them at 5 share the first place.
    wanbei = next(p for p in rank_table([investment.pk], 2022, [9]).places(investment.pk, bozhou_city.pk, 9)
                  if p.group == "皖北")
    assert wanbei.published is None and wanbei.computed in (1, 2, 3, 4, 5, 6)
    # One peer missing: no computed place at all, only the published one.
    SeriesValue.objects.filter(indicator=investment, year=2022, month=9).exclude(
        region__in=[bozhou_city, Region.objects.get(code="anhui")]).first().delete()
    place = next(p for p in rank_table([investment.pk], 2022, [9]).places(investment.pk, bozhou_city.pk, 9)
                 if p.group == "全省")
    assert (place.published, place.computed) == (9, None)


def test_ties_share_a_place_in_computed_ranks():
    group = PeerGroup.objects.create(code="g", name="组")
    indicator = Indicator.objects.create(code="i", name="指标")
    regions = [Region.objects.create(code=f"r{n}", name=f"地区{n}") for n in range(4)]
    group.members.set(regions)
    for region, value in zip(regions, ("3", "5", "5", "1"), strict=True):
        SeriesValue.objects.create(indicator=indicator, region=region, year=2022, month=3, value=D(value))
    table = rank_table([indicator.pk], 2022, [3])
    assert [table.places(indicator.pk, r.pk, 3)[0].computed for r in regions] == [3, 1, 1, 4]


def test_ranks_of_16_regions_50_indicators_and_12_months_take_a_constant_number_of_queries(
        django_assert_max_num_queries):
    regions = [Region.objects.create(code=f"c{n}", name=f"城市{n}") for n in range(16)]
    province = Region.objects.create(code="p", name="全省", kind=Region.Kind.PROVINCE)
    groups = [PeerGroup.objects.create(code="all", name="全省", province=province),
              PeerGroup.objects.create(code="north", name="皖北", province=province)]
    groups[0].members.set(regions)
    groups[1].members.set(regions[:6])
    indicators = [Indicator.objects.create(code=f"i{n}", name=f"指标{n}") for n in range(50)]
    values = [SeriesValue(indicator=i, region=r, year=2022, month=m, value=D(n % 17))
              for n, (i, r, m) in enumerate((i, r, m) for i in indicators for r in regions for m in range(1, 13))]
    SeriesValue.objects.bulk_create(values)
    stored = list(SeriesValue.objects.filter(region=regions[0]).order_by("pk"))
    PublishedRank.objects.bulk_create(PublishedRank(value=v, group=groups[0], rank=3) for v in stored)
    with django_assert_max_num_queries(5):
        table = rank_table([i.pk for i in indicators], 2022)
        places = [table.places(i.pk, r.pk, m) for i in indicators for r in regions for m in range(1, 13)]
    assert len(places) == 16 * 50 * 12
    assert all(p[0].computed is not None for p in places)
    assert places[0][0].published == 3


def test_the_report_runs_the_same_queries_with_one_or_many_ranked_targets(django_assert_max_num_queries):
    plan, unit = make_plan(2022), make_unit("bz")
    province = Region.objects.create(code="p", name="全省", kind=Region.Kind.PROVINCE)
    city = Region.objects.create(code="c", name="亳州", unit=unit)
    group = PeerGroup.objects.create(code="all", name="全省", province=province)
    group.members.set([city])

    def add(n):
        for k in range(n):
            indicator = Indicator.objects.create(code=f"i{Indicator.objects.count()}", name=f"指标{k}")
            target = make_target(Target.Kind.GROWTH, plan=plan, lead_unit=unit, series_indicator=indicator,
                                 series_region=city, comparator_region=province)
            make_entry(target, 6, D("3"))
            SeriesValue.objects.create(indicator=indicator, region=province, year=2022, month=6, value=D("2"))

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            rows = build_rows(Target.objects.filter(plan=plan), 2022, 6, today=TODAY)
        assert all(r["province_gap"] == D("1") for r in rows)
        return len(ctx.captured_queries)

    add(1)
    few = count()
    add(40)
    assert count() == few


def test_rows_standing_at_different_months_each_get_the_province_figure_and_rank_of_their_own_month():
    """The report reads the series only for the months its rows stand at: a figure reported to 6月 is set against
    the province's 1–6月 figure, one reported to 9月 against 1–9月, in the same report."""
    plan, unit = make_plan(2022), make_unit("bz")
    province = Region.objects.create(code="p", name="全省", kind=Region.Kind.PROVINCE)
    city, other = Region.objects.create(code="c", name="亳州", unit=unit), Region.objects.create(code="o", name="阜阳")
    group = PeerGroup.objects.create(code="all", name="全省", province=province)
    group.members.set([city, other])
    indicator = Indicator.objects.create(code="inv", name="工业投资")
    late, current = (make_target(Target.Kind.GROWTH, plan=plan, lead_unit=unit, code=code, series_indicator=indicator,
                                 series_region=city, comparator_region=province) for code in ("T-6", "T-9"))
    make_entry(late, 6, D("3"))
    make_entry(current, 9, D("5"))
    for month, (p_value, c_value, o_value) in {6: ("1", "3", "4"), 9: ("2", "5", "1")}.items():
        for region, value in ((province, p_value), (city, c_value), (other, o_value)):
            SeriesValue.objects.create(indicator=indicator, region=region, year=2022, month=month, value=D(value))
    with __import__("django.utils.translation", fromlist=["override"]).override("zh-hans"):
        rows = build_rows(Target.objects.filter(plan=plan), 2022, 9, today=TODAY)
    six, nine = row_of(rows, "T-6"), row_of(rows, "T-9")
    assert (six["as_of_month"], six["province"], six["province_gap"]) == (6, D("1"), D("2"))
    assert (nine["as_of_month"], nine["province"], nine["province_gap"]) == (9, D("2"), D("3"))
    # 亳州 is behind 阜阳 at 6月 (3 against 4) and ahead of it at 9月 (5 against 1): computed places.
    assert [p.computed for p in six["places"]] == [2] and [p.computed for p in nine["places"]] == [1]
    assert six["rank"] != nine["rank"]


def test_a_margin_target_following_the_series_refuses_a_typed_comparator(bozhou):
    target = bozhou.get(code="BZ22-1-04")
    result = save_entries(None, [EntryRow(target, 2022, 9, {"value": D("6.2"), "comparator": D("5.8")})], "test",
                          today=TODAY)
    assert not result.ok
    assert "对比值取自指标数据" in str(result.errors[0])
    assert save_entries(None, [EntryRow(target, 2022, 9, {"value": D("6.2")})], "test", today=TODAY).ok


def test_without_the_province_figure_a_margin_target_has_no_data_never_a_better_colour(bozhou):
    target = bozhou.get(code="BZ22-4-10")  # 民营经济: no province figure in the series
    enter(target, 9, "9.0")
    row = row_of(build_rows(bozhou, 2022, 9, today=TODAY), "BZ22-4-10")
    assert row["status"] == "no_data" and row["province"] is None and row["province_gap"] is None


def test_the_migration_moves_entered_comparators_into_the_series_without_loss():
    migration = importlib.import_module("tracker.targets.migrations.0011_move_comparators_into_series")
    unit = make_unit("bureau")
    first = make_target(Target.Kind.MARGIN, code="M1", lead_unit=unit, comparator_name="全省规上工业增加值增速")
    second = make_target(Target.Kind.MARGIN, code="M2", lead_unit=unit, comparator_name="全省规上工业增加值增速")
    other = make_target(Target.Kind.MARGIN, code="M3", lead_unit=unit, comparator_name="全省民营经济增加值增速")
    make_entry(first, 3, D("9"), comparator=D("8.5"), state="approved")
    make_entry(second, 3, D("7"), comparator=D("8.4"))  # disagrees: the approved figure wins
    make_entry(second, 4, D("7"), comparator=D("7.9"))
    make_entry(other, 3, D("5"), comparator=D("6.1"))
    migration.forwards(apps, None)
    province = Region.objects.get(kind=Region.Kind.PROVINCE)
    series = {(v.indicator.name, v.month): v.value for v in SeriesValue.objects.filter(region=province)}
    assert series == {("规上工业增加值增速", 3): D("8.5"), ("规上工业增加值增速", 4): D("7.9"),
                      ("民营经济增加值增速", 3): D("6.1")}
    for target in Target.objects.filter(code__in=["M1", "M2", "M3"]):
        assert target.comparator_from_series and target.comparator_region == province
    assert not ProgressEntry.objects.filter(comparator__isnull=False).exists()
    moved = {(c.object_id, c.changes["comparator"][0]): c.reason for c in Change.objects.filter(source="migration")}
    assert len(moved) == 4
    disagreeing = ProgressEntry.objects.get(target=second, month=3)
    assert "8.4" == next(old for (pk, old) in moved if pk == str(disagreeing.pk))
    assert "指标数据取 8.5" in moved[(str(disagreeing.pk), "8.4")]
    # The judged figures are those the series holds now.
    row = row_of(build_rows(Target.objects.filter(code__in=["M1", "M2"]), 2022, 4, today=TODAY), "M2")
    assert row["comparator"] == D("7.9")
    migration.backwards(apps, None)
    assert ProgressEntry.objects.get(target=second, month=4).comparator == D("7.9")


def test_the_fixtures_give_the_2022_plan_its_series():
    call_command("loaddata", "bozhou_2022", "demo", verbosity=0)
    assert Region.objects.filter(kind=Region.Kind.CITY).count() == 16
    assert set(PeerGroup.objects.get(code="wanbei").members.values_list("name", flat=True)) == {
        "宿州市", "淮北市", "亳州市", "阜阳市", "蚌埠市", "淮南市"}
    linked = Target.objects.filter(series_indicator__isnull=False).values_list("code", flat=True)
    assert set(linked) == {"BZ22-1-04", "BZ22-2-03", "BZ22-2-04", "BZ22-4-10"}
    seed = SeriesValue.objects.get(indicator__code="gyzjz", region__code="bozhou", year=2021, month=11)
    assert seed.value == D("9.6")
    assert dict(seed.ranks.values_list("group__name", "rank")) == {"全省": 10, "皖北": 2}


def test_writing_the_series_checks_rights_versions_and_keeps_history(bozhou):
    top = Unit.objects.get(code="bozhou-jxj")  # the bureau issuing the plan its counties lead parts of
    admin = make_user("boss", unit=top, role=Role.ADMIN)
    clerk = make_user("clerk", unit=make_unit("low", parent=top), role=Role.CLERK)
    indicator, anhui = Indicator.objects.get(code="gytz"), Region.objects.get(code="anhui")
    assert not save_series(clerk, [SeriesRow(indicator, anhui, 2022, 8, D("1"))], "test", today=TODAY).ok
    assert save_series(admin, [SeriesRow(indicator, anhui, 2022, 8, D("1"))], "test", today=TODAY).ok
    stored = SeriesValue.objects.get(indicator=indicator, region=anhui, year=2022, month=8)
    # Someone changed it after the writer saw version 1: refused with their value, nothing written.
    assert save_series(admin, [SeriesRow(indicator, anhui, 2022, 8, D("2"), base_version=1)], "test",
                       today=TODAY).ok
    result = save_series(admin, [SeriesRow(indicator, anhui, 2022, 8, D("3"), base_version=1),
                                 SeriesRow(indicator, anhui, 2022, 7, D("4"))], "test", today=TODAY)
    assert not result.ok and "boss" in result.errors[0].message and "2" in result.errors[0].message
    assert not SeriesValue.objects.filter(indicator=indicator, region=anhui, month=7).exists()
    stored.refresh_from_db()
    assert (stored.value, stored.version) == (D("2"), 2)
    bozhou_city, group = Region.objects.get(code="bozhou"), PeerGroup.objects.get(code="anhui-cities")
    too_far = save_series(admin, [SeriesRow(indicator, bozhou_city, 2022, 8, D("1"), {group: 17})], "test",
                          today=TODAY)
    assert not too_far.ok and "17" in too_far.errors[0].message
    assert save_series(admin, [SeriesRow(indicator, bozhou_city, 2022, 8, D("1"), {group: 4})], "test",
                       today=TODAY).ok
    history = Change.objects.filter(model="targets.seriesvalue").order_by("pk")
    assert history.count() == 3 and history.last().changes["ranks"] == [None, {str(group.pk): 4}]
    assert save_series(admin, [SeriesRow(indicator, bozhou_city, 2022, 8, CLEAR)], "test", today=TODAY).ok
    assert not PublishedRank.objects.filter(value__region=bozhou_city, value__month=8).exists()
    future = save_series(admin, [SeriesRow(indicator, anhui, 2022, 11, D("1"))], "test", today=TODAY)
    assert not future.ok


def test_the_target_page_shows_the_city_against_the_province_and_the_rank_by_month(client, bozhou):
    enter(bozhou.get(code="BZ22-2-03"), 9, "1.8")
    client.force_login(make_user("lead", unit=Unit.objects.get(code="bozhou-jxj"), role=Role.LEADER))
    page = client.get(reverse("reports:target", args=["BZ22-2-03"]) + "?period=2022-09").content.decode()
    assert 'id="series-months"' in page and "全省第9位" in page and "+1.6" in page
    assert "安徽省工业投资增速" in page  # the province's line in the chart
    dashboard = client.get(reverse("reports:dashboard") + "?period=2022-09").content.decode()
    assert 'id="ranked"' in dashboard and "全省第9位" in dashboard
    report = client.get(reverse("reports:report", args=["2022", "09"])).content.decode()
    assert "+1.6（全省0.2）" in report and "全省第9位" in report
    csv_text = client.get(reverse("reports:report", args=["2022", "09"]) + "?_export=csv").content.decode()
    assert "全省第9位" in csv_text and ",1.6," in csv_text


def test_bulletin_headings_are_numbered_past_ten():
    plan = make_plan(2022)
    unit = make_unit("bureau", name="亳州市经济和信息化局")
    for number in range(1, 13):
        section = make_section(plan, number=number, name=f"板块{number}")
        target = make_target(Target.Kind.CUMULATIVE, plan=plan, section=section, lead_unit=unit)
        make_entry(target, 6, D("10"), problems=f"问题{number}")
    rows = build_rows(Target.objects.filter(plan=plan), 2022, 6, today=datetime.date(2022, 7, 15))
    made = briefing.build(rows, summarise(rows), 2022, 6, today=datetime.date(2022, 7, 15))
    text = [p.text for p in Document(io.BytesIO(briefing.to_docx(made))).paragraphs]
    assert "（十）板块10" in text and "（十一）板块11" in text and "（十二）板块12" in text
    assert [briefing.chinese_numeral(n) for n in (1, 10, 11, 20, 21, 99)] == ["一", "十", "十一", "二十", "二十一",
                                                                            "九十九"]


def test_the_checks_hold_a_rate_against_the_province_figure_of_the_series(bozhou):
    """Far from the rate aimed at: 6.2 + 60 points against the province's 5.8 + 0.5 is questioned."""
    target = bozhou.get(code="BZ22-1-04")
    result = save_entries(None, [EntryRow(target, 2022, 9, {"value": D("66.3")})], "test", today=TODAY)
    assert not result.ok and [w.code for w in result.warnings] == ["far_from_target"]
    assert "6.3" in result.warnings[0].message
    assert save_entries(None, [EntryRow(target, 2022, 9, {"value": D("6.2")})], "test", today=TODAY).ok
