#!/usr/bin/env python
"""Back up and restore a stress dataset; print the time and the peak memory of each step.

Builds the dataset (by default 200,000 progress entries, each with a history
row, over ten yearly plans, plus units, users and evidence files) in a
throwaway test database on the configured server (DATABASE_URL; the SQLite
default otherwise), created for the run and dropped after it, so real data is
never touched. Every step then runs as its own `manage.py` process, as the
nightly timer does, under GNU time (/usr/bin/time), which gives its wall time,
its CPU time and its peak resident memory (maximum RSS):

- `backup --portable` and its `restore` into a new, empty database;
- on PostgreSQL, also `backup` (pg_dump) and its `restore` (pg_restore);
- `manage.py check` for comparison: what a bare Django process takes.

    .venv/bin/python bench/backup.py [--entries 200000]
    DATABASE_URL=postgres://root@127.0.0.1:5432/tracker_bench_backup .venv/bin/python bench/backup.py

Goal: the portable restore's memory stays flat (a bounded batch in memory,
not the dataset), its time grows with the rows, and every restore holds the
rows it should (the restore checks the counts itself and fails otherwise).
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.throwaway import throwaway_database  # noqa: E402
from tracker.accounts.models import Membership  # noqa: E402
from tracker.audit.models import Change  # noqa: E402
from tracker.targets.models import Plan, ProgressEntry, Section, Target, Unit  # noqa: E402

FIRST_YEAR = 2015
KINDS = [Target.Kind.CUMULATIVE, Target.Kind.CUMULATIVE, Target.Kind.GROWTH, Target.Kind.MARGIN,
         Target.Kind.RECURRING, Target.Kind.MILESTONE, Target.Kind.QUALITATIVE]
EVIDENCE_FILES = 200
TIME = "/usr/bin/time"  # GNU time: the peak memory of one process


def build(n_entries, media_root, years=10, n_units=60):
    """Units, users, `years` plans and about `n_entries` entries, one history row each; bulk inserts."""
    per_plan = -(-n_entries // (12 * years))
    county = Unit.objects.create(code="bench-county", name="基准县", kind=Unit.Kind.COUNTY)
    units = [county] + Unit.objects.bulk_create(
        Unit(code=f"bench-{i:03d}", name=f"基准单位{i}", name_en=f"Bench unit {i}", parent=county)
        for i in range(n_units - 1))
    password = make_password("bench-pass-0123")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"clerk{i:03d}", email=f"clerk{i:03d}@example.com", password=password,
                         is_staff=True) for i in range(n_units))
    Membership.objects.bulk_create(Membership(user=u, unit=unit) for u, unit in zip(users, units, strict=True))
    entries = 0
    for year in range(FIRST_YEAR, FIRST_YEAR + years):
        with transaction.atomic():
            plan = Plan.objects.create(year=year, title=f"{year}年工作要点")
            sections = Section.objects.bulk_create(
                Section(plan=plan, number=n, name=f"第{n}部分") for n in range(1, 6))
            targets = Target.objects.bulk_create((Target(
                plan=plan, section=sections[i % 5], lead_unit=units[i % n_units], code=f"B{year}-{i:05d}",
                name=f"基准目标{year}-{i}", name_en=f"Bench target {year}-{i}", kind=KINDS[i % len(KINDS)],
                target_value=Decimal(20 + i % 80), order=i) for i in range(per_plan)), batch_size=500)
            for target in targets[::3]:
                target.responsible_units.add(units[(target.order + 1) % n_units])
            rows = []
            for i, target in enumerate(targets):
                for month in range(1, 13):
                    at = timezone.make_aware(datetime.datetime(year, month, 1) + datetime.timedelta(days=35))
                    rows.append(ProgressEntry(
                        target=target, year=year, month=month, value=Decimal(month * (5 + i % 10)),
                        note=f"第{month}月进展顺利" if i % 3 else "", problems="资金缺口" if i % 11 == 0 else "",
                        state=ProgressEntry.State.APPROVED, entered_by=users[i % n_units], entered_at=at,
                        submitted_at=at, version=2))
            ProgressEntry.objects.bulk_create(rows, batch_size=1000)
            saved = ProgressEntry.objects.filter(year=year).values_list("pk", "value", "target__lead_unit_id")
            Change.objects.bulk_create((Change(
                model="targets.progressentry", object_id=str(pk), object_repr=f"entry {pk}", unit_id=unit_id,
                action=Change.Action.UPDATE, user=users[pk % n_units], source="entry screen",
                changes={"value": [None, str(value)], "state": ["draft", "approved"]},
            ) for pk, value, unit_id in saved.iterator()), batch_size=1000)
            entries += len(rows)
    # Evidence files on some entries: the media folder goes into the archive too.
    for pk in ProgressEntry.objects.order_by("pk").values_list("pk", flat=True)[:EVIDENCE_FILES]:
        name = f"evidence/{FIRST_YEAR}/01/evidence-{pk}.txt"
        path = Path(media_root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"evidence for entry {pk}\n".encode() * 50)
        ProgressEntry.objects.filter(pk=pk).update(evidence=name)
    return entries


def database_url(settings_dict):
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{settings_dict['NAME']}"


def run(args, url, media_root):
    """Run `manage.py *args` on `url` under GNU time; returns (seconds, CPU seconds, peak RSS in MB, output).

    The CPU seconds (user + system, with pg_dump/pg_restore when the command runs them; the database
    server's own work is not in them) vary less than wall time on a busy machine. GNU time reports the
    peak of the manage.py process itself; os.wait4 from here would not (Linux carries the forking
    parent's peak over into the child's figure). Fails loudly.
    """
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media_root), "DEBUG": "0",
           "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    with tempfile.NamedTemporaryFile("r") as figures:
        command = [TIME, "-f", "%e %U %S %M", "-o", figures.name, sys.executable, str(ROOT / "manage.py"), *args]
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        if result.returncode:
            sys.exit(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        seconds, user, system, kilobytes = figures.read().split()[-4:]
    return float(seconds), float(user) + float(system), int(kilobytes) / 1024, result.stdout.strip()


def create_empty_database(name):
    """A new PostgreSQL database on the bench's server (named test_..., like the throwaway one)."""
    drop_database(name)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def drop_database(name):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    args = parser.parse_args()
    if not Path(TIME).exists():
        sys.exit(f"needs GNU time at {TIME} (Debian: apt-get install time) to read each step's peak memory")

    with tempfile.TemporaryDirectory(prefix="tracker-bench-backup-") as tmp, throwaway_database():
        tmp = Path(tmp)
        media = tmp / "media"
        started = time.perf_counter()
        entries = build(args.entries, media)
        source = database_url(connection.settings_dict)
        print(f"database: {connection.vendor}; {entries:,} entries and {Change.objects.count():,} history rows, "
              f"{EVIDENCE_FILES} evidence files (built in {time.perf_counter() - started:.0f} s)")
        print(f"load average before the steps: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"{'step':<40} {'seconds':>8} {'CPU s':>7} {'peak RSS MB':>12} {'archive MB':>11}")

        def report(label, figures, archive=None):
            seconds, cpu, megabytes, _ = figures
            size = f"{archive.stat().st_size / 2**20:11.1f}" if archive else ""
            print(f"{label:<40} {seconds:8.1f} {cpu:7.1f} {megabytes:12.0f} {size}", flush=True)

        report("bare Django process (manage.py check)", run(["check"], source, media))
        kinds = [("portable", ["--portable"])]
        if connection.vendor == "postgresql":
            kinds.append(("pg_dump", []))
        for kind, options in kinds:
            archive = tmp / f"{kind}.tar.gz"
            report(f"backup ({kind})", run(["backup", "--output", str(archive), *options], source, media), archive)
            if connection.vendor == "postgresql":
                name = f"{connection.settings_dict['NAME']}_restore"
                create_empty_database(name)
                target = database_url({**connection.settings_dict, "NAME": name})
            else:
                target = database_url({"ENGINE": connection.settings_dict["ENGINE"],
                                       "NAME": str(tmp / f"restore-{kind}.sqlite3")})
            try:
                if kind == "portable":
                    # Migrating the new database is timed apart: the restore's own migrate then has nothing to do.
                    report("  migrate the new, empty database", run(["migrate", "--verbosity", "0"], target, media))
                report(f"  restore ({kind})", run(["restore", str(archive)], target, tmp / f"media-{kind}"))
            finally:
                if connection.vendor == "postgresql":
                    drop_database(name)


if __name__ == "__main__":
    main()
