"""The report month decides: the rule table of README.md ("How a target is judged at the report month"), cell by cell.

For each kind: the report month's own figure present; missing but not yet due; missing and overdue.
June 2022's figures are due on 7 July 2022 (the 5th working day), so "not yet due" is 1 July and
"overdue" is 8 July.
"""

import datetime
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from tests.factories import make_entry, make_target, make_unit, make_user
from tests.test_status import PLAN, count, entry, growth, milestone, target
from tracker.services import review
from tracker.targets.models import Target
from tracker.targets.status import assess, assess_period

NOT_YET_DUE = datetime.date(2022, 7, 1)
OVERDUE = datetime.date(2022, 7, 8)


def events(**kw):
    return target("recurring", name="银企对接会", name_en="Bank-enterprise meetings", measure="次",
                  target_value=D("12"), frequency="month", **kw)


def task(**kw):
    return target("qualitative", name="平台建设", name_en="Platform", deadline=datetime.date(2022, 12, 31), **kw)


RULE_TABLE = [
    # (kind, entries, today, status, months judged (as_of), late)
    # cumulative (80 a year; June expects 40, May 33.33)
    ("cumulative, June present", count, [entry(5, "30"), entry(6, "40")], OVERDUE, "on_track", 6, False),
    ("cumulative, June not yet due: May against May", count, [entry(5, "30")], NOT_YET_DUE, "on_track", 5, False),
    ("cumulative, June overdue: May's 30 against June's 40", count, [entry(5, "30")], OVERDUE, "at_risk", 5, True),
    ("cumulative, June overdue, the floor already meets June", count, [entry(5, "41")], OVERDUE, "on_track", 5,
     True),
    ("cumulative, nothing, not yet due", count, [], NOT_YET_DUE, "not_due", None, False),
    ("cumulative, nothing, overdue", count, [], OVERDUE, "no_data", None, False),
    # a ceiling (lower is better): an older figure cannot show that it still holds
    ("ceiling, June overdue, May within May", lambda: count(direction="lower"), [entry(5, "20")], OVERDUE,
     "at_risk", 5, True),
    # growth (8%): judged on its own merits, never better than at risk once the report month is overdue
    ("growth, June present", growth, [entry(6, "8.5")], OVERDUE, "on_track", 6, False),
    ("growth, June not yet due: May on its merits", growth, [entry(5, "8.5")], NOT_YET_DUE, "on_track", 5, False),
    ("growth, June overdue: capped at at risk", growth, [entry(5, "8.5")], OVERDUE, "at_risk", 5, True),
    ("growth, June overdue, May already off track", growth, [entry(5, "4")], OVERDUE, "off_track", 5, True),
    ("growth, nothing, overdue", growth, [], OVERDUE, "no_data", None, False),
    # recurring (12 meetings a year, monthly)
    ("recurring, June present", events, [entry(6, "6")], OVERDUE, "on_track", 6, False),
    ("recurring, June not yet due: 5 by May", events, [entry(5, "5")], NOT_YET_DUE, "on_track", 5, False),
    ("recurring, June overdue: 5 held of 6 due", events, [entry(5, "5")], OVERDUE, "at_risk", 5, True),
    # milestone (due 30 June) and qualitative task: notes of an older month stand in for an overdue report
    ("milestone, progress this month", milestone, [entry(6, note="招标完成")], OVERDUE, "off_track", 6, False),
    ("milestone, done", milestone, [entry(5, is_done=True)], OVERDUE, "achieved", 5, False),
    ("task, progress this month", task, [entry(6, note="推进中")], OVERDUE, "on_track", 6, False),
    ("task, progress last month, not yet due", task, [entry(5, note="推进中")], NOT_YET_DUE, "on_track", 5, False),
    ("task, progress last month, overdue", task, [entry(5, note="推进中")], OVERDUE, "at_risk", 5, True),
    ("task, problems last month, overdue", task, [entry(5, problems="资金未到位")], OVERDUE, "at_risk", 5, True),
]


@pytest.mark.parametrize("case, make, entries, today, status, as_of, late", RULE_TABLE, ids=[c[0] for c in RULE_TABLE])
def test_it_judges_each_cell_of_the_rule_table(case, make, entries, today, status, as_of, late):
    a = assess(make(), entries, 2022, 6, PLAN, today=today)
    assert (a.status, a.as_of_month, a.late) == (status, as_of, late)


def test_it_says_in_the_reason_that_the_report_months_figure_is_late():
    a = assess(growth(), [entry(9, "8.5")], 2022, 12, PLAN, today=datetime.date(2023, 3, 1))
    assert a.reason_zh == "1—12月数据逾期未报；按最近数据：1—9月工业投资增长8.5%，高于目标0.5个百分点"
    assert a.reason_en.startswith("Jan–Dec figure overdue; the latest: Jan–Sep Industrial investment grew 8.5%")


