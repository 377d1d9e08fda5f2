"""The status engine, table-driven: plain objects in, Assessment out, no database."""

import datetime
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.utils import translation

from tracker.targets.status import STATUSES, Assessment, Thresholds, actual_series, assess, expected_value

AFTER_YEAR = datetime.date(2023, 3, 1)  # every 2022 period is over
PLAN = {"ratio_at_risk": D("0.9"), "ratio_off_track": D("0.7"), "points_at_risk": D("0"), "points_off_track": D("2")}


def target(kind, **kw):
    fields = {
        "kind": kind, "name": "指标", "name_en": "Indicator", "measure": "", "target_value": None,
        "tolerance": D("0"), "direction": "higher", "combined_jan_feb": False, "frequency": "",
        "deadline": None, "comparator_name": "", "ratio_at_risk": None, "ratio_off_track": None,
        "points_at_risk": None, "points_off_track": None,
    }
    fields.update(kw)
    return SimpleNamespace(**fields)


def entry(month, value=None, **kw):
    fields = {"year": 2022, "month": month, "value": None if value is None else D(str(value)), "comparator": None,
              "is_done": False, "done_on": None, "assessed_status": "", "note": "", "problems": "",
              "review_comment": ""}
    fields.update(kw)
    if fields["comparator"] is not None:
        fields["comparator"] = D(str(fields["comparator"]))
    return SimpleNamespace(**fields)


def growth(**kw):
    return target("growth", name="工业投资", name_en="Industrial investment", measure="%",
                  target_value=D("8"), **kw)


def count(**kw):
    fields = {"target_value": D("80"), "name": "新增规上企业", "name_en": "New above-scale firms", "measure": "家"}
    return target("cumulative", **{**fields, **kw})


GROWTH_CASES = [
    # (id, target overrides, value, status, gap)
    ("on target", {}, "8.0", "on_track", "0.00"),
    ("just below, no tolerance: at risk", {}, "7.99", "at_risk", "-0.01"),
    ("2 points below: still at risk (edge)", {}, "6.0", "at_risk", "-2.00"),
    ("2.1 points below: off track", {}, "5.9", "off_track", "-2.10"),
    ("tolerance 0.5: 7.5 is on track", {"tolerance": D("0.5")}, "7.5", "on_track", "-0.50"),
    ("tolerance 0.5: 7.49 is at risk", {"tolerance": D("0.5")}, "7.49", "at_risk", "-0.51"),
    ("tolerance 0.5: off track beyond 2.5", {"tolerance": D("0.5")}, "5.4", "off_track", "-2.60"),
    ("above target", {}, "9.6", "on_track", "1.60"),
    ("override points_off_track 1", {"points_off_track": D("1")}, "6.5", "off_track", "-1.50"),
    ("lower is better: below the ceiling", {"direction": "lower"}, "7.0", "on_track", "-1.00"),
    ("lower is better: 1 point above", {"direction": "lower"}, "9.0", "at_risk", "1.00"),
    ("lower is better: 3 points above", {"direction": "lower"}, "11.0", "off_track", "3.00"),
]


@pytest.mark.parametrize("case,overrides,value,status,gap", GROWTH_CASES, ids=[c[0] for c in GROWTH_CASES])
def test_it_judges_growth_by_points_with_the_tolerance(case, overrides, value, status, gap):
    a = assess(growth(**overrides), [entry(6, value)], 2022, 6, PLAN, today=AFTER_YEAR)
    assert (a.status, a.gap, a.expected, a.actual) == (status, D(gap), D("8.00"), D(value))
    assert a.completion is None and a.forecast is None


