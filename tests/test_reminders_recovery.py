"""Interrupted sends: the lease, taking a row back exactly once, the same Message-ID on every attempt."""

import datetime
import email
import email.policy
import functools
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import override_settings
from django.utils import timezone

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.reminders import delivery, recovery, tasks
from tracker.reminders.models import Reminder
from tracker.reminders.sweep import sweep

pytestmark = pytest.mark.django_db

DUE_DAY = datetime.date(2022, 6, 8)  # May 2022's figures are due that day
LEASE = 30


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the worker gets to catch it or record anything."""


class DyingBackend(LocmemBackend):
    """Hands the message over (the server has it), then the worker dies before hearing back."""

    def send_messages(self, messages):
        super().send_messages(messages)
        raise WorkerKilled


class WatchingBackend(LocmemBackend):
    """Notes the reminder's state while its email is being sent."""

    seen = []

    def send_messages(self, messages):
        WatchingBackend.seen.append(Reminder.objects.values_list("status", "lease_until").get())
        return super().send_messages(messages)


@pytest.fixture
def reminder():
    unit = make_unit("rec-office", name="运行监测科")
    make_target(plan=make_plan(2022), lead_unit=unit, code="T-REC", name="新增企业", target_value=Decimal("80"))
    clerk = make_user("rec-clerk", unit, Membership.Role.CLERK)
    sweep(today=DUE_DAY)  # claim only
    return Reminder.objects.get(user=clerk)


@pytest.fixture(autouse=True)
def short_lease():
    with override_settings(REMINDER_SEND_LEASE_SECONDS=LEASE):
        yield


def taken_by_a_worker(reminder, attempts=1, lease_left=LEASE):
    Reminder.objects.filter(pk=reminder.pk).update(
        status="sending", attempts=attempts, lease_until=timezone.now() + datetime.timedelta(seconds=lease_left))


def message_ids(messages):
    return [m.message()["Message-ID"] for m in messages]


def test_a_send_holds_a_lease_of_the_configured_length_and_releases_it_when_done(reminder, mailoutbox):
    WatchingBackend.seen = []
    started = timezone.now()
    with override_settings(MAILERS={"default": {"BACKEND": f"{__name__}.WatchingBackend"}}):
        assert delivery.deliver(reminder.pk, 1) == "sent"

    ((status, lease_until),) = WatchingBackend.seen
    assert status == "sending"
    assert started + datetime.timedelta(seconds=LEASE) <= lease_until <= timezone.now() + datetime.timedelta(
        seconds=LEASE)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.lease_until) == ("sent", None)


def test_a_redelivered_task_does_nothing_while_the_send_is_under_a_live_lease(reminder, mailoutbox):
    taken_by_a_worker(reminder)

    assert tasks.send_reminder.apply(args=(reminder.pk, 1)).get() is None  # the broker redelivered attempt 1
    assert delivery.deliver(reminder.pk, 2) is None  # a sweep handing it over
    assert sweep(today=DUE_DAY, deliver=delivery.deliver).retried == 0  # not due for a hand-over

    row = Reminder.objects.get(pk=reminder.pk)
    assert (row.status, row.attempts) == ("sending", 1)
    assert mailoutbox == []


@pytest.mark.parametrize("first", ["sweep", "redelivered task"])
def test_an_expired_lease_is_taken_back_by_exactly_one_of_the_sweep_and_the_redelivered_task(
        reminder, mailoutbox, first):
    taken_by_a_worker(reminder, lease_left=-1)  # the worker died a while ago
    by_sweep = functools.partial(sweep, today=DUE_DAY, deliver=delivery.deliver)
    by_task = functools.partial(tasks.send_reminder.apply, args=(reminder.pk, 1))

    if first == "sweep":
        assert by_sweep().retried == 1
        assert by_task().get() is None
    else:
        assert by_task().get() == "sent"
        assert by_sweep().retried == 0

    row = Reminder.objects.get(pk=reminder.pk)
    assert (row.status, row.attempts, row.lease_until) == ("sent", 2, None)
    assert message_ids(mailoutbox) == [row.message_id]


