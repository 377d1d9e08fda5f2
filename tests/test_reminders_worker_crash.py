"""A real worker (`celery --app tracker worker`, on Redis) killed with SIGKILL in the middle of slow SMTP
conversations, then restarted: every reminder arrives, a resend carries the first one's Message-ID, none is
left `sending`.

PostgreSQL only: the worker is another process and must see the test database, which SQLite's in-memory test
database cannot give it.
"""

import datetime
import os
import time
import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import make_plan, make_target, make_unit, make_user
from tests.smtp_faults import FaultyInbox, FaultyServer, smtp_mailers
from tests.worker_process import WorkerProcess, database_url
from tracker.accounts.models import Membership
from tracker.reminders import delivery
from tracker.reminders.models import Reminder
from tracker.reminders.sweep import hand_over_retries, sweep

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
DUE_DAY = "2022-06-08"
REMINDERS = 12
LEASE = 2  # seconds; a conversation takes DELAY and a little more
DELAY = 0.3


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def claim_reminders():
    unit = make_unit("crash-office", name="运行监测科")
    make_target(plan=make_plan(2022), lead_unit=unit, code="T-CRASH", name="新增企业", target_value=Decimal("80"))
    for n in range(REMINDERS):
        make_user(f"crash-clerk-{n:02d}", unit, Membership.Role.CLERK)
    sweep(today=datetime.date.fromisoformat(DUE_DAY))  # claims only
    return list(Reminder.objects.order_by("pk"))


@pytest.fixture
def slow_server(settings):
    # The server keeps each message, then takes DELAY to say so: a worker killed meanwhile never learns the
    # email went out (the window that remains), so its resend is a duplicate that must carry the same Message-ID.
    with FaultyServer(FaultyInbox(slow_stage="data", delay=DELAY)) as server:
        settings.MAILERS = smtp_mailers(server.port)
        yield server


@pytest.fixture
def worker(postgres, transactional_db, redis_url, slow_server, tmp_path):
    process = WorkerProcess(
        database_url=database_url(connection.settings_dict), broker_url=BROKER_URL, smtp_port=slow_server.port,
        queue=f"test-crash-{uuid.uuid4().hex}", log_path=tmp_path / "worker.log", lease_seconds=LEASE,
        visibility_seconds=1,
    )
    try:
        yield process
    finally:
        process.close()


def test_a_worker_killed_mid_send_and_restarted_delivers_every_reminder_with_one_message_id_each(
        worker, slow_server):
    inbox = slow_server.handler
    reminders = claim_reminders()
    assert len(reminders) == REMINDERS
    worker.start()
    for reminder in reminders:
        worker.send(reminder.pk)

    # Kill it while both pool processes are in the middle of a conversation, a few emails in.
    wait_for(lambda: len(inbox.received) >= 4 and inbox.slow_now == 2, 30, "two sends in progress")
    worker.kill()
    interrupted = Reminder.objects.filter(status="sending").count()
    assert interrupted >= 1, "the kill did not land mid-send"
    assert Reminder.objects.exclude(status__in=("sent", "sending")).exists()  # work left for the next worker

    # The restarted worker sends the rest. The broker hands it the killed worker's unacknowledged tasks once the
    # visibility timeout has passed; each takes its row back if the lease ran out, else does nothing.
    worker.start()
    wait_for(lambda: not Reminder.objects.filter(status="pending").exists(), 30, "the queue to be worked off")
    wait_for(lambda: not Reminder.objects.filter(status="sending", lease_until__gt=timezone.now()).exists(), 30,
             "the sends in progress")
    worker.stop()  # a warm shutdown hands back any task it holds, so none is left behind in Redis
    # Whatever the redelivered tasks did not take back (they came while its lease ran), the sweep does.
    wait_for(lambda: not Reminder.objects.filter(status="sending", lease_until__gte=timezone.now()).exists(),
             LEASE + 5, "the leases to run out")
    taken_back_by_the_sweep = hand_over_retries(timezone.now(), delivery.deliver)
    assert taken_back_by_the_sweep <= interrupted

    rows = {r.recipient: r for r in Reminder.objects.all()}
    assert {r.status for r in rows.values()} == {"sent"}, worker.log()
    by_recipient = defaultdict(list)
    for received in inbox.received:
        (to,) = received.to
        by_recipient[to].append(received.message_id)
    # Each arrived at least once; any second copy is one the server had taken when the worker was killed, and
    # carries the same Message-ID as the first, so mail clients show it once.
    assert set(by_recipient) == set(rows)
    assert all(ids == [rows[to].message_id] * len(ids) for to, ids in by_recipient.items())
    duplicates = len(inbox.received) - REMINDERS
    assert 0 <= duplicates <= interrupted
    assert not Reminder.objects.filter(status="sending").exists()
