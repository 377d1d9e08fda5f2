#!/usr/bin/env python
"""Import speed at the row limit, and how fast (and how lightly) bad files are refused.

Runs against the configured database server (DATABASE_URL; the SQLite default
otherwise), in a throwaway test database created for the run and dropped after
it, so real data is never touched. The plan has 1,700 targets x 12 months, so a
20,000-row file (IMPORT_MAX_ROWS) holds only distinct entries.

    .venv/bin/python bench/import.py
    DATABASE_URL=postgres://root@127.0.0.1:5432/tracker_bench_import .venv/bin/python bench/import.py

Part 1, valid imports (run_import, as the command line): each 20,000-row import under 20 s and queries not
growing per row (entries and history are written in batches of 500); then the same file through the admin
pages: upload (preview), the preview page, confirm (with its version check).
Part 2, bad files through the upload page: each refused with a clear problem, in a few seconds (the worst
cases, sheets of empty rows just under IMPORT_XLSX_MAX_UNPACKED_BYTES, within IMPORT_TIME_BUDGET_SECONDS),
with the worker's peak memory above what it held before the request.
"""

import argparse
import datetime
import io
import os
import sys
import time
import tracemalloc
import warnings
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("TRACKER_PLAIN_STATIC", "1")  # no collectstatic manifest needed
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from bench.throwaway import throwaway_database  # noqa: E402
from tests.import_helpers import HEADER, handmade_xlsx, xlsx_bomb, xlsx_row  # noqa: E402
from tracker.accounts.models import Membership  # noqa: E402
from tracker.audit.models import Change  # noqa: E402
from tracker.imports.models import ImportBatch  # noqa: E402
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
            rows.append([target.code, f"{YEAR}-{month:02d}", value, comparator, f"进展顺利 bench {month}"])
            if len(rows) == n_rows:
                return rows
    return rows


def as_csv(rows):
    lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def as_xlsx(rows):
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row[0], row[1], float(row[2]), float(row[3]) if row[3] != "" else None, row[4]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Peak:
    """Peak resident memory during a block, above the resident size at its start (Linux: VmHWM, reset through
    /proc/self/clear_refs); elsewhere the peak of Python allocations (tracemalloc)."""

    def __enter__(self):
        self.start = time.perf_counter()
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.base = self._status("VmRSS")
            self.kind = "RSS"
        except OSError:
            tracemalloc.start()
            self.kind = "Python allocations"
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        if self.kind == "RSS":
            self.megabytes = (self._status("VmHWM") - self.base) / 1024
        else:
            self.megabytes = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()

    @staticmethod
    def _status(field):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


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


def upload(client, name, data):
    with Peak() as peak:
        response = client.post("/imports/", {"file": SimpleUploadedFile(name, data)})
    if response.status_code != 302:
        raise SystemExit(f"{name}: upload answered {response.status_code}")
    return ImportBatch.objects.latest("pk"), peak


def web_round_trip(client, data):
    """Upload 20,000 rows (preview), show the preview page, confirm."""
    batch, peak = upload(client, "valid.csv", data)
    start = time.perf_counter()
    page = client.get(f"/imports/{batch.pk}/")
    shown = time.perf_counter() - start
    start = time.perf_counter()
    response = client.post(f"/imports/{batch.pk}/confirm/")
    confirmed = time.perf_counter() - start
    batch.refresh_from_db()
    assert response.status_code == 302 and batch.status == ImportBatch.Status.APPLIED, batch.problems[:3]
    print(f"{'web: upload + preview (dry run)':<34} rows={len(batch.rows):>6}  seconds={peak.seconds:6.2f}  "
          f"peak +{peak.megabytes:.0f} MB ({peak.kind})")
    print(f"{'web: preview page (500 rows/page)':<34} seconds={shown:6.2f}  bytes={len(page.content):,}")
    print(f"{'web: confirm (version check)':<34} seconds={confirmed:6.2f}  changed={batch.changed} "
          f"created={batch.created}")


