"""The home dashboard and the target page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.targets.models import MonthlyPlanPoint, ProgressEntry, Target

pytestmark = pytest.mark.django_db
Kind = Target.Kind


@pytest.fixture
def world():
    plan = make_plan(2022)
    s1 = make_section(plan, 1, name="经济运行调度")
    s2 = make_section(plan, 2, name="项目调度")
    city = make_unit("city", name="市经信局")
    county = make_unit("county", name="谯城区")
    w = type("World", (), {})()
    w.red = make_target(Kind.GROWTH, code="R-1", name="工业投资", section=s1, lead_unit=city, tolerance=Decimal(0))
    w.yellow = make_target(Kind.CUMULATIVE, code="Y-1", name="新增规上企业", section=s2, lead_unit=county)
    w.green = make_target(Kind.MARGIN, code="G-1", name="规上工业增加值", section=s1, lead_unit=city,
                          comparator_name="全省规上工业增加值增速")
    make_entry(w.red, 6, Decimal("4.0"))
    make_entry(w.yellow, 6, Decimal("32"))
    make_entry(w.green, 3, Decimal("9.8"), comparator=Decimal("9.1"), note="示例：一季度好于全省")
    make_entry(w.green, 6, Decimal("9.6"), comparator=Decimal("9.0"), note="示例：保持领先",
               state=ProgressEntry.State.APPROVED)
    w.leader = make_user("boss", unit=city, role=Membership.Role.LEADER)
    w.county_clerk = make_user("qc", unit=county)
    return w


def test_it_counts_by_status_and_section_and_lists_red_then_yellow(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("reports:dashboard") + "?period=2022-06")
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["by_status"] == {"achieved": 0, "on_track": 1, "at_risk": 1, "off_track": 1, "no_data": 0,
                                    "not_due": 0}
    assert [(s["name"], s["cells"], s["total"]) for s in summary["sections"]] == [
        ("经济运行调度", [0, 1, 0, 1, 0, 0], 2), ("项目调度", [0, 0, 1, 0, 0, 0], 1)]
    assert [r["code"] for r in summary["flagged"]] == ["R-1", "Y-1"]
    html = response.content.decode()
    assert html.index("1—6月工业投资增长4.0%，低于目标4.0个百分点") < html.index("1—6月新增规上企业累计完成32家")
    assert 'href="/reports/2022-06/?status=off_track"' in html
    # Two drafts do not count; the approved June figure was stamped today, long after the deadline.
    assert "本月应报数据3项，已报1项（33%），其中按时报送0项。" in html


def test_it_lists_the_worst_flagged_targets_and_sends_to_the_report_for_the_rest(client, world, monkeypatch):
    from tracker.reports import views

    monkeypatch.setattr(views, "DASHBOARD_FLAGGED", 1)
    client.force_login(world.leader)
    html = client.get(reverse("reports:dashboard") + "?period=2022-06").content.decode()
    flagged = html[html.index('<table class="flagged">'):html.index("</table>", html.index('<table class="flagged">'))]
    assert "工业投资" in flagged and "新增规上企业" not in flagged  # the red one, not the yellow one
    assert "显示最严重的1项（共2项）" in html
    assert 'href="/reports/2022-06/?status=at_risk">预警 (1)</a>' in html
    monkeypatch.setattr(views, "DASHBOARD_FLAGGED", 2)
    html = client.get(reverse("reports:dashboard") + "?period=2022-06").content.decode()
    assert "新增规上企业" in html and "flagged-more" not in html


def test_it_limits_the_dashboard_to_the_clerks_units(client, world):
    client.force_login(world.county_clerk)
    summary = client.get(reverse("reports:dashboard") + "?period=2022-06").context["summary"]
    assert summary["total"] == 1
    assert [r["code"] for r in summary["flagged"]] == ["Y-1"]


def test_it_opens_on_the_default_period_and_moves_by_month(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    # Today is long after 2022, the only plan: the dashboard opens on its last month, not on the latest entry.
    assert (response.context["year"], response.context["month"]) == (2022, 12)
    response = client.get(reverse("reports:dashboard") + "?period=2022-01")
    assert response.context["prev_url"].endswith("?period=2021-12")
    assert response.context["next_url"].endswith("?period=2022-02")
    assert client.get(reverse("reports:index"))["Location"] == "/reports/2022-12/"


def test_it_opens_a_past_plan_without_entries_on_december(client):
    make_plan(2021)
    client.force_login(make_user(unit=make_unit(), role="leader"))
    response = client.get(reverse("reports:dashboard"))
    assert (response.context["year"], response.context["month"]) == (2021, 12)


def test_it_refuses_a_bad_period_with_a_message(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("reports:dashboard") + "?period=june")
    assert response.status_code == 400
    assert "“june”不是 YYYY-MM 格式的期间。" in response.content.decode()


def test_it_charts_the_target_against_its_expected_path_and_comparator(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("reports:target", args=["G-1"]) + "?period=2022-06")
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["assessment"].status == "on_track"
    assert '<svg class="chart" role="img"' in html
    assert "<title>累计完成 6: 9.6</title>" in html  # the actual series
    assert "<title>序时进度 6: 9.5</title>" in html  # comparator 9.0 + 0.5 points
    assert "<title>全省规上工业增加值增速 3: 9.1</title>" in html  # the comparator series
    assert "示例：一季度好于全省" in html and "示例：保持领先" in html
    assert "<td>草稿</td>" in html and "<td>已审核</td>" in html  # each entry's state
    assert "http" not in html.split('<svg class="chart"')[1].split("</svg>")[0]  # nothing fetched


def test_it_draws_the_target_line_and_the_monthly_plan(client, world):
    MonthlyPlanPoint.objects.create(target=world.yellow, month=6, value=Decimal("30"))
    client.force_login(world.leader)
    response = client.get(reverse("reports:target", args=["Y-1"]) + "?period=2022-06")
    html = response.content.decode()
    assert 'class="target-line"><title>目标</title>' in html
    assert "<title>序时进度 6: 30</title>" in html and "<title>序时进度 12: 80</title>" in html
    assert "<title>序时进度 7: 38.33</title>" in html  # linear from the plan point to the annual target
    assert response.context["assessment"].status == "on_track"  # 32 against the planned 30


def test_it_charts_a_decomposed_count_from_its_sub_targets(client, world):
    county = make_unit("gy", name="涡阳县")
    share = make_target(Kind.CUMULATIVE, code="Y-1-GY", name="涡阳县新增", parent=world.yellow, lead_unit=county,
                        target_value=Decimal("20"))
    make_entry(share, 2, Decimal("4"))
    parent = make_target(Kind.CUMULATIVE, code="P-1", name="全市新增", lead_unit=world.yellow.lead_unit)
    kid = make_target(Kind.CUMULATIVE, code="P-1-QC", name="谯城区新增", parent=parent, lead_unit=county,
                      target_value=Decimal("30"))
    make_entry(kid, 3, Decimal("7"))
    make_entry(kid, 5, Decimal("11"))
    client.force_login(world.leader)
    response = client.get(reverse("reports:target", args=["P-1"]) + "?period=2022-06")
    html = response.content.decode()
    assert "<title>累计完成 3: 7</title>" in html and "<title>累计完成 5: 11</title>" in html
    # 11 of the 12.5 expected by May (30 × 5/12): 88%, at risk.
    assert [(s.code, a.status) for s, a in response.context["sub_targets"]] == [("P-1-QC", "at_risk")]
    assert response.context["assessment"].actual == Decimal("11")


def test_it_hides_another_units_target_page(client, world):
    client.force_login(world.county_clerk)
    assert client.get(reverse("reports:target", args=["R-1"])).status_code == 404
    assert client.get(reverse("reports:target", args=["NOPE"])).status_code == 404
