"""The entries admin stays cheap on large tables: constant queries, no full COUNT, filters from small tables."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_entry, make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
URL = "/admin/targets/progressentry/"


@pytest.fixture
def world():
    make_plan(2021)
    plan = make_plan(2022)
    city = make_unit("city", name="市经信局")
    econ = make_unit("econ", name="经济运行科", parent=city)
    invest = make_unit("invest", name="投资科", parent=city)
    desk = make_unit("desk", name="监测组", parent=econ)
    make_unit("idle", name="无目标组", parent=econ)
    targets = [make_target(plan=plan, lead_unit=econ if n % 2 else invest) for n in range(4)]
    targets.append(make_target(plan=plan, lead_unit=desk))
    w = type("World", (), {})()
    w.city, w.econ, w.invest, w.desk, w.targets = city, econ, invest, desk, targets
    w.admin = make_user("boss", unit=city, role=Membership.Role.ADMIN)
    w.clerk = make_user("clerk", unit=econ)
    return w


def add_entries(targets, months):
    for target in targets:
        for month in months:
            make_entry(target, month, Decimal(month))


def changelist_sql(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:targets_progressentry_changelist"), params or {})
    assert response.status_code == 200
    return response, [q["sql"] for q in queries]


def test_it_runs_the_same_number_of_queries_for_more_rows(client, world):
    client.force_login(world.admin)
    add_entries(world.targets, [2, 3])
    _, few = changelist_sql(client)
    add_entries(world.targets, range(4, 13))
    response, many = changelist_sql(client)
    assert len(response.context["cl"].result_list) == 55
    assert len(many) == len(few)


def test_it_never_counts_the_whole_table(client, world):
    client.force_login(world.admin)
    add_entries(world.targets, [2, 3])
    response, sql = changelist_sql(client, {"year": "2022"})
    counts = [s for s in sql if "COUNT(" in s.upper()]
    # Only the filtered (and, on PostgreSQL, capped) count; the "of N total" count is switched off.
    assert len(counts) == 1
    assert response.context["cl"].full_result_count is None
    assert response.context["cl"].result_count == 10
    # Filter choices come from plans and units, never from a DISTINCT over the entries.
    assert not any("DISTINCT" in s.upper() and "targets_progressentry" in s for s in sql)


def test_it_lists_the_newest_entries_first(client, world):
    client.force_login(world.admin)
    add_entries(world.targets[:1], [2, 3, 4])
    ProgressEntry.objects.filter(month=3).update(updated_at=timezone.now() + datetime.timedelta(hours=1))
    response, _ = changelist_sql(client)
    assert [e.month for e in response.context["cl"].result_list] == [3, 4, 2]


def test_its_filters_offer_plan_years_months_and_only_visible_units(client, world):
    add_entries(world.targets, [2])
    client.force_login(world.clerk)
    response, _ = changelist_sql(client)
    choices = {spec.title: [c["display"] for c in spec.choices(response.context["cl"])]
               for spec in response.context["cl"].filter_specs}
    assert choices["年度"][1:] == ["2022", "2021"]
    assert choices["月份"][1:] == ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月",
                                   "十月", "十一月", "十二月"]
    # Their unit and its sub-unit that leads a target: not the other section, not a unit without targets.
    assert choices["牵头单位"][1:] == ["监测组", "经济运行科"]

    client.force_login(world.admin)
    response, _ = changelist_sql(client, {"target__lead_unit__id__exact": world.invest.pk, "month": "2"})
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "牵头单位")
    assert [c["display"] for c in spec.choices(response.context["cl"])][1:] == ["监测组", "经济运行科", "投资科"]
    assert sorted(e.target_id for e in response.context["cl"].result_list) == [
        t.pk for t in world.targets if t.lead_unit_id == world.invest.pk]


def test_a_clerk_cannot_filter_into_another_units_entries(client, world):
    add_entries(world.targets, [2])
    client.force_login(world.clerk)
    response, _ = changelist_sql(client, {"target__lead_unit__id__exact": world.invest.pk})
    assert {e.target.lead_unit_id for e in response.context["cl"].result_list} <= {world.econ.pk, world.desk.pk}
    assert not any(e.target.lead_unit_id == world.invest.pk for e in response.context["cl"].result_list)