def bad_files(n_rows):
    """(label, file name, bytes) of files that must be refused, as they were seen or worse."""
    million = b"target,period,value,comparator,note\n" + b"T,1\n" * 1_000_000
    yield "1,000,000-row CSV", "million.csv", million
    yield "XLSX bomb (unpacks to 152 MiB)", "bomb.xlsx", xlsx_bomb(152 * 1024 * 1024)
    yield "XLSX with a 60 MB note", "note.xlsx", handmade_xlsx(
        [xlsx_row(HEADER), xlsx_row(["B0001", "2022-05", "1", "", ""])[:-len("</t></is></c></row>")],
         b"x" * 60_000_000, b"</t></is></c></row>"])
    yield "CSV header of 18,279 columns", "wide.csv", (",".join(HEADER + [f"c{i}" for i in range(18_274)])
                                                        + "\nB0001,2022-05,1,,\n").encode()
    big5 = "本月新增規模以上工業企業三家，進度符合預期。存在問題：部分項目用地指標不足。".encode("cp950")
    body = b"".join(b"B%04d,2022-05,1,," % (i % 1700) + big5 + b"\n" for i in range(n_rows))
    yield f"Big5 CSV, {n_rows:,} rows", "big5.csv", b"target,period,value,comparator,note\n" + body
    yield f"CSV, {n_rows:,} rows all bad", "allbad.csv", (
        "target,period,value,comparator,note\n" + "".join(f"B{i % 1700:04d},2022-05,abc,,\n" for i in range(n_rows))
    ).encode()
    # Small files of millions of empty rows, or of rows made 16,384 cells wide by one empty cell in column XFD,
    # up to the unpacked budget: refused on the count of rows and cells before openpyxl opens them.
    limit = settings.IMPORT_XLSX_MAX_UNPACKED_BYTES
    empty, wide = b"<row/>", b'<row><c r="XFD1"/></row>'
    for label, row in (("XLSX of empty rows", empty), ("XLSX of 16,384-cell empty rows", wide)):
        block = row * 10_000
        yield label, "empty.xlsx", handmade_xlsx([xlsx_row(HEADER)] + [block] * (limit // len(block) - 1))
    # The same just inside the limits (IMPORT_MAX_ROWS x 10 rows in all): read to the end, then "no rows".
    inside = settings.IMPORT_MAX_ROWS * 10 - 10
    for label, row in ((f"XLSX of {inside:,} empty rows", empty), (f"XLSX of {inside:,} XFD rows", wide)):
        yield label, "inside.xlsx", handmade_xlsx([xlsx_row(HEADER), row * inside])


def refusals(client, n_rows):
    print(f"\nbad files through the upload page (IMPORT_MAX_ROWS={settings.IMPORT_MAX_ROWS:,}, "
          f"IMPORT_MAX_COLUMNS={settings.IMPORT_MAX_COLUMNS}, "
          f"IMPORT_XLSX_MAX_UNPACKED_BYTES={settings.IMPORT_XLSX_MAX_UNPACKED_BYTES:,}, "
          f"IMPORT_TIME_BUDGET_SECONDS={settings.IMPORT_TIME_BUDGET_SECONDS})")
    for label, name, data in bad_files(n_rows):
        batch, peak = upload(client, name, data)
        start = time.perf_counter()
        page = client.get(f"/imports/{batch.pk}/")
        shown = time.perf_counter() - start
        assert not batch.can_confirm and not ProgressEntry.objects.filter(value__isnull=False, month=5).exists()
        first = batch.problems[0]["message"] if batch.problems else f"no problems, {len(batch.rows)} rows"
        print(f"{label:<34} file={len(data):>11,} B  answered in {peak.seconds:5.2f} s  peak +{peak.megabytes:4.0f} MB"
              f"  page {len(page.content):>9,} B in {shown:4.2f} s  problems={len(batch.problems):,}\n"
              f"{'':<36}“{first[:110]}”")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--targets", type=int, default=1_700)
    parser.add_argument("--only", choices=("valid", "refusals"), help="run one part only")
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.IMPORT_MAX_BYTES = max(settings.IMPORT_MAX_BYTES, 5 * 1024 * 1024)
    with throwaway_database():
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        targets, clerk = make_plan(args.targets)
        client = Client()
        client.force_login(clerk)
        if args.only != "refusals":
            valid_imports(client, targets, clerk, args.rows)
        if args.only != "valid":
            refusals(client, args.rows)


def valid_imports(client, targets, clerk, n_rows):
    measure("1,000 rows, new (query baseline)", clerk, as_csv(rows_for(targets, 1_000)))
    ProgressEntry.objects.all().delete()
    Change.objects.all().delete()
    rows = rows_for(targets, n_rows)
    worst = max(
        measure("csv, all new", clerk, as_csv(rows)),
        measure("csv, same file again", clerk, as_csv(rows)),
        measure("csv, every value changed", clerk, as_csv(rows_for(targets, n_rows, bump=1))),
        measure("xlsx, same values again", clerk, as_xlsx(rows_for(targets, n_rows, bump=1))),
    )
    warned = sum(1 for w in ProgressEntry.objects.values_list("warnings", flat=True) if w)
    print(f"entries in database: {ProgressEntry.objects.count()} ({warned} with confirmed warnings); "
          f"slowest import {worst:.2f} s "
          f"({'under' if worst < 20 else 'OVER'} the 20 s goal)")
    web_round_trip(client, as_csv(rows_for(targets, n_rows, bump=2)))
    ProgressEntry.objects.filter(month=5).delete()


if __name__ == "__main__":
    main()
