"""Load: gunicorn on PostgreSQL with 50 concurrent logged-in users, on the loopback, for a bounded time.

    .venv/bin/python bench/load.py [--database-url postgres://root@127.0.0.1:5432/tracker_bench_load]
                                   [--users 50] [--duration 60] [--think-min 1 --think-max 3]

Prepares the database like bench/large.py (fixtures plus synthetic data, by
default 100,000 entries), starts gunicorn from the documented command
(`gunicorn --config gunicorn.conf.py`, production settings, collected static
files), and runs the users as threads: four in five are clerks, each with
their own unit and month, who read the monthly report, the dashboard and
their monthly entry screen and save it (one figure changed per save); the
others are leaders who read the report and the dashboard. Each user waits a
random think time between actions. Prints throughput, p50/p95/p99 latency per
kind of request and overall, and the error count (transport errors, HTTP
status >= 400, and saves that were not accepted). Figures only.
"""

import argparse
import collections
import http.client
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import large  # noqa: E402  (the same database set-up as the large-table bench)

ROOT = large.ROOT
DEFAULT_URL = "postgres://root@127.0.0.1:5432/tracker_bench_load"
PERIODS = ["2022-07", "2022-08", "2022-09", "2022-10", "2022-11", "2022-12"]  # drafts: still editable


class PostForms(HTMLParser):
    """The fields a browser would send for each POST form of a page."""

    def __init__(self):
        super().__init__()
        self.forms, self.fields, self.textarea, self.select = [], None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.fields = []
            self.forms.append(self.fields)
        if self.fields is None:
            return
        if tag == "option" and self.select is not None:
            if self.select[1] is None or "selected" in attrs:
                self.select[1] = attrs.get("value", "")
        if not attrs.get("name"):
            return
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "file") or (kind == "checkbox" and "checked" not in attrs):
                return
            self.fields.append([attrs["name"], attrs.get("value") or ("on" if kind == "checkbox" else "")])
        elif tag == "textarea":
            self.textarea = [attrs["name"], ""]
            self.fields.append(self.textarea)
        elif tag == "select":
            self.select = [attrs["name"], None]
            self.fields.append(self.select)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select is not None:
            self.select[1] = self.select[1] or ""
            self.select = None
        elif tag == "form":
            self.fields = None


