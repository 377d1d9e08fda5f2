#!/usr/bin/env python
"""Reminder delivery under SMTP and worker faults, against servers on the loopback only.

For each scenario prints how many reminders were planned, how many arrived
(distinct recipients), how many arrived more than once (and whether every copy
carried the same Message-ID), how many were lost, and how many rows were left
`sending`:

- greylisting: the server answers 451 at RCPT the first time it sees an
  address, as greylisting servers do;
- 421 then accept: every first conversation is refused at connect, every
  second at MAIL (421 "closing channel"), then the server accepts;
- worker killed: a real `celery --app tracker worker` on Redis sends through a
  slow server and is killed with SIGKILL while two sends are in progress, then
  restarted (and the sweep run once the leases have run out). Twice: slow
  before the server has the message (RCPT), and slow after it has it but
  before it says so (DATA: the window that remains, so copies are expected,
  with one Message-ID each).

Retries are driven by moving the sweep's clock past each backoff, so nothing
sleeps for minutes. A throwaway test database is used (PostgreSQL on the
server of DATABASE_URL, else an SQLite file); the worker scenarios need Redis
(FAULTS_BROKER_URL, default TEST_CELERY_BROKER_URL or redis://127.0.0.1:6379/14)
and are skipped, saying so, without it. Bounded: each scenario gives up after
--timeout seconds.

    .venv/bin/python bench/faults.py
    DATABASE_URL=postgres://root@127.0.0.1:5432/tracker_bench_faults .venv/bin/python bench/faults.py
"""

