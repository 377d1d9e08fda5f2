"""The soft checks as pure functions: a target, new figures, the figure before them -> warnings (no database)."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation

from tracker.targets import checks
from tracker.targets.models import Target

Kind = Target.Kind
D = Decimal


def target(kind, **kw):
    defaults = {
        Kind.CUMULATIVE: {"measure": "家", "target_value": D("80")},
        Kind.RECURRING: {"measure": "次", "target_value": D("4")},
        Kind.GROWTH: {"measure": "%", "target_value": D("8")},
        Kind.MARGIN: {"measure": "百分点", "target_value": D("0.5"), "comparator_name": "全省规上工业增加值增速",
                      "comparator_name_en": "province's industrial growth"},
        Kind.MILESTONE: {"target_value": None},
    }[kind]
    fields = {"code": "T1", "kind": kind, "comparator_name": "", "comparator_name_en": "",
              "growth_jump_points": None, "plan": SimpleNamespace(growth_jump_points=D("10")), **defaults, **kw}
    return SimpleNamespace(**fields)


def earlier(value, month=6):
    return SimpleNamespace(value=D(value), month=month)


def codes(found):
    return [w.code for w in found]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.mark.parametrize("kind", [Kind.CUMULATIVE, Kind.RECURRING])
@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_it_warns_when_a_year_to_date_count_falls_below_the_earlier_figure(kind, direction):
    found = checks.check_entry(target(kind, direction=direction), D("3"), previous=earlier("4"))
    assert codes(found) == [checks.YTD_DECREASE]


def test_it_words_the_ytd_decrease_like_the_classic_slip_in_both_languages():
    # 谯城 18 firms by June, then 10 "by July": the month's own figure typed as the year to date.
    warning = checks.check_ytd_decrease(target(Kind.CUMULATIVE), D("10"), earlier("18", 6))
    assert warning.message == "累计值10家低于1—6月已填报的18家；累计数只增不减，是否误填了当月数？"
    with translation.override("en"):
        assert warning.message == ("The year-to-date figure 10 firms is below the 18 firms entered for Jan–Jun; "
                                   "a year-to-date figure only grows. Was the month's own figure entered?")


def test_it_does_not_warn_when_the_count_grows_or_stays_or_has_nothing_before():
    count = target(Kind.CUMULATIVE)
    assert checks.check_entry(count, D("18"), previous=earlier("18")) == []
    assert checks.check_entry(count, D("19"), previous=earlier("18")) == []
    assert checks.check_entry(count, D("5"), previous=None) == []
    assert checks.check_entry(count, None, previous=earlier("18")) == []


def test_it_does_not_apply_the_ytd_rule_to_rates():
    # A growth rate may well fall: that is the jump rule's business, not the YTD one.
    assert checks.check_entry(target(Kind.GROWTH), D("7"), previous=earlier("8")) == []


@pytest.mark.parametrize("kind", [Kind.GROWTH, Kind.MARGIN])
def test_it_warns_when_a_rate_moves_more_than_the_plans_points(kind):
    rate = target(kind)
    assert checks.check_entry(rate, D("18"), D("18") if kind == Kind.MARGIN else None, earlier("8")) == []
    found = checks.check_entry(rate, D("18.5"), D("18") if kind == Kind.MARGIN else None, earlier("8"))
    assert codes(found) == [checks.GROWTH_JUMP]
    assert found[0].message == "增速18.5%较1—6月的8%变动10.5个百分点（超过10个百分点）。"


def test_it_takes_the_targets_own_jump_limit_over_the_plans():
    strict = target(Kind.GROWTH, growth_jump_points=D("2"))
    assert codes(checks.check_entry(strict, D("5.5"), previous=earlier("8"))) == [checks.GROWTH_JUMP]
    lenient = target(Kind.GROWTH, plan=SimpleNamespace(growth_jump_points=D("30")))
    assert checks.check_entry(lenient, D("30"), previous=earlier("8")) == []
    assert checks.growth_jump_limit(SimpleNamespace()) == checks.DEFAULT_GROWTH_JUMP


def test_it_warns_when_a_comparator_differs_from_the_same_series_on_another_target():
    margin = target(Kind.MARGIN)
    assert checks.check_comparator(margin, D("5.0"), [("T2", D("5"))]) is None
    warning = checks.check_comparator(margin, D("5.2"), [("T2", D("5")), ("T3", D("5.2"))])
    assert warning.code == checks.COMPARATOR_MISMATCH
    assert warning.message == "对比值5.2与同一对比指标（全省规上工业增加值增速）下其他目标本期已填报的不一致：5 (T2)。"
    with translation.override("en"):
        assert warning.message == ("The comparator 5.2 differs from what other targets of the same series "
                                   "(province's industrial growth) have for this month: 5 (T2).")


def test_it_names_at_most_three_other_targets_in_a_comparator_warning():
    others = [(f"T{n}", D(n)) for n in range(10, 15)]
    warning = checks.check_comparator(target(Kind.MARGIN), D("1"), others)
    assert warning.params["others"] == "10 (T10), 11 (T11), 12 (T12), …"


def test_it_checks_comparators_only_on_margin_targets_with_a_series():
    assert checks.check_comparator(target(Kind.GROWTH), D("5"), [("T2", D("6"))]) is None
    assert checks.check_comparator(target(Kind.MARGIN, comparator_name=""), D("5"), [("T2", D("6"))]) is None
    assert checks.check_comparator(target(Kind.MARGIN), None, [("T2", D("6"))]) is None


@pytest.mark.parametrize("kind, limit", [(Kind.CUMULATIVE, "240"), (Kind.RECURRING, "12")])
def test_it_warns_when_a_count_is_more_than_three_times_the_annual_target(kind, limit):
    count = target(kind)
    assert checks.check_entry(count, D(limit)) == []
    found = checks.check_entry(count, D(limit) + 1)
    assert codes(found) == [checks.FAR_ABOVE_TARGET]
    if kind == Kind.CUMULATIVE:
        assert found[0].message == "累计值241家超过全年目标80家的3倍。"


def test_it_warns_when_a_rate_is_more_than_fifty_points_from_what_is_aimed_at():
    growth = target(Kind.GROWTH)  # aims at 8%
    assert checks.check_entry(growth, D("58")) == []
    assert checks.check_entry(growth, D("-42")) == []
    assert codes(checks.check_entry(growth, D("58.1"))) == [checks.FAR_FROM_TARGET]
    found = checks.check_entry(growth, D("-42.5"))
    assert found[0].message == "增速-42.5%与目标8%相差超过50个百分点。"
    # A margin aims at the comparator plus the margin: 60.5% against 5% + 0.5.
    margin = target(Kind.MARGIN)
    assert codes(checks.check_entry(margin, D("60.5"), D("5"))) == [checks.FAR_FROM_TARGET]
    assert checks.check_entry(margin, D("55.5"), D("5")) == []


def test_it_checks_nothing_on_milestones_and_qualitative_tasks():
    assert not checks.is_checked(target(Kind.MILESTONE))
    assert checks.check_entry(target(Kind.MILESTONE), D("1"), previous=earlier("5")) == []


def test_it_reports_every_rule_a_figure_breaks():
    found = checks.check_entry(target(Kind.CUMULATIVE), D("300"), previous=earlier("400"))
    assert codes(found) == [checks.YTD_DECREASE, checks.FAR_ABOVE_TARGET]


def test_it_words_a_stored_warning_again_in_the_readers_language():
    stored = checks.check_ytd_decrease(target(Kind.CUMULATIVE), D("10"), earlier("18")).as_dict()
    assert stored["code"] == checks.YTD_DECREASE and stored["message"].startswith("累计值10家")
    with translation.override("en"):
        assert checks.word(stored).startswith("The year-to-date figure 10 firms is below")
    # A code this version does not know keeps the sentence it was saved with.
    assert checks.word({"code": "retired_rule", "params": {}, "message": "旧规则"}) == "旧规则"
    assert checks.word({"code": checks.GROWTH_JUMP, "params": {}, "message": "参数缺失"}) == "参数缺失"
