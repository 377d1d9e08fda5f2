"""Login lockouts through django-axes: per username and client address, checked before the password."""

import datetime
import threading

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.backends import ModelBackend
from django.db import connections
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import make_unit, make_user
from tracker.accounts.lockout import client_ip, lockout_response
from tracker.accounts.models import Membership

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Secret-123"  # tests.factories.make_user's default
LOCK = override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=datetime.timedelta(seconds=600))


@pytest.fixture
def unit():
    return make_unit("qiaocheng")


@pytest.fixture
def clerk(unit):
    return make_user("clerk1", unit=unit)


def login(client, username, password, ip="10.0.0.5", lang="en", **extra):
    client.cookies["django_language"] = lang
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/"},
        REMOTE_ADDR=ip, **extra,
    )


def is_logged_in(client):
    return "_auth_user_id" in client.session


def age_failures(seconds):
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(seconds=seconds))


@LOCK
def test_it_locks_after_repeated_failures_even_for_the_right_password(client, clerk):
    for _ in range(2):
        response = login(client, "clerk1", "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    response = login(client, "clerk1", "wrong")
    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many failed logins. Try again in 10 minutes." in page
    assert 'id="login-form"' in page  # the admin's own login page, not a bare error page
    row = AccessAttempt.objects.get()
    assert (row.username, row.ip_address, row.failures_since_start) == ("clerk1", "10.0.0.5", 3)
    locked_at = row.attempt_time

    response = login(client, "clerk1", PASSWORD)
    assert response.status_code == 429 and not is_logged_in(client)
    assert "Too many failed logins. Try again in 10 minutes." in response.content.decode()
    row.refresh_from_db()
    # Refused attempts are not counted, so they do not stretch the lock.
    assert (row.failures_since_start, row.attempt_time) == (3, locked_at)


@LOCK
def test_it_refuses_a_locked_login_before_checking_the_password(client, clerk, monkeypatch):
    for _ in range(3):
        login(client, "clerk1", "wrong")
    checked = []
    original = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        checked.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    right, wrong = login(client, "clerk1", PASSWORD), login(client, "clerk1", "wrong")
    assert checked == []
    assert right.status_code == wrong.status_code == 429
    assert right.context["form"].errors == wrong.context["form"].errors  # nothing tells a right guess apart


@LOCK
def test_it_shows_the_lock_message_in_chinese(client, clerk):
    for _ in range(3):
        response = login(client, "clerk1", "wrong", lang="zh-hans")
    assert "登录失败次数过多，请在 10 分钟后重试。" in response.content.decode()


@LOCK
def test_it_keys_the_lock_by_username_and_address(client, clerk, unit):
    make_user("clerk2", unit=unit)
    for _ in range(3):
        login(client, "clerk1", "wrong", ip="10.0.0.5")
    assert is_locked_out(login(Client(), "clerk1", PASSWORD, ip="10.0.0.5"))
    other_address, other_user = Client(), Client()
    assert login(other_address, "clerk1", PASSWORD, ip="10.0.0.6").status_code == 302
    assert login(other_user, "clerk2", PASSWORD, ip="10.0.0.5").status_code == 302
    assert is_logged_in(other_address) and is_logged_in(other_user)


def is_locked_out(response):
    return response.status_code == 429 and "Too many failed logins" in response.content.decode()


@LOCK
def test_it_counts_unknown_usernames_too_whatever_their_case(client):
    for name in ("nobody", "Nobody", "NOBODY "):
        login(client, name, "guess")
    assert AccessAttempt.objects.get().username == "nobody"
    assert is_locked_out(login(client, "nObOdY", "guess"))


@LOCK
def test_it_lets_the_user_in_again_once_the_lock_runs_out(client, clerk):
    for _ in range(3):
        login(client, "clerk1", "wrong")
    age_failures(601)
    response = login(client, "clerk1", PASSWORD)
    assert response.status_code == 302 and is_logged_in(client)
    assert not AccessAttempt.objects.exists()


@LOCK
def test_it_forgets_failures_older_than_the_lockout_period(client, clerk):
    for _ in range(2):
        login(client, "clerk1", "wrong")
    age_failures(601)
    response = login(client, "clerk1", "wrong")
    assert response.status_code == 200 and "Please enter the correct username and password" in response.content.decode()
    assert AccessAttempt.objects.get().failures_since_start == 1


@LOCK
def test_a_successful_login_forgets_the_failures_of_its_username_and_address_only(client, clerk, unit):
    make_user("clerk2", unit=unit)
    for username, ip in (("clerk1", "10.0.0.5"), ("clerk1", "10.0.0.6"), ("clerk2", "10.0.0.5")):
        login(Client(), username, "wrong", ip=ip)
    assert login(client, "clerk1", PASSWORD, ip="10.0.0.5").status_code == 302
    left = set(AccessAttempt.objects.values_list("username", "ip_address"))
    assert left == {("clerk1", "10.0.0.6"), ("clerk2", "10.0.0.5")}


@LOCK
def test_it_ignores_forwarded_headers_without_a_trusted_proxy(client, clerk):
    for n in range(3):
        login(client, "clerk1", "wrong", ip="10.0.0.5", HTTP_X_FORWARDED_FOR=f"9.9.9.{n}")
    assert AccessAttempt.objects.get().ip_address == "10.0.0.5"
    assert is_locked_out(login(client, "clerk1", PASSWORD, ip="10.0.0.5", HTTP_X_FORWARDED_FOR="9.9.9.9"))


@LOCK
@override_settings(TRUSTED_PROXY_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_it_locks_per_real_client_behind_the_proxy(client, clerk):
    for n in range(3):
        # A different forged prefix each time must not dodge the lock.
        login(client, "clerk1", "wrong", ip="127.0.0.1", HTTP_X_FORWARDED_FOR=f"9.9.9.{n}, 198.51.100.7")
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    assert is_locked_out(login(client, "clerk1", PASSWORD, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7"))
    # Another client behind the same proxy is not locked.
    assert login(Client(), "clerk1", PASSWORD, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


def test_it_takes_remote_addr_and_ignores_forwarded_headers_without_a_proxy():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(request) == "203.0.113.9"


@override_settings(TRUSTED_PROXY_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_it_takes_the_address_the_proxy_appended():
    # The client forged "1.1.1.1"; the proxy appended the address it really saw.
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7")
    assert client_ip(request) == "198.51.100.7"


@override_settings(TRUSTED_PROXY_IP_HEADER="X-Real-IP")
def test_it_accepts_a_header_name_as_written_and_falls_back_on_garbage():
    factory = RequestFactory()
    assert client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="2001:db8::1")) == "2001:db8::1"
    assert client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="evil")) == "127.0.0.1"
    assert client_ip(factory.get("/", REMOTE_ADDR="not-an-address")) is None


@LOCK
def test_an_administrator_unlocks_early_by_deleting_the_row(client, clerk, unit):
    for _ in range(3):
        login(Client(), "clerk1", "wrong")
    row = AccessAttempt.objects.get()
    client.force_login(make_user("boss", unit=unit, role=Membership.Role.ADMIN))
    assert reverse("admin:axes_accessattempt_changelist") in client.get(reverse("admin:index")).content.decode()
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200 and "clerk1" in changelist.content.decode()
    assert client.get(reverse("admin:axes_accessattempt_change", args=[row.pk])).status_code == 200
    response = client.post(reverse("admin:axes_accessattempt_delete", args=[row.pk]), {"post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    assert login(Client(), "clerk1", PASSWORD).status_code == 302


@LOCK
@pytest.mark.parametrize("role", [Membership.Role.CLERK, Membership.Role.REVIEWER, Membership.Role.LEADER])
def test_only_administrators_see_the_failed_logins(client, clerk, unit, role):
    login(Client(), "clerk1", "wrong")
    row = AccessAttempt.objects.get()
    client.force_login(make_user("someone", unit=unit, role=role))
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403
    assert client.get(reverse("admin:axes_accessattempt_change", args=[row.pk])).status_code == 403
    assert client.post(reverse("admin:axes_accessattempt_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.exists()
    assert reverse("admin:axes_accessattempt_changelist") not in client.get(reverse("admin:index")).content.decode()


@LOCK
def test_the_failed_logins_list_says_until_when_a_row_locks(client, clerk, unit):
    for _ in range(3):
        login(Client(), "clerk1", "wrong", ip="10.0.0.5")
    login(Client(), "clerk1", "wrong", ip="10.0.0.6")
    client.force_login(make_user("boss", unit=unit, role=Membership.Role.ADMIN))
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("admin:axes_accessattempt_changelist"))
    page = response.content.decode()
    assert "登录锁定" in page and "锁定至" in page and "失败次数" in page
    model_admin = response.context["cl"].model_admin
    locked, unlocked = (AccessAttempt.objects.get(ip_address=ip) for ip in ("10.0.0.5", "10.0.0.6"))
    assert model_admin.locked_until(locked) > timezone.now() + datetime.timedelta(seconds=590)
    assert model_admin.locked_until(unlocked) is None
    age_failures(601)
    locked.refresh_from_db()
    assert model_admin.locked_until(locked) is None


@LOCK
def test_any_other_refused_page_gets_the_lock_message_alone(clerk):
    for _ in range(3):
        login(Client(), "clerk1", "wrong")
    request = RequestFactory().post("/elsewhere/", {"username": "clerk1"}, REMOTE_ADDR="10.0.0.5")
    with translation.override("en"):
        response = lockout_response(request, None, {"username": "clerk1"})
    assert response.status_code == 429
    assert response.content.decode() == "Too many failed logins. Try again in 10 minutes."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(AXES_FAILURE_LIMIT=50)
def test_it_counts_every_one_of_simultaneous_failures(postgres):
    """Eight wrong logins at the same moment, each on its own connection: one row, eight failures."""
    start, errors = threading.Barrier(8), []

    def attempt():
        try:
            start.wait(30)
            assert login(Client(), "clerk1", "wrong").status_code == 200
        except Exception as exc:  # handed to the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    row = AccessAttempt.objects.get()
    assert (row.username, row.ip_address, row.failures_since_start) == ("clerk1", "10.0.0.5", 8)
