"""Delivery failures: retried with backoff then recorded; refused addresses recorded at once; a real SMTP server."""

import datetime
import email
import email.policy
import smtplib
import socket
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership, Profile
from tracker.reminders import delivery
from tracker.reminders.models import Reminder
from tracker.reminders.sweep import sweep

pytestmark = pytest.mark.django_db

DUE_DAY = datetime.date(2022, 6, 8)  # May 2022's figures are due that day


@pytest.fixture
def clerk():
    unit = make_unit("smtp-office", name="运行监测科", name_en="Operations section")
    make_target(plan=make_plan(2022), lead_unit=unit, code="T-SMTP", name="新增企业", name_en="New firms",
                target_value=Decimal("80"))
    user = make_user("sam", unit, Membership.Role.CLERK)
    Profile.objects.create(user=user, language="en")
    return user


class FailingBackend(BaseEmailBackend):
    """Fails every send on purpose, the way a dropped SMTP connection does."""

    calls = 0
    error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    def send_messages(self, messages):
        FailingBackend.calls += 1
        raise FailingBackend.error


@pytest.fixture
def failing_mailer(settings):
    FailingBackend.calls = 0
    settings.MAILERS = {"default": {"BACKEND": "tests.test_smtp.FailingBackend"}}
    return FailingBackend


def test_the_backoff_doubles_from_a_minute_up_to_an_hour():
    assert [delivery.retry_delay(n).total_seconds() for n in range(1, 9)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_failing_send_is_retried_with_backoff_then_recorded_as_failed(clerk, failing_mailer):
    started = timezone.now()
    sweep(today=DUE_DAY, deliver=delivery.deliver)

    reminder = Reminder.objects.get(user=clerk)
    assert (reminder.status, reminder.attempts, failing_mailer.calls) == ("retry", 1, 1)
    assert reminder.error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert started + datetime.timedelta(seconds=60) <= reminder.next_attempt_at
    assert reminder.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=60)

    # A sweep before the retry time leaves it alone (and claims nothing new for the same day).
    sweep(today=DUE_DAY, deliver=delivery.deliver)
    assert failing_mailer.calls == 1

    for attempt in (2, 3, 4, 5):
        before = timezone.now()
        sweep(today=DUE_DAY, deliver=delivery.deliver, now=reminder.next_attempt_at)
        reminder.refresh_from_db()
        assert (reminder.attempts, failing_mailer.calls) == (attempt, attempt)
        if attempt < delivery.MAX_ATTEMPTS:
            assert reminder.status == "retry"
            assert reminder.next_attempt_at >= before + delivery.retry_delay(attempt)

    assert reminder.status == "failed"
    assert reminder.error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert reminder.next_attempt_at is None and reminder.sent_at is None
    sweep(today=DUE_DAY, deliver=delivery.deliver, now=timezone.now() + datetime.timedelta(days=1))
    assert failing_mailer.calls == delivery.MAX_ATTEMPTS  # failed for good: not tried again


def test_a_refused_address_is_recorded_without_retrying(clerk, failing_mailer):
    failing_mailer.error = smtplib.SMTPRecipientsRefused({"sam@example.com": (550, b"5.1.1 No such user")})
    try:
        sweep(today=DUE_DAY, deliver=delivery.deliver)
    finally:
        failing_mailer.error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    reminder = Reminder.objects.get(user=clerk)
    assert (reminder.status, reminder.attempts, failing_mailer.calls) == ("failed", 1, 1)
    assert reminder.error.startswith("SMTPRecipientsRefused: ")
    assert "No such user" in reminder.error


def test_a_second_delivery_of_the_same_task_sends_nothing(clerk, mailoutbox):
    sweep(today=DUE_DAY)  # claim only
    reminder = Reminder.objects.get(user=clerk)

    assert delivery.deliver(reminder.pk, 1) == "sent"
    assert delivery.deliver(reminder.pk, 1) is None  # a redelivered or duplicated task
    assert len(mailoutbox) == 1


class Inbox:
    """An aiosmtpd handler: keeps what it accepts; can refuse a recipient or fail the first DATA."""

    def __init__(self):
        self.messages = []
        self.refuse = set()
        self.fail_next_data = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_next_data:
            self.fail_next_data = False
            return "451 4.3.0 Try again later"
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
    }}
    yield inbox
    controller.stop()


def test_a_reminder_goes_through_a_real_smtp_server_on_loopback(clerk, smtp_server):
    sweep(today=DUE_DAY, deliver=delivery.deliver)

    assert Reminder.objects.get(user=clerk).status == "sent"
    ((recipients, raw),) = smtp_server.messages
    assert recipients == ["sam@example.com"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "sam@example.com"
    assert message["From"] == "tracker@localhost"
    assert message["Subject"] == "[Target tracker] Due today: 1 figure to submit"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "T-SMTP New firms: deadline 2022-06-08, due today" in text
    assert "<td style=\"padding: 2px 8px;\">T-SMTP New firms</td>" in html


def test_a_temporary_smtp_error_is_retried_and_then_delivered_once(clerk, smtp_server):
    smtp_server.fail_next_data = True
    sweep(today=DUE_DAY, deliver=delivery.deliver)
    reminder = Reminder.objects.get(user=clerk)
    assert (reminder.status, reminder.attempts) == ("retry", 1)
    assert reminder.error.startswith("SMTPDataError: (451")
    assert smtp_server.messages == []

    sweep(today=DUE_DAY, deliver=delivery.deliver, now=reminder.next_attempt_at)

    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.error) == ("sent", 2, "")
    assert len(smtp_server.messages) == 1


def test_a_recipient_refused_by_the_server_is_recorded_and_not_retried(clerk, smtp_server):
    smtp_server.refuse.add("sam@example.com")
    sweep(today=DUE_DAY, deliver=delivery.deliver)
    sweep(today=DUE_DAY, deliver=delivery.deliver, now=timezone.now() + datetime.timedelta(days=1))

    reminder = Reminder.objects.get(user=clerk)
    assert (reminder.status, reminder.attempts) == ("failed", 1)
    assert reminder.error.startswith("SMTPRecipientsRefused: ")
    assert smtp_server.messages == []