def changed_figure(text):
    """A different but still valid figure: whole numbers stay whole and not negative."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if value == value.to_integral_value():
        return str(value + 1 if value < 1 or random.random() < 0.5 else value - 1)
    return str(value + Decimal("0.1") if random.random() < 0.5 else value - Decimal("0.1"))


class VirtualUser(threading.Thread):
    def __init__(self, bench, session, entry_url=None):
        super().__init__(daemon=True)
        self.bench, self.session, self.entry_url = bench, session, entry_url
        self.cookies = {"sessionid": session}

    def request(self, kind, method, path, body=None):
        headers = {
            "X-Forwarded-Proto": "https",  # as the reverse proxy would send it
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": self.bench.origin, "Referer": self.bench.origin + path})
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.bench.port, timeout=60)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            conn.close()
        except (OSError, http.client.HTTPException) as exc:
            self.bench.record(kind, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
            return None, b""
        elapsed = time.perf_counter() - start
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        error = f"HTTP {response.status} {method} {path}" if response.status >= 400 else None
        return self.bench.record(kind, elapsed, error, response.status), content

    def save_entry_screen(self):
        status, page = self.request("entry screen (GET)", "GET", self.entry_url)
        if status != 200:
            return
        parser = PostForms()
        parser.feed(page.decode())
        # The entry form is the one with the rows' fields (the header has other small forms).
        fields = next((f for f in parser.forms if any(re.fullmatch(r"t\d+-version", n) for n, _ in f)), [])
        figures = [f for f in fields if re.fullmatch(r"t\d+-value", f[0]) and f[1].strip()]
        if not figures:
            self.bench.record("entry screen (save)", 0, f"nothing editable on {self.entry_url}")
            return
        field = random.choice(figures)
        field[1] = changed_figure(field[1])
        status, _ = self.request("entry screen (save)", "POST", self.entry_url, urlencode([tuple(f) for f in fields]))
        if status is not None and status != 302:
            # 200 means the screen came back with errors: the save was not accepted.
            self.bench.record_error(f"save not accepted (HTTP {status}) on {self.entry_url}")

    def run(self):
        rng = random.Random(self.session)
        while not self.bench.stop.is_set():
            time.sleep(rng.uniform(self.bench.think_min, self.bench.think_max))
            if self.bench.stop.is_set():
                break
            roll = rng.random()
            try:
                if self.entry_url and roll < 0.3:
                    self.save_entry_screen()
                elif roll < 0.65:
                    self.request("report", "GET", "/reports/2022-06/")
                else:
                    self.request("dashboard", "GET", "/")
            except Exception as exc:  # a bench bug must show up as an error, not silence a user
                self.bench.record_error(f"client: {type(exc).__name__}: {exc}")


class Bench:
    def __init__(self, port, think_min, think_max):
        self.port, self.think_min, self.think_max = port, think_min, think_max
        self.origin = f"https://127.0.0.1:{port}"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.recording = False
        self.latencies = collections.defaultdict(list)
        self.errors = []

    def record(self, kind, seconds, error=None, status=None):
        with self.lock:
            if self.recording:
                self.latencies[kind].append(seconds * 1000)
                if error:
                    self.errors.append(error)
        return status

    def record_error(self, error):
        with self.lock:
            if self.recording:
                self.errors.append(error)


def prepare(args):
    """Database, data and the 50 users; returns (sessions with entry screen URLs, environment for gunicorn)."""
    large.configure_django(args.database_url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tracker.accounts.models import Membership
    from tracker.targets.models import ProgressEntry, Target, Unit

    large.migrate_and_load_fixtures()
    large.load_synthetic(args.entries, args.current_targets, history_years=2)

    units = list(Unit.objects.filter(led_targets__plan__year=2022).distinct().order_by("code"))
    screens = [(unit, period) for period in PERIODS for unit in units]
    clerks = args.users * 4 // 5
    users = []
    User = get_user_model()
    for n in range(args.users):
        user, _ = User.objects.get_or_create(username=f"load-user-{n:02d}", defaults={"is_staff": True})
        if n < clerks:
            unit, period = screens[n % len(screens)]
            Membership.objects.get_or_create(user=user, unit=unit, role=Membership.Role.CLERK)
            url = f"/{settings.ADMIN_URL}targets/progressentry/entry/{unit.code}/{period}/"
        else:
            Membership.objects.get_or_create(user=user, unit=Unit.objects.get(code="bozhou-jxj"),
                                             role=Membership.Role.LEADER)
            url = None
        client = Client()
        client.force_login(user)  # a real session row, as after the login form
        users.append((client.cookies["sessionid"].value, url))
    print(f"{ProgressEntry.objects.count():,} entries, {Target.objects.filter(plan__year=2022).count()} targets "
          f"in 2022; {clerks} clerks on {len({u for _, u in users if u})} entry screens, "
          f"{args.users - clerks} leaders")

    static_root = tempfile.mkdtemp(prefix="tracker-load-static-")
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_PLAIN_STATIC",)}
    env.update({"STATIC_ROOT": static_root, "ALLOWED_HOSTS": "127.0.0.1", "USE_X_FORWARDED_PROTO": "1",
                "SECURE_SSL_REDIRECT": "1", "DB_CONN_MAX_AGE": "60"})
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True)
    return users, env


def documented_web_command():
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            argv = shlex.split(line.split(":", 1)[1])
            return [str(Path(sys.executable).parent / argv[0]), *argv[1:]]
    raise SystemExit("no web: line in deploy/Procfile")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_LOAD_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--current-targets", type=int, default=300)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="measured seconds (after a warm-up)")
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--think-min", type=float, default=1.0)
    parser.add_argument("--think-max", type=float, default=3.0)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    users, env = prepare(args)
    env["GUNICORN_BIND"] = f"127.0.0.1:{args.port}"
    log_path = Path(tempfile.gettempdir()) / "tracker-load-gunicorn.log"
    env["GUNICORN_ACCESS_LOG"] = str(log_path.with_suffix(".access.log"))
    with open(log_path, "wb") as log:
        server = subprocess.Popen(documented_web_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            run(args, users, server, log_path)
        finally:
            server.terminate()
            server.wait(timeout=60)


def run(args, users, server, log_path):
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log_path}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not answer within 60 s; see {log_path}") from None
            time.sleep(0.5)
    workers = os.environ.get("WEB_CONCURRENCY") or "default"
    print(f"gunicorn up on 127.0.0.1:{args.port} (WEB_CONCURRENCY={workers}, "
          f"GUNICORN_THREADS={os.environ.get('GUNICORN_THREADS', 'default')})")

    bench = Bench(args.port, args.think_min, args.think_max)
    threads = [VirtualUser(bench, session, url) for session, url in users]
    for thread in threads:
        thread.start()
    time.sleep(args.warmup)
    with bench.lock:
        bench.recording = True
    started = time.monotonic()
    time.sleep(args.duration)
    with bench.lock:
        bench.recording = False
    elapsed = time.monotonic() - started
    bench.stop.set()
    for thread in threads:
        thread.join(timeout=120)

    every = [ms for values in bench.latencies.values() for ms in values]
    print(f"\n{args.users} users, think time {args.think_min}-{args.think_max} s, "
          f"{elapsed:.0f} s measured after {args.warmup:.0f} s warm-up")
    print(f"  {'request':<22} {'count':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8}")
    for kind, values in sorted(bench.latencies.items()) + [("all", every)]:
        if values:
            print(f"  {kind:<22} {len(values):>6} {percentile(values, 50):>6.0f}ms {percentile(values, 95):>6.0f}ms "
                  f"{percentile(values, 99):>6.0f}ms {statistics.fmean(values):>6.0f}ms")
    print(f"throughput: {len(every) / elapsed:.1f} requests/s")
    print(f"errors: {len(bench.errors)}")
    for error, count in collections.Counter(bench.errors).most_common(10):
        print(f"  {count} x {error}")


if __name__ == "__main__":
    main()
