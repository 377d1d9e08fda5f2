"""Reminders on WeCom and DingTalk group robots, claimed and sent like the emails.

`claim_for(reminder)` inserts one `WebhookDelivery` per active robot of the person and of their units (unique per
reminder and robot, so a second sweep claims nothing). `deliver(delivery_id, attempt)` takes the row by the same
compare-and-set on (status, attempts, lease) as emails (tracker.reminders.delivery), after counting the robot's
calls in the last minute under a row lock on the robot (WeCom and DingTalk allow 20 a minute): a robot at its limit
leaves the row waiting until a slot frees.

As with emails: a message chasing figures is skipped when they were all submitted before it went out; a send
whose worker died is taken back when its lease runs out and sent again, marked as a resend of the same reminder
number (robots have no Message-ID), and one interrupted at the last attempt fails rather than loop.

Answers: HTTP 5xx and 429, timeouts and refused connections, errcode -1 ("system busy") are temporary and retried
with the emails' backoff. "Too fast" (WeCom 45009 "api freq out of limit"; DingTalk 130101 "send too fast, exceed
20 times per minute", after which DingTalk blocks the robot for 10 minutes) is temporary too, and pauses every
message to that robot for the minute (WeCom) or the 10 minutes (DingTalk). Other error codes (WeCom 93000 "invalid
webhook url", DingTalk 310000 "sign not match" / keywords / IP not allowed, 300001 "token is not exist") fail.
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
from django.utils.translation import gettext as _

from tracker.reminders import recovery, secrets
from tracker.reminders.delivery import CHASE_KINDS, MAX_ATTEMPTS, retry_delay, still_missing
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery

logger = logging.getLogger(__name__)
Status = Reminder.Status
WINDOW = datetime.timedelta(seconds=60)
TEMPORARY_CODES = {Webhook.Kind.WECOM: {45009, -1}, Webhook.Kind.DINGTALK: {130101, -1}}
# "Too fast": how long the robot takes no message after saying so.
THROTTLED = {(Webhook.Kind.WECOM, 45009): datetime.timedelta(minutes=1),
             (Webhook.Kind.DINGTALK, 130101): datetime.timedelta(minutes=10)}


def rate_limit():
    return getattr(settings, "REMINDER_WEBHOOK_PER_MINUTE", 20)


def timeout():
    return getattr(settings, "REMINDER_WEBHOOK_TIMEOUT", 10)


class Temporary(Exception):
    def __init__(self, message, pause=None):
        super().__init__(message)
        self.pause = pause  # the robot asked us to slow down: nothing goes to it for this long


def robots_of(user):
    unit_ids = user.memberships.values("unit_id")
    return Webhook.objects.filter(Q(user=user) | Q(unit_id__in=unit_ids), active=True)


def reference(reminder_id):
    return f"R{reminder_id}"


def markdown_of(reminder):
    """The digest as Markdown: its subject as the heading, then the same text as the email, and its number."""
    lines = [f"### {reminder.subject}", ""]
    lines += [line.rstrip() for line in reminder.body_text.splitlines()]
    with translation.override(reminder.language or settings.LANGUAGE_CODE):
        lines += ["", "> " + _("Reminder no. %(ref)s") % {"ref": reference(reminder.pk)}]
    return "\n".join(lines).strip() + "\n"


def resent(markdown, reminder):
    """The message marked as a resend: the earlier attempt was interrupted and may have reached the group."""
    with translation.override(reminder.language or settings.LANGUAGE_CODE):
        note = _("Sent again: sending reminder no. %(ref)s was interrupted, so it may have arrived already.") % {
            "ref": reference(reminder.pk)}
    return f"> {note}\n\n{markdown}"


def claim_for(reminder):
    """Claim a message for each of the reminder's robots; returns the rows claimed now.

    Robots get the digest even when the email cannot go (no or a bad address): only one that could not be
    written (no subject) is not claimed.
    """
    if reminder.user is None or not reminder.subject:
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
    url = robot.url
    if robot.kind == Webhook.Kind.DINGTALK:
        try:
            url = signed_url(robot.url, robot.plain_secret())
        except secrets.Unreadable as exc:
            raise ValueError(_("The robot's signing secret cannot be read (%(why)s); enter it again.") % {
                "why": exc}) from None
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
        raise Temporary(message, THROTTLED.get((robot.kind, code)))
    raise ValueError(message)


def _take(delivery_id, attempt, now):
    """Take the row for this attempt if the robot has a free slot this minute.

    Returns (attempt taken or None, the time to wait for a slot or None, whether the attempt before was
    interrupted and so may have reached the group).
    """
    with transaction.atomic():
        row = WebhookDelivery.objects.filter(pk=delivery_id).values_list("webhook_id", flat=True).first()
        if row is None:
            return None, None, False
        # One sender counts a robot's minute at a time.
        paused = Webhook.objects.select_for_update().filter(pk=row).values_list("throttled_until", flat=True).first()
        rows = WebhookDelivery.objects.filter(pk=delivery_id)
        waiting = Q(status__in=(Status.PENDING, Status.RETRY), attempts=attempt - 1)
        interrupted = recovery.lease_expired(now) & Q(attempts__in=(attempt - 1, attempt), attempts__lt=MAX_ATTEMPTS)
        status = rows.filter(waiting | interrupted).values_list("status", flat=True).first()
        if status is None:
            return None, None, False
        wait_until = paused if paused is not None and paused > now else None
        if wait_until is None:
            recent = list(WebhookDelivery.objects.filter(webhook_id=row, attempted_at__gt=now - WINDOW)
                          .order_by("attempted_at").values_list("attempted_at", flat=True)[:rate_limit()])
            if len(recent) >= rate_limit():
                wait_until = recent[0] + WINDOW
        if wait_until is not None:
            rows.filter(waiting).update(status=Status.RETRY, next_attempt_at=wait_until)
            return None, wait_until, False
        rows.filter(waiting | interrupted).update(
            status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, attempted_at=now,
            lease_until=now + recovery.lease())
        return rows.values_list("attempts", flat=True).get(), None, status == Status.SENDING


def _give_up_if_interrupted_last(delivery_id, attempt, now):
    """The last allowed attempt was interrupted: a failure, as for emails, rather than a message that never ends."""
    return WebhookDelivery.objects.filter(
        recovery.lease_expired(now), pk=delivery_id, attempts__in=(attempt - 1, attempt), attempts__gte=MAX_ATTEMPTS
    ).update(status=Status.FAILED, lease_until=None, error=_(
        "The sending process stopped during the last attempt; the message may or may not have gone out.")) > 0


def _finish(delivery_id, attempt, **fields):
    WebhookDelivery.objects.filter(pk=delivery_id, status=Status.SENDING, attempts=attempt).update(
        lease_until=None, **fields)
    return fields["status"]


def deliver(delivery_id, attempt, now=None):
    """Send one claimed robot message; returns the new status, or None if it is not this attempt's to send."""
    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        taken, wait_until, again = _take(delivery_id, attempt, now)
        if taken is None:
            if wait_until:
                return Status.RETRY
            return Status.FAILED if _give_up_if_interrupted_last(delivery_id, attempt, now) else None
        row = WebhookDelivery.objects.select_related("webhook", "reminder").get(pk=delivery_id)
        reminder = row.reminder
        try:
            if reminder.kind in CHASE_KINDS and not still_missing(reminder):
                return _finish(delivery_id, taken, status=Status.SKIPPED,
                               error=_("All figures were submitted before the message went out."))
            post(row.webhook, row.title, resent(row.markdown, reminder) if again else row.markdown)
        except Temporary as exc:
            next_at = now + retry_delay(taken)
            if exc.pause is not None:
                paused_until = now + exc.pause
                Webhook.objects.filter(pk=row.webhook_id).update(throttled_until=paused_until)
                next_at = max(next_at, paused_until)
            if taken < MAX_ATTEMPTS:
                logger.warning("Webhook message %s failed (attempt %s), will retry: %s", delivery_id, taken, exc)
                return _finish(delivery_id, taken, status=Status.RETRY, error=str(exc), next_attempt_at=next_at)
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
