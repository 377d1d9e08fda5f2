"""Reminders on WeCom and DingTalk group robots, claimed and sent like the emails.

`claim_for(reminder)` inserts one `WebhookDelivery` per active robot of the person and of their units (unique per
reminder and robot, so a second sweep claims nothing). `deliver(delivery_id, attempt)` takes the row by the same
compare-and-set on (status, attempts, lease) as emails (tracker.reminders.delivery), after counting the robot's
calls in the last minute under a row lock on the robot (WeCom and DingTalk allow 20 a minute): a robot at its limit
leaves the row waiting until a slot frees. HTTP 5xx and 429, timeouts and refused connections, WeCom 45009 and
DingTalk 130101 (both "too fast") are temporary and retried with the emails' backoff; other error codes (WeCom
93000 "invalid webhook", DingTalk 310000 "signature failed") fail the message.
"""

import base64
import datetime
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from tracker.reminders import recovery
from tracker.reminders.delivery import MAX_ATTEMPTS, retry_delay
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)
Status = Reminder.Status
WINDOW = datetime.timedelta(seconds=60)
TEMPORARY_CODES = {Webhook.Kind.WECOM: {45009, -1}, Webhook.Kind.DINGTALK: {130101, -1}}


def rate_limit():
    return getattr(settings, "REMINDER_WEBHOOK_PER_MINUTE", 20)


def timeout():
    return getattr(settings, "REMINDER_WEBHOOK_TIMEOUT", 10)


class Temporary(Exception):
    pass


def robots_of(user):
    unit_ids = user.memberships.values("unit_id")
    return Webhook.objects.filter(Q(user=user) | Q(unit_id__in=unit_ids), active=True)


def markdown_of(reminder):
    """The digest as Markdown: its subject as the heading, then the same text as the email, in its language."""
    lines = [f"### {reminder.subject}", ""]
    lines += [line.rstrip() for line in reminder.body_text.splitlines()]
    return "\n".join(lines).strip() + "\n"


def claim_for(reminder):
    """Claim a message for each of the reminder's robots; returns the rows claimed now."""
    if reminder.user is None or reminder.status == Status.FAILED:
        return []
    claimed = []
    for robot in robots_of(reminder.user):
        try:
            with transaction.atomic():
                claimed.append(WebhookDelivery.objects.create(
                    reminder=reminder, webhook=robot, title=reminder.subject, markdown=markdown_of(reminder)))
        except IntegrityError:
            continue
    return claimed


def signed_url(url, secret, now_ms=None):
    """DingTalk's signing: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, URL-encoded."""
    if not secret:
        return url
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def payload(robot, title, markdown):
    if robot.kind == Webhook.Kind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    return {"msgtype": "markdown", "markdown": {"content": markdown}}


def post(robot, title, markdown):
    """Send one message; raises Temporary for what may succeed later, ValueError for a refusal."""
    url = signed_url(robot.url, robot.secret) if robot.kind == Webhook.Kind.DINGTALK else robot.url
    body = json.dumps(payload(robot, title, markdown), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout()) as response:  # noqa: S310 - an https/http URLField
            answer = response.read(65536)
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise Temporary(f"HTTP {exc.code}") from None
        raise ValueError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise Temporary(f"{type(exc).__name__}: {exc}") from None
    try:
        data = json.loads(answer)
        code = int(data.get("errcode", -1))
    except (ValueError, AttributeError, TypeError):
        raise Temporary(f"unexpected answer: {answer[:200]!r}") from None
    if code == 0:
        return
    message = f"errcode {code}: {data.get('errmsg', '')}"
    if code in TEMPORARY_CODES[robot.kind]:
        raise Temporary(message)
    raise ValueError(message)


def _take(delivery_id, attempt, now):
    """Take the row for this attempt if the robot has a free slot this minute; (attempt taken | None, wait)."""
    with transaction.atomic():
        row = WebhookDelivery.objects.filter(pk=delivery_id).values_list("webhook_id", flat=True).first()
        if row is None:
            return None, None
        Webhook.objects.select_for_update().filter(pk=row).first()  # one sender counts a robot's minute at a time
        rows = WebhookDelivery.objects.filter(pk=delivery_id)
        waiting = Q(status__in=(Status.PENDING, Status.RETRY), attempts=attempt - 1)
        interrupted = recovery.lease_expired(now) & Q(attempts__in=(attempt - 1, attempt), attempts__lt=MAX_ATTEMPTS)
        if not rows.filter(waiting | interrupted).exists():
            return None, None
        recent = list(WebhookDelivery.objects.filter(webhook_id=row, attempted_at__gt=now - WINDOW)
                      .order_by("attempted_at").values_list("attempted_at", flat=True)[:rate_limit()])
        if len(recent) >= rate_limit():
            wait_until = recent[0] + WINDOW
            rows.filter(waiting).update(status=Status.RETRY, next_attempt_at=wait_until)
            return None, wait_until
        rows.filter(waiting | interrupted).update(
            status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, attempted_at=now,
            lease_until=now + recovery.lease())
        return rows.values_list("attempts", flat=True).get(), None


def _finish(delivery_id, attempt, **fields):
    WebhookDelivery.objects.filter(pk=delivery_id, status=Status.SENDING, attempts=attempt).update(
        lease_until=None, **fields)
    return fields["status"]


def deliver(delivery_id, attempt, now=None):
    """Send one claimed robot message; returns the new status, or None if it is not this attempt's to send."""
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        taken, wait_until = _take(delivery_id, attempt, now)
        if taken is None:
            return Status.RETRY if wait_until else None
        row = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
        try:
            post(row.webhook, row.title, row.markdown)
        except Temporary as exc:
            if taken < MAX_ATTEMPTS:
                logger.warning("Webhook message %s failed (attempt %s), will retry: %s", delivery_id, taken, exc)
                return _finish(delivery_id, taken, status=Status.RETRY, error=str(exc),
                               next_attempt_at=now + retry_delay(taken))
            return _finish(delivery_id, taken, status=Status.FAILED, error=str(exc))
        except Exception as exc:  # a refusal (bad address, bad signature) or anything unexpected
            logger.error("Webhook message %s failed for good: %s", delivery_id, exc)
            return _finish(delivery_id, taken, status=Status.FAILED, error=str(exc))
        return _finish(delivery_id, taken, status=Status.SENT, sent_at=timezone.now(), error="")


def deliver_due(now=None):
    """Send what is waiting: new claims, retries whose time has come, sends whose worker died. Returns a count."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__isnull=True)
        | Q(status__in=(Status.PENDING, Status.RETRY), next_attempt_at__lte=now)
        | recovery.lease_expired(now)
    ).order_by("pk").values_list("pk", "attempts")
    return sum(1 for pk, attempts in due if deliver(pk, attempts + 1, now) is not None)
