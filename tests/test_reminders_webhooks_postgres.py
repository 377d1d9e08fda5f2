"""Three senders at once on PostgreSQL deliver to one robot: each message once, at most 20 calls in the minute."""

import datetime
import threading
from collections import Counter

import pytest
from django.db import connections
from django.utils import timezone

from tests.factories import make_user
from tests.test_reminders_webhooks import Robot
from tracker.reminders import webhooks
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery

Status = Reminder.Status


@pytest.fixture
def robot():
    server = Robot()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_concurrent_senders_keep_one_robot_to_20_calls_a_minute_and_send_each_message_once(
        postgres, transactional_db, robot):
    user = make_user("pg_robot_clerk")
    robot_row = Webhook.objects.create(user=user, kind="wecom", url=f"{robot.url}/wecom")
    for n in range(30):
        reminder = Reminder.objects.create(user=user, kind=Reminder.Kind.DIGEST, period="2022-05",
                                           day=datetime.date(2022, 7, 1) + datetime.timedelta(days=n),
                                           subject=f"s{n}", body_text="b")
        WebhookDelivery.objects.create(reminder=reminder, webhook=robot_row, title=f"t{n}", markdown=f"m{n}")
    now = timezone.now()
    barrier = threading.Barrier(3)
    errors = []

    def sender():
        try:
            barrier.wait(timeout=30)
            webhooks.deliver_due(now=now)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    received = Counter(body["markdown"]["content"] for _path, _query, body in robot.received)
    assert len(robot.received) == 20 and set(received.values()) == {1}
    assert WebhookDelivery.objects.filter(status=Status.SENT).count() == 20
    assert WebhookDelivery.objects.filter(status=Status.RETRY, attempts=0).count() == 10
    webhooks.deliver_due(now=now + datetime.timedelta(seconds=61))
    assert len(robot.received) == 30 and WebhookDelivery.objects.filter(status=Status.SENT).count() == 30