import argparse
import datetime
import os
import socket
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("TRACKER_PLAIN_STATIC", "1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("LOG_LEVEL", "ERROR")  # the retries are expected; their warnings would drown the figures
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.throwaway import throwaway_database  # noqa: E402
from tests.factories import make_plan, make_target, make_unit, make_user  # noqa: E402
from tests.smtp_faults import FaultyInbox, FaultyServer, smtp_mailers  # noqa: E402
from tests.worker_process import WorkerProcess  # noqa: E402
from tracker.accounts.models import Membership  # noqa: E402
from tracker.reminders import delivery  # noqa: E402
from tracker.reminders.models import Reminder  # noqa: E402
from tracker.reminders.sweep import hand_over_retries, sweep  # noqa: E402

DUE_DAY = datetime.date(2022, 6, 8)  # May 2022's figures are due that day
BROKER_URL = os.environ.get("FAULTS_BROKER_URL") or os.environ.get("TEST_CELERY_BROKER_URL",
                                                                      "redis://127.0.0.1:6379/14")
LEASE_SECONDS = 2
SLOW_SECONDS = 0.3


def claim(scenario, count, deliver=None):
    """`count` clerks with a figure due on DUE_DAY, their reminders claimed by a sweep (which sends them too with
    `deliver`). Earlier scenarios' clerks are made inactive so they are not planned again."""
    get_user_model().objects.update(is_active=False)  # the throwaway database holds only the bench's people
    unit = make_unit(f"faults-{scenario}", name=scenario)
    make_target(plan=make_plan(2022), lead_unit=unit, code=f"T-{scenario}", name="新增企业",
                target_value=Decimal("80"))
    # No password: hashing one takes longer than a whole scenario.
    users = [make_user(f"{scenario}-{n:02d}", unit, Membership.Role.CLERK, password=None) for n in range(count)]
    sweep(today=DUE_DAY, deliver=deliver, now=timezone.now())
    return list(Reminder.objects.filter(user__in=users))


def report(name, planned, received, seconds, note=""):
    rows = {r.recipient: r for r in Reminder.objects.filter(pk__in=[p.pk for p in planned])}
    copies = defaultdict(list)
    for r in received:
        for to in r.to:
            copies[to].append(r.message_id)
    delivered = sum(1 for to in rows if copies.get(to))
    duplicated = sum(len(ids) - 1 for to, ids in copies.items() if to in rows)
    same_id = all(ids == [rows[to].message_id] * len(ids) for to, ids in copies.items() if to in rows)
    left_sending = sum(1 for r in rows.values() if r.status == Reminder.Status.SENDING)
    print(f"{name:<40} planned={len(rows):>3}  delivered={delivered:>3}  duplicated={duplicated:>3}  "
          f"lost={len(rows) - delivered:>3}  left sending={left_sending}  "
          f"one Message-ID per reminder={'yes' if same_id else 'NO'}  ({seconds:.1f} s{note})")


def run_sweeps(planned, timeout):
    """Sweep as DUE_DAY until nothing is left to retry, moving the clock past each backoff."""
    start = time.monotonic()
    for _round in range(delivery.MAX_ATTEMPTS + 1):
        waiting = Reminder.objects.filter(pk__in=[p.pk for p in planned], status=Reminder.Status.RETRY)
        if not waiting or time.monotonic() - start > timeout:
            break
        now = max(r.next_attempt_at for r in waiting)
        sweep(today=DUE_DAY, deliver=delivery.deliver, now=now)


def smtp_scenario(name, inbox, count, timeout):
    started = time.monotonic()
    with FaultyServer(inbox) as server, override_settings(MAILERS=smtp_mailers(server.port)):
        planned = claim(name.split()[0], count, deliver=delivery.deliver)  # the first attempts
        run_sweeps(planned, timeout)
        attempts = sorted({r.attempts for r in Reminder.objects.filter(pk__in=[p.pk for p in planned])})
        gave_up = "; GAVE UP (timeout)" if time.monotonic() - started > timeout else ""
        report(name, planned, list(inbox.received), time.monotonic() - started,
               f", {inbox.conversations} conversations, attempts per reminder {attempts}{gave_up}")


def wait_for(condition, deadline):
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def worker_database_url():
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def killed_worker_scenario(name, slow_stage, count, timeout, tmp):
    planned = claim(f"killed-{slow_stage}", count)
    inbox = FaultyInbox(slow_stage=slow_stage, delay=SLOW_SECONDS)
    started = time.monotonic()
    deadline = started + timeout
    with FaultyServer(inbox) as server, override_settings(MAILERS=smtp_mailers(server.port)):
        worker = WorkerProcess(
            database_url=worker_database_url(), broker_url=BROKER_URL, smtp_port=server.port,
            queue=f"bench-faults-{uuid.uuid4().hex}", log_path=Path(tmp) / f"worker-{slow_stage}.log",
            lease_seconds=LEASE_SECONDS, visibility_seconds=1,
        )
        try:
            worker.start()
            for reminder in planned:
                worker.send(reminder.pk)
            ids = [p.pk for p in planned]
            rows = Reminder.objects.filter(pk__in=ids)
            # Kill it while both pool processes are in the slow stage, a couple of emails in.
            waits = [wait_for(lambda: len(inbox.received) >= 2 and inbox.slow_now == 2, deadline)]
            worker.kill()
            interrupted = rows.filter(status=Reminder.Status.SENDING).count()
            worker.start()
            waits.append(wait_for(lambda: not rows.filter(status=Reminder.Status.PENDING).exists(), deadline))
            waits.append(wait_for(lambda: not rows.filter(
                status=Reminder.Status.SENDING, lease_until__gt=timezone.now()).exists(), deadline))
            worker.stop()
            waits.append(wait_for(lambda: not rows.filter(
                status=Reminder.Status.SENDING, lease_until__gte=timezone.now()).exists(), deadline))
            by_sweep = hand_over_retries(timezone.now(), delivery.deliver)
        finally:
            worker.close()
        taken_back = rows.filter(attempts__gte=2).count()
        report(name, planned, list(inbox.received), time.monotonic() - started,
               f"; {interrupted} sends interrupted by the kill, taken back {taken_back - by_sweep} by Celery's "
               f"redelivered task and {by_sweep} by the sweep" + ("" if all(waits) else "; GAVE UP (timeout)"))


def redis_up(url):
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=12, help="reminders per scenario (default 12)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a scenario gives up")
    args = parser.parse_args()

    started = time.monotonic()
    with throwaway_database(), tempfile.TemporaryDirectory() as tmp:
        print(f"database: {connection.vendor} (created in {time.monotonic() - started:.0f} s); "
              f"lease {LEASE_SECONDS} s in the worker scenarios; up to {delivery.MAX_ATTEMPTS} attempts")
        smtp_scenario("greylisting (451 at RCPT once per address)", FaultyInbox(greylist=True), args.reminders,
                      args.timeout)
        script = ([("connect", "421 4.3.2 Too many connections, try again later")] * args.reminders
                  + [("mail", "421 4.3.2 Service not available, closing channel")] * args.reminders)
        smtp_scenario("421 (connect, then MAIL) then accept", FaultyInbox(script), args.reminders, args.timeout)
        if not redis_up(BROKER_URL):
            print(f"worker killed mid-send: skipped, no Redis at {BROKER_URL}")
            return
        killed_worker_scenario("worker killed, server slow at RCPT", "rcpt", args.reminders, args.timeout, tmp)
        killed_worker_scenario("worker killed, server slow after DATA", "data", args.reminders, args.timeout, tmp)


if __name__ == "__main__":
    main()
