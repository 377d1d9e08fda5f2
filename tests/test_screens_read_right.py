"""Issue 16, every screen reads right: one regression test per finding that a test client can see (the browser ones
are in tests/test_browser_screens.py and tests/test_browser_entry.py)."""

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker import links
from tracker.accounts.models import Membership
from tracker.celery import app
from tracker.reminders.models import Reminder
from tracker.reports.charts import line_chart
from tracker.targets.models import ProgressEntry, Target
from tracker.targets.period import Period

pytestmark = pytest.mark.django_db
Kind = Target.Kind
Role = Membership.Role
State = ProgressEntry.State
PASSWORD = "Pw-for-tests-16"


@pytest.fixture
def world():
    plan = make_plan(2022)
    first = make_section(plan, 1, name="经济运行调度", name_en="Economic operation")
    second = make_section(plan, 2, name="项目调度", name_en="Projects")
    unit = make_unit("econ", name="经济运行科", name_en="Economic Operation Section")
    other = make_unit("invest", name="投资科", name_en="Investment Section")
    w = type("World", (), {})()
    w.plan, w.unit, w.other = plan, unit, other
    w.clerk = make_user("clerk16", unit=unit, password=PASSWORD)
    w.other_clerk = make_user("invest16", unit=other, password=PASSWORD)
    w.reviewer = make_user("reviewer16", unit=unit, role=Role.REVIEWER, password=PASSWORD)
    w.leader = make_user("leader16", unit=unit, role=Role.LEADER, password=PASSWORD)
    w.count = make_target(Kind.CUMULATIVE, code="C1", name="新增规上工业企业", name_en="New above-scale firms",
                          section=first, lead_unit=unit)
    w.margin = make_target(Kind.MARGIN, code="M1", name="工业投资高于全省", name_en="Investment above the province",
                           section=first, lead_unit=unit, comparator_name="全省")
    w.task = make_target(Kind.QUALITATIVE, code="Q1", name="优化营商环境", section=second, lead_unit=unit,
                         deadline="2022-12-31")
    w.milestone = make_target(Kind.MILESTONE, code="S1", name="出台实施方案", section=second, lead_unit=unit)
    w.foreign = make_target(Kind.CUMULATIVE, code="X1", name="投资科的目标", section=second, lead_unit=other)
    return w


def entry_url(unit, period="2022-06"):
    return reverse("admin:targets_progressentry_entry", args=[unit.code, period])


def log_in(client, user, next_url=None):
    url = reverse("admin:login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": user.username, "password": PASSWORD})


# 3. One navigation, role-aware.

def test_each_role_lands_on_its_own_start_after_logging_in(client, world):
    assert log_in(client, world.clerk)["Location"] == links.entry_screen_url(world.unit, Period(2022, 12))
    client.logout()
    assert log_in(client, world.reviewer)["Location"] == links.review_queue_url()
    client.logout()
    assert log_in(client, world.leader, "/")["Location"] == links.dashboard_url(Period(2022, 12))
    client.logout()
    # A page asked for is where the login goes, whatever the role.
    assert log_in(client, world.clerk, "/reports/2022-06/")["Location"] == "/reports/2022-06/"


def test_the_navigation_offers_only_what_the_role_can_do(client, world):
    client.force_login(world.leader)
    html = client.get(reverse("reports:report", args=[2022, "06"])).content.decode()
    assert 'data-nav="report"' in html and 'data-nav="dashboard"' in html
    assert 'data-nav="entry"' not in html and 'data-nav="review"' not in html
    client.force_login(world.clerk)
    html = client.get(reverse("reports:report", args=[2022, "06"])).content.decode()
    assert f'href="{entry_url(world.unit)}" data-nav="entry"' in html and 'data-nav="review"' not in html
    html = client.get(entry_url(world.unit)).content.decode()  # the admin's header has the same links
    assert 'id="role-nav"' in html and 'data-nav="report"' in html and 'data-nav="review"' not in html
    client.force_login(world.reviewer)
    html = client.get(reverse("reports:dashboard")).content.decode()
    assert 'data-nav="review"' in html


