"""Two sweeps at the same moment on PostgreSQL (two workers, or a beat that fired twice) send each email once."""

import datetime
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connections

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.reminders import delivery
from tracker.reminders.models import Reminder
from tracker.reminders.planning import plan_emails
from tracker.reminders.sweep import sweep

Role = Membership.Role


def build_bureau(units=6, clerks_per_unit=3):
    plan = make_plan(2022)
    reviewer_unit = make_unit("pg-bureau")
    make_user("pg-head", reviewer_unit, Role.REVIEWER)
    make_user("pg-leader", reviewer_unit, Role.LEADER)
    for u in range(units):
        unit = make_unit(f"pg-unit-{u}", parent=reviewer_unit)
        for t in range(2):
            make_target(plan=plan, lead_unit=unit, code=f"PG-{u}-{t}", target_value=Decimal("80"))
        for c in range(clerks_per_unit):
            make_user(f"pg-clerk-{u}-{c}", unit, Role.CLERK)


def sweep_in_threads(day, count=2):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def one_sweep():
        try:
            barrier.wait(timeout=30)
            results.append(sweep(today=day, deliver=delivery.deliver))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_sweep) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(results) == count
    return results


@pytest.mark.parametrize("day", [datetime.date(2022, 6, 8), datetime.date(2022, 6, 10)])
def test_two_concurrent_sweeps_send_each_reminder_once(postgres, transactional_db, day):
    build_bureau()
    expected = Counter((p.recipient, p.kind) for p in plan_emails(day))
    # 18 clerks, plus on the 10th the escalation to the head and the digest to the leader.
    assert sum(expected.values()) == (18 if day.day == 8 else 20)

    results = sweep_in_threads(day)

    sent = Counter((m.to[0], Reminder.objects.get(recipient=m.to[0], subject=m.subject).kind) for m in mail.outbox)
    assert sent == expected
    # Both sweeps wanted every email; each was claimed by one and found taken by the other.
    assert sum(len(r.claimed) for r in results) == sum(expected.values())
    assert sum(r.already_claimed for r in results) == sum(expected.values())
    assert Reminder.objects.filter(status="sent").count() == sum(expected.values())
