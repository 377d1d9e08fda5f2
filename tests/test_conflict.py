"""Two people saving the same entry at the same moment, on PostgreSQL with two
real connections (one per thread): the second save waits for the first
one's row lock, then gets a conflict naming the other person and their
value. Nothing is overwritten silently."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import translation

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.audit.models import Change
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TODAY = datetime.date(2022, 4, 3)


class Racer(threading.Thread):
    """Runs `work` in its own thread, hence on its own database connection."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self):
        try:
            with translation.override("en"):
                self.result = self.work()
        except Exception as exc:  # handed to the test thread
            self.error = exc
        finally:
            connections.close_all()


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_blocked_by(pid, limit=30.0):
    """Return once some backend waits for a lock held by `pid` (a wait, not a timing assertion)."""
    deadline = time.monotonic() + limit
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid])
            if cursor.fetchone():
                return True
    return False


def race(first_work, second_work):
    """First save holds its transaction open until the second is seen waiting on its lock."""
    first_saved, release = threading.Event(), threading.Event()
    pids = {}

    def first():
        pids["first"] = backend_pid()
        with transaction.atomic():
            result = first_work()
            first_saved.set()
            assert release.wait(60), "never released"
        return result

    a, b = Racer(first), Racer(second_work)
    a.start()
    try:
        assert first_saved.wait(60), "the first save never happened"
        b.start()
        blocked = wait_until_blocked_by(pids["first"])
    finally:
        release.set()
        a.join(60)
        b.join(60)
    assert blocked, "the second save never waited for the first one's lock"
    assert a.error is None and b.error is None, (a.error, b.error)
    return a.result, b.result


@pytest.fixture
def people(postgres):
    unit = make_unit("qiaocheng")
    return make_target(lead_unit=unit, code="Q-1"), make_user("wang", unit=unit), make_user("li", unit=unit)


def test_it_refuses_the_second_of_two_simultaneous_edits_with_the_other_persons_value(people):
    target, wang, li = people
    entry = make_entry(target, 3, Decimal("5"), entered_by=wang)
    seen = entry.version  # both opened the form showing version 1

    first, second = race(
        lambda: save_entries(wang, [EntryRow(target, 2022, 3, {"value": Decimal("10")}, seen)], "entry screen",
                             today=TODAY),
        lambda: save_entries(li, [EntryRow(target, 2022, 3, {"value": Decimal("12")}, seen)], "entry screen",
                             today=TODAY),
    )
    assert first.ok
    assert [e.message for e in second.errors] == [
        "Q-1 was changed by wang meanwhile (now 10); reload and try again."]
    entry.refresh_from_db()
    assert (entry.value, entry.version, entry.entered_by) == (Decimal("10"), seen + 1, wang)
    assert [c.changes["value"] for c in Change.objects.filter(object_id=str(entry.pk))] == [["5", "10"]]


def test_it_refuses_the_second_of_two_simultaneous_first_entries(people):
    target, wang, li = people

    first, second = race(
        lambda: save_entries(wang, [EntryRow(target, 2022, 3, {"value": Decimal("10")}, 0)], "entry screen",
                             today=TODAY),
        lambda: save_entries(li, [EntryRow(target, 2022, 3, {"value": Decimal("12")}, 0)], "entry screen",
                             today=TODAY),
    )
    assert first.ok and not second.ok
    assert [e.message for e in second.errors] == [
        "Q-1 was changed by wang meanwhile (now 10); reload and try again."]
    entry = ProgressEntry.objects.get()
    assert (entry.value, entry.entered_by) == (Decimal("10"), wang)
    assert Change.objects.count() == 1