def test_it_words_the_growth_reason_in_both_languages():
    a = assess(growth(), [entry(2, "12.5"), entry(6, "6.0")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == "1—6月工业投资增长6.0%，低于目标2.0个百分点"
    assert a.reason_en == "Jan–Jun Industrial investment grew 6.0%, 2.0 points below the target"
    with translation.override("en"):
        assert a.reason == a.reason_en
    with translation.override("zh-hans"):
        assert a.reason == a.reason_zh


def test_it_says_when_a_growth_figure_is_within_the_tolerance():
    a = assess(growth(tolerance=D("0.5")), [entry(6, "7.7")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert a.status == "on_track"
    assert a.reason_zh == "1—6月工业投资增长7.7%，低于目标0.3个百分点（在±0.5的“左右”范围内）"


def test_it_calls_a_full_year_growth_figure_that_meets_the_target_achieved():
    assert assess(growth(), [entry(12, "8.2")], 2022, 12, PLAN, today=AFTER_YEAR).status == "achieved"
    assert assess(growth(), [entry(12, "7.0")], 2022, 12, PLAN, today=AFTER_YEAR).status == "at_risk"


def test_it_follows_a_monthly_plan_curve_for_growth():
    a = assess(growth(), [entry(3, "9.0")], 2022, 3, PLAN, today=AFTER_YEAR, plan_points={2: D("12"), 6: D("9")})
    assert (a.expected, a.gap, a.status) == (D("12.00"), D("-3.00"), "off_track")


def margin(**kw):
    return target("margin", name="规上工业增加值", name_en="Industrial value added", measure="百分点",
                  target_value=D("0.5"), comparator_name="全省", **kw)


MARGIN_CASES = [
    ("0.5 above the province: on track", "9.0", "8.5", "on_track", "0.00", "9.00"),
    ("1.0 above: on track with room", "9.5", "8.5", "on_track", "0.50", "9.00"),
    ("only 0.1 above: at risk", "8.6", "8.5", "at_risk", "-0.40", "9.00"),
    ("3 below the province: off track", "5.5", "8.5", "off_track", "-3.50", "9.00"),
]


@pytest.mark.parametrize("case,value,comparator,status,gap,expected", MARGIN_CASES, ids=[c[0] for c in MARGIN_CASES])
def test_it_judges_a_margin_over_the_comparator(case, value, comparator, status, gap, expected):
    a = assess(margin(), [entry(6, value, comparator=comparator)], 2022, 6, PLAN, today=AFTER_YEAR)
    assert (a.status, a.gap, a.expected, a.comparator) == (status, D(gap), D(expected), D(comparator))


def test_it_words_the_margin_reason():
    a = assess(margin(), [entry(6, "8.6", comparator="8.5")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == ("1—6月规上工业增加值增长8.6%，高于全省（8.5%）0.1个百分点，"
                           "距高出0.5个百分点的要求尚差0.4个百分点")
    # Above the province but short of the margin: "above", never "against" (issue 16).
    assert "0.1 points above 全省 (8.5%), 0.4 points short of the required 0.5" in a.reason_en


def test_it_words_a_margin_below_the_comparator_as_below():
    a = assess(margin(), [entry(6, "8.2", comparator="8.5")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert "0.3 points below 全省 (8.5%), 0.8 points short of the required 0.5" in a.reason_en
    assert a.reason_zh == ("1—6月规上工业增加值增长8.2%，低于全省（8.5%）0.3个百分点，"
                           "距高出0.5个百分点的要求尚差0.8个百分点")


def test_it_names_the_comparator_in_english_when_it_has_an_english_name():
    a = assess(margin(comparator_name_en="the province"), [entry(6, "8.6", comparator="8.5")], 2022, 6, PLAN,
               today=AFTER_YEAR)
    assert "the province (8.5%)" in a.reason_en
    assert "全省（8.5%）" in a.reason_zh


def test_it_has_no_data_when_the_comparator_is_missing():
    a = assess(margin(), [entry(6, "9.0")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert (a.status, a.actual, a.gap) == ("no_data", D("9.0"), None)
    assert a.reason_zh == "1—6月规上工业增加值：缺少对比数据（全省）。"


COUNT_CASES = [
    # (id, overrides, month, value, status, expected, completion, time_adjusted, forecast)
    ("exactly on the linear path", {}, 6, "40", "on_track", "40.00", "0.5000", "1.0000", "80.00"),
    ("ratio 0.9 is still on track (edge)", {}, 6, "36", "on_track", "40.00", "0.4500", "0.9000", "72.00"),
    ("ratio just below 0.9: at risk", {}, 6, "35.9", "at_risk", "40.00", "0.4488", "0.8975", "71.80"),
    ("ratio 0.7 is at risk (edge)", {}, 6, "28", "at_risk", "40.00", "0.3500", "0.7000", "56.00"),
    ("ratio below 0.7: off track", {}, 6, "27.9", "off_track", "40.00", "0.3488", "0.6975", "55.80"),
    ("annual target reached early", {}, 6, "80", "achieved", "40.00", "1.0000", "2.0000", "160.00"),
    ("within the 左右 tolerance at year end", {"tolerance": D("4")}, 12, "77", "achieved", "80.00", "0.9625",
     "0.9625", "77.00"),
    ("override ratio_at_risk 0.95", {"ratio_at_risk": D("0.95")}, 6, "37", "at_risk", "40.00", "0.4625",
     "0.9250", "74.00"),
    ("five months: 80×5/12", {}, 5, "30", "on_track", "33.33", "0.3750", "0.9000", "72.00"),
]


@pytest.mark.parametrize(
    "case,overrides,month,value,status,expected,completion,time_adjusted,forecast", COUNT_CASES,
    ids=[c[0] for c in COUNT_CASES],
)
def test_it_judges_counts_against_the_time_share(case, overrides, month, value, status, expected, completion,
                                                 time_adjusted, forecast):
    a = assess(count(**overrides), [entry(month, value)], 2022, month, PLAN, today=AFTER_YEAR)
    assert (a.status, a.expected, a.completion, a.time_adjusted, a.forecast) == (
        status, D(expected), D(completion), D(time_adjusted), D(forecast))
    assert a.gap == (D(value) - D(expected)).quantize(D("0.01"))


def test_it_words_the_count_reason():
    a = assess(count(), [entry(6, "30")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == ("1—6月新增规上企业累计完成30家，完成全年目标的37.5%，落后序时进度10家（序时应达40家），"
                           "落后时序进度12.5个百分点（时序进度50.0%）")
    assert a.reason_en == ("Jan–Jun New above-scale firms reached 30 firms, 37.5% of the annual target; "
                           "10 firms behind the 40 firms expected by now; 12.5 points behind the time schedule (50.0%)")


def test_it_writes_expectations_of_whole_things_as_whole_numbers():
    # 80 a year: 33.33 expected by April, written 27 for April (26.67) and 33 for May; 7.33 behind → 7.
    a = assess(count(), [entry(5, "26")], 2022, 5, PLAN, today=AFTER_YEAR)
    assert a.expected == D("33.33")  # the figure itself keeps its precision (exports, charts)
    assert "落后序时进度7家（序时应达33家）" in a.reason_zh
    assert "完成全年目标的32.5%" in a.reason_zh


def test_it_follows_a_monthly_plan_curve_for_counts():
    # Firms enter the list in lumps: 30 by February, then the rest through the year.
    points = {2: D("30"), 12: D("80")}
    a = assess(count(), [entry(6, "45")], 2022, 6, PLAN, today=AFTER_YEAR, plan_points=points)
    assert (a.expected, a.status, a.forecast) == (D("50.00"), "on_track", D("72.00"))
    a = assess(count(), [entry(2, "20")], 2022, 2, PLAN, today=AFTER_YEAR, plan_points=points)
    assert (a.expected, a.status) == (D("30.00"), "off_track")


LOWER_CASES = [
    ("under the pro-rata ceiling", 6, "40", "on_track"),
    ("a little over the pro-rata share", 6, "55", "on_track"),
    ("well over the pro-rata share", 6, "60", "at_risk"),
    ("far over", 6, "75", "off_track"),
    ("over the annual ceiling", 6, "101", "off_track"),
    ("within the ceiling at year end", 12, "95", "achieved"),
]


@pytest.mark.parametrize("case,month,value,status", LOWER_CASES, ids=[c[0] for c in LOWER_CASES])
def test_it_treats_a_lower_is_better_count_as_a_ceiling(case, month, value, status):
    t = count(target_value=D("100"), direction="lower", name="安全事故", measure="起")
    assert assess(t, [entry(month, value)], 2022, month, PLAN, today=AFTER_YEAR).status == status


def test_it_words_how_far_a_count_is_over_its_pro_rata_ceiling():
    t = count(target_value=D("100"), direction="lower", name="安全事故", name_en="Accidents", measure="个")
    a = assess(t, [entry(6, "60")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == "1—6月安全事故累计60个，超出序时控制数10个（序时控制数为50个，全年上限100个）"
    assert a.reason_en == ("Jan–Jun Accidents reached 60 items, 10 items above the 50 items expected by now "
                           "(ceiling 100 items)")


def test_it_does_not_expect_january_for_a_combined_indicator():
    t = count(combined_jan_feb=True)
    a = assess(t, [], 2022, 1, PLAN, today=AFTER_YEAR)
    assert a.status == "not_due"
    assert a.reason_zh == "新增规上企业为1—2月合并报送。"
    a = assess(t, [entry(2, "14")], 2022, 2, PLAN, today=AFTER_YEAR)
    assert (a.status, a.expected) == ("on_track", D("13.33"))
    assert a.reason_zh.startswith("1—2月新增规上企业")


def test_it_reports_no_data_only_once_the_month_is_over():
    assert assess(count(), [], 2022, 6, PLAN, today=AFTER_YEAR).status == "no_data"
    assert assess(count(), [], 2022, 6, PLAN, today=datetime.date(2022, 6, 20)).status == "not_due"
    a = assess(count(), [], 2022, 6, PLAN, today=AFTER_YEAR)
    assert (a.expected, a.actual, a.reason_zh) == (D("40.00"), None, "1—6月新增规上企业：未填报数据")


def test_it_judges_an_older_figure_against_its_own_month_while_the_report_month_is_not_yet_due():
    # June's figure is due on 7 July 2022; on 1 July the April figure still stands for itself.
    a = assess(count(), [entry(4, "27")], 2022, 6, PLAN, today=datetime.date(2022, 7, 1))
    assert (a.as_of_month, a.expected, a.status, a.late) == (4, D("26.67"), "on_track", False)
    assert a.reason_zh.endswith("；1—6月数据尚未报送")


def test_it_holds_an_older_count_against_the_report_month_once_that_is_overdue():
    # A year-to-date count only grows: 27 by April is a floor for June, which expects 40.
    a = assess(count(), [entry(4, "27")], 2022, 6, PLAN, today=AFTER_YEAR)
    assert (a.as_of_month, a.expected, a.status, a.late) == (4, D("40.00"), "off_track", True)
    assert a.reason_zh.startswith("1—6月数据逾期未报；按最近数据：1—4月")


def test_it_ignores_entries_after_the_period_and_blank_values():
    entries = [entry(3, "20"), entry(5, None, note="waiting"), entry(9, "70")]
    a = assess(count(), entries, 2022, 6, PLAN, today=AFTER_YEAR)
    assert (a.actual, a.as_of_month) == (D("20"), 3)


def milestone(**kw):
    return target("milestone", name="建设信息系统", name_en="Build the system",
                  deadline=datetime.date(2022, 6, 30), **kw)


MILESTONE_CASES = [
    ("overdue and not done", [], 7, "off_track"),
    ("due at the end of the period and not done", [], 6, "off_track"),
    ("before the due date, nothing reported", [], 5, "not_due"),
    ("before the due date with progress", [entry(5, note="招标完成")], 5, "on_track"),
    ("before the due date, progress only of an earlier month", [entry(4, note="招标完成")], 5, "at_risk"),
    ("before the due date with problems", [entry(4, problems="资金未到位")], 5, "at_risk"),
    ("done on time", [entry(5, is_done=True, done_on=datetime.date(2022, 5, 20))], 7, "achieved"),
    ("done late", [entry(8, is_done=True, done_on=datetime.date(2022, 8, 2))], 8, "achieved"),
    ("reviewer says at risk", [entry(4, assessed_status="at_risk")], 5, "at_risk"),
]


@pytest.mark.parametrize("case,entries,month,status", MILESTONE_CASES, ids=[c[0] for c in MILESTONE_CASES])
def test_it_judges_milestones_by_the_due_date(case, entries, month, status):
    assert assess(milestone(), entries, 2022, month, PLAN, today=AFTER_YEAR).status == status


def test_it_words_milestone_reasons():
    a = assess(milestone(), [], 2022, 7, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == "建设信息系统应于2022-06-30完成，目前尚未完成"
    a = assess(milestone(), [entry(8, is_done=True, done_on=datetime.date(2022, 8, 2))], 2022, 8, PLAN,
               today=AFTER_YEAR)
    assert a.reason_en == "Build the system was completed on 2022-08-02, after the due date 2022-06-30"


def test_it_judges_the_current_month_milestone_by_today():
    t = milestone()
    assert assess(t, [], 2022, 6, PLAN, today=datetime.date(2022, 6, 30)).status == "not_due"
    assert assess(t, [], 2022, 6, PLAN, today=datetime.date(2022, 7, 1)).status == "off_track"


def meetings(**kw):
    kw.setdefault("target_value", D("4"))
    kw.setdefault("frequency", "quarter")
    return target("recurring", name="银企对接会", name_en="Bank-enterprise meetings", measure="次", **kw)


RECURRING_CASES = [
    ("no quarter over yet", [], 2, "not_due", "0.00"),
    ("one quarter, one meeting", [entry(3, 1)], 3, "on_track", "1.00"),
    ("a quarter passed without its meeting", [entry(3, 0)], 3, "off_track", "1.00"),
    ("two quarters, one meeting", [entry(6, 1)], 6, "off_track", "2.00"),
    ("three of four at year end", [entry(12, 3)], 12, "at_risk", "4.00"),
    ("all four held", [entry(12, 4)], 12, "achieved", "4.00"),
    ("ahead of schedule", [entry(4, 2)], 4, "on_track", "1.00"),
]


@pytest.mark.parametrize("case,entries,month,status,expected", RECURRING_CASES, ids=[c[0] for c in RECURRING_CASES])
def test_it_counts_recurring_events_against_periods_elapsed(case, entries, month, status, expected):
    a = assess(meetings(), entries, 2022, month, PLAN, today=AFTER_YEAR)
    assert (a.status, a.expected) == (status, D(expected))


def test_it_words_a_recurring_miss():
    a = assess(meetings(), [entry(6, 1)], 2022, 6, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == "1—6月银企对接会：已过2个季度，应开展2次，实际开展1次，缺1次"
    assert a.reason_en == "Jan–Jun Bank-enterprise meetings: 2 quarters ended, 2 due, 1 held, 1 missed"
    assert (a.gap, a.completion, a.forecast) == (D("-1.00"), D("0.2500"), D("2.00"))


def test_it_counts_monthly_events():
    t = meetings(target_value=D("12"), frequency="month")
    assert assess(t, [entry(5, 4)], 2022, 5, PLAN, today=AFTER_YEAR).status == "at_risk"
    assert assess(t, [entry(5, 5)], 2022, 5, PLAN, today=AFTER_YEAR).status == "on_track"


QUALITATIVE_CASES = [
    ("nothing reported", [], "no_data"),
    ("progress noted", [entry(3, note="召开座谈会一次")], "on_track"),
    ("problems noted", [entry(3, note="推进中", problems="资金缺口")], "at_risk"),
    ("reviewer's assessment wins over notes", [entry(3, note="推进中", assessed_status="off_track")], "off_track"),
    ("reported done", [entry(2, is_done=True)], "achieved"),
]


@pytest.mark.parametrize("case,entries,status", QUALITATIVE_CASES, ids=[c[0] for c in QUALITATIVE_CASES])
def test_it_takes_qualitative_status_from_the_reviewer_or_the_notes(case, entries, status):
    t = target("qualitative", name="深入推进华夏酒城建设", deadline=datetime.date(2022, 12, 31))
    assert assess(t, entries, 2022, 3, PLAN, today=AFTER_YEAR).status == status


def test_it_quotes_the_note_in_a_qualitative_reason():
    t = target("qualitative", name="华夏酒城建设")
    a = assess(t, [entry(3, note="召开白酒产业发展座谈会一次。\n第二行")], 2022, 3, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == "1—3月华夏酒城建设：召开白酒产业发展座谈会一次。"
    a = assess(t, [entry(3, assessed_status="at_risk", review_comment="进度偏慢")], 2022, 3, PLAN, today=AFTER_YEAR)
    assert a.reason_zh == "华夏酒城建设：审核员评定为“预警”：进度偏慢"


def test_it_rolls_a_parent_count_up_from_its_sub_targets():
    parent = count()
    kids = [(count(target_value=D("30")), [entry(5, "16"), entry(6, "18")]),
            (count(target_value=D("18")), [entry(6, "7")]),
            (count(target_value=D("17")), [])]
    a = assess(parent, [], 2022, 6, PLAN, today=AFTER_YEAR, children=kids)
    assert (a.actual, a.expected, a.status) == (D("25"), D("40.00"), "off_track")
    assert a.reason_zh.endswith("（由3个分解目标中已报的2个汇总）")
    # The parent's own figure wins over the sum.
    a = assess(parent, [entry(6, "41")], 2022, 6, PLAN, today=AFTER_YEAR, children=kids)
    assert (a.actual, a.status) == (D("41"), "on_track")


def test_it_gives_the_monthly_series_of_own_or_summed_figures():
    kids = [(count(), [entry(2, "5"), entry(4, "9")]), (count(), [entry(4, "3")])]
    assert actual_series(count(), [], 2022, 6, kids) == {2: D("5"), 4: D("12")}
    # The target's own figure wins from the month it has one.
    assert actual_series(count(), [entry(3, "30"), entry(5, None)], 2022, 6, kids) == {2: D("5"), 3: D("30")}
    assert actual_series(growth(), [entry(2, "9.1"), entry(3, "8.7")], 2022, 2) == {2: D("9.1")}


def test_it_takes_thresholds_from_the_plan_with_target_overrides():
    th = Thresholds.for_target(count(ratio_off_track=D("0.5")), SimpleNamespace(**{**PLAN, "ratio_at_risk": D("0.8")}))
    assert th == Thresholds(D("0.8"), D("0.5"), D("0"), D("2"))
    assert Thresholds.for_target(count(), None) == Thresholds(D("0.900"), D("0.700"), D("0.00"), D("2.00"))


def test_it_gives_expected_values_along_the_year():
    assert [expected_value(count(), m) for m in (3, 12)] == [D("20"), D("80")]
    assert expected_value(margin(), 6, comparator=D("8.5")) == D("9.0")
    assert expected_value(margin(), 6) is None
    assert expected_value(meetings(), 7) == D("2")
    assert expected_value(milestone(), 7) is None


def test_it_only_returns_the_agreed_status_keys():
    assert STATUSES == ("achieved", "on_track", "at_risk", "off_track", "no_data", "not_due")
    assert isinstance(assess(count(), [entry(6, "1")], 2022, 6, PLAN, today=AFTER_YEAR), Assessment)
