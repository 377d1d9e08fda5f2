"""Production processes: gunicorn started from the documented command serves pages,
and WhiteNoise serves collected, hashed and compressed static files."""

import gzip
import http.client
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection

from tests.test_settings import DEV_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
USERNAME, PASSWORD = "ops-admin", "Gunicorn-Test-Pass-2022"


def documented_command(process):
    """The command line for `process` from deploy/Procfile, run from this virtualenv."""
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.startswith(f"{process}:"):
            argv = shlex.split(line.split(":", 1)[1])
            return [str(BIN / argv[0]), *argv[1:]]
    raise AssertionError(f"no '{process}' line in deploy/Procfile")


def database_url(tmp_path):
    """The test database when it is PostgreSQL (the child can reach it), else a fresh SQLite file."""
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return f"sqlite:///{tmp_path / 'web.sqlite3'}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read(), response.headers.get_all("Set-Cookie")
    finally:
        conn.close()


@pytest.fixture
def production_env(tmp_path, transactional_db):
    env = {k: v for k, v in os.environ.items() if k not in DEV_VARIABLES and not k.startswith("CELERY_")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DEBUG": "0",
        "SECRET_KEY": "gunicorn-test-" + "k" * 60,
        "ALLOWED_HOSTS": "127.0.0.1",
        "USE_X_FORWARDED_PROTO": "1",
        "DATABASE_URL": database_url(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    })

    def manage(*args, **extra):
        proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**env, **extra},
                              capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    manage("createsuperuser", "--noinput", "--username", USERNAME, "--email", "ops@example.com",
           DJANGO_SUPERUSER_PASSWORD=PASSWORD)
    return env


@pytest.fixture
def gunicorn(production_env, tmp_path):
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen(documented_command("web"), cwd=ROOT, env={**production_env,
                            "GUNICORN_BIND": f"127.0.0.1:{port}"}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start listening within 60 s"
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_it_starts_gunicorn_from_the_documented_command_and_serves_pages_and_static_files(gunicorn, production_env):
    port = gunicorn
    https = {"X-Forwarded-Proto": "https"}

    status, _, body, _ = request(port, "GET", "/healthz")
    assert status == 200
    assert json.loads(body) == {"database": "ok", "broker": "not configured", "reminders": "ok",
                                "reminder_counts": {"stuck": 0, "failed": 0, "many_attempts": 0},
                                "robot_counts": {"stuck": 0, "failed": 0, "many_attempts": 0}}

    # Production settings: plain HTTP is sent to HTTPS...
    status, headers, _, _ = request(port, "GET", "/admin/login/")
    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{port}/admin/login/"

    # ...and behind the proxy the login page is served, with hashed static names.
    status, _, body, cookies = request(port, "GET", "/admin/login/", https)
    assert status == 200
    page = body.decode()
    csrf_cookie = SimpleCookie("\n".join(cookies))["csrftoken"].value
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    status, headers, _, cookies = request(port, "POST", "/admin/login/?next=/admin/", {
        **https,
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf_cookie}",
        "Origin": f"https://127.0.0.1:{port}",
        "Referer": f"https://127.0.0.1:{port}/admin/login/",
    }, urlencode({"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": "/admin/"}))
    assert status == 302, "login failed"
    assert headers["Location"] == "/admin/"
    session = SimpleCookie("\n".join(cookies))["sessionid"].value

    status, _, body, _ = request(port, "GET", "/admin/", {**https, "Cookie": f"sessionid={session}"})
    assert status == 200
    assert USERNAME in body.decode()

    # WhiteNoise: the page links the hashed name, served compressed and cached for good.
    css_url = re.search(r'/static/admin/css/base\.[0-9a-f]{12}\.css', page).group(0)
    status, headers, data, _ = request(port, "GET", css_url, {**https, "Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
    collected = Path(production_env["STATIC_ROOT"]) / css_url.removeprefix("/static/")
    assert gzip.decompress(data) == collected.read_bytes()

    # A name that is not in the manifest is not served.
    status, _, _, _ = request(port, "GET", "/static/admin/css/nope.css", https)
    assert status == 404
