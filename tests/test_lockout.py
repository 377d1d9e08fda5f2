import datetime

import pytest
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import make_unit, make_user
from tracker.accounts import throttle
from tracker.accounts.models import LoginFailure

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Secret-123"  # tests.factories.make_user's default


@pytest.fixture
def clerk():
    return make_user("clerk1", unit=make_unit("qiaocheng"))


def login(client, username, password, ip="10.0.0.5", lang="en", **extra):
    client.cookies["django_language"] = lang
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/"},
        REMOTE_ADDR=ip, **extra,
    )


def is_logged_in(client):
    return "_auth_user_id" in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_it_locks_after_repeated_failures_even_for_the_right_password(client, clerk):
    for _ in range(2):
        response = login(client, "clerk1", "wrong")
        assert "Please enter the correct username and password" in response.content.decode()
    response = login(client, "clerk1", "wrong")
    assert "Too many failed logins. Try again in 10 minutes." in response.content.decode()
    row = LoginFailure.objects.get()
    assert (row.username, row.ip, row.failures) == ("clerk1", "10.0.0.5", 3)
    assert row.locked_until > timezone.now() + datetime.timedelta(seconds=590)

    response = login(client, "clerk1", PASSWORD)
    assert response.status_code == 200 and not is_logged_in(client)
    assert "Too many failed logins" in response.content.decode()
    assert LoginFailure.objects.get().failures == 3  # refused attempts do not extend the lock


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_it_shows_the_lock_message_in_chinese(client, clerk):
    for _ in range(3):
        response = login(client, "clerk1", "wrong", lang="zh-hans")
    assert "登录失败次数过多，请在 10 分钟后重试。" in response.content.decode()


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_it_keys_the_lock_by_username_and_address(client, clerk):
    for _ in range(3):
        login(client, "clerk1", "wrong", ip="10.0.0.5")
    response = login(client, "clerk1", PASSWORD, ip="10.0.0.6")
    assert response.status_code == 302 and is_logged_in(client)


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_it_lets_the_user_in_again_once_the_lock_runs_out(client, clerk):
    for _ in range(3):
        login(client, "clerk1", "wrong")
    LoginFailure.objects.update(locked_until=timezone.now() - datetime.timedelta(seconds=1))
    response = login(client, "clerk1", PASSWORD)
    assert response.status_code == 302 and is_logged_in(client)
    assert not LoginFailure.objects.exists()  # a successful login forgets the failures


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_it_forgets_failures_older_than_the_window(clerk):
    start = timezone.now()
    throttle.register_failure("clerk1", "10.0.0.5", now=start)
    throttle.register_failure("clerk1", "10.0.0.5", now=start)
    row = throttle.register_failure("clerk1", "10.0.0.5", now=start + datetime.timedelta(seconds=601))
    assert row.failures == 1 and row.locked_until is None


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=600)
def test_it_counts_unknown_usernames_too(client):
    for _ in range(3):
        login(client, "nobody", "guess")
    assert throttle.seconds_locked("Nobody", "10.0.0.5") > 0


def test_it_takes_remote_addr_and_ignores_forwarded_headers_without_a_proxy():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert throttle.client_ip(request) == "203.0.113.9"


@override_settings(TRUSTED_PROXY_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_it_takes_the_address_the_proxy_appended():
    # The client forged "1.1.1.1"; the proxy appended the address it really saw.
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.7")
    assert throttle.client_ip(request) == "198.51.100.7"


@override_settings(TRUSTED_PROXY_IP_HEADER="X-Real-IP")
def test_it_accepts_a_header_name_as_written_and_falls_back_on_garbage():
    factory = RequestFactory()
    assert throttle.client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="2001:db8::1")) == "2001:db8::1"
    assert throttle.client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="evil")) == "127.0.0.1"


@override_settings(TRUSTED_PROXY_IP_HEADER="HTTP_X_FORWARDED_FOR", LOGIN_FAILURE_LIMIT=3)
def test_it_locks_per_real_client_behind_the_proxy(client, clerk):
    for n in range(3):
        # A different forged prefix each time must not dodge the lock.
        login(client, "clerk1", "wrong", ip="127.0.0.1", HTTP_X_FORWARDED_FOR=f"9.9.9.{n}, 198.51.100.7")
    assert LoginFailure.objects.get().ip == "198.51.100.7"
    response = login(client, "clerk1", PASSWORD, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert not is_logged_in(client) and "Too many failed logins" in response.content.decode()
    with translation.override("en"):
        assert throttle.seconds_locked("clerk1", "198.51.100.7") > 0
