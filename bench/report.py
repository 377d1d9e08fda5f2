#!/usr/bin/env python
"""Time the monthly report page, the XLSX export and the DOCX bulletin against the bare SQL, and the ranks.

Builds a synthetic plan (2,000 targets, 50 units, 12 months of entries) in a
throwaway test database on the configured server (DATABASE_URL; the SQLite
default otherwise), created for the run (and ANALYZEd, as autovacuum would) and dropped after
it, so real data is never touched. Prints the median of several runs and the ratios.

    .venv/bin/python bench/report.py
    DATABASE_URL=postgres://root@127.0.0.1:5432/tracker_bench_report .venv/bin/python bench/report.py

A quarter of the cumulative counts take their figure from a register (their entries are the frozen figures).
The bare SQL reads every row the page shows or judges by, written by hand: the targets with their sections and
units, the year's entries, the plan points, the peers' series values and the published ranks of the month shown,
the peer groups, the reporting policies (deadlines), the figures in correction and the register-backed targets.

Goal: report page / bare SQL <= 3 on PostgreSQL (register-backed targets included); the bulletin (DOCX) for 2,000
targets under 3 s; the ranks of 16 regions × 50 indicators × 12 months in a constant number of queries (the
growth targets follow indicator series, so the report's rank and province columns are filled too).
"""

import argparse
import cProfile
import datetime
import os
import pstats
import statistics
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("TRACKER_PLAIN_STATIC", "1")  # no collectstatic manifest needed
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Static files are not collected for the bench; WhiteNoise need not say so on every run.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.throwaway import throwaway_database  # noqa: E402
from tracker.registers.models import RegisterFigure  # noqa: E402
from tracker.targets.models import (  # noqa: E402
    Indicator,
    MonthlyPlanPoint,
    PeerGroup,
    Plan,
    ProgressEntry,
    PublishedRank,
    Region,
    Section,
    SeriesValue,
    Target,
    Unit,
)
from tracker.targets.ranks import rank_table  # noqa: E402
from tracker.targets.status import assess_period  # noqa: E402

YEAR, MONTH = 2022, 12
KINDS = [Target.Kind.GROWTH, Target.Kind.MARGIN, Target.Kind.CUMULATIVE, Target.Kind.CUMULATIVE,
         Target.Kind.MILESTONE, Target.Kind.RECURRING, Target.Kind.QUALITATIVE]

# What the report needs from the database, as one would write it by hand.
BARE_SQL = [
    """SELECT t.id, t.code, t.name, t.kind, t.measure, t.target_value, t.tolerance, t.direction,
              t.combined_jan_feb, t.frequency, t.deadline, t.parent_id, s.number, s.name, u.code, u.name
       FROM targets_target t
       JOIN targets_section s ON s.id = t.section_id
       JOIN targets_unit u ON u.id = t.lead_unit_id
       JOIN targets_plan p ON p.id = t.plan_id
       WHERE p.year = %s AND t.is_active
       ORDER BY s.number, t."order", t.code""",
    """SELECT e.target_id, e.month, e.value, e.comparator, e.is_done, e.done_on, e.assessed_status, e.note,
              e.problems, e.state
       FROM targets_progressentry e
       JOIN targets_target t ON t.id = e.target_id
       JOIN targets_plan p ON p.id = t.plan_id
       WHERE e.year = %s AND e.month <= %s AND p.year = %s AND t.is_active
       ORDER BY e.target_id, e.month""",
    "SELECT target_id, month, value FROM targets_monthlyplanpoint",
    # The province's figure and the places beside the targets that follow a series: every peer's value of the
    # month shown, and the published ranks.
    """SELECT v.indicator_id, v.region_id, v.month, v.value
       FROM targets_seriesvalue v
       WHERE v.year = %s AND v.month = %s AND v.indicator_id IN (
           SELECT t.series_indicator_id FROM targets_target t JOIN targets_plan p ON p.id = t.plan_id
           WHERE p.year = %s AND t.is_active)""",
    """SELECT v.indicator_id, v.region_id, v.month, r.group_id, r.rank
       FROM targets_publishedrank r JOIN targets_seriesvalue v ON v.id = r.value_id
       WHERE v.year = %s AND v.month = %s""",
    """SELECT g.id, g.name, m.region_id
       FROM targets_peergroup g JOIN targets_peergroup_members m ON m.peergroup_id = g.id""",
    "SELECT id, higher_is_better FROM targets_indicator",
    # When each figure is due (late or not), the figures in correction (their approved values count), and which
    # targets take their figure from a register (the figure is a link).
    "SELECT id, unit_id, target_id, due_working_day FROM reminders_reportingpolicy",
    """SELECT target_id, month, approved_value, approved_comparator, approved_is_done FROM targets_progressentry
       WHERE year = %s AND month <= %s AND approved_at IS NOT NULL AND state <> 'approved'""",
    "SELECT target_id FROM registers_registerfigure",
]
BARE_PARAMS = ([YEAR], [YEAR, MONTH, YEAR], [], [YEAR, MONTH, YEAR], [YEAR, MONTH], [], [], [], [YEAR, MONTH], [])


