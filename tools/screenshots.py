"""Screenshots on demand (`make screenshots`): every role's main pages at 1366 and 390 px, in Chinese and English.

Builds a throwaway SQLite database with the 2022 plan and the demo data, serves it with Django's development server
on a free loopback port, logs in with Debian's headless Chromium as each demo role and saves one full-page PNG per
page, width and language into screenshots/ (git-ignored). It prints one line per page with the page's width in CSS
pixels, so horizontal overflow shows at a glance. Needs nothing from the network.

    .venv/bin/python tools/screenshots.py [--out screenshots] [--period 2022-05] [--role clerk] [--width 390]
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "demo-pass-2022"
WIDTHS = (1366, 390)
LANGUAGES = ("zh-hans", "en")


def pages(period):
    """(role, username, [(name, path)]) for each role: what that person works from."""
    report = f"/reports/{period}/"
    return [
        ("clerk", "bureau_clerk", [
            ("admin-home", "/admin/"),
            ("entry-chooser", "/admin/targets/progressentry/entry/"),
            ("entry", f"/admin/targets/progressentry/entry/bozhou-jxj/{period}/"),
            ("entries", "/admin/targets/progressentry/"),
            ("import-upload", "/imports/"),
            ("dashboard", f"/?period={period}"),
            ("report", report),
        ]),
        ("reviewer", "bureau_reviewer", [
            ("queue", "/admin/targets/progressentry/?state__exact=submitted"),
            ("review", "REVIEW"),
            ("entry", f"/admin/targets/progressentry/entry/bozhou-jxj/{period}/"),
            ("completeness", f"{report}completeness/"),
        ]),
        ("leader", "leader", [
            ("dashboard", f"/?period={period}"),
            ("report", report),
            ("completeness", f"{report}completeness/"),
            ("target", "TARGET"),
            # The registers: what the leader asks of them (issue 15).
            ("open-items", f"/registers/open-items/?period={period}"),
            ("behind", f"/registers/behind/?period={period}"),
            ("expected", f"/registers/expected/?period={period}"),
        ]),
        ("county-clerk", "qiaocheng_clerk", [
            ("registers", "/registers/"),
            ("schedule", f"/registers/schedule/qiaocheng/{period}/"),
            ("firms", "/admin/registers/firm/"),
            ("projects", "/admin/registers/project/"),
        ]),
        ("admin", "admin", [
            ("admin-home", "/admin/"),
            ("targets", "/admin/targets/target/"),
            ("import-upload", "/imports/"),
            ("register-import", "/imports/registers/"),
            ("register-preview", "REGISTER_BATCH"),
        ]),
    ]


SAMPLE_FIRMS = (
    "企业名称,统一社会信用代码,所属县区,行业代码,企业规模,入规培育库,预计入规月份\n"
    "示例导入企业甲,91341600MA20000016,谯城区,C27,小型,培育中,2022-09\n"
    "示例导入企业乙（一家名字很长的企业：检查预览表格的换行与宽度）,91341600MA20000029,谯城区,C15,中型,培育中,2022-10\n"
    "示例导入企业丙,913416000000000000,蒙城县,C99,特大型,入库,2022-13\n"
)


def sample_register_batch(username="admin"):
    """A previewed firm import with a row of problems (the register preview page's content); returns its id."""
    import hashlib

    from django.contrib.auth import get_user_model

    from tracker.imports import registers
    from tracker.imports.models import RegisterImport

    user = get_user_model().objects.get(username=username)
    data = SAMPLE_FIRMS.encode("gb18030")
    report, _rows = registers.run_import(user, data, "firms", dry_run=True)
    batch = RegisterImport.objects.create(user=user, kind="firms", file_name="示例企业库.csv",
                                          sha256=hashlib.sha256(data).hexdigest(), rows=report.rows,
                                          problems=registers.problems_as_dicts(report))
    return batch.pk


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--period", default="2022-05")
    parser.add_argument("--role", action="append", help="only these roles (clerk, reviewer, leader, admin)")
    parser.add_argument("--width", action="append", type=int, help="only these widths")
    parser.add_argument("--language", action="append", choices=LANGUAGES)
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        sys.exit(f"needs Debian's chromium at {chromium} (make browser)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="tracker-screenshots-"))
    env = {**os.environ, "DEBUG": "1", "TRACKER_INSECURE_DEV_KEY": "1",
           "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "MEDIA_ROOT": str(work / "media")}
    env.pop("CELERY_BROKER_URL", None)
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "loaddata", "-v0", "bozhou_2022", "demo", "registers_demo"], env=env, check=True,
                   cwd=ROOT)
    lookup = ("from tracker.targets.models import ProgressEntry as E, Target as T;"
              "from tools.screenshots import sample_register_batch;"
              "e = E.objects.filter(state='submitted').order_by('pk').first() or E.objects.order_by('pk').first();"
              "t = T.objects.filter(kind='cumulative').order_by('code').first();"
              "print(e.pk if e else 0, t.code if t else '', sample_register_batch())")
    found = subprocess.run([*manage, "shell", "--no-imports", "-c", lookup], env=env, check=True, cwd=ROOT,
                           capture_output=True, text=True)
    entry_pk, target_code, batch_pk = found.stdout.split()
    port = free_port()
    server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        shoot(chromium, base, out, args, {"REVIEW": f"/admin/targets/progressentry/{entry_pk}/review/",
                                          "TARGET": f"/targets/{target_code}/",
                                          "REGISTER_BATCH": f"/imports/registers/{batch_pk}/"})
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def shoot(chromium, base, out, args, placeholders):
    from playwright.sync_api import sync_playwright

    widths = args.width or WIDTHS
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for role, username, role_pages in pages(args.period):
            if args.role and role not in args.role:
                continue
            for language in args.language or LANGUAGES:
                context = browser.new_context(locale="zh-CN")
                context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                page = context.new_page()
                page.goto(base + "/admin/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                page.click("input[type=submit]")
                page.wait_for_load_state()
                landing = page.url[len(base):]  # where this role lands after logging in
                for width in widths:
                    page.set_viewport_size({"width": width, "height": 900})
                    for page_name, path in [("landing", landing), *role_pages]:
                        path = placeholders.get(path, path)
                        page.goto(base + path)
                        page.wait_for_load_state()
                        name = out / f"{role}-{language}-{width}-{page_name}.png"
                        page.screenshot(path=str(name), full_page=True)
                        scroll = page.evaluate("() => document.documentElement.scrollWidth")
                        flag = "" if scroll <= width else f"  OVERFLOW {scroll - width}px"
                        print(f"{name.name:<48} {page.url[len(base):]:<60} {scroll}px{flag}")
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
