"""Production hardening that is about access: admin path, cookies, password rules, lockout-aware login form."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.password_validation import get_default_password_validators

from tracker.accounts.forms import LockoutAwareAuthenticationForm

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
print(reverse("admin:index"), reverse("admin:login"))
print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY)
print(admin.site.login_form.__name__)
"""


def run_production(**env):
    child = {k: v for k, v in os.environ.items() if k not in {
        "DEBUG", "TRACKER_INSECURE_DEV_KEY", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "ADMIN_URL",
        "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}}
    child.update({"DJANGO_SETTINGS_MODULE": "tracker.settings", "DEBUG": "0",
                  "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "tracker.example.org", **env})
    proc = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", PROBE], cwd=ROOT, env=child,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_it_serves_the_admin_at_the_configured_path_with_secure_cookies_in_production():
    out = run_production(ADMIN_URL="/office-7f3a/")
    assert out == ["/office-7f3a/", "/office-7f3a/login/", "True", "True", "True", "LockoutAwareAuthenticationForm"]


def test_it_uses_djangos_password_validators():
    names = {type(v).__name__ for v in get_default_password_validators()}
    assert names == {"UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator",
                     "NumericPasswordValidator"}


def test_it_locks_logins_through_axes_with_the_admin_login_form_saying_so():
    assert admin.site.login_form is LockoutAwareAuthenticationForm
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


@pytest.mark.django_db
def test_it_refuses_the_admin_to_a_non_staff_member(client):
    from tests.factories import make_unit, make_user

    user = make_user("outsider", unit=make_unit())
    user.is_staff = False
    user.save()
    client.force_login(user)
    response = client.get("/" + settings.ADMIN_URL)
    assert response.status_code == 302 and "/login/" in response["Location"]
