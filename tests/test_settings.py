"""The production configuration, checked in a subprocess with a production environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Variables that would make the child run in development mode or with test settings.
DEV_VARIABLES = {
    "DEBUG", "TRACKER_INSECURE_DEV_KEY", "TRACKER_PLAIN_STATIC", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "EMAIL_BACKEND", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def run_manage(*args, **env):
    child_env = {k: v for k, v in os.environ.items() if k not in DEV_VARIABLES}
    child_env.update({"DJANGO_SETTINGS_MODULE": "tracker.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=120
    )


def test_it_passes_check_deploy_without_warnings_in_production():
    proc = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="tracker.example.org",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout
    assert "WARNING" not in proc.stdout + proc.stderr


def test_it_fails_clearly_without_a_secret_key_when_debug_is_off():
    proc = run_manage("check", DEBUG="0", ALLOWED_HOSTS="tracker.example.org")
    assert proc.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in proc.stderr


def test_a_bare_manage_py_works_on_a_laptop_with_nothing_configured():
    proc = run_manage("makemigrations", "--check", "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_web_process_still_needs_a_secret_key_when_debug_is_off():
    env = {k: v for k, v in os.environ.items() if k not in DEV_VARIABLES}
    proc = subprocess.run([sys.executable, "-c", "import tracker.wsgi"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in proc.stderr


def test_it_flags_a_weak_secret_key_in_production():
    # The deploy check must really look at the key: a short one is reported.
    proc = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY="short", ALLOWED_HOSTS="tracker.example.org",
    )
    assert proc.returncode != 0
    assert "security.W009" in proc.stdout + proc.stderr
