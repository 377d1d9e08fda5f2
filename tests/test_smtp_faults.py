"""SMTP answers at each stage against a real server on the loopback: 4xx and dropped connections are retried with
backoff, 5xx fails the email; greylisting then a busy server still delivers every reminder exactly once."""

import datetime
import smtplib
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import make_plan, make_target, make_unit, make_user
from tests.smtp_faults import FaultyInbox, FaultyServer, SilentServer, free_port, smtp_mailers
from tracker.accounts.models import Membership
from tracker.reminders import delivery
from tracker.reminders.models import Reminder
from tracker.reminders.sweep import sweep

pytestmark = pytest.mark.django_db

DUE_DAY = datetime.date(2022, 6, 8)  # May 2022's figures are due that day
EXCEPTION_AT = {
    "connect": "SMTPConnectError", "helo": "SMTPHeloError", "mail": "SMTPSenderRefused",
    "rcpt": "SMTPRecipientsRefused", "data": "SMTPDataError",
}


def make_clerks(count):
    unit = make_unit("faults-office", name="运行监测科")
    make_target(plan=make_plan(2022), lead_unit=unit, code="T-FAULTS", name="新增企业", target_value=Decimal("80"))
    return [make_user(f"clerk{n}", unit, Membership.Role.CLERK) for n in range(count)]


def claim_one():
    (clerk,) = make_clerks(1)
    sweep(today=DUE_DAY)  # claims the due-today email, sends nothing
    return Reminder.objects.get(user=clerk)


@pytest.mark.parametrize("stage", list(EXCEPTION_AT))
@pytest.mark.parametrize("reply, status", [
    ("421 4.3.2 Service not available, closing channel", "retry"),
    ("451 4.7.1 Greylisted, please try again later", "retry"),
    ("554 5.7.1 Rejected", "failed"),
])
def test_it_retries_a_4xx_answer_and_fails_on_a_5xx_one_at_each_smtp_stage(settings, stage, reply, status):
    reminder = claim_one()
    with FaultyServer(FaultyInbox([(stage, reply)])) as server:
        settings.MAILERS = smtp_mailers(server.port)

        assert delivery.deliver(reminder.pk, 1) == status

        reminder.refresh_from_db()
        assert reminder.error.startswith(f"{EXCEPTION_AT[stage]}: ")
        assert reply.split()[1] in reminder.error  # the enhanced status code the server gave
        assert (reminder.attempts, reminder.lease_until, reminder.sent_at) == (1, None, None)
        if status == "retry":
            assert reminder.next_attempt_at > timezone.now() + datetime.timedelta(seconds=55)
            assert delivery.deliver(reminder.pk, 2) == "sent"
            assert server.handler.message_ids() == [reminder.message_id]
        else:
            assert reminder.next_attempt_at is None
            assert delivery.deliver(reminder.pk, 2) is None  # failed for good
            assert server.handler.received == []


def test_it_retries_when_the_server_refuses_the_connection_or_never_answers(settings):
    reminder = claim_one()
    settings.MAILERS = smtp_mailers(free_port())  # nothing listens there
    assert delivery.deliver(reminder.pk, 1) == "retry"
    reminder.refresh_from_db()
    assert reminder.error.startswith("ConnectionRefusedError: ")

    with SilentServer() as silent:
        settings.MAILERS = smtp_mailers(silent.port, timeout=0.3)
        assert delivery.deliver(reminder.pk, 2) == "retry"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("retry", 2)
    # smtplib reports a greeting that never comes as a dropped connection.
    assert reminder.error == "SMTPServerDisconnected: Connection unexpectedly closed: timed out"


def test_it_reads_the_code_of_each_refused_recipient():
    refused = smtplib.SMTPRecipientsRefused
    assert delivery.is_temporary(refused({"a@example.com": (451, b"4.7.1 Greylisted")}))
    assert delivery.is_temporary(refused({"a@example.com": (421, b"4.3.2 Closing")}))
    assert not delivery.is_temporary(refused({"a@example.com": (550, b"5.1.1 No such user")}))
    assert not delivery.is_temporary(refused({"a@example.com": (451, b"later"), "b@example.com": (550, b"no")}))
    assert delivery.is_temporary(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    assert delivery.is_temporary(TimeoutError("timed out"))
    assert not delivery.is_temporary(smtplib.SMTPNotSupportedError("SMTPUTF8 not supported"))
    assert not delivery.is_temporary(ValueError("Invalid address"))


def test_greylisting_then_a_busy_server_then_acceptance_delivers_every_reminder_exactly_once(settings):
    clerks = make_clerks(4)
    # Every conversation of the first round is greylisted at RCPT, the second is refused at connect, the third
    # at MAIL (both 421, "closing channel"); after that the server accepts.
    script = ([("rcpt", "451 4.7.1 Greylisted, please try again later")] * 4
              + [("connect", "421 4.3.2 Too many connections")] * 4
              + [("mail", "421 4.3.2 Service not available, closing channel")] * 4)
    with FaultyServer(FaultyInbox(script)) as server:
        settings.MAILERS = smtp_mailers(server.port)
        now = timezone.now()
        sweep(today=DUE_DAY, deliver=delivery.deliver, now=now)
        for _round in range(6):  # more rounds than needed: nothing is sent twice
            rows = Reminder.objects.filter(status="retry")
            if rows:
                now = max(r.next_attempt_at for r in rows)  # the clock moved past every backoff
            sweep(today=DUE_DAY, deliver=delivery.deliver, now=now)

        received = server.handler.received
        assert server.handler.conversations == 16
    assert Counter(r.to for r in received) == {(c.email,): 1 for c in clerks}
    rows = Reminder.objects.filter(user__in=clerks)
    assert {(r.status, r.attempts, r.error) for r in rows} == {("sent", 4, "")}
    assert {r.message_id for r in received} == {r.message_id for r in rows}
