"""assess_period on the database: thresholds from the plan, overrides, roll-up of sub-targets."""

import datetime
from decimal import Decimal

import pytest

from tests.factories import make_entry, make_plan, make_target, make_unit
from tracker.targets.models import MonthlyPlanPoint, Target
from tracker.targets.status import assess_period

pytestmark = pytest.mark.django_db
Kind = Target.Kind
TODAY = datetime.date(2023, 1, 10)


def test_it_uses_the_plans_thresholds_and_the_targets_overrides():
    make_plan(2022, ratio_at_risk=Decimal("0.8"))
    plain = make_target(Kind.CUMULATIVE, code="C-1")
    strict = make_target(Kind.CUMULATIVE, code="C-2", ratio_at_risk=Decimal("0.95"))
    for t in (plain, strict):
        make_entry(t, 6, Decimal("34"))  # 34 of the 40 expected: 85%
    result = assess_period(Target.objects.all(), 2022, 6, today=TODAY)
    assert (result[plain.pk].status, result[strict.pk].status) == ("on_track", "at_risk")


def test_it_rolls_a_city_target_up_from_county_sub_targets_outside_the_queryset():
    city, county_a, county_b = make_unit("city"), make_unit("qc"), make_unit("gy")
    parent = make_target(Kind.CUMULATIVE, code="P", lead_unit=city)
    a = make_target(Kind.CUMULATIVE, code="P-QC", lead_unit=county_a, parent=parent, target_value=Decimal("50"))
    b = make_target(Kind.CUMULATIVE, code="P-GY", lead_unit=county_b, parent=parent, target_value=Decimal("30"))
    gone = make_target(Kind.CUMULATIVE, code="P-OLD", lead_unit=county_b, parent=parent, is_active=False)
    make_entry(a, 5, Decimal("20"))
    make_entry(a, 6, Decimal("26"))
    make_entry(b, 6, Decimal("12"))
    make_entry(gone, 6, Decimal("99"))
    MonthlyPlanPoint.objects.create(target=a, month=6, value=Decimal("20"))
    result = assess_period(Target.objects.filter(lead_unit=city), 2022, 6, today=TODAY)
    assert list(result) == [parent.pk]
    assert (result[parent.pk].actual, result[parent.pk].status) == (Decimal("38"), "on_track")
    assert result[parent.pk].reason_zh.endswith("（由2个分解目标中已报的2个汇总）")
    # Each sub-target is judged on its own, with its own plan curve.
    subs = assess_period(Target.objects.filter(parent=parent, is_active=True), 2022, 6, today=TODAY)
    assert (subs[a.pk].expected, subs[a.pk].status) == (Decimal("20.00"), "on_track")
    assert (subs[b.pk].expected, subs[b.pk].status) == (Decimal("15.00"), "at_risk")


def test_it_returns_nothing_for_no_targets(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert assess_period(Target.objects.none(), 2022, 6) == {}


def test_it_judges_on_the_figures_before_one_the_reviewer_returned():
    target = make_target(Kind.CUMULATIVE, code="R-1")
    make_entry(target, 5, Decimal("30"), state="approved")
    make_entry(target, 6, Decimal("3"), state="returned", review_comment="应为累计数")
    result = assess_period(Target.objects.all(), 2022, 6, today=TODAY)[target.pk]
    assert result.actual == Decimal("30")
    assert result.reason_zh.startswith("1—6月数据逾期未报；按最近数据：1—5月")


def test_the_report_trend_of_a_decomposed_total_is_its_sub_targets_sum():
    from tracker.reports.report import build_rows

    city, county_a, county_b = make_unit("city"), make_unit("qc"), make_unit("gy")
    parent = make_target(Kind.CUMULATIVE, code="P", lead_unit=city)
    a = make_target(Kind.CUMULATIVE, code="P-QC", lead_unit=county_a, parent=parent)
    b = make_target(Kind.CUMULATIVE, code="P-GY", lead_unit=county_b, parent=parent)
    make_entry(a, 2, Decimal("5"))
    make_entry(a, 3, Decimal("9"))
    make_entry(b, 3, Decimal("4"))
    rows = {r["code"]: r for r in build_rows(Target.objects.filter(code="P"), 2022, 3, today=TODAY)}
    assert rows["P"]["trend"] == {2: Decimal("5"), 3: Decimal("13")}
