#!/usr/bin/env python
"""Import 10,000 progress rows and print the time and the number of SQL queries.

Runs against the configured database server (DATABASE_URL; the SQLite default
otherwise), in a throwaway test database created for the run and dropped after
it, so real data is never touched. The plan has 850 targets x 12 months.

    .venv/bin/python bench/import.py
    DATABASE_URL=postgres://root@127.0.0.1:5432/tracker_bench_import .venv/bin/python bench/import.py

Goal: each 10,000-row import under 10 s, queries not growing per row (entries
and history are written in batches of 500).
"""

import argparse
import datetime
import io
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from bench.throwaway import throwaway_database  # noqa: E402
from tracker.accounts.models import Membership  # noqa: E402
from tracker.audit.models import Change  # noqa: E402
from tracker.imports.service import run_import  # noqa: E402
from tracker.targets.models import Plan, ProgressEntry, Section, Target, Unit  # noqa: E402

YEAR = 2022
KINDS = [Target.Kind.CUMULATIVE, Target.Kind.GROWTH, Target.Kind.MARGIN, Target.Kind.RECURRING]


def make_plan(n_targets):
    from django.contrib.auth import get_user_model

    plan = Plan.objects.create(year=YEAR, title=f"{YEAR} bench plan")
    section = Section.objects.create(plan=plan, number=1, name="bench")
    unit = Unit.objects.create(code="bench", name="bench unit")
    targets = []
    for i in range(n_targets):
        kind = KINDS[i % len(KINDS)]
        targets.append(Target(
            plan=plan, section=section, lead_unit=unit, code=f"B{i:04d}", name=f"bench target {i}", kind=kind,
            target_value=Decimal("8") if kind != Target.Kind.CUMULATIVE else Decimal("1000"),
            comparator_name="province" if kind == Target.Kind.MARGIN else "",
            frequency="month" if kind == Target.Kind.RECURRING else "",
        ))
    Target.objects.bulk_create(targets)
    clerk = get_user_model().objects.create_user("bench-clerk", is_staff=True)
    Membership.objects.create(user=clerk, unit=unit, role=Membership.Role.CLERK)
    return list(Target.objects.order_by("code")), clerk


def rows_for(targets, n_rows, bump=0):
    rows = []
    for month in range(1, 13):
        for i, target in enumerate(targets):
            value = Decimal(month * 3 + i % 7 + bump)
            comparator = Decimal("5.5") + bump if target.kind == Target.Kind.MARGIN else ""
            rows.append([target.code, f"{YEAR}-{month:02d}", value, comparator, f"bench {month}"])
            if len(rows) == n_rows:
                return rows
    return rows


def as_csv(rows):
    lines = ["target,period,value,comparator,note"] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def as_xlsx(rows):
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["target", "period", "value", "comparator", "note"])
    for row in rows:
        sheet.append([row[0], row[1], float(row[2]), float(row[3]) if row[3] != "" else None, row[4]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def measure(label, user, data):
    history_before = Change.objects.count()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        # Some figures raise the soft checks' warnings (recurring counts far above their target): confirmed,
        # as a person would after looking at the preview, so the checks' cost is part of the figure.
        report = run_import(user, data, today=datetime.date(YEAR + 1, 1, 15), confirm_warnings=True)
        seconds = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"{label}: import failed: {(report.problems + report.warnings)[:5]}")
    rows = report.created + report.changed + report.unchanged
    print(f"{label:<34} rows={rows:>6}  seconds={seconds:6.2f}  queries={len(queries):>4}  "
          f"created={report.created} changed={report.changed} unchanged={report.unchanged} "
          f"history+={Change.objects.count() - history_before}  bytes={len(data):,}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--targets", type=int, default=850)
    args = parser.parse_args()

    with throwaway_database():
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
        targets, clerk = make_plan(args.targets)
        small = as_csv(rows_for(targets, 1_000))
        rows = rows_for(targets, args.rows)
        measure("1,000 rows, new (query baseline)", clerk, small)
        ProgressEntry.objects.all().delete()
        Change.objects.all().delete()
        worst = max(
            measure("csv, all new", clerk, as_csv(rows)),
            measure("csv, same file again", clerk, as_csv(rows)),
            measure("csv, every value changed", clerk, as_csv(rows_for(targets, args.rows, bump=1))),
            measure("xlsx, same values again", clerk, as_xlsx(rows_for(targets, args.rows, bump=1))),
        )
        warned = sum(1 for w in ProgressEntry.objects.values_list("warnings", flat=True) if w)
        print(f"entries in database: {ProgressEntry.objects.count()} ({warned} with confirmed warnings); "
              f"slowest import {worst:.2f} s "
              f"({'under' if worst < 10 else 'OVER'} the 10 s goal)")


if __name__ == "__main__":
    main()
