"""The monthly firm scheduling screen (入规培育库, 一企一策、按月调度): last month beside this month, all or nothing,
versions, soft checks, and the firms' states (已入规 with the month, 退库 with a reason)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import make_plan, make_target, make_unit, make_user
from tests.schedule_helpers import credit_code, form_of, post_data
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.registers.models import Firm, FirmUpdate, Listing, RegisterFigure
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
Role = Membership.Role


def listed(unit, n, name, **kw):
    firm = Firm.objects.create(name=name, credit_code=credit_code(n), unit=unit)
    kw.setdefault("expected_month", "2022-09")
    return Listing.objects.create(firm=firm, kind="cultivation", joined_on=datetime.date(2021, 6, 1), **kw)


@pytest.fixture
def world():
    w = type("World", (), {})()
    w.city = make_unit("city")
    w.county = make_unit("guoyang", name="涡阳县", parent=w.city, kind="county")
    w.other = make_unit("lixin", name="利辛县BRAVO", parent=w.city, kind="county")
    w.clerk = make_user("gy_clerk", unit=w.county, role=Role.CLERK)
    w.other_clerk = make_user("lx_clerk", unit=w.other, role=Role.CLERK)
    w.leader = make_user("leader", unit=w.city, role=Role.LEADER)
    w.a = listed(w.county, 1, "甲企业")
    w.b = listed(w.county, 2, "乙企业", expected_month="2022-06")
    w.old = listed(w.county, 3, "早已入规企业", state="entered", expected_month="", entered_month="2021-10")
    w.hidden = listed(w.other, 4, "BRAVO企业")
    FirmUpdate.objects.create(
        listing=w.a,
        year=2022,
        month=4,
        revenue_ytd=Decimal("1200"),
        state="active",
        expected_month="2022-09",
        progress="四月进展",
    )
    w.url = reverse("registers:firm_schedule", args=["guoyang", "2022-05"])
    return w


def test_it_shows_last_month_beside_this_month_for_the_units_cultivation_firms_only(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "甲企业" in text and "乙企业" in text and "四月进展" in text and "1200" in text
    assert "BRAVO" not in text and "早已入规企业" not in text  # another county's; entered in an earlier year
    assert client.get(reverse("registers:firm_schedule", args=["lixin", "2022-05"])).status_code == 403
    assert client.get(reverse("registers:firm_schedule", args=["guoyang", "2022-13"])).status_code == 404


def test_it_saves_every_row_at_once_with_history_and_the_register_figures(
    client, world, django_capture_on_commit_callbacks
):
    target = make_target(
        code="NEW-ABOVE", plan=make_plan(2022), lead_unit=world.county, target_value=Decimal("10"), measure="家"
    )
    RegisterFigure.objects.create(target=target, aggregation="entered")
    client.force_login(world.clerk)
    page = client.get(world.url)
    a, b = f"f{world.a.pk}", f"f{world.b.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            world.url,
            post_data(
                page,
                **{
                    f"{a}-revenue_ytd": "1500",
                    f"{a}-progress": "新增订单",
                    f"{b}-state": "entered",
                    f"{b}-revenue_ytd": "2300",
                },
            ),
        )
    assert response.status_code == 302
    assert FirmUpdate.objects.get(listing=world.a, month=5).revenue_ytd == Decimal("1500")
    world.b.refresh_from_db()
    assert world.b.state == "entered" and world.b.entered_month == "2022-05" and world.b.version == 2
    assert FirmUpdate.objects.get(listing=world.b, month=5).state == "entered"
    # Two months written and one membership changed, each with its history under the county.
    assert Change.objects.filter(source="schedule_screen", unit_id=world.county.pk).count() == 3
    # The count of firms that entered the above-scale list this year moved with the screen.
    assert ProgressEntry.objects.get(target=target, month=5).value == 1


def test_it_saves_nothing_when_one_row_is_wrong(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    a, b = f"f{world.a.pk}", f"f{world.b.pk}"
    response = client.post(world.url, post_data(page, **{f"{a}-revenue_ytd": "1500", f"{b}-state": "removed"}))
    assert response.status_code == 200
    assert any(
        "why the firm was removed" in e or "退库原因" in e or "移出" in e
        for e in form_of(response, world.b).non_field_errors()
    )
    assert not FirmUpdate.objects.filter(month=5).exists()
    world.b.refresh_from_db()
    assert world.b.state == "active"
    response = client.post(world.url, post_data(page, **{f"{a}-expected_month": "2022-9"}))
    assert form_of(response, world.a).errors and not FirmUpdate.objects.filter(month=5).exists()


def test_it_removes_a_firm_with_its_reason_and_the_day(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    b = f"f{world.b.pk}"
    assert (
        client.post(world.url, post_data(page, **{f"{b}-state": "removed", f"{b}-reason": "企业迁出"})).status_code
        == 302
    )
    world.b.refresh_from_db()
    assert world.b.state == "removed" and world.b.reason == "企业迁出" and world.b.left_on == datetime.date(2022, 5, 31)
    world.b.full_clean()  # the membership the screen wrote is one the admin would accept


def test_it_asks_to_confirm_a_later_expected_month_or_revenue_falling(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    a = f"f{world.a.pk}"
    data = post_data(page, **{f"{a}-expected_month": "2022-12", f"{a}-revenue_ytd": "900"})
    response = client.post(world.url, data)
    warnings = form_of(response, world.a).soft_warnings
    assert len(warnings) == 2 and not FirmUpdate.objects.filter(month=5).exists()
    assert any("later" in w or "推迟" in w for w in warnings)
    data[f"{a}-confirm"] = "on"
    assert client.post(world.url, data).status_code == 302
    world.a.refresh_from_db()
    assert world.a.expected_month == "2022-12"
    assert FirmUpdate.objects.get(listing=world.a, month=5).revenue_ytd == Decimal("900")


def test_it_refuses_to_overwrite_a_colleagues_change(client, world):
    client.force_login(world.clerk)
    page = client.get(world.url)
    a = f"f{world.a.pk}"
    Listing.objects.filter(pk=world.a.pk).update(expected_month="2022-08", version=2)  # meanwhile, in the admin
    response = client.post(world.url, post_data(page, **{f"{a}-revenue_ytd": "1500"}))
    assert response.status_code == 200
    assert not FirmUpdate.objects.filter(month=5).exists()
    world.a.refresh_from_db()
    assert world.a.expected_month == "2022-08"


def test_it_lets_a_leader_read_but_no_one_outside_the_county_save(client, world):
    client.force_login(world.leader)
    page = client.get(world.url)
    assert page.status_code == 200 and all(row[3] is None for row in page.context["rows"])
    assert client.post(world.url, {}).status_code == 403
    client.force_login(world.other_clerk)
    assert client.get(world.url).status_code == 403
    assert client.post(world.url, {f"f{world.a.pk}-revenue_ytd": "1"}).status_code == 403
    assert not FirmUpdate.objects.filter(month=5).exists()


def test_it_runs_the_same_queries_for_2_or_40_firms(client, world, django_assert_max_num_queries):
    client.force_login(world.clerk)
    with django_assert_max_num_queries(30) as small:
        page = client.get(world.url)
    small_count = len(small.captured_queries)
    for n in range(40):
        listing = listed(world.county, 100 + n, f"企业{n:02d}")
        FirmUpdate.objects.create(
            listing=listing, year=2022, month=4, revenue_ytd=100, state="active", expected_month="2022-09"
        )
        if n % 2:  # half of them already have this month: changed, not created
            FirmUpdate.objects.create(
                listing=listing, year=2022, month=5, revenue_ytd=100, state="active", expected_month="2022-09"
            )
    with django_assert_max_num_queries(small_count):
        page = client.get(world.url)
    many = Listing.objects.filter(firm__name__startswith="企业")
    data = post_data(
        page, **{f"f{x.pk}-revenue_ytd": "120" for x in many}, **{f"f{x.pk}-state": "entered" for x in many[:5]}
    )
    with django_assert_max_num_queries(small_count + 20):
        assert client.post(world.url, data).status_code == 302
    assert FirmUpdate.objects.filter(month=5, revenue_ytd=Decimal("120")).count() == 40
    assert Listing.objects.filter(state="entered", entered_month="2022-05").count() == 5
