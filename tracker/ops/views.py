"""Operational endpoints for load balancers and monitoring."""

import logging

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from tracker.reminders import recovery
from tracker.reminders.models import WebhookDelivery

logger = logging.getLogger(__name__)

# A health check must answer quickly even when the broker host is unreachable.
BROKER_TIMEOUT_SECONDS = 2


def check_database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker(url):
    timeout = getattr(settings, "HEALTHZ_BROKER_TIMEOUT", BROKER_TIMEOUT_SECONDS)
    options = {
        **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
    }
    with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
        # max_retries=0: fail at the first refusal instead of kombu's default back-off.
        conn.ensure_connection(max_retries=0)


def _run(name, check, *args):
    try:
        check(*args)
    except Exception as exc:
        # Only the exception class goes out: messages can name hosts or users,
        # and this endpoint is unauthenticated. The details go to the log.
        logger.warning("healthz: %s check failed: %r", name, exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def check_reminders(report):
    """Adds "reminders" ("ok", or "degraded" when emails or robot messages need attention: see recovery),
    "reminder_counts" (emails) and "robot_counts" (WeCom/DingTalk messages)."""
    try:
        now = timezone.now()
        counts = recovery.attention_counts(now)
        robots = recovery.attention_counts(now, WebhookDelivery)
    except Exception as exc:
        logger.warning("healthz: reminders check failed: %r", exc)
        report["reminders"] = f"error: {type(exc).__name__}"
        return
    report["reminders"] = "degraded" if any(counts.values()) or any(robots.values()) else "ok"
    report["reminder_counts"] = counts
    report["robot_counts"] = robots


@never_cache
@require_GET
def healthz(request):
    """200 when every configured dependency answers, else 503; the JSON body says which failed.

    Reminders needing attention make "reminders": "degraded" (with counts) but not a 503: this check decides
    whether a web host takes traffic, and a stuck email is no reason to take the site down. Monitoring alerts on
    the value. Not translated on purpose: monitoring tools parse these keys and values.
    """
    report = {"database": _run("database", check_database)}
    broker_url = getattr(settings, "CELERY_BROKER_URL", "")
    if broker_url:
        report["broker"] = _run("broker", check_broker, broker_url)
    else:
        report["broker"] = "not configured"
    healthy = all(value in ("ok", "not configured") for value in report.values())
    if report["database"] == "ok":
        check_reminders(report)
    else:
        report["reminders"] = "unknown"  # the counts are in the database
    return JsonResponse(report, status=200 if healthy else 503)