def test_an_email_interrupted_after_the_server_took_it_is_sent_again_with_the_same_message_id(reminder, mailoutbox):
    """The one remaining window: the server has the email, the worker died before recording it."""
    with override_settings(MAILERS={"default": {"BACKEND": f"{__name__}.DyingBackend"}}):
        with pytest.raises(WorkerKilled):
            delivery.deliver(reminder.pk, 1)
    row = Reminder.objects.get(pk=reminder.pk)
    assert (row.status, row.attempts) == ("sending", 1)

    # Not before the lease runs out...
    assert sweep(today=DUE_DAY, deliver=delivery.deliver).retried == 0
    # ...then once.
    later = timezone.now() + datetime.timedelta(seconds=LEASE + 1)
    sweep(today=DUE_DAY, deliver=functools.partial(delivery.deliver, now=later), now=later)
    sweep(today=DUE_DAY, deliver=functools.partial(delivery.deliver, now=later), now=later)

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(mailoutbox) == 2
    assert message_ids(mailoutbox) == [row.message_id, row.message_id]


def test_the_last_allowed_attempt_interrupted_is_recorded_as_failed(reminder, mailoutbox):
    taken_by_a_worker(reminder, attempts=delivery.MAX_ATTEMPTS, lease_left=-1)

    sweep(today=DUE_DAY, deliver=delivery.deliver)

    row = Reminder.objects.get(pk=reminder.pk)
    assert (row.status, row.attempts, row.lease_until) == ("failed", delivery.MAX_ATTEMPTS, None)
    assert row.error == "发送进程在最后一次尝试中停止；邮件可能已发出，也可能没有。"
    assert mailoutbox == []


def test_every_attempt_carries_the_message_id_chosen_at_the_claim(reminder, settings):
    from tests.test_smtp import FailingBackend

    assert reminder.message_id.startswith("<") and reminder.message_id.endswith("reminder@localhost>")
    FailingBackend.calls = 0
    settings.MAILERS = {"default": {"BACKEND": "tests.test_smtp.FailingBackend"}}
    assert delivery.deliver(reminder.pk, 1) == "retry"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert delivery.deliver(reminder.pk, 2) == "sent"

    (sent,) = mail.outbox
    raw = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
    assert raw["Message-ID"] == Reminder.objects.get(pk=reminder.pk).message_id == reminder.message_id


@override_settings(REMINDER_MESSAGE_ID_DOMAIN="tracker.bozhou.gov.cn")
def test_message_ids_use_the_configured_domain_and_differ_between_reminders():
    first, second = Reminder().message_id, Reminder().message_id
    assert first != second
    assert first.endswith("reminder@tracker.bozhou.gov.cn>") and second.endswith("@tracker.bozhou.gov.cn>")


@override_settings(DEFAULT_FROM_EMAIL="目标任务跟踪 <noreply@jxj.bozhou.gov.cn>")
def test_without_a_configured_domain_message_ids_use_the_senders():
    assert Reminder().message_id.endswith("reminder@jxj.bozhou.gov.cn>")


def test_a_row_claimed_before_message_ids_existed_gets_one_when_sent(reminder, mailoutbox):
    Reminder.objects.filter(pk=reminder.pk).update(message_id="")

    assert delivery.deliver(reminder.pk, 1) == "sent"

    row = Reminder.objects.get(pk=reminder.pk)
    assert row.message_id.endswith("reminder@localhost>")
    assert message_ids(mailoutbox) == [row.message_id]


def test_a_worker_schedules_the_attempt_after_the_one_it_made(reminder, settings, monkeypatch):
    """A redelivered task that took back attempt 1 made attempt 2: the retry it schedules is attempt 3."""
    from tests.test_smtp import FailingBackend

    settings.MAILERS = {"default": {"BACKEND": "tests.test_smtp.FailingBackend"}}
    FailingBackend.calls = 0
    scheduled = []
    monkeypatch.setattr(tasks.send_reminder, "apply_async", lambda args, countdown: scheduled.append((args, countdown)))
    taken_by_a_worker(reminder, lease_left=-1)

    assert tasks.send_reminder(reminder.pk, 1) == "retry"  # called as a worker does (not eagerly)

    assert scheduled == [((reminder.pk, 3), delivery.retry_delay(2).total_seconds())]
    assert Reminder.objects.get(pk=reminder.pk).attempts == 2


def test_the_sweep_and_the_admin_see_a_send_stuck_without_a_lease_as_interrupted(reminder, mailoutbox):
    """A row left `sending` before leases existed has none: it counts as expired."""
    Reminder.objects.filter(pk=reminder.pk).update(status="sending", attempts=1, lease_until=None)
    assert recovery.attention_counts(timezone.now())["stuck"] == 1

    assert sweep(today=DUE_DAY, deliver=delivery.deliver).retried == 1

    assert Reminder.objects.get(pk=reminder.pk).status == "sent"
    assert len(mailoutbox) == 1
