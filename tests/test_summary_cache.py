"""Judged summaries kept between requests (reports/summaries, targets/stamps): never an old colour.

The tests commit (transaction=True), as requests do: inside a test's own transaction a written stamp is not
everyone's yet and nothing is kept. Each change goes through a write path that sends no model signal
(`update()`), so the stamp must come from the database writes themselves.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.targets import stamps
from tracker.targets.models import DataStamp, Plan, ProgressEntry, ReportingPolicy, Target

pytestmark = pytest.mark.django_db(transaction=True)
Kind = Target.Kind
DASHBOARD = reverse("reports:dashboard") + "?period=2022-06"
ORGANISATIONS = reverse("reports:organisations") + "?period=2022-06"


@pytest.fixture
def world(client):
    cache.clear()
    plan = make_plan(2022)
    section = make_section(plan, 1)
    city, other = make_unit("city", name="市经信局"), make_unit("other", name="别的单位")
    w = type("World", (), {"plan": plan})()
    # 32 of the 40家 expected by June (80 a year): 80%, at risk (below 90%, above 70%).
    w.count = make_target(Kind.CUMULATIVE, code="C-1", section=section, lead_unit=city)
    w.entry = make_entry(w.count, 6, Decimal("32"), state=ProgressEntry.State.SUBMITTED,
                         submitted_at=timezone.make_aware(datetime.datetime(2022, 7, 4, 10)))
    w.other = make_target(Kind.MILESTONE, code="M-9", section=section, lead_unit=other, deadline="2022-06-30")
    w.clerk = make_user("clerk", unit=city)
    w.other_unit = other
    client.force_login(w.clerk)
    return w


def shown(client, url=DASHBOARD):
    """(status counts, targets shown, figures on time) of the page, and its number of queries."""
    with CaptureQueriesContext(connection) as queries:
        context = client.get(url).context
    counts = {k: v for k, v in context["summary"]["by_status"].items() if v}
    codes = [r["code"] for r in context["summary"]["flagged"]] if url == DASHBOARD else []
    on_time = context.get("completeness", {}).get("on_time")
    return (counts, codes, on_time), len(queries)


def test_it_keeps_the_dashboard_between_requests_when_nothing_changed(client, world):
    first, cold = shown(client)
    again, warm = shown(client)
    assert again == first == ({"at_risk": 1}, ["C-1"], 1)
    assert warm < cold - 5  # nothing judged again: the stamp and the page's own queries only


def _update_entry_value():
    ProgressEntry.objects.filter(target__code="C-1").update(value=Decimal("40"))


def _return_the_figure():
    # A figure the reviewer returned (never approved) is not judged: nothing else was reported, so no data.
    ProgressEntry.objects.filter(target__code="C-1").update(state=ProgressEntry.State.RETURNED)


def _loosen_the_targets_threshold():
    Target.objects.filter(code="C-1").update(ratio_at_risk=Decimal("0.75"))


def _loosen_the_plans_threshold():
    Plan.objects.filter(year=2022).update(ratio_at_risk=Decimal("0.75"))


def _raise_the_target():
    Target.objects.filter(code="C-1").update(target_value=Decimal("120"))  # 32 of 60: off track


def _add_a_figure_to_the_plan_curve():
    from tracker.targets.models import MonthlyPlanPoint

    MonthlyPlanPoint.objects.create(target=Target.objects.get(code="C-1"), month=6, value=Decimal("34"))


def _deactivate_the_target():
    Target.objects.filter(code="C-1").update(is_active=False)


@pytest.mark.parametrize("change, after", [
    (_update_entry_value, ({"on_track": 1}, [], 1)),
    (_return_the_figure, ({"no_data": 1}, [], 0)),
    (_loosen_the_targets_threshold, ({"on_track": 1}, [], 1)),
    (_loosen_the_plans_threshold, ({"on_track": 1}, [], 1)),
    (_raise_the_target, ({"off_track": 1}, ["C-1"], 1)),
    (_add_a_figure_to_the_plan_curve, ({"on_track": 1}, [], 1)),
    (_deactivate_the_target, ({}, [], 0)),
])
def test_a_change_to_any_input_of_the_status_shows_at_once(client, world, change, after):
    before, _queries = shown(client)
    assert before == ({"at_risk": 1}, ["C-1"], 1)
    shown(client)  # kept
    change()
    assert shown(client)[0] == after


def test_a_stricter_reporting_policy_makes_the_figure_late_at_once(client, world):
    assert shown(client)[0][2] == 1  # submitted on 4 July: on time by the default policy
    ReportingPolicy.objects.create(due_working_day=1)  # due on 1 July
    assert shown(client)[0][2] == 0


def test_a_membership_moved_to_another_unit_shows_that_units_targets(client, world):
    assert shown(client)[0][0] == {"at_risk": 1}
    Membership.objects.filter(user=world.clerk).update(unit=world.other_unit)
    assert shown(client)[0][0] == {"off_track": 1}  # the other unit's milestone, due on 30 June 2022, not done


def test_the_next_day_judges_again_without_any_write(client, world, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: datetime.date(2022, 6, 20))
    Membership.objects.filter(user=world.clerk).update(unit=world.other_unit)
    assert shown(client)[0][0] == {"not_due": 1}  # the milestone is due on 30 June
    monkeypatch.setattr(timezone, "localdate", lambda *a: datetime.date(2022, 7, 1))
    assert shown(client)[0][0] == {"off_track": 1}  # overdue and not done


def test_the_combined_dashboard_is_kept_and_follows_a_change(client, world):
    world.clerk.memberships.update(role=Membership.Role.LEADER)
    first, cold = shown(client, ORGANISATIONS)
    again, warm = shown(client, ORGANISATIONS)
    # A leader reads the whole plan: the other unit's overdue milestone too.
    assert first == again == ({"at_risk": 1, "off_track": 1}, [], None) and warm < cold
    _update_entry_value()
    assert shown(client, ORGANISATIONS)[0] == ({"on_track": 1, "off_track": 1}, [], None)


def test_a_write_in_the_readers_own_transaction_is_neither_read_from_nor_kept(client, world):
    assert stamps.current() is not None
    with transaction.atomic():
        _update_entry_value()
        assert stamps.current() is None  # not yet everyone's: computed afresh, not kept
    assert stamps.current() is not None


def test_a_rolled_back_write_leaves_the_stamp_as_it_was():
    before = stamps.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        Plan.objects.create(year=2031, title="x")
        raise RuntimeError
    assert stamps.current() == before
    Plan.objects.create(year=2031, title="x")
    assert stamps.current()[0] == before[0] + 1


def test_every_table_a_status_or_its_reader_depends_on_is_watched():
    from django.apps import apps

    tables = [m._meta.db_table for m in apps.get_app_config("targets").get_models() if m is not DataStamp]
    tables += [Membership._meta.db_table, "auth_user", ReportingPolicy._meta.db_table]
    for table in tables:
        for sql in (f'UPDATE "{table}" SET x = 1', f'INSERT INTO "{table}" ("a") VALUES (1)',
                    f"DELETE FROM {table} WHERE 1", f'TRUNCATE "{table}"'):
            assert stamps.watched_write(sql), sql
    for sql in ('SELECT * FROM "targets_target"', 'UPDATE "django_session" SET x = 1',
                'INSERT INTO "targets_datastamp" (weight) VALUES (1)', 'UPDATE "auth_user_groups" SET x = 1'):
        assert not stamps.watched_write(sql), sql


def test_folding_the_stamps_keeps_their_sum_moves_the_stamp_and_never_shows_an_old_colour(client, world):
    from tracker.ops.tasks import fold_data_stamps

    first, _ = shown(client)
    before = stamps.current()
    rows = DataStamp.objects.count()
    assert rows > 1
    assert fold_data_stamps() == rows
    assert DataStamp.objects.count() == 1
    after = stamps.current()
    assert after[0] == before[0] and after[1] > before[1]  # same sum, a new highest id: the stamp moved
    assert fold_data_stamps() == 0  # one row: nothing to fold
    assert shown(client)[0] == first
    # A write after the fold still shows at once.
    ProgressEntry.objects.filter(pk=world.entry.pk).update(value=Decimal("40"))
    assert shown(client)[0][0] == {"on_track": 1}
    assert stamps.current()[0] == before[0] + 1


def test_a_cache_that_cannot_be_reached_costs_time_not_the_page(client, world, settings):
    from django.core.cache import caches

    # A Redis cache on a port nothing listens on.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    caches["default"].close()
    del caches["default"]
    try:
        assert shown(client)[0][0] == {"at_risk": 1}
        ProgressEntry.objects.filter(pk=world.entry.pk).update(value=Decimal("40"))
        assert shown(client)[0][0] == {"on_track": 1}
    finally:
        del caches["default"]