def build(n_targets, n_units, n_sections=5):
    plan = Plan.objects.create(year=YEAR, title=f"{YEAR} bench plan")
    sections = [Section.objects.create(plan=plan, number=i + 1, name=f"板块{i + 1}") for i in range(n_sections)]
    units = Unit.objects.bulk_create(Unit(code=f"u{i:02d}", name=f"单位{i:02d}") for i in range(n_units))
    targets = []
    for i in range(n_targets):
        kind = KINDS[i % len(KINDS)]
        targets.append(Target(
            plan=plan, section=sections[i % n_sections], lead_unit=units[i % n_units], code=f"B{i:04d}",
            name=f"基准目标{i}", kind=kind, order=i,
            target_value={Target.Kind.GROWTH: Decimal("8"), Target.Kind.MARGIN: Decimal("0.5"),
                          Target.Kind.CUMULATIVE: Decimal("120"), Target.Kind.RECURRING: Decimal("4")}.get(kind),
            tolerance=Decimal("0.5") if kind == Target.Kind.GROWTH else Decimal("0"),
            comparator_name="全省" if kind == Target.Kind.MARGIN else "", frequency="quarter",
            deadline=datetime.date(YEAR, 6 + i % 7, 1), combined_jan_feb=kind in (Target.Kind.GROWTH,
                                                                                   Target.Kind.MARGIN),
        ))
    Target.objects.bulk_create(targets, batch_size=500)
    targets = list(Target.objects.filter(plan=plan).order_by("code"))
    submitted = timezone.make_aware(datetime.datetime(YEAR + 1, 1, 6, 9))
    entries = []
    for i, t in enumerate(targets):
        for month in range(1, 13):
            if not t.expects_entry(month):
                continue
            value = None
            if t.kind in (Target.Kind.GROWTH, Target.Kind.MARGIN):
                value = Decimal("6") + Decimal(i % 50) / 10
            elif t.kind == Target.Kind.CUMULATIVE:
                value = Decimal(month * (5 + i % 10))
            elif t.kind == Target.Kind.RECURRING:
                value = Decimal(month // 3 - (i % 3 == 0 and month >= 6))
            entries.append(ProgressEntry(
                target=t, year=YEAR, month=month, value=value,
                comparator=Decimal("7.0") if t.kind == Target.Kind.MARGIN else None,
                is_done=t.kind == Target.Kind.MILESTONE and month >= 9 and i % 2 == 0,
                note=f"第{month}月进展情况" if i % 3 else "", problems="资金缺口" if i % 11 == 0 else "",
                state=ProgressEntry.State.APPROVED, submitted_at=submitted,
            ))
    ProgressEntry.objects.bulk_create(entries, batch_size=1000)
    counts = [t for t in targets if t.kind == Target.Kind.CUMULATIVE]
    MonthlyPlanPoint.objects.bulk_create(
        [MonthlyPlanPoint(target=t, month=m, value=Decimal(m * 9)) for t in counts[::4] for m in (3, 6, 9)],
        batch_size=1000,
    )
    # A quarter of the counts take their figure from a register (issue 15): their entries are the register's
    # figures frozen at approval, and the report links each to the list behind it.
    RegisterFigure.objects.bulk_create(
        [RegisterFigure(target=t, aggregation=RegisterFigure.Aggregation.ENTERED) for t in counts[1::4]])
    user = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "bench-pass-0123")
    return len(targets), len(entries), user


