#!/usr/bin/env python
"""The registers at scale: 10,000 firms, 2,000 projects with 12 months of updates, coordination items, and
register-backed targets. Prints wall time and SQL queries of each step; nothing here is a pass/fail test.

Runs in a throwaway test database on the server of DATABASE_URL (SQLite by default), so real data is never
touched:

    DATABASE_URL=postgres://root@127.0.0.1:5432/tracker_bench_registers .venv/bin/python bench/registers.py

Steps: writing the register-backed targets' figures (figures.refresh, 12 months); the project and the firm
scheduling screens of a county (GET, and a POST saving every row of the page); the leader's lists and the list
behind a figure (page and CSV); the monthly report with the register-backed targets; a 10,000-row firm import
(CSV, GB18030) previewed and written.
"""

import argparse
import datetime
import os
import sys
import time
import warnings
from decimal import Decimal
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
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.throwaway import throwaway_database  # noqa: E402
from tracker.accounts.models import Membership  # noqa: E402
from tracker.imports import registers as register_imports  # noqa: E402
from tracker.registers import demo, figures  # noqa: E402
from tracker.registers.creditcode import check_character  # noqa: E402
from tracker.registers.models import (  # noqa: E402
    Coordination,
    Firm,
    Industry,
    Listing,
    Project,
    ProjectUpdate,
    RegisterFigure,
)
from tracker.targets.models import Plan, Section, Target, Unit  # noqa: E402

YEAR = 2022
TODAY = datetime.date(YEAR + 1, 1, 20)


def timed(label, action):
    with CaptureQueriesContext(connection) as queries:
        start, cpu = time.perf_counter(), time.process_time()
        result = action()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    # Wall time swings with the machine's load; the CPU time of this process (Python side) much less.
    count = len(queries.captured_queries)
    print(f"  {label:<58} {seconds * 1000:9.0f} ms wall {cpu * 1000:8.0f} ms CPU {count:5d} queries")
    return result


def build(n_firms, n_projects):
    city = Unit.objects.create(code="bozhou", name="亳州市经信局", kind="bureau")
    counties = {}
    for pk, _division, place in demo.COUNTIES:
        counties[pk] = Unit.objects.create(code=f"c{pk}", name=f"{place}", kind="county", parent=city)
    industries = {i.code: i for i in Industry.objects.all()}
    firms, listings, projects, updates, items = demo.rows(n_firms, n_projects, year=YEAR, months=12, demo=False)
    Firm.objects.bulk_create([Firm(
        pk=f["pk"], name=f["name"], credit_code=f["credit_code"], unit=counties[f["unit"]],
        industry=industries[f["industry"][0]], size=f["size"], contact_person=f["contact_person"],
        contact_phone=f["contact_phone"]) for f in firms], batch_size=2000)
    with connection.cursor() as cursor:  # the firms were given ids: the sequence follows them
        for sql in connection.ops.sequence_reset_sql(no_style(), [Firm]):
            cursor.execute(sql)
    Listing.objects.bulk_create([Listing(firm_id=x.pop("firm"), **x) for x in listings], batch_size=2000)
    Project.objects.bulk_create([Project(
        unit=counties[p.pop("unit")], firm_id=p.pop("firm"), **p) for p in projects], batch_size=2000)
    ProjectUpdate.objects.bulk_create([ProjectUpdate(project_id=u.pop("project"), **u) for u in updates],
                                      batch_size=5000)
    Coordination.objects.bulk_create([Coordination(project_id=c.pop("project"), **c) for c in items],
                                     batch_size=2000)
    plan = Plan.objects.create(year=YEAR, title="bench")
    section = Section.objects.create(plan=plan, number=1, name="bench")
    specs = [("R-ENTERED", city, {"aggregation": "entered"}),
             ("R-SIGNED", city, {"aggregation": "signed", "min_investment": Decimal("1")}),
             ("R-INVEST", city, {"aggregation": "investment"}),
             ("R-SPECIAL", city, {"aggregation": "in_list", "list_kind": "specialised"})]
    specs += [(f"R-ENTERED-{u.code}", u, {"aggregation": "entered", "unit": u}) for u in counties.values()]
    for code, unit, figure in specs:
        target = Target.objects.create(plan=plan, section=section, code=code, name=code, kind="cumulative",
                                       target_value=Decimal("100"), lead_unit=unit)
        RegisterFigure.objects.create(target=target, **figure)
    leader = get_user_model().objects.create_user("bench-leader", is_staff=True)
    Membership.objects.create(user=leader, unit=city, role=Membership.Role.LEADER)
    county = next(iter(counties.values()))
    clerk = get_user_model().objects.create_user("bench-clerk", is_staff=True)
    Membership.objects.create(user=clerk, unit=county, role=Membership.Role.CLERK)
    admin = get_user_model().objects.create_superuser("bench-admin", "a@example.com", "x")
    return county, leader, clerk, admin


