"""The monthly project scheduling screen: last month beside this month, all or nothing, versions, soft checks."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import make_plan, make_target, make_unit, make_user
from tests.schedule_helpers import form_of, post_data
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.registers.models import Coordination, Project, ProjectUpdate, RegisterFigure
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
Role = Membership.Role


@pytest.fixture
def world(settings):
    w = type("World", (), {})()
    w.city = make_unit("city")
    w.county = make_unit("guoyang", name="涡阳县", parent=w.city, kind="county")
    w.other = make_unit("lixin", name="利辛县BRAVO", parent=w.city, kind="county")
    w.clerk = make_user("gy_clerk", unit=w.county, role=Role.CLERK)
    w.leader = make_user("leader", unit=w.city, role=Role.LEADER)
    w.a = Project.objects.create(name="甲项目", unit=w.county, kind="new", total_investment=Decimal("5"),
                                 stage="started", signed_on=datetime.date(2022, 1, 5),
                                 started_on=datetime.date(2022, 2, 1))
    w.b = Project.objects.create(name="乙项目", unit=w.county, kind="renovation", total_investment=Decimal("2"),
                                 signed_on=datetime.date(2022, 3, 5))
    w.hidden = Project.objects.create(name="BRAVO项目", unit=w.other, kind="new", total_investment=Decimal("2"),
                                      signed_on=datetime.date(2022, 3, 5))
    ProjectUpdate.objects.create(project=w.a, year=2022, month=4, stage="building", completed_ytd=Decimal("1.5"),
                                 progress="四月进展")
    w.url = reverse("registers:schedule", args=["guoyang", "2022-05"])
    return w


def test_it_shows_last_month_beside_this_month_for_the_units_projects_only(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "甲项目" in text and "乙项目" in text and "四月进展" in text and "BRAVO" not in text
    assert client.get(reverse("registers:schedule", args=["lixin", "2022-05"])).status_code == 403
    assert client.get(reverse("registers:schedule", args=["guoyang", "2022-13"])).status_code == 404


def test_it_saves_every_row_at_once_with_history_and_the_register_figures(
        client, world, django_capture_on_commit_callbacks):
    target = make_target(code="INV", plan=make_plan(2022), lead_unit=world.county, target_value=Decimal("10"),
                         measure="亿元")
    RegisterFigure.objects.create(target=target, aggregation="investment")
    client.force_login(world.clerk)
    page = client.get(world.url)
    a, b = f"p{world.a.pk}", f"p{world.b.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(world.url, post_data(page, **{
            f"{a}-completed_ytd": "2.5", f"{a}-progress": "主体完工", f"{a}-request": "电力增容",
            f"{a}-handler": "供电公司",
            f"{b}-stage": "started", f"{b}-stage_on": "2022-05-10", f"{b}-completed_ytd": "0.3"}))
    assert response.status_code == 302
    assert ProjectUpdate.objects.get(project=world.a, month=5).completed_ytd == Decimal("2.5")
    world.b.refresh_from_db()
    assert world.b.stage == "started" and world.b.started_on == datetime.date(2022, 5, 10)
    assert Coordination.objects.get(project=world.a).handler == "供电公司"
    # Two months, two projects' stages (甲 follows April's 在建, 乙 started), one coordination item.
    assert Change.objects.filter(source="schedule_screen", unit_id=world.county.pk).count() == 5
    # May's figure: 2.5 + 0.3 (the register-backed target moved with the screen).
    assert ProgressEntry.objects.get(target=target, month=5).value == Decimal("2.8")


def test_it_saves_nothing_when_one_row_is_wrong(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    a, b = f"p{world.a.pk}", f"p{world.b.pk}"
    response = client.post(world.url, post_data(page, **{
        f"{a}-completed_ytd": "2.5", f"{b}-stage": "started", f"{b}-completed_ytd": "0.3"}))
    assert response.status_code == 200
    assert "Give the date" in response.content.decode() or "请填写" in response.content.decode()
    assert not ProjectUpdate.objects.filter(month=5).exists()


def test_it_asks_to_confirm_a_stage_going_back_or_investment_falling_or_above_the_total(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    a = f"p{world.a.pk}"
    data = post_data(page, **{f"{a}-stage": "started", f"{a}-completed_ytd": "6"})
    response = client.post(world.url, data)
    warnings = form_of(response, world.a).soft_warnings
    assert len(warnings) == 2 and not ProjectUpdate.objects.filter(month=5).exists()
    data[f"{a}-confirm"] = "on"
    assert client.post(world.url, data).status_code == 302
    assert ProjectUpdate.objects.get(project=world.a, month=5).completed_ytd == Decimal("6")
    page = client.get(world.url)
    data = post_data(page, **{f"{a}-completed_ytd": "1"})
    data.pop(f"{a}-confirm", None)
    response = client.post(world.url, data)
    assert any("fell" in w or "下降" in w for w in form_of(response, world.a).soft_warnings)


def test_it_refuses_to_overwrite_a_colleagues_save(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    a = f"p{world.a.pk}"
    ProjectUpdate.objects.create(project=world.a, year=2022, month=5, stage="building", completed_ytd=Decimal("2"))
    response = client.post(world.url, post_data(page, **{f"{a}-completed_ytd": "2.5"}))
    assert response.status_code == 200
    assert ProjectUpdate.objects.get(project=world.a, month=5).completed_ytd == Decimal("2")


def test_it_lets_a_leader_read_but_not_save(client, world):
    client.force_login(world.leader)
    page = client.get(world.url)
    assert page.status_code == 200 and all(row[3] is None for row in page.context["rows"])
    assert client.post(world.url, {}).status_code == 403


def test_it_runs_the_same_queries_for_2_or_40_projects(client, world, django_assert_max_num_queries):
    client.force_login(world.clerk)
    with django_assert_max_num_queries(30) as small:
        page = client.get(world.url)
    small_count = len(small.captured_queries)
    for n in range(40):
        project = Project.objects.create(name=f"项目{n}", unit=world.county, kind="new", total_investment=3,
                                         signed_on=datetime.date(2022, 1, 1))
        ProjectUpdate.objects.create(project=project, year=2022, month=4, stage="signed", completed_ytd=1)
        if n % 2:  # half of them already have this month: changed, not created
            ProjectUpdate.objects.create(project=project, year=2022, month=5, stage="signed", completed_ytd=1)
    with django_assert_max_num_queries(small_count):
        page = client.get(world.url)
    data = post_data(page, **{f"p{p.pk}-completed_ytd": "1.2" for p in Project.objects.filter(name__startswith="项目")})
    with django_assert_max_num_queries(small_count + 20):
        assert client.post(world.url, data).status_code == 302
    assert ProjectUpdate.objects.filter(month=5, completed_ytd=Decimal("1.2")).count() == 40


def test_it_shows_a_page_of_projects_at_a_time(client, world, monkeypatch):
    from tracker.registers import views

    monkeypatch.setattr(views, "SCHEDULE_PAGE_SIZE", 1)
    client.force_login(world.clerk)
    first = client.get(world.url)
    second = client.get(world.url, {"page": 2})
    assert len(first.context["rows"]) == 1 and len(second.context["rows"]) == 1
    assert first.context["rows"][0][0] != second.context["rows"][0][0]
