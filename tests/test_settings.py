"""The production configuration, checked in a subprocess with a production environment."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from tracker.settings import env_bool, weak_secret_key

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


def test_it_refuses_a_weak_secret_key_when_debug_is_off():
    for key in ("change-me", "django-insecure-" + secrets.token_urlsafe(64)):
        proc = run_manage("check", DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="tracker.example.org")
        assert proc.returncode != 0, key
        assert "ImproperlyConfigured: SECRET_KEY is too weak for DEBUG off" in proc.stderr, key
        assert key not in proc.stderr  # the message never repeats the key itself


def test_it_judges_a_key_weak_as_djangos_deploy_check_does():
    assert weak_secret_key("short") and weak_secret_key("a" * 60) and weak_secret_key("abcd" * 20)
    assert weak_secret_key("django-insecure-" + secrets.token_urlsafe(64))
    assert not weak_secret_key(secrets.token_urlsafe(64)) and not weak_secret_key("abcde" * 10)


def test_it_accepts_any_key_when_debug_is_on():
    proc = run_manage("check", DEBUG="1", SECRET_KEY="change-me")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_it_refuses_a_yes_no_setting_it_cannot_read():
    proc = run_manage("check", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="tracker.example.org",
                      REVIEW_SELF_APPROVAL="ture")
    assert proc.returncode != 0
    assert ("ImproperlyConfigured: REVIEW_SELF_APPROVAL must be 1/0, true/false, yes/no or on/off (any case), "
            "or empty for the default; not 'ture'.") in proc.stderr


def test_it_reads_yes_no_words_in_any_case_and_blank_as_the_default(monkeypatch):
    for value, expected in (("Yes", True), ("ON", True), ("1", True), (" true ", True), ("false", False),
                            ("Off", False), ("no", False), ("0", False)):
        monkeypatch.setenv("TRACKER_TEST_FLAG", value)
        assert env_bool("TRACKER_TEST_FLAG", default=not expected) is expected, value
    monkeypatch.setenv("TRACKER_TEST_FLAG", "")
    assert env_bool("TRACKER_TEST_FLAG", default=True) is True
    monkeypatch.delenv("TRACKER_TEST_FLAG")
    assert env_bool("TRACKER_TEST_FLAG", default=True) is True


def test_it_refuses_a_number_setting_it_cannot_read():
    for name, value, message in (
        ("DB_CONN_MAX_AGE", "60s", "DB_CONN_MAX_AGE must be a whole number, not '60s'."),
        ("LOGIN_FAILURE_LIMIT", "0", "LOGIN_FAILURE_LIMIT must be at least 1, not '0'."),
    ):
        proc = run_manage("check", DEBUG="1", **{name: value})
        assert proc.returncode != 0, name
        assert f"ImproperlyConfigured: {message}" in proc.stderr, proc.stderr


def sample_environment():
    env = {}
    for line in (ROOT / "deploy" / "tracker.env.sample").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def test_the_sample_environment_passes_check_deploy_once_its_key_is_replaced():
    env = sample_environment()
    assert env["SECRET_KEY"] == "change-me"
    proc = run_manage("check", **env)
    assert proc.returncode != 0 and "SECRET_KEY is too weak" in proc.stderr
    env["SECRET_KEY"] = secrets.token_urlsafe(64)
    proc = run_manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


# Read only by development and test runs; production must not set them.
DEVELOPMENT_ONLY_VARIABLES = {"TRACKER_INSECURE_DEV_KEY", "TRACKER_PLAIN_STATIC", "EMAIL_FILE_PATH"}


def test_it_documents_every_environment_variable_in_the_sample():
    source = (ROOT / "tracker" / "settings.py").read_text()
    read = set(re.findall(r"""(?:env_\w+|environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""", source))
    assert len(read) > 30  # the pattern still finds the settings
    sample = (ROOT / "deploy" / "tracker.env.sample").read_text()
    mentioned = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", sample, flags=re.M))
    missing = read - mentioned - DEVELOPMENT_ONLY_VARIABLES
    assert not missing, f"add to deploy/tracker.env.sample: {sorted(missing)}"