def test_a_reviewer_looking_at_a_returned_figure_is_not_offered_to_submit_it(client, world):
    entry = make_entry(world.count, 6, Decimal("30"), state=State.RETURNED, review_comment="请核实")
    client.force_login(world.reviewer)
    response = client.get(reverse("admin:targets_progressentry_review", args=[entry.pk]))
    assert "submit" not in [action for action, _label in response.context["buttons"]]
    assert 'value="submit"' not in response.content.decode()
    assert "已退回更正：由录入员更正后重新提交审核。" in response.content.decode()
    client.force_login(world.clerk)  # the clerk still submits it again
    response = client.get(reverse("admin:targets_progressentry_review", args=[entry.pk]))
    assert "submit" in [action for action, _label in response.context["buttons"]]


# 2. The clerk's way.

def test_after_saving_each_row_shows_the_status_and_reason_it_now_gives(client, world):
    client.force_login(world.clerk)
    page = client.get(entry_url(world.unit))
    version = {r.target.code: r.form["version"].value() for _s, rows in page.context["sections"] for r in rows}
    data = {f"t{world.count.pk}-value": "12", f"t{world.count.pk}-version": version["C1"]}
    response = client.post(entry_url(world.unit), data, follow=True)
    assert ProgressEntry.objects.get(target=world.count).value == 12
    rows = {r.target.code: r for _s, rs in response.context["sections"] for r in rs}
    assert rows["C1"].assessment.status == "off_track"
    html = response.content.decode()
    status = html[html.index('id="status-C1"'):html.index("</div>", html.index('id="status-C1"'))]
    assert 'data-status="off_track"' in status and "滞后" in status and "1—6月新增规上工业企业累计完成12家" in status


def test_text_in_a_number_field_is_an_error_on_its_row_and_nothing_is_saved(client, world):
    client.force_login(world.clerk)
    page = client.get(entry_url(world.unit))
    value = page.context["sections"][0][1][0].form["value"]
    # A text input asking for the decimal keypad: a browser posts what was typed, never an emptied number field.
    assert 'type="text"' in str(value) and 'inputmode="decimal"' in str(value)
    response = client.post(entry_url(world.unit), {f"t{world.count.pk}-value": "十二", f"t{world.count.pk}-version": 0,
                                                   f"t{world.margin.pk}-value": "7.5",
                                                   f"t{world.margin.pk}-comparator": "abc"})
    assert response.status_code == 200
    rows = {r.target.code: r for _s, rs in response.context["sections"] for r in rs}
    assert rows["C1"].form.errors["value"] == ["输入一个数字。"]
    assert rows["M1"].form.errors["comparator"] == ["输入一个数字。"]
    assert 'id="row-C1" class="entry-row errors"' in response.content.decode()
    assert not ProgressEntry.objects.exists()


def test_the_entry_screen_is_one_table_with_fixed_columns_and_measures_in_the_pages_language(client, world):
    client.force_login(world.clerk)
    html = client.get(entry_url(world.unit)).content.decode()
    assert html.count('<table class="entry-screen">') == 1 and html.count('class="section-row"') == 2
    assert "table-layout: fixed" in html and '<col class="c-measure">' in html
    assert '<td class="measure">家</td>' in html
    client.cookies["django_language"] = "en"
    html = client.get(entry_url(world.unit)).content.decode()
    assert '<td class="measure">firms</td>' in html and '<td class="measure">points</td>' in html
    assert "Year to date, Jan–Jun" in html


def test_the_last_figure_says_when_the_reviewer_returned_it(client, world):
    make_entry(world.count, 5, Decimal("20"), state=State.RETURNED, review_comment="口径不对")
    client.force_login(world.clerk)
    html = client.get(entry_url(world.unit)).content.decode()
    row = html[html.index('id="row-C1"'):html.index("</tr>", html.index('id="row-C1"'))]
    assert "20" in row and "1—5月" in row and "已被审核员退回" in row


def test_the_change_form_shows_a_figure_as_entered_without_trailing_zeros(client, world):
    entry = make_entry(world.count, 6, Decimal("7.8000"))
    client.force_login(world.clerk)
    html = client.get(reverse("admin:targets_progressentry_change", args=[entry.pk])).content.decode()
    assert 'value="7.8"' in html and "7.8000" not in html


def test_the_entries_list_says_late_in_words_not_with_a_green_tick(client, world):
    make_entry(world.count, 6, Decimal("30"), is_late=True)
    client.force_login(world.clerk)
    html = client.get(reverse("admin:targets_progressentry_changelist")).content.decode()
    assert '<span class="late-yes">逾期</span>' in html and "icon-yes.svg" not in html


# 1. One notation per language.

