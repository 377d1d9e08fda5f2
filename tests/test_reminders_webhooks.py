"""Reminders on WeCom and DingTalk group robots, against a robot server on the loopback that answers as they do.

May 2022's figures are due on 8 June; on 2 June (due soon) a clerk owing one is reminded.
"""

import base64
import datetime
import hashlib
import hmac
import json
import threading
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership, Profile
from tracker.reminders import delivery, webhooks
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery
from tracker.reminders.sweep import sweep

pytestmark = pytest.mark.django_db
Status = Reminder.Status
SECRET = "SEC0123456789abcdef"


class Robot:
    """A loopback HTTP server answering with the next scripted (HTTP status, JSON) pair, then {"errcode": 0}."""

    def __init__(self):
        self.answers, self.received = [], []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                robot.received.append((self.path, query, body))
                code, answer = robot.answers.pop(0) if robot.answers else (200, {"errcode": 0, "errmsg": "ok"})
                if self.path.startswith("/dingtalk") and not robot.signature_ok(query):
                    code, answer = 200, {"errcode": 310000, "errmsg": "sign not match"}
                data = json.dumps(answer).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def signature_ok(query):
        """DingTalk's own check: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
        timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
        return sign == base64.b64encode(digest).decode()


@pytest.fixture
def robot():
    server = Robot()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def clerk():
    plan = make_plan(2022)
    unit = make_unit("office", name="运行监测科")
    make_target(plan=plan, lead_unit=unit, code="T-FIRMS", name="新增规上企业", name_en="New firms",
                target_value=Decimal("80"))
    user = make_user("alice", unit, Membership.Role.CLERK)
    return user


def run(day=datetime.date(2022, 6, 2)):
    return sweep(today=day, deliver=delivery.deliver)


def test_it_sends_the_digest_to_the_units_wecom_robot_as_markdown(robot, clerk):
    Webhook.objects.create(unit=clerk.memberships.get().unit, kind="wecom", url=f"{robot.url}/wecom")
    run()
    (message,) = WebhookDelivery.objects.all()
    assert message.status == Status.SENT and message.attempts == 1
    (_path, _query, body), = robot.received
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["content"].startswith("### ") and "T-FIRMS 新增规上企业" in body["markdown"]["content"]


def test_it_writes_in_the_persons_language(robot, clerk):
    Profile.objects.create(user=clerk, language="en")
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    run()
    assert "T-FIRMS New firms" in robot.received[0][2]["markdown"]["content"]


def test_it_claims_each_message_once_however_often_the_sweep_runs(robot, clerk):
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    run()
    run()
    assert WebhookDelivery.objects.count() == 1 and len(robot.received) == 1


def test_it_signs_dingtalk_messages_and_fails_on_a_wrong_secret(robot, clerk):
    Webhook.objects.create(user=clerk, kind="dingtalk", url=f"{robot.url}/dingtalk?access_token=x", secret=SECRET)
    run()
    message = WebhookDelivery.objects.get()
    assert message.status == Status.SENT
    path, query, body = robot.received[0]
    assert query["access_token"] == ["x"] and body["markdown"]["title"] and body["markdown"]["text"]
    robot_row = Webhook.objects.get()
    robot_row.secret = "SECwrong"
    robot_row.save()
    Reminder.objects.all().delete()
    run()
    message = WebhookDelivery.objects.get()
    assert message.status == Status.FAILED and "310000" in message.error


@pytest.mark.parametrize("kind, answer", [
    ("wecom", (200, {"errcode": 45009, "errmsg": "api freq out of limit"})),
    ("dingtalk", (200, {"errcode": 130101, "errmsg": "send too fast"})),
    ("wecom", (502, {"errcode": -1})),
])
def test_it_retries_temporary_failures_then_sends(robot, clerk, kind, answer):
    secret = SECRET if kind == "dingtalk" else ""
    Webhook.objects.create(user=clerk, kind=kind, url=f"{robot.url}/{kind}", secret=secret)
    robot.answers.append(answer)
    run()
    message = WebhookDelivery.objects.get()
    assert message.status == Status.RETRY and message.next_attempt_at is not None
    assert webhooks.deliver_due(now=message.next_attempt_at + datetime.timedelta(seconds=1)) == 1
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2


def test_it_fails_a_message_the_robot_refuses(robot, clerk):
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    robot.answers.append((200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    run()
    message = WebhookDelivery.objects.get()
    assert message.status == Status.FAILED and "93000" in message.error


def test_it_retries_when_the_robot_cannot_be_reached(clerk):
    Webhook.objects.create(user=clerk, kind="wecom", url="http://127.0.0.1:9/wecom")  # nothing listens
    run()
    assert WebhookDelivery.objects.get().status == Status.RETRY


def test_it_sends_at_most_20_messages_a_minute_to_one_robot(robot, clerk):
    robot_row = Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    run()
    reminder = Reminder.objects.get()
    now = timezone.now()
    for n in range(24):
        clone = Reminder.objects.create(user=clerk, kind=Reminder.Kind.DIGEST, period="2022-05",
                                        day=datetime.date(2022, 7, 1) + datetime.timedelta(days=n),
                                        subject=reminder.subject, body_text=reminder.body_text)
        WebhookDelivery.objects.create(reminder=clone, webhook=robot_row, title="t", markdown="m")
    webhooks.deliver_due(now=now)
    assert len(robot.received) == 20  # the first message and 19 more; 5 wait for the minute to pass
    waiting = WebhookDelivery.objects.filter(status=Status.RETRY)
    assert waiting.count() == 5 and all(m.attempts == 0 and m.next_attempt_at > now for m in waiting)
    webhooks.deliver_due(now=now + datetime.timedelta(seconds=61))
    assert len(robot.received) == 25
    assert WebhookDelivery.objects.filter(status=Status.SENT).count() == 25


def _submit_the_figure(clerk, day=datetime.date(2022, 6, 2)):
    from tests.factories import make_entry
    from tracker.targets.models import ProgressEntry, Target

    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    make_entry(Target.objects.get(code="T-FIRMS"), 5, Decimal("40"), state=ProgressEntry.State.SUBMITTED,
               submitted_at=moment, entered_by=clerk)


def test_it_skips_a_robot_message_whose_figures_arrive_between_the_claim_and_the_send_as_emails_do(robot, clerk):
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    sweep(today=datetime.date(2022, 6, 2))  # claims the email and the robot message, sends nothing
    _submit_the_figure(clerk)
    reminder = Reminder.objects.get()
    assert delivery.deliver(reminder.pk, 1) == Status.SKIPPED
    assert webhooks.deliver_due() == 1
    message = WebhookDelivery.objects.get()
    assert message.status == Status.SKIPPED and message.error and robot.received == []


def test_it_still_sends_what_is_missing_when_the_figures_are_not_all_in(robot, clerk):
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    sweep(today=datetime.date(2022, 6, 2))
    webhooks.deliver_due()
    assert WebhookDelivery.objects.get().status == Status.SENT and len(robot.received) == 1


def test_it_numbers_each_message_and_marks_a_resend_after_an_interrupted_send(robot, clerk):
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    sweep(today=datetime.date(2022, 6, 2))
    reminder = Reminder.objects.get()
    message = WebhookDelivery.objects.get()
    assert f"R{reminder.pk}" in message.markdown
    # A worker took it and died mid-send: the row stays "sending" until its lease runs out.
    now = timezone.now()
    WebhookDelivery.objects.update(status=Status.SENDING, attempts=1, attempted_at=now - datetime.timedelta(hours=1),
                                   lease_until=now - datetime.timedelta(seconds=1))
    assert webhooks.deliver_due(now=now) == 1
    message.refresh_from_db()
    assert message.status == Status.SENT and message.attempts == 2
    text = robot.received[0][2]["markdown"]["content"]
    assert text.startswith("> ") and text.count(f"R{reminder.pk}") == 2  # the resend note and the number


def test_it_fails_a_message_whose_last_attempt_was_interrupted_as_emails_do(robot, clerk):
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    sweep(today=datetime.date(2022, 6, 2))
    now = timezone.now()
    WebhookDelivery.objects.update(status=Status.SENDING, attempts=delivery.MAX_ATTEMPTS,
                                   lease_until=now - datetime.timedelta(seconds=1))
    assert webhooks.deliver_due(now=now) == 1
    message = WebhookDelivery.objects.get()
    assert message.status == Status.FAILED and message.lease_until is None and robot.received == []


def test_it_pauses_a_dingtalk_robot_for_ten_minutes_after_it_says_too_fast(robot, clerk):
    robot_row = Webhook.objects.create(user=clerk, kind="dingtalk", url=f"{robot.url}/dingtalk", secret=SECRET)
    robot.answers.append((200, {"status": 1111, "wait": 5, "errcode": 130101,
                                "errmsg": "send too fast, exceed 20 times per minute"}))
    now = timezone.now()
    run()
    first = WebhookDelivery.objects.get()
    other = Reminder.objects.create(user=clerk, kind=Reminder.Kind.DIGEST, period="2022-05",
                                    day=datetime.date(2022, 7, 1), subject="s", body_text="b")
    second = WebhookDelivery.objects.create(reminder=other, webhook=robot_row, title="t", markdown="m")
    robot_row.refresh_from_db()
    assert robot_row.throttled_until >= now + datetime.timedelta(minutes=10)
    first.refresh_from_db()
    assert first.status == Status.RETRY and first.next_attempt_at >= robot_row.throttled_until
    webhooks.deliver_due(now=now + datetime.timedelta(minutes=5))
    assert len(robot.received) == 1  # nothing goes to the robot while it is paused
    second.refresh_from_db()
    assert second.status == Status.RETRY and second.attempts == 0
    assert second.next_attempt_at == robot_row.throttled_until
    webhooks.deliver_due(now=robot_row.throttled_until + datetime.timedelta(seconds=1))
    assert len(robot.received) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_it_pauses_a_wecom_robot_for_the_minute_after_45009(robot, clerk):
    robot_row = Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    robot.answers.append((200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    now = timezone.now()
    run()
    robot_row.refresh_from_db()
    assert now + datetime.timedelta(seconds=59) <= robot_row.throttled_until <= timezone.now() + WINDOW_AND_A_BIT


WINDOW_AND_A_BIT = datetime.timedelta(seconds=61)


def test_it_sends_to_the_persons_robot_even_without_an_email_address(robot, clerk):
    clerk.email = ""
    clerk.save()
    Webhook.objects.create(user=clerk, kind="wecom", url=f"{robot.url}/wecom")
    run()
    assert Reminder.objects.get().status == Status.FAILED  # the email cannot go
    assert WebhookDelivery.objects.get().status == Status.SENT and len(robot.received) == 1


def test_it_stores_the_signing_secret_encrypted_and_fails_clearly_when_it_cannot_be_read(robot, clerk, settings):
    robot_row = Webhook.objects.create(user=clerk, kind="dingtalk", url=f"{robot.url}/dingtalk", secret=SECRET)
    stored = Webhook.objects.values_list("secret", flat=True).get()
    assert SECRET not in stored and stored.startswith("fernet:") and robot_row.plain_secret() == SECRET
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-key-" + "k" * 50
    assert Webhook.objects.get().plain_secret() == SECRET  # a rotated key still reads it through the fallback
    settings.SECRET_KEY_FALLBACKS = []
    run()
    message = WebhookDelivery.objects.get()
    assert message.status == Status.FAILED and "SECRET_KEY" in message.error and robot.received == []
