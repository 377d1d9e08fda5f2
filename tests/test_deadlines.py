"""Deadlines against the official 2022 calendar (Spring Festival, Dragon Boat, National Day)."""

import datetime
import logging

import pytest

from tests.factories import make_target, make_unit
from tracker.targets import workdays
from tracker.targets.models import ReportingPolicy
from tracker.targets.policies import Policies

D = datetime.date


def test_it_follows_the_official_2022_holidays_and_adjusted_working_days():
    # Spring Festival: 31 Jan – 6 Feb off; Saturday 29 and Sunday 30 Jan worked.
    assert workdays.is_working_day(D(2022, 1, 29)) is True
    assert workdays.is_working_day(D(2022, 1, 30)) is True
    assert workdays.is_working_day(D(2022, 1, 31)) is False
    assert workdays.is_working_day(D(2022, 2, 4)) is False
    assert workdays.is_working_day(D(2022, 2, 7)) is True
    # National Day: 1–7 Oct off; Saturday 8 and Sunday 9 Oct worked.
    assert workdays.is_working_day(D(2022, 10, 3)) is False
    assert workdays.is_working_day(D(2022, 10, 8)) is True
    assert workdays.is_working_day(D(2022, 10, 9)) is True
    # An ordinary weekend.
    assert workdays.is_working_day(D(2022, 6, 11)) is False


def test_it_puts_january_figures_due_on_the_fifth_working_day_after_the_spring_festival():
    # February 2022 starts with the holiday: working days are 7, 8, 9, 10, 11.
    assert workdays.due_date(2022, 1, 5) == D(2022, 2, 11)
    assert workdays.due_date(2022, 1, 1) == D(2022, 2, 7)


def test_it_counts_the_national_day_weekend_working_days_towards_the_deadline():
    # October 2022: 8 (Sat), 9 (Sun), 10, 11, 12.
    assert workdays.due_date(2022, 9, 5) == D(2022, 10, 12)
    assert workdays.due_date(2022, 9, 2) == D(2022, 10, 9)


def test_it_skips_the_dragon_boat_festival_and_rolls_december_into_the_next_year():
    assert workdays.due_date(2022, 5, 5) == D(2022, 6, 8)  # 3 June off
    assert workdays.due_date(2022, 2, 5) == D(2022, 3, 7)
    # New Year 2023: 1–2 January off.
    assert workdays.due_date(2022, 12, 5) == D(2023, 1, 9)


def test_it_adds_and_counts_working_days_across_holidays():
    assert workdays.add_working_days(D(2022, 9, 30), 1) == D(2022, 10, 8)
    assert workdays.add_working_days(D(2022, 10, 12), -3) == D(2022, 10, 9)
    assert workdays.add_working_days(D(2022, 2, 11), -5) == D(2022, 1, 30)
    # 29, 30 Jan and 7, 8 Feb.
    assert workdays.working_days_between(D(2022, 1, 28), D(2022, 2, 8)) == 4
    assert workdays.working_days_between(D(2022, 2, 8), D(2022, 1, 28)) == -4
    assert workdays.working_days_between(D(2022, 6, 8), D(2022, 6, 8)) == 0


def test_it_uses_the_last_working_day_when_a_month_has_fewer_than_n():
    # February 2022 has 16 working days, the last on the 28th.
    assert workdays.nth_working_day(2022, 2, 16) == D(2022, 2, 28)
    assert workdays.nth_working_day(2022, 2, 20) == D(2022, 2, 28)


def test_it_falls_back_to_monday_to_friday_with_a_warning_outside_the_calendar(caplog):
    with caplog.at_level(logging.WARNING, logger="tracker.targets.workdays"):
        assert workdays.is_working_day(D(2035, 1, 1)) is True  # a Monday, whatever the holiday
        assert workdays.is_working_day(D(2035, 1, 6)) is False  # a Saturday
        assert workdays.due_date(2035, 3, 5) == D(2035, 4, 6)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["The official calendar does not cover 2035; counting Monday to Friday as working days."]


@pytest.mark.django_db
def test_it_takes_the_most_specific_policy_target_then_unit_or_parent_unit_then_default():
    county = make_unit("county")
    office = make_unit("office", parent=county)
    other = make_unit("other")
    own = make_target(lead_unit=office)
    inherited = make_target(lead_unit=office)
    plain = make_target(lead_unit=other)
    default = ReportingPolicy.objects.get(unit=None, target=None)  # created by the migration
    county_policy = ReportingPolicy.objects.create(unit=county, due_working_day=7)
    own_policy = ReportingPolicy.objects.create(target=own, due_working_day=2)

    policies = Policies()

    assert policies.for_target(own) == own_policy
    assert policies.for_target(inherited) == county_policy
    assert policies.for_target(plain) == default
    assert (default.due_working_day, default.remind_days_before, default.escalate_after_days,
            default.overdue_cap_days) == (5, 3, 2, 10)