def schedule_post(client, url):
    page = client.get(url)
    data = {}
    for _project, _update, _previous, form in page.context["rows"]:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if value is not None and value is not False:
                data[form.add_prefix(name)] = value
        data[form.add_prefix("progress")] = "bench: 按计划推进"
        data[form.add_prefix("confirm")] = "on"
    return lambda: client.post(url, data)


def import_file(n_rows, start):
    lines = ["企业名称,统一社会信用代码,所属县区,行业代码,企业规模,入规培育库,预计入规月份"]
    for n in range(n_rows):
        first = f"91341623MB{start + n:07d}"[:17]
        code = first + check_character(first)
        lines.append(f"利辛示例导入企业{n},{code},利辛,C27,小型,培育中,{YEAR}-{1 + n % 12:02d}")
    return ("\n".join(lines) + "\n").encode("gb18030")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=2_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    setup_test_environment()  # responses carry their template context (the scheduling form is read back)
    with throwaway_database():
        print(f"database: {connection.vendor}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        start = time.perf_counter()
        county, leader, clerk, admin = build(args.firms, args.projects)
        print(f"  built {Firm.objects.count():,} firms, {Listing.objects.count():,} list memberships, "
              f"{Project.objects.count():,} projects, {ProjectUpdate.objects.count():,} project months, "
              f"{Coordination.objects.count():,} coordination items in {time.perf_counter() - start:.1f} s")
        timed("refresh register figures (8 targets x 12 months, first)", lambda: figures.refresh(today=TODAY))
        timed("refresh register figures (nothing changed)", lambda: figures.refresh(today=TODAY))
        leader_client, clerk_client, admin_client = Client(), Client(), Client()
        leader_client.force_login(leader)
        clerk_client.force_login(clerk)
        admin_client.force_login(admin)
        url = reverse("registers:schedule", args=[county.code, f"{YEAR}-12"])
        projects = Project.objects.filter(unit=county).count()
        timed(f"scheduling screen GET (page 1 of {projects} projects)", lambda: clerk_client.get(url))
        response = timed("scheduling screen POST, every row of the page saved", schedule_post(clerk_client, url))
        if response.status_code != 302:
            errors = [(p.name, f.errors) for p, _u, _prev, f in response.context["rows"] if f.errors]
            raise SystemExit(f"scheduling POST refused: {errors[:3]}")
        firms_url = reverse("registers:firm_schedule", args=[county.code, f"{YEAR}-12"])
        listings = Listing.objects.filter(firm__unit=county, kind="cultivation").count()
        timed(f"firm scheduling screen GET (page 1 of {listings} cultivation-list firms)",
              lambda: clerk_client.get(firms_url))
        response = timed("firm scheduling screen POST, every row of the page saved",
                         schedule_post(clerk_client, firms_url))
        if response.status_code != 302:
            errors = [(x.firm.name, f.errors) for x, _u, _prev, f in response.context["rows"] if f.errors]
            raise SystemExit(f"firm scheduling POST refused: {errors[:3]}")
        for name in ("open_items", "behind", "expected"):
            page = reverse(f"registers:{name}")
            timed(f"{name} page (leader, all counties)", lambda page=page: leader_client.get(page, {
                "period": f"{YEAR}-12"}))
            timed(f"{name} CSV", lambda page=page: leader_client.get(page, {"period": f"{YEAR}-12", "_export": "csv"}))
        rows = reverse("registers:figure_rows", args=[Target.objects.get(code="R-ENTERED").pk, f"{YEAR}-12"])
        timed("list behind R-ENTERED, 2022-12", lambda: leader_client.get(rows))
        timed("firms admin list (100 a page)", lambda: admin_client.get(reverse("admin:registers_firm_changelist")))
        report = reverse("reports:report", args=[str(YEAR), "12"])
        timed("monthly report 2022-12 with register-backed targets", lambda: leader_client.get(report))
        data = import_file(args.import_rows, 1)
        print(f"  import file: {args.import_rows:,} firm rows, {len(data) / 1024:.0f} KiB GB18030 CSV")
        timed(f"import preview ({args.import_rows:,} new firms)",
              lambda: register_imports.run_import(admin, data, "firms", dry_run=True))
        report_, _rows = timed(f"import write ({args.import_rows:,} firms + their lists)",
                               lambda: register_imports.run_import(admin, data, "firms", dry_run=False))
        assert report_.ok and report_.created == args.import_rows, report_.problems[:3]
        timed(f"import again ({args.import_rows:,} unchanged)",
              lambda: register_imports.run_import(admin, data, "firms", dry_run=False))


if __name__ == "__main__":
    main()
