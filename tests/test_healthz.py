"""/healthz: the database and, when configured, the broker; 200 or 503 with a JSON body."""

import pytest
from django.db.utils import ConnectionHandler
from django.test import Client, override_settings

from tracker.ops import views

pytestmark = pytest.mark.django_db

# Nothing listens on port 1 of the loopback: connections are refused at once.
DEAD_BROKER = "redis://:s3cr3t-broker-pw@127.0.0.1:1/0"


def test_it_answers_200_without_a_broker(client, settings):
    settings.CELERY_BROKER_URL = ""  # the embedded default (CI's second run configures Redis)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "broker": "not configured"}
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_200_when_the_broker_answers(client, redis_url):
    with override_settings(CELERY_BROKER_URL=redis_url):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_it_answers_503_when_the_broker_is_down_without_leaking_the_url(client):
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "error: OperationalError"}
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
    assert response.json() == {"database": "error: OperationalError", "broker": "not configured"}
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
    assert response.json() == {"database": "error: OperationalError", "broker": "error: OperationalError"}


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
