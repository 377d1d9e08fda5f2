#!/usr/bin/env python
"""Latency of the API's main list and report endpoints at 2,000 targets, and a 1,000-entry bulk write.

Builds the synthetic plan of bench/report.py (2,000 targets, 50 units, 12 months of entries) in a throwaway test
database on the configured server (DATABASE_URL; the SQLite default otherwise), calls the endpoints in process
(Django's test client, with an API token, as a leader) and prints p50/p95 per endpoint; then frees 1,000 months
(deletes them) and writes them back in one POST /api/entries/bulk/ (through save_entries, all or nothing),
several times, and prints the throughput.

    .venv/bin/python bench/api.py
    DATABASE_URL=postgres://root@127.0.0.1:5432/tracker_bench_api .venv/bin/python bench/api.py
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("TRACKER_PLAIN_STATIC", "1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench.report import MONTH, YEAR, build  # noqa: E402
from bench.throwaway import throwaway_database  # noqa: E402
from tracker.accounts.models import Membership  # noqa: E402
from tracker.api.models import ApiToken  # noqa: E402
from tracker.audit.models import Change  # noqa: E402
from tracker.targets.models import ProgressEntry, Target  # noqa: E402

PERIOD = f"{YEAR}-{MONTH:02d}"
ENDPOINTS = {
    "targets (page of 100)": "/api/targets/",
    "entries (page of 100)": f"/api/entries/?year={YEAR}&month={MONTH}",
    "entries (page of 1000)": f"/api/entries/?year={YEAR}&page_size=1000",
    "report rows (2,000 assessed)": f"/api/reports/?period={PERIOD}",
    "completeness": f"/api/completeness/?period={PERIOD}",
}


def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--bulk-runs", type=int, default=3)
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.API_RATE_LIMIT = ""
    with throwaway_database():
        n_targets, n_entries, user = build(args.targets, args.units)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        user.memberships.all().delete()
        Membership.objects.create(user=user, unit_id=Target.objects.values_list("lead_unit_id", flat=True)[0],
                                  role=Membership.Role.ADMIN)  # reads everything and may write every unit
        token = ApiToken(user=user, name="bench")
        key = token.set_new_key()
        token.save()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        print(f"database: {connection.vendor}; {n_targets} targets, {args.units} units, {n_entries} entries; "
              f"{args.runs} calls per endpoint")
        for label, url in ENDPOINTS.items():
            assert client.get(url).status_code == 200, url  # warm up
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, (url, response.status_code)
            p50, p95 = percentiles(times)
            print(f"GET {label:<30} p50 {p50 * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms")

        cumulative = list(Target.objects.filter(kind=Target.Kind.CUMULATIVE).order_by("pk").values_list("pk", "code"))
        months = [m for m in range(MONTH, 0, -1)]
        slots = [(pk, code, m) for m in months for pk, code in cumulative][:args.bulk]
        rates = []
        for run in range(args.bulk_runs):
            for pk, _code, m in slots:
                ProgressEntry.objects.filter(target_id=pk, year=YEAR, month=m).delete()
            # The synthetic figures go down from one month to the next, which the soft checks question: the rows
            # confirm them (as a client that checked them would), so the checks run and the rows are still written.
            body = {"entries": [{"target": code, "year": YEAR, "month": m, "value": str(100 + run), "note": "bench",
                                 "confirm": True} for _pk, code, m in slots]}
            changes = Change.objects.count()
            start = time.perf_counter()
            response = client.post("/api/entries/bulk/", body, format="json")
            seconds = time.perf_counter() - start
            assert response.status_code == 200 and response.json()["created"] == len(slots), response.content[:500]
            assert Change.objects.count() - changes == len(slots)
            rates.append(len(slots) / seconds)
            print(f"POST /api/entries/bulk/ {len(slots)} entries: {seconds * 1000:8.1f} ms "
                  f"({len(slots) / seconds:,.0f} entries/s)")
        print(f"bulk write median: {statistics.median(rates):,.0f} entries/s")


if __name__ == "__main__":
    main()
