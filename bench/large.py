"""Large tables: 1,000,000 progress entries on PostgreSQL, then median page times.

    .venv/bin/python bench/large.py [--database-url postgres://root@127.0.0.1:5432/tracker_bench_large]
                                    [--entries 1000000] [--repeat 15] [--reload]

Creates the database if missing (never the test database), migrates it, loads
the bozhou_2022 and demo fixtures, then synthetic data with INSERT ... SELECT
generate_series (a few minutes at most): the 2022 plan grows to
--current-targets targets (county and section sub-targets), earlier years'
plans hold the rest of the million entries, and every entry has a history row.
Then it times, in-process through Django's test client (server time, no
network), the entries changelist (first page, a filtered page, a search), the
monthly report and the dashboard, for an administrator and for a county clerk,
and prints the median, the slowest run and the number of SQL queries.
Figures only: nothing is asserted.

With --province it builds a province instead (issue 13): 16 cities, each an organisation issuing its own
plan every year for 5 years (--years), 300 targets a plan (each continuing last year's, so year-over-year
figures are read), 12 monthly figures a target with a history row each, and one province leader reading
all 16. --scale shrinks the targets per plan (0.1: 30) to fit a small machine. It then times the dashboard,
the report, the entries changelist (first page, filtered, search) and the combined province dashboard, for
the province leader, a city's leader and a city's clerk. At --scale 1: 16 × 300 × 5 × 12 = 288,000 entries;
--years 52 gives the issue's "about 3 million" (2,995,200; use its own --database-url, it loads in about 2 min).
The two dashboards keep their judged summary until something they depend on is written (reports/summaries):
"after a write" times them with a write before each run, as the first reader after a save sees them.
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://root@127.0.0.1:5432/tracker_bench_large"


def configure_django(database_url, **extra_env):
    """Production-like settings (DEBUG off, cached templates) on the bench database."""
    name = urlparse(database_url).path.lstrip("/")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benches need PostgreSQL: pass --database-url postgres://...")
    if name == "test" or name.startswith("test_"):
        sys.exit(f"Refusing to use {name!r}: that is the test suite's database. Use a bench database.")
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "k" * 50,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "TRACKER_PLAIN_STATIC": "1",
        "SECURE_SSL_REDIRECT": "0",
        "DB_CONN_MAX_AGE": "600",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **extra_env,
    })
    # Static files are not collected for the bench; WhiteNoise's notice about it is noise here.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    sys.path.insert(0, str(ROOT))
    create_database(database_url)
    import django

    django.setup()


def create_database(database_url):
    import psycopg

    parts = urlparse(database_url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def migrate_and_load_fixtures():
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("loaddata", "bozhou_2022", "demo", verbosity=0)


def insert_select(model, exprs, from_sql):
    """INSERT INTO model's table SELECT ... FROM from_sql; columns not in `exprs` get the field default.

    Defaults come from the model, so columns added later by a migration are filled too.
    Returns the number of rows inserted.
    """
    from django.db import connection

    columns, select, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in exprs:
            select.append(exprs[field.attname])
        else:
            select.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql = (f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
           f"SELECT {', '.join(select)} FROM {from_sql}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# kind by number: 4 of 10 cumulative, 2 growth, 1 margin, 1 milestone, 1 recurring, 1 qualitative.
KIND = ("(ARRAY['cumulative','cumulative','cumulative','cumulative','growth','growth','margin',"
        "'milestone','recurring','qualitative'])[mod(n, 10) + 1]")
# A synthetic target of plan p, number n (the caller adds code, name and lead unit).
TARGET_EXPRS = {
    "plan_id": "p.id",
    "section_id": "(SELECT s.id FROM targets_section s WHERE s.plan_id = p.id AND s.number = mod(n, 5) + 1)",
    "kind": KIND,
    "measure": f"CASE {KIND} WHEN 'growth' THEN '%%' WHEN 'margin' THEN '百分点' "
               "WHEN 'recurring' THEN '次' WHEN 'cumulative' THEN '家' ELSE '' END",
    "target_value": f"CASE {KIND} WHEN 'growth' THEN 8 WHEN 'margin' THEN 0.5 WHEN 'recurring' THEN 4 "
                    "WHEN 'cumulative' THEN 20 + mod(n, 80) ELSE NULL END",
    "comparator_name": f"CASE {KIND} WHEN 'margin' THEN '全省' ELSE '' END",
    "frequency": f"CASE {KIND} WHEN 'recurring' THEN 'quarter' ELSE '' END",
    "deadline": f"CASE {KIND} WHEN 'milestone' THEN make_date(p.year, 12, 31) ELSE NULL END",
    "order": "n",
}
# Random but plausible figures of target t for month m, for each kind.
ENTRY_EXPRS = {
    "value": ("CASE t.kind WHEN 'growth' THEN round((random() * 20 - 4)::numeric, 2) "
              "WHEN 'margin' THEN round((random() * 12)::numeric, 2) "
              "WHEN 'cumulative' THEN round(t.target_value * m / 12 * (0.6 + random() * 0.6)::numeric, 0) "
              "WHEN 'recurring' THEN floor(m / 3) ELSE NULL END"),
    "comparator": "CASE t.kind WHEN 'margin' THEN round((random() * 10)::numeric, 2) ELSE NULL END",
    "is_done": "t.kind = 'milestone' AND m >= 10",
    "note": "'进展顺利'",
}
# A creation history row for entry e of target t.
HISTORY_EXPRS = {
    "model": "'targets.progressentry'",
    "object_id": "e.id::text",
    "object_repr": "t.code || ' ' || e.year || '年1~' || e.month || '月'",
    "unit_id": "t.lead_unit_id",
    "action": "'create'",
    "user_id": "e.entered_by_id",
    "source": "'bench'",
    "changes": "jsonb_build_object('value', jsonb_build_array(NULL, e.value::text))",
    "at": "e.entered_at",
}


def load_synthetic(entries_wanted, current_targets, history_years):
    """Units, targets and entries (with history rows) up to `entries_wanted` entries."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from tracker.accounts.models import Membership
    from tracker.audit.models import Change
    from tracker.targets.models import Plan, ProgressEntry, Section, Target, Unit

    if Unit.objects.filter(code="bench-unit-01").exists():
        print("synthetic data already loaded (use --reload to start again)")
        return
    print(f"loading synthetic data up to {entries_wanted:,} entries...")
    started = time.monotonic()
    plan_2022 = Plan.objects.get(year=2022)
    with transaction.atomic():
        # 20 more units: sections under the bureau and development zones.
        bureau = Unit.objects.get(code="bozhou-jxj")
        inserted = insert_select(Unit, {
            "code": "'bench-unit-' || lpad(n::text, 2, '0')",
            "name": "'基准单位' || n",
            "name_en": "'Bench unit ' || n",
            "kind": "CASE WHEN n <= 15 THEN 'section' ELSE 'zone' END",
            "parent_id": str(bureau.pk),
        }, "generate_series(1, 20) AS n")
        unit_ids = list(Unit.objects.order_by("pk").values_list("pk", flat=True))
        print(f"  units: +{inserted}")

        # Earlier years' plans, each with five sections.
        years = list(range(2022 - history_years, 2022))
        insert_select(Plan, {"year": "y", "title": "y || '年工作要点'"},
                      f"generate_series({years[0]}, {years[-1]}) AS y")
        insert_select(Section, {"plan_id": "p.id", "number": "s", "name": "'第' || s || '部分'"},
                      "targets_plan p CROSS JOIN generate_series(1, 5) AS s WHERE p.year < 2022")

        existing = ProgressEntry.objects.count()
        fixture_targets = Target.objects.filter(plan=plan_2022).count()
        extra_current = max(current_targets - fixture_targets, 0)
        per_history_plan = max(
            -(-(entries_wanted - existing - current_targets * 12) // (12 * history_years)), 0)

        ids = "ARRAY[" + ",".join(map(str, unit_ids)) + "]"
        target_exprs = {
            **TARGET_EXPRS,
            "code": "'B' || p.year || '-' || lpad(n::text, 5, '0')",
            "name": "'基准目标' || p.year || '-' || n",
            "name_en": "'Bench target ' || p.year || '-' || n",
            "lead_unit_id": f"({ids})[mod(n * 7, {len(unit_ids)}) + 1]",
        }
        added = insert_select(Target, target_exprs,
                              f"targets_plan p CROSS JOIN generate_series(1, {extra_current}) AS n "
                              f"WHERE p.year = 2022")
        added += insert_select(Target, target_exprs,
                               f"targets_plan p CROSS JOIN generate_series(1, {per_history_plan}) AS n "
                               f"WHERE p.year < 2022")
        print(f"  targets: +{added} ({extra_current} in 2022, {per_history_plan} in each earlier plan)")

        # One entry per target and month; random but plausible figures for each kind.
        clerks = list(Membership.objects.filter(role=Membership.Role.CLERK).values_list("user_id", flat=True))
        users = "ARRAY[" + ",".join(map(str, clerks or get_user_model().objects.values_list("pk", flat=True))) + "]"
        states = ("CASE WHEN p.year < 2022 OR m <= 4 THEN 'approved' WHEN m <= 6 THEN "
                  "(ARRAY['approved','submitted','draft','returned'])[mod(t.id, 4) + 1] ELSE 'draft' END")
        entry_exprs = {
            "target_id": "t.id",
            "year": "p.year",
            "month": "m",
            **ENTRY_EXPRS,
            "state": states,
            "entered_by_id": f"({users})[mod(t.id, cardinality({users})) + 1]",
            "entered_at": "make_timestamptz(p.year, m, 1, 0, 0, 0) + interval '1 month 5 days' + n_jitter",
            "updated_at": "make_timestamptz(p.year, m, 1, 0, 0, 0) + interval '1 month 5 days' + n_jitter",
            "submitted_at": ("CASE WHEN p.year < 2022 OR m <= 6 THEN "
                             "make_timestamptz(p.year, m, 1, 0, 0, 0) + interval '1 month 6 days' END"),
        }
        count = insert_select(
            ProgressEntry, entry_exprs,
            "targets_target t JOIN targets_plan p ON p.id = t.plan_id CROSS JOIN generate_series(1, 12) AS m "
            "CROSS JOIN LATERAL (SELECT (t.id * 37 + m) * interval '1 second' AS n_jitter) j "
            # No January row where January and February are reported together.
            "WHERE NOT (t.combined_jan_feb AND m = 1) AND NOT EXISTS (SELECT 1 FROM targets_progressentry e "
            "WHERE e.target_id = t.id AND e.year = p.year AND e.month = m)",
        )
        print(f"  entries: +{count}")

        # A creation history row per synthetic entry.
        changes = insert_select(Change, HISTORY_EXPRS, "targets_progressentry e JOIN targets_target t "
                                "ON t.id = e.target_id WHERE t.code LIKE 'B%%'")
        print(f"  history rows: +{changes}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded in {time.monotonic() - started:.0f} s")


PROVINCE_YEARS_END = 2022


def load_province(scale, years):
    """16 organisations × (300 × scale) targets × `years` years × 12 months, with history; one query per step."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from tracker.accounts.models import Membership
    from tracker.audit.models import Change
    from tracker.targets.models import Plan, ProgressEntry, Section, Target, Unit

    if Unit.objects.filter(code="prov-ah").exists():
        print("province already loaded (use --reload to start again)")
        return
    per_plan = max(int(round(300 * scale)), 1)
    first_year = PROVINCE_YEARS_END - years + 1
    print(f"loading a province: 16 organisations × {per_plan} targets × {years} years × 12 months...")
    started = time.monotonic()
    with transaction.atomic():
        province = Unit.objects.create(code="prov-ah", name="安徽省经济和信息化厅（基准）", kind="other")
        insert_select(Unit, {"code": "'city-' || lpad(c::text, 2, '0')", "name": "'基准市' || c || '经信局'",
                             "kind": "'bureau'", "parent_id": str(province.pk)}, "generate_series(1, 16) AS c")
        insert_select(Unit, {"code": "u.code || '-s' || s", "name": "u.name || '第' || s || '科'",
                             "kind": "'section'", "parent_id": "u.id"},
                      "targets_unit u CROSS JOIN generate_series(1, 4) AS s WHERE u.code LIKE 'city-%%'")
        insert_select(Plan, {"year": "y", "unit_id": "u.id", "title": "u.name || y || '年工作要点'",
                             "status": f"CASE WHEN y < {PROVINCE_YEARS_END} THEN 'closed' ELSE 'published' END"},
                      f"targets_unit u CROSS JOIN generate_series({first_year}, {PROVINCE_YEARS_END}) AS y "
                      "WHERE u.code ~ '^city-[0-9]+$'")
        insert_select(Section, {"plan_id": "p.id", "number": "s", "name": "'第' || s || '部分'"},
                      "targets_plan p JOIN targets_unit u ON u.id = p.unit_id CROSS JOIN generate_series(1, 5) AS s "
                      "WHERE u.code LIKE 'city-%%'")
        # Plans in year order, so each year's target can name last year's as the one it continues.
        insert_select(Target, {
            **TARGET_EXPRS,
            "code": "'C' || substr(u.code, 6) || '-' || mod(p.year, 100) || '-' || lpad(n::text, 3, '0')",
            "name": "u.name || '目标' || n",
            "lead_unit_id": "(SELECT x.id FROM targets_unit x WHERE x.code = CASE mod(n, 5) WHEN 0 THEN u.code "
                            "ELSE u.code || '-s' || mod(n, 5) END)",
        }, f"targets_plan p JOIN targets_unit u ON u.id = p.unit_id CROSS JOIN generate_series(1, {per_plan}) AS n "
           "WHERE u.code LIKE 'city-%%' ORDER BY p.year, p.id, n")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE targets_target t SET continues_id = o.id FROM targets_plan p, targets_plan op, "
                "targets_target o WHERE p.id = t.plan_id AND op.unit_id = p.unit_id AND op.year = p.year - 1 "
                "AND o.plan_id = op.id AND o.\"order\" = t.\"order\" AND t.code LIKE 'C%%'")
        users = get_user_model().objects
        reader = users.create_user("province_reader", password="bench-pass-2022", is_staff=True)
        Membership.objects.create(user=reader, unit=province, role=Membership.Role.LEADER)
        city = Unit.objects.get(code="city-01")
        for name, role, unit in (("city01_leader", Membership.Role.LEADER, city),
                                 ("city01_clerk", Membership.Role.CLERK, Unit.objects.get(code="city-01-s1"))):
            user = users.create_user(name, password="bench-pass-2022", is_staff=True)
            Membership.objects.create(user=user, unit=unit, role=role)
        clerk_id = users.get(username="city01_clerk").pk
        count = insert_select(ProgressEntry, {
            "target_id": "t.id", "year": "p.year", "month": "m", **ENTRY_EXPRS,
            "state": f"CASE WHEN p.year < {PROVINCE_YEARS_END} OR m <= 4 THEN 'approved' WHEN m <= 6 THEN "
                     "(ARRAY['approved','submitted','draft','returned'])[mod(t.id, 4) + 1] ELSE 'draft' END",
            "entered_by_id": str(clerk_id),
            "entered_at": "make_timestamptz(p.year, m, 1, 0, 0, 0) + interval '1 month 5 days'",
            "updated_at": "make_timestamptz(p.year, m, 1, 0, 0, 0) + interval '1 month 5 days' + t.id * interval '1 s'",
            "submitted_at": (f"CASE WHEN p.year < {PROVINCE_YEARS_END} OR m <= 6 THEN "
                             "make_timestamptz(p.year, m, 1, 0, 0, 0) + interval '1 month 6 days' END"),
        }, "targets_target t JOIN targets_plan p ON p.id = t.plan_id CROSS JOIN generate_series(1, 12) AS m "
           "WHERE t.code LIKE 'C%%'")
        print(f"  entries: +{count:,}")
        changes = insert_select(Change, HISTORY_EXPRS, "targets_progressentry e JOIN targets_target t "
                                "ON t.id = e.target_id WHERE t.code LIKE 'C%%'")
        print(f"  history rows: +{changes:,}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded in {time.monotonic() - started:.0f} s")


def province_main(args):
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tracker.targets.models import Plan, ProgressEntry, Target

    call_command("migrate", interactive=False, verbosity=0)
    load_province(args.scale, args.years)
    print(f"\n{ProgressEntry.objects.count():,} entries, {Target.objects.count():,} targets, "
          f"{Plan.objects.count()} plans; {PROVINCE_YEARS_END}: "
          f"{Target.objects.filter(plan__year=PROVINCE_YEARS_END).count()} targets in 16 plans")
    users = get_user_model().objects
    entries = f"/{settings.ADMIN_URL}targets/progressentry/"
    code = Target.objects.filter(plan__year=PROVINCE_YEARS_END, plan__unit__code="city-01").order_by("code")[7].code
    month = f"{PROVINCE_YEARS_END}-06"
    pages = [
        ("dashboard", f"/?period={month}"),
        (f"report {month}", f"/reports/{month}/"),
        (f"report {month}, last year", f"/reports/{month}/?yoy=1"),
        ("entries: first page", entries),
        ("entries: submitted", f"{entries}?year={PROVINCE_YEARS_END}&state__exact=submitted"),
        ("entries: search", f"{entries}?q={code}"),
        ("province dashboard", f"/organisations/?period={month}"),
        # The same two after a write (a new stamp): judged again, as the first reader after a save sees them.
        ("dashboard, after a write", f"/?period={month}", True),
        ("province dash., after a write", f"/organisations/?period={month}", True),
    ]
    for name, title in (("province_reader", "province leader (16 organisations)"),
                        ("city01_leader", "city-01 leader (its organisation)"),
                        ("city01_clerk", "city-01 clerk (one section)")):
        print_results(f"{title}, {args.repeat} runs each", time_pages(pages, users.get(username=name), args.repeat))


def write_something():
    """A write to a table statuses are judged from (it changes no row): kept summaries are judged again."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE targets_plan SET title = title WHERE id = -1")


def time_pages(pages, user, repeat):
    """Median and slowest time of each page (and the median CPU time of this process), with its query count;
    a warm-up run first. A page marked `after a write` is timed each time after a write (no kept summary)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    results = []
    for label, url, *after_write in pages:
        before = write_something if after_write else (lambda: None)
        response = client.get(url)  # warm-up: caches, connection, first compile of templates
        if response.status_code != 200:
            results.append((label, url, None, None, None, f"HTTP {response.status_code}"))
            continue
        before()
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        query_count = len(queries)  # now: the log is cleared by later requests
        times, cpu = [], []
        for _ in range(repeat):
            before()
            start, start_cpu = time.perf_counter(), time.process_time()
            client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        results.append((label, url, statistics.median(times), max(times), statistics.median(cpu),
                        f"{query_count} queries"))
    return results


def print_results(title, results):
    print(f"\n{title} (load average {os.getloadavg()[0]:.1f})")
    print(f"  {'page':<30} {'median':>9} {'slowest':>9} {'CPU':>9}  {'queries':<12} url")
    for label, url, median, slowest, cpu, note in results:
        if median is None:
            print(f"  {label:<30} {'—':>9} {'—':>9} {'—':>9}  {note:<12} {url}")
        else:
            print(f"  {label:<30} {median:>7.1f}ms {slowest:>7.1f}ms {cpu:>7.1f}ms  {note:<12} {url}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--current-targets", type=int, default=300,
                        help="targets in the 2022 plan (the fixture's plus synthetic sub-targets)")
    parser.add_argument("--history-years", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reload", action="store_true", help="drop and reload the bench database")
    parser.add_argument("--province", action="store_true",
                        help="a province: 16 organisations, each with its plans over --years (see above)")
    parser.add_argument("--scale", type=float, default=1.0, help="--province: share of 300 targets per plan")
    parser.add_argument("--years", type=int, default=5, help="--province: years of plans per organisation")
    args = parser.parse_args()

    if args.reload:
        import psycopg

        parts = urlparse(args.database_url)
        with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}"')
    configure_django(args.database_url)
    if args.province:
        province_main(args)
        return

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from tracker.accounts.models import Membership
    from tracker.targets.models import ProgressEntry, Target

    migrate_and_load_fixtures()
    load_synthetic(args.entries, args.current_targets, args.history_years)
    print(f"\n{ProgressEntry.objects.count():,} entries, {Target.objects.count():,} targets; "
          f"2022 plan: {Target.objects.filter(plan__year=2022).count()} targets")

    admin = get_user_model().objects.filter(is_superuser=True).first()
    if admin is None:
        admin = get_user_model().objects.create_superuser("bench-admin", "bench@example.com", "bench-pass-2022")
    clerk = (Membership.objects.filter(role=Membership.Role.CLERK, unit__code="qiaocheng")
             .select_related("user").first() or Membership.objects.filter(role=Membership.Role.CLERK).first()).user
    entries = f"/{settings.ADMIN_URL}targets/progressentry/"
    search_code = Target.objects.filter(code__startswith="B2015").order_by("code").values_list("code", flat=True)[7]
    pages = [
        ("entries: first page", entries),
        ("entries: 2022, submitted", f"{entries}?year=2022&state__exact=submitted"),
        ("entries: 2016, June", f"{entries}?year=2016&month=6"),
        ("entries: search", f"{entries}?q={search_code}"),
        ("report 2022-06", "/reports/2022-06/"),
        ("dashboard", "/"),
    ]
    print_results(f"administrator {admin.username} (sees everything), {args.repeat} runs each",
                  time_pages(pages, admin, args.repeat))
    print_results(f"clerk {clerk.username} (own unit only), {args.repeat} runs each",
                  time_pages(pages, clerk, args.repeat))


if __name__ == "__main__":
    main()
