"""/healthz: the database and, when configured, the broker (200 or 503), and reminders needing attention."""

import datetime

import pytest
from django.db.utils import ConnectionHandler
from django.test import Client, override_settings
from django.utils import timezone

from tracker.ops import views
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

# Nothing listens on port 1 of the loopback: connections are refused at once.
DEAD_BROKER = "redis://:s3cr3t-broker-pw@127.0.0.1:1/0"
NONE_NEED_ATTENTION = {"stuck": 0, "failed": 0, "many_attempts": 0}


def test_it_answers_200_without_a_broker(client, settings):
    settings.CELERY_BROKER_URL = ""  # the embedded default (CI's second run configures Redis)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "broker": "not configured", "reminders": "ok",
                               "reminder_counts": NONE_NEED_ATTENTION,
                               "robot_counts": NONE_NEED_ATTENTION}
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_200_when_the_broker_answers(client, redis_url):
    with override_settings(CELERY_BROKER_URL=redis_url):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "reminders": "ok",
                               "reminder_counts": NONE_NEED_ATTENTION,
                               "robot_counts": NONE_NEED_ATTENTION}


def test_it_answers_503_when_the_broker_is_down_without_leaking_the_url(client):
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "error: OperationalError", "reminders": "ok",
                               "reminder_counts": NONE_NEED_ATTENTION,
                               "robot_counts": NONE_NEED_ATTENTION}
    body = response.content.decode()
    assert "s3cr3t" not in body and "127.0.0.1" not in body


def test_it_answers_503_when_the_database_is_down(client, monkeypatch, settings):
    settings.CELERY_BROKER_URL = ""
    # A real connection attempt to a PostgreSQL port where nothing listens.
    dead = ConnectionHandler({"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": "tracker", "USER": "tracker",
        "PASSWORD": "s3cr3t-db-pw", "HOST": "127.0.0.1", "PORT": "1", "OPTIONS": {"connect_timeout": 2},
    }})
    monkeypatch.setattr(views, "connections", dead)
    try:
        response = client.get("/healthz")
    finally:
        dead.close_all()
    assert response.status_code == 503
    assert response.json() == {"database": "error: OperationalError", "broker": "not configured",
                               "reminders": "unknown"}
    assert "s3cr3t" not in response.content.decode()


def test_it_reports_both_failures_at_once(client, monkeypatch):
    dead = ConnectionHandler({"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": "tracker", "HOST": "127.0.0.1", "PORT": "1",
    }})
    monkeypatch.setattr(views, "connections", dead)
    try:
        with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
            response = client.get("/healthz")
    finally:
        dead.close_all()
    assert response.status_code == 503
    assert response.json() == {"database": "error: OperationalError", "broker": "error: OperationalError",
                               "reminders": "unknown"}


def test_it_needs_no_login_and_is_not_redirected_to_https():
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        health = client.get("/healthz")
        other = client.get("/i18n/setlang/")
    assert health.status_code == 200
    # The rest of the site is still redirected to HTTPS.
    assert other.status_code == 301
    assert other["Location"].startswith("https://")


def test_it_refuses_writes(client):
    response = client.post("/healthz")
    assert response.status_code == 405


def reminder_row(day, **fields):
    return Reminder.objects.create(recipient="clerk@example.com", kind="overdue", period="2022-05",
                                   day=datetime.date(2022, 6, day), **fields)


def test_it_reports_reminders_degraded_with_counts_and_still_answers_200(client, settings):
    settings.CELERY_BROKER_URL = ""
    now = timezone.now()
    minutes = datetime.timedelta(minutes=1)
    reminder_row(9, status="sending", attempts=1, lease_until=now - minutes)  # its worker died
    reminder_row(10, status="sending", attempts=1, lease_until=now + minutes)  # being sent: fine
    reminder_row(13, status="pending", created_at=now - 60 * minutes)  # nobody took it
    reminder_row(14, status="failed", attempts=1)
    reminder_row(15, status="failed", attempts=1, created_at=now - datetime.timedelta(days=8))  # long ago
    reminder_row(16, status="retry", attempts=3, next_attempt_at=now + minutes)
    reminder_row(17, status="sent", attempts=4)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "not configured", "reminders": "degraded",
                               "reminder_counts": {"stuck": 2, "failed": 1, "many_attempts": 1},
                               "robot_counts": NONE_NEED_ATTENTION}


def test_it_counts_the_reminders_in_one_query(client, settings, django_assert_num_queries):
    settings.CELERY_BROKER_URL = ""
    reminder_row(14, status="failed", attempts=1)
    with django_assert_num_queries(3):  # SELECT 1, then the counts of emails and of robot messages
        response = client.get("/healthz")
    assert response.json()["reminder_counts"] == {"stuck": 0, "failed": 1, "many_attempts": 0}


def test_it_reports_robot_messages_needing_attention_as_it_does_emails(client, settings):
    from tests.factories import make_user

    settings.CELERY_BROKER_URL = ""
    now = timezone.now()
    minutes = datetime.timedelta(minutes=1)
    user = make_user("robot_owner")
    robot = Webhook.objects.create(user=user, kind="wecom", url="http://127.0.0.1:9/hook")
    sent = reminder_row(9, status="sent", attempts=1, user=user)
    also = reminder_row(10, status="sent", attempts=1, user=user)
    third = reminder_row(13, status="sent", attempts=1, user=user)
    WebhookDelivery.objects.create(reminder=sent, webhook=robot, status="sending", attempts=1,
                                   lease_until=now - minutes)  # its worker died
    WebhookDelivery.objects.create(reminder=also, webhook=robot, status="failed", attempts=1)
    WebhookDelivery.objects.create(reminder=third, webhook=robot, status="retry", attempts=3)

    body = client.get("/healthz").json()

    assert body["reminders"] == "degraded" and body["reminder_counts"] == NONE_NEED_ATTENTION
    assert body["robot_counts"] == {"stuck": 1, "failed": 1, "many_attempts": 1}