def build_series(n_regions=16, n_indicators=50):
    """Regions (a province and its cities), two peer groups, indicators with 12 months of values for every
    region, published ranks for the first city; the growth targets follow the indicators (city vs province)."""
    province = Region.objects.create(code="province", name="全省", kind=Region.Kind.PROVINCE)
    cities = Region.objects.bulk_create(Region(code=f"city{i:02d}", name=f"城市{i:02d}") for i in range(n_regions))
    groups = [PeerGroup.objects.create(code="all", name="全省", province=province),
              PeerGroup.objects.create(code="north", name="北部", province=province)]
    groups[0].members.set(cities)
    groups[1].members.set(cities[:6])
    indicators = Indicator.objects.bulk_create(Indicator(code=f"ind{i:02d}", name=f"指标{i:02d}")
                                               for i in range(n_indicators))
    SeriesValue.objects.bulk_create(
        [SeriesValue(indicator=ind, region=region, year=YEAR, month=m, value=Decimal((i * 7 + j * 3 + m) % 23) / 2)
         for i, ind in enumerate(indicators) for j, region in enumerate([province, *cities]) for m in range(1, 13)],
        batch_size=2000)
    first = SeriesValue.objects.filter(region=cities[0]).order_by("pk")
    PublishedRank.objects.bulk_create([PublishedRank(value=v, group=groups[0], rank=1 + v.pk % 16) for v in first],
                                      batch_size=2000)
    growth = list(Target.objects.filter(kind=Target.Kind.GROWTH).order_by("pk"))
    for n, target in enumerate(growth):
        target.series_indicator, target.series_region, target.comparator_region = (
            indicators[n % n_indicators], cities[0], province)
    Target.objects.bulk_update(growth, ["series_indicator", "series_region", "comparator_region"], batch_size=500)
    return [i.pk for i in indicators], [c.pk for c in cities]


def count_queries(fn):
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return count


def medians(functions, runs):
    """Median seconds of each function, run in turns so that a busy machine slows them all alike."""
    for fn in functions.values():
        fn()  # warm-up: templates, translations, connection
    times = {label: [] for label in functions}
    for _ in range(runs):
        for label, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def bare_sql():
    rows = 0
    with connection.cursor() as cursor:
        for sql, params in zip(BARE_SQL, BARE_PARAMS, strict=True):
            cursor.execute(sql, params)
            rows += len(cursor.fetchall())
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="also print where the report page spends its time")
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["testserver"]
    with throwaway_database():
        n_targets, n_entries, user = build(args.targets, args.units)
        indicator_ids, city_ids = build_series()
        with connection.cursor() as cursor:
            # Planner statistics, as autovacuum (PostgreSQL) or a production database would have them.
            cursor.execute("ANALYZE")
        print(f"database: {connection.vendor}; {n_targets} targets, {args.units} units, {n_entries} entries "
              f"({YEAR}, 12 months); median of {args.runs} runs")
        client = Client()
        client.force_login(user)
        url = f"/reports/{YEAR}-{MONTH:02d}/"

        def page():
            response = client.get(url)
            assert response.status_code == 200, response.status_code

        def xlsx():
            response = client.get(url + "?_export=xlsx")
            assert response.status_code == 200 and len(response.content) > 10_000

        def docx():
            response = client.get(url + "?_export=docx")
            assert response.status_code == 200 and len(response.content) > 10_000

        from tracker.reports import briefing
        from tracker.reports.report import build_rows, summarise

        report_rows = build_rows(Target.objects.filter(plan__year=YEAR), YEAR, MONTH)

        def bulletin_only():
            document = briefing.to_docx(briefing.build(report_rows, summarise(report_rows), YEAR, MONTH))
            assert len(document) > 10_000

        def ranks():
            table = rank_table(indicator_ids, YEAR)
            places = [table.places(i, r, m) for i in indicator_ids for r in city_ids for m in range(1, 13)]
            assert len(places) == 16 * 50 * 12 and all(p[0].computed for p in places)

        def engine():
            assert len(assess_period(Target.objects.filter(plan__year=YEAR), YEAR, MONTH)) == n_targets

        functions = {"bare SQL (same rows)": bare_sql, "engine only (assess_period)": engine,
                     "report page (HTML)": page, "XLSX export": xlsx, "DOCX bulletin": docx,
                     "bulletin only (rows given)": bulletin_only,
                     "ranks 16 regions x 50 ind. x 12 m": ranks}
        queries = {label: count_queries(fn) for label, fn in functions.items()}
        results = medians(functions, args.runs)
        for label, seconds in results.items():
            print(f"{label:<30} {seconds * 1000:8.1f} ms   queries={queries[label]}")
        sql = results["bare SQL (same rows)"]
        for label in ("report page (HTML)", "XLSX export"):
            print(f"{label} / bare SQL = {results[label] / sql:5.1f}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(page)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