def test_it_says_when_the_report_months_figure_is_not_yet_due():
    a = assess(count(), [entry(5, "30")], 2022, 6, PLAN, today=NOT_YET_DUE)
    assert a.reason_zh.endswith("；1—6月数据尚未报送")


@pytest.mark.django_db
def test_the_december_report_of_the_2022_plan_is_not_green_on_june_figures():
    """The seen bug: 6 of 12 meetings and 28 of 80 firms, last reported in June, read 正常 in December."""
    call_command("loaddata", "bozhou_2022", verbosity=0)
    meetings, firms = Target.objects.get(code="BZ22-1-02"), Target.objects.get(code="BZ22-1-05")
    make_entry(meetings, 6, D("6"), state="approved")
    make_entry(firms, 6, D("28"), state="approved")
    judged = assess_period(Target.objects.filter(pk__in=[meetings.pk, firms.pk]), 2022, 12,
                           today=datetime.date(2023, 2, 1))
    assert judged[meetings.pk].status in ("off_track", "at_risk")
    assert judged[firms.pk].status in ("off_track", "at_risk")
    assert judged[firms.pk].expected == D("80")
    assert "1—12月数据逾期未报" in judged[firms.pk].reason_zh


@pytest.mark.django_db
def test_a_roll_up_of_mixed_months_names_the_parts_that_lag():
    city = make_unit("city")
    parent = make_target(Target.Kind.CUMULATIVE, code="P", lead_unit=city)
    parts = [make_target(Target.Kind.CUMULATIVE, code=f"P-{n}", lead_unit=make_unit(n), parent=parent,
                         name=f"{n}县新增规上企业") for n in ("a", "b", "c")]
    make_entry(parts[0], 6, D("10"), state="approved")
    make_entry(parts[1], 6, D("12"), state="approved")
    make_entry(parts[2], 3, D("5"), state="approved")
    a = assess_period(Target.objects.filter(pk=parent.pk), 2022, 6, today=OVERDUE)[parent.pk]
    assert (a.actual, a.as_of_month) == (D("27"), 6)
    assert a.rolled.lagging and a.rolled.lagging[0][1] == 3
    assert "3个分解目标中2个已报1—6月，c县新增规上企业最近为1—3月" in a.reason_zh


@pytest.mark.django_db
def test_a_reopened_figure_keeps_the_approved_value_until_the_correction_is_approved():
    unit = make_unit("u")
    clerk, reviewer = make_user(unit=unit, role="clerk"), make_user(unit=unit, role="reviewer")
    t = make_target(Target.Kind.CUMULATIVE, code="C", lead_unit=unit)
    e = make_entry(t, 6, D("40"))
    review.submit(clerk, e)
    review.approve(reviewer, e)
    review.reopen(reviewer, e, "应为累计数")
    e.refresh_from_db()
    e.value = D("20")  # the clerk's correction, not yet approved
    e.save()
    a = assess_period(Target.objects.filter(pk=t.pk), 2022, 6, today=OVERDUE)[t.pk]
    assert (a.actual, a.status, a.correction) == (D("40"), "on_track", True)
    assert "更正中" in a.reason_zh
    review.submit(clerk, e)
    review.approve(reviewer, e)
    a = assess_period(Target.objects.filter(pk=t.pk), 2022, 6, today=OVERDUE)[t.pk]
    assert (a.actual, a.correction) == (D("20"), False)


@pytest.mark.django_db
def test_headline_counts_are_of_plan_targets_and_a_rolled_up_parent_is_not_missing():
    from tracker.reports.completeness import completeness
    from tracker.reports.report import build_rows, summarise

    city = make_unit("city")
    parent = make_target(Target.Kind.CUMULATIVE, code="P", lead_unit=city)
    plan = parent.plan
    parts = [make_target(Target.Kind.CUMULATIVE, code=f"P-{n}", lead_unit=make_unit(n), parent=parent, plan=plan,
                         section=parent.section) for n in ("a", "b")]
    make_target(Target.Kind.QUALITATIVE, code="Q", lead_unit=city, plan=plan, section=parent.section)
    for part in parts:
        make_entry(part, 6, D("20"), state="submitted", submitted_at=datetime.datetime(2022, 7, 5, tzinfo=datetime.UTC))
    targets = Target.objects.filter(plan=plan)
    assert summarise(build_rows(targets, 2022, 6, today=OVERDUE))["total"] == 2  # P (with its parts) and Q
    totals = completeness(targets, 2022, 6, today=OVERDUE)["totals"]
    assert (totals["expected"], totals["missing"]) == (3, 1)  # the two parts and Q; P rolls up
    assert (totals["figures"], totals["figures_reported"], totals["tasks"], totals["tasks_reported"]) == (2, 2, 1, 0)