def test_english_screens_write_measures_in_english(client, world):
    client.force_login(world.leader)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("reports:target", args=["M1"])).content.decode()
    assert '<dd id="target-value">0.5 points' in html and "0.5百分点" not in html
    html = client.get(reverse("reports:report", args=[2022, "06"])).content.decode()
    table = html[html.index('id="report-table"'):]
    assert ">firms</td>" in table and ">points</td>" in table and "百分点" not in table and ">家<" not in table
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("reports:target", args=["M1"])).content.decode()
    assert '<dd id="target-value">0.5百分点' in html


def test_the_report_filters_offer_all_not_dashes_and_a_task_has_no_date_as_its_target(client, world):
    client.force_login(world.leader)
    html = client.get(reverse("reports:report", args=[2022, "06"])).content.decode()
    assert "---------" not in html and html.count('<option value="" selected>全部</option>') == 4
    rows = html[html.index('id="report-table"'):]
    task = rows[rows.index(">Q1<"):rows.index("</tr>", rows.index(">Q1<"))]
    milestone = rows[rows.index(">S1<"):rows.index("</tr>", rows.index(">S1<"))]
    assert "2022-12-31" not in task
    assert "2022-12-31前完成" in milestone


# 5. Layout: favicon and charts.

def test_the_favicon_is_there(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"


def test_the_chart_draws_the_target_line_over_the_expected_path_and_names_the_y_unit(client, world):
    series = [("实际", "actual", {6: Decimal("30")}, False), ("序时", "expected", {12: Decimal("80")}, True)]
    svg = str(line_chart(series, [(6, "6月"), (12, "12月")], "C1", hline=("目标", Decimal("80")), y_unit="单位：家"))
    assert svg.index('class="target-line"') > svg.rindex('class="series')  # drawn last: on top
    assert ">目标 80</text>" in svg and ">单位：家</text>" in svg
    client.force_login(world.leader)
    html = client.get(reverse("reports:target", args=["C1"])).content.decode()
    assert 'class="tick y-unit"' in html and ">单位：家</text>" in html
    make_entry(world.margin, 6, Decimal("7.5"), comparator=Decimal("6.2"))
    html = client.get(reverse("reports:target", args=["M1"])).content.decode()
    assert ">单位：%</text>" in html


# 4. The leader's report: 催报.

@pytest.fixture
def embedded():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_chasing_sends_each_clerk_of_the_unit_one_reminder_and_a_second_click_nothing(
        client, world, embedded, django_capture_on_commit_callbacks):
    make_entry(world.count, 6, Decimal("30"), state=State.SUBMITTED)  # reported; M1 and the others are missing
    client.force_login(world.leader)
    page = client.get(reverse("reports:completeness", args=[2022, "06"])).content.decode()
    url = reverse("reminders:chase", args=["2022", "06"])
    assert f'action="{url}"' in page and 'name="unit" value="econ"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"unit": ["econ"]}, follow=True)
    assert [m.to for m in mail.outbox] == [["clerk16@example.com"]]
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.period, reminder.status) == ("chase", "2022-06", "sent")
    assert reminder.targets == ["M1", "Q1", "S1"]
    assert "M1" in mail.outbox[0].body and "C1" not in mail.outbox[0].body
    assert "已催报" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"unit": ["econ"]}, follow=True)
    assert len(mail.outbox) == 1 and Reminder.objects.count() == 1
    assert "今天已就2022年1—6月催报过，不再重复发送：clerk16。" in response.content.decode()


def test_a_clerk_cannot_chase_and_nobody_chases_a_unit_they_do_not_see(client, world, embedded):
    client.force_login(world.clerk)
    assert client.post(reverse("reminders:chase", args=["2022", "06"]), {"unit": ["econ"]}).status_code == 403
    assert "chase-form" not in client.get(reverse("reports:completeness", args=[2022, "06"])).content.decode()
    reviewer = make_user("invest-reviewer", unit=world.other, role=Role.REVIEWER)
    client.force_login(reviewer)
    client.post(reverse("reminders:chase", args=["2022", "06"]), {"unit": ["econ"]})
    assert Reminder.objects.count() == 0 and mail.outbox == []
    assert client.get(reverse("reminders:chase", args=["2022", "06"])).status_code == 405


def test_the_period_labels_follow_one_notation(world):
    with translation.override("zh-hans"):
        assert (Period(2022, 6).label, Period(2022, 6).months_label) == ("2022年1—6月", "1—6月")
    with translation.override("en"):
        assert Period(2022, 6).label == "Jan–Jun 2022"
