"""Submitting and reviewing the scheduling months (projects and firms), as figures are: a clerk submits, a reviewer
of the unit approves or returns with a reason, an approved month is read only until reopened, history of each
step."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import make_plan, make_target, make_unit, make_user
from tests.schedule_helpers import credit_code, post_data
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.registers import scheduling
from tracker.registers.models import Firm, Listing, Project, ProjectUpdate, RegisterFigure, ScheduleMonth
from tracker.services import review as entry_review
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def world():
    w = type("World", (), {})()
    w.city = make_unit("city")
    w.county = make_unit("guoyang", name="涡阳县", parent=w.city, kind="county")
    w.other = make_unit("lixin", name="利辛县", parent=w.city, kind="county")
    w.clerk = make_user("gy_clerk", unit=w.county, role=Role.CLERK)
    w.reviewer = make_user("gy_reviewer", unit=w.county, role=Role.REVIEWER)
    w.other_clerk = make_user("lx_clerk", unit=w.other, role=Role.CLERK)
    w.other_reviewer = make_user("lx_reviewer", unit=w.other, role=Role.REVIEWER)
    w.leader = make_user("leader", unit=w.city, role=Role.LEADER)
    w.a = Project.objects.create(
        name="甲项目",
        unit=w.county,
        kind="new",
        total_investment=Decimal("5"),
        stage="signed",
        signed_on=datetime.date(2022, 1, 5),
    )
    w.url = reverse("registers:schedule", args=["guoyang", "2022-05"])
    w.firms_url = reverse("registers:firm_schedule", args=["guoyang", "2022-05"])
    return w


def save_row(client, world, value):
    page = client.get(world.url)
    return client.post(world.url, post_data(page, **{f"p{world.a.pk}-completed_ytd": value}))


def step(client, url, action, comment="", version=None):
    if version is None:
        version = client.get(url).context["month"].version
    return client.post(url, {"_action": action, "comment": comment, "month_version": version})


def month(register="projects"):
    return ScheduleMonth.objects.get(register=register, year=2022, month=5)


def test_it_submits_approves_and_then_shows_the_month_read_only(client, world):
    client.force_login(world.clerk)
    save_row(client, world, "1.0")
    assert step(client, world.url, "submit").status_code == 302
    assert month().state == "submitted" and month().submitted_by == world.clerk
    page = client.get(world.url)
    assert all(row[3] is None for row in page.context["rows"]) and page.context["locked"]
    assert save_row(client, world, "2.0").status_code == 302  # refused with a message: nothing saved
    assert ProjectUpdate.objects.get(project=world.a, month=5).completed_ytd == Decimal("1.0")
    client.force_login(world.reviewer)
    assert "approve" in client.get(world.url).context["actions"]
    step(client, world.url, "approve")
    assert month().state == "approved" and month().reviewed_by == world.reviewer
    page = client.get(world.url)
    assert page.context["actions"] == ["reopen"] and all(row[3] is None for row in page.context["rows"])
    assert [(who, str(state)) for _w, who, state, _r in page.context["steps"]] == [
        (world.clerk, "已提交"),
        (world.reviewer, "已审核"),
    ]
    steps = Change.objects.filter(model="registers.schedulemonth", action="transition", unit_id=world.county.pk)
    assert steps.count() == 2
    # The screen's own write path refuses the rows too, whatever posts them.
    row = scheduling.MonthRow(
        world.a, {"stage": "signed", "completed_ytd": Decimal("3"), "progress": "", "problems": ""}, 1, world.a.version
    )
    outcome = scheduling.PROJECTS.save(world.clerk, [row], 2022, 5, {})
    assert outcome.errors and ProjectUpdate.objects.get(project=world.a, month=5).completed_ytd == Decimal("1.0")


def test_it_returns_with_a_reason_the_clerk_sees_and_edits_again(client, world):
    client.force_login(world.clerk)
    save_row(client, world, "1.0")
    step(client, world.url, "submit")
    client.force_login(world.reviewer)
    step(client, world.url, "return")  # no reason: refused
    assert month().state == "submitted"
    step(client, world.url, "return", "投资数据与统计局不一致")
    assert month().state == "returned"
    client.force_login(world.clerk)
    page = client.get(world.url)
    assert "投资数据与统计局不一致" in page.content.decode() and page.context["rows"][0][3] is not None
    save_row(client, world, "1.2")
    assert ProjectUpdate.objects.get(project=world.a, month=5).completed_ytd == Decimal("1.2")
    step(client, world.url, "submit")
    assert month().state == "submitted"
    assert Change.objects.filter(model="registers.schedulemonth", action="transition").count() == 3
    assert Change.objects.filter(model="registers.schedulemonth", reason="投资数据与统计局不一致").exists()


def test_it_lets_only_the_units_people_take_steps(client, world):
    client.force_login(world.clerk)
    assert step(client, world.url, "submit", version=0).status_code == 302
    assert not ScheduleMonth.objects.filter(state="submitted").exists()  # nothing scheduled yet: refused
    save_row(client, world, "1.0")
    client.force_login(world.other_clerk)  # another county's clerk: cannot see, save or submit
    assert client.get(world.url).status_code == 403
    assert step(client, world.url, "submit", version=0).status_code == 403
    client.force_login(world.clerk)
    step(client, world.url, "submit")
    step(client, world.url, "approve")  # a clerk does not review
    client.force_login(world.other_reviewer)  # a reviewer of another unit cannot approve
    assert step(client, world.url, "approve", version=1).status_code == 403
    client.force_login(world.leader)  # a leader reads the state but takes no step
    page = client.get(world.url)
    assert page.context["actions"] == [] and page.context["month"].state == "submitted"
    step(client, world.url, "approve")
    assert month().state == "submitted"


def test_it_does_not_let_the_submitter_approve_their_own_month(client, world):
    client.force_login(world.reviewer)
    save_row(client, world, "1.0")
    step(client, world.url, "submit")
    assert "approve" not in client.get(world.url).context["actions"]
    step(client, world.url, "approve")
    assert month().state == "submitted"


def test_it_refuses_a_step_on_a_month_moved_meanwhile(client, world):
    client.force_login(world.clerk)
    save_row(client, world, "1.0")
    step(client, world.url, "submit")
    client.force_login(world.reviewer)
    seen = client.get(world.url).context["month"].version
    step(client, world.url, "return", "再核实")
    client.force_login(world.clerk)
    step(client, world.url, "submit")
    client.force_login(world.reviewer)
    step(client, world.url, "approve", version=seen)  # approving what was seen two steps ago
    assert month().state == "submitted"


def test_it_reopens_an_approved_month_with_a_reason_and_the_firm_month_apart(client, world):
    listing = Listing.objects.create(
        firm=Firm.objects.create(name="甲企业", credit_code=credit_code(1), unit=world.county),
        kind="cultivation",
        joined_on=datetime.date(2021, 6, 1),
        expected_month="2022-09",
    )
    client.force_login(world.clerk)
    save_row(client, world, "1.0")
    step(client, world.url, "submit")
    client.force_login(world.reviewer)
    step(client, world.url, "approve")
    # The firms' month is its own: still a draft, and editable.
    page = client.get(world.firms_url)
    assert page.context["month"].state == "draft" and page.context["rows"][0][3] is not None
    client.force_login(world.clerk)
    response = client.post(
        world.firms_url, post_data(client.get(world.firms_url), **{f"f{listing.pk}-revenue_ytd": "800"})
    )
    assert response.status_code == 302
    step(client, world.firms_url, "submit")
    assert month("firms").state == "submitted"
    client.force_login(world.reviewer)
    step(client, world.url, "reopen")  # no reason: refused
    assert month().state == "approved"
    step(client, world.url, "reopen", "补报四季度数据")
    assert month().state == "returned" and month().review_comment == "补报四季度数据"
    assert client.get(world.url).context["rows"][0][3] is not None


def test_it_locks_a_sub_units_rows_on_the_screen_above_while_their_month_is_approved(client, world):
    city_clerk = make_user("city_clerk", unit=world.city, role=Role.CLERK)
    Project.objects.create(
        name="利辛项目", unit=world.other, kind="new", total_investment=2, signed_on=datetime.date(2022, 1, 5)
    )
    client.force_login(world.clerk)
    save_row(client, world, "1.0")
    step(client, world.url, "submit")
    client.force_login(world.reviewer)
    step(client, world.url, "approve")
    client.force_login(city_clerk)
    page = client.get(reverse("registers:schedule", args=["city", "2022-05"]))
    forms = {row[0].name: row[3] for row in page.context["rows"]}
    assert forms["甲项目"] is None and forms["利辛项目"] is not None


def test_it_keeps_an_approved_register_figure_when_a_reopened_month_changes(
    client, world, django_capture_on_commit_callbacks
):
    target = make_target(
        code="INV", plan=make_plan(2022), lead_unit=world.county, target_value=Decimal("10"), measure="亿元"
    )
    RegisterFigure.objects.create(target=target, aggregation="investment")
    client.force_login(world.clerk)
    with django_capture_on_commit_callbacks(execute=True):
        save_row(client, world, "1.0")
    entry = ProgressEntry.objects.get(target=target, month=5)
    assert entry.value == Decimal("1.0")
    step(client, world.url, "submit")
    client.force_login(world.reviewer)
    step(client, world.url, "approve")
    # The figure's month is approved as figures are (the month's register figure is frozen with it).
    entry_review.submit(world.clerk, entry)
    entry_review.approve(world.reviewer, entry)
    step(client, world.url, "reopen", "更正")
    client.force_login(world.clerk)
    with django_capture_on_commit_callbacks(execute=True):
        save_row(client, world, "2.0")
    assert ProjectUpdate.objects.get(project=world.a, month=5).completed_ytd == Decimal("2.0")
    entry.refresh_from_db()
    assert entry.value == Decimal("1.0") and entry.state == "approved"


def test_it_shows_the_state_in_the_same_queries_for_2_or_40_rows(client, world, django_assert_max_num_queries):
    client.force_login(world.clerk)
    save_row(client, world, "1.0")
    step(client, world.url, "submit")
    client.force_login(world.reviewer)
    with django_assert_max_num_queries(30) as small:
        client.get(world.url)
    for n in range(40):
        project = Project.objects.create(
            name=f"项目{n}", unit=world.county, kind="new", total_investment=3, signed_on=datetime.date(2022, 1, 1)
        )
        ProjectUpdate.objects.create(project=project, year=2022, month=5, stage="signed", completed_ytd=1)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(world.url)
    assert len(page.context["rows"]) == 41 and page.context["actions"] == ["approve", "return"]


def test_it_links_each_units_two_screens_with_the_months_state_from_the_registers_page(client, world):
    from tracker import links
    from tracker.targets.policies import current_period

    Listing.objects.create(
        firm=Firm.objects.create(name="甲企业", credit_code=credit_code(2), unit=world.county),
        kind="cultivation",
        joined_on=datetime.date(2021, 6, 1),
        expected_month="2022-09",
    )
    period = current_period()
    ScheduleMonth.objects.create(
        unit=world.county, register="firms", year=period.year, month=period.month, state="submitted"
    )
    client.force_login(world.clerk)
    page = client.get(reverse("registers:home"))
    assert page.context["schedules"] == [(world.county, links.schedule_url(world.county, period), "草稿")]
    assert page.context["firm_schedules"] == [(world.county, links.firm_schedule_url(world.county, period), "已提交")]
    assert links.firm_schedule_url(world.county, period) in page.content.decode()
    assert reverse("registers:home") in client.get(reverse("admin:index")).content.decode()
