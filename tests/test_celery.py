"""Celery: the beat schedule, the embedded (eager) mode, and a real worker on the real Redis broker."""

import datetime
import os
import threading
import time
import uuid
from decimal import Decimal

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.core import mail
from django.db import connections

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.celery import app
from tracker.reminders import tasks
from tracker.reminders.models import Reminder

BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
DUE_DAY = "2022-06-08"  # May 2022's figures are due that day


def make_clerk_with_a_missing_figure():
    unit = make_unit("celery-office", name="运行监测科")
    make_target(plan=make_plan(2022), lead_unit=unit, code="T-CELERY", name="新增企业", target_value=Decimal("80"))
    return make_user("cecile", unit, Membership.Role.CLERK)


def test_beat_runs_one_sweep_task_every_sweep_period_and_folds_the_data_stamps_hourly():
    entry, fold = app.conf.beat_schedule.values()
    assert fold == {"task": "tracker.ops.tasks.fold_data_stamps", "schedule": 3600, "options": {"expires": 3600}}
    assert fold["task"] in app.tasks
    assert entry["task"] == "tracker.reminders.tasks.sweep_reminders"
    assert entry["schedule"] == settings.REMINDER_SWEEP_SECONDS == 300
    assert entry["options"] == {"expires": 300}
    assert entry["task"] in app.tasks
    assert "tracker.reminders.tasks.send_reminder" in app.tasks


@pytest.fixture
def embedded():
    """The embedded default (no CELERY_BROKER_URL), also when CI runs the suite with Redis as broker."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_the_settings_run_tasks_in_process_exactly_when_no_broker_is_configured():
    assert app.conf.task_always_eager is (not settings.CELERY_BROKER_URL)
    assert app.conf.broker_url == settings.CELERY_BROKER_URL


@pytest.mark.django_db
def test_with_no_broker_the_tasks_run_in_process_after_commit(embedded, django_capture_on_commit_callbacks):
    clerk = make_clerk_with_a_missing_figure()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.sweep_reminders.delay(DUE_DAY)

    assert len(callbacks) == 1  # the send was queued for after the commit, not during the sweep
    reminder = Reminder.objects.get(user=clerk)
    assert (reminder.kind, reminder.status, reminder.attempts) == ("due_today", "sent", 1)
    assert [m.to for m in mail.outbox] == [[clerk.email]]


@pytest.mark.django_db
def test_the_scheduled_sweep_sends_nothing_before_the_sending_hour(embedded, settings):
    settings.REMINDER_SEND_HOUR = 24  # never reached
    make_clerk_with_a_missing_figure()

    assert tasks.sweep_reminders.delay().get() == 0
    assert Reminder.objects.count() == 0


@pytest.fixture
def redis_app(redis_url):
    """A Celery app configured like the project's but on the real broker and a queue of its own."""
    worker_app = Celery("tracker-test", set_as_current=False)
    worker_app.config_from_object("django.conf:settings", namespace="CELERY")
    worker_app.conf.update(broker_url=BROKER_URL, task_always_eager=False,
                           task_default_queue=f"test-reminders-{uuid.uuid4().hex}")
    yield worker_app
    with worker_app.connection_for_write() as conn:
        conn.default_channel.queue_delete(worker_app.conf.task_default_queue)
    worker_app.close()
    # start_worker made the test app the current one; the shared tasks go back to the project's app.
    app.set_current()
    app.set_default()


def _close_worker_connections(**kwargs):
    # The worker thread opens its own database connections; close them so the test database can be dropped.
    connections.close_all()


RAN = []


def _record_task(sender=None, **kwargs):
    RAN.append((sender.name, sender.request.is_eager, threading.current_thread() is threading.main_thread()))


def test_a_real_worker_on_redis_delivers_a_reminder_end_to_end(postgres, transactional_db, redis_app):
    """Beat's task goes through Redis to a worker, which sweeps, claims and queues the send through Redis again.

    PostgreSQL only: the worker thread needs its own connection, which SQLite's in-memory test database
    cannot give it safely.
    """
    clerk = make_clerk_with_a_missing_figure()
    RAN.clear()
    task_prerun.connect(_record_task)
    task_postrun.connect(_close_worker_connections)
    try:
        with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            tasks.sweep_reminders.delay(DUE_DAY)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if Reminder.objects.filter(user=clerk, status=Reminder.Status.SENT).exists():
                    break
                time.sleep(0.1)
    finally:
        task_postrun.disconnect(_close_worker_connections)
        task_prerun.disconnect(_record_task)

    reminder = Reminder.objects.get(user=clerk)
    assert (reminder.kind, reminder.period, reminder.day) == ("due_today", "2022-05", datetime.date(2022, 6, 8))
    assert (reminder.status, reminder.attempts) == ("sent", 1)
    assert [m.to for m in mail.outbox] == [[clerk.email]]
    assert mail.outbox[0].subject == reminder.subject
    # Both tasks went through the broker to the worker's thread, none ran eagerly here.
    assert RAN == [("tracker.reminders.tasks.sweep_reminders", False, False),
                   ("tracker.reminders.tasks.send_reminder", False, False)]
