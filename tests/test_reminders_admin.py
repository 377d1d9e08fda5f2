"""The reminder log and the reporting policy in the admin."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.reminders import delivery
from tracker.reminders.models import Reminder
from tracker.reminders.sweep import sweep
from tracker.targets.models import ReportingPolicy, Unit

pytestmark = pytest.mark.django_db

Role = Membership.Role
LOG = "admin:reminders_reminder_changelist"


@pytest.fixture
def sent_log():
    # The administrator's bureau holds the office: its people's emails are the administrator's to read.
    unit = make_unit("adm-office", name="运行监测科", parent=make_unit("adm-bureau"))
    make_target(plan=make_plan(2022), lead_unit=unit, code="T-ADMIN", name="新增企业", target_value=Decimal("80"))
    clerk = make_user("adm-clerk", unit, Role.CLERK)
    leader = make_user("adm-leader", unit, Role.LEADER)
    sweep(today=datetime.date(2022, 6, 9), deliver=delivery.deliver)  # overdue to the clerk, digest to the leader
    return clerk, leader


def test_administrators_see_every_email_with_its_kind_period_targets_and_status(client, sent_log):
    clerk, leader = sent_log
    admin_user = make_user("adm-admin", Unit.objects.get(code="adm-bureau"), Role.ADMIN)
    client.force_login(admin_user)

    response = client.get(reverse(LOG))

    assert response.status_code == 200
    rows = {(r.recipient, r.kind, r.period, r.status) for r in response.context["cl"].result_list}
    assert rows == {("adm-clerk@example.com", "overdue", "2022-05", "sent"),
                    ("adm-leader@example.com", "digest", "2022-05", "sent")}
    content = response.content.decode()
    assert "T-ADMIN" in content and "adm-clerk@example.com" in content

    failed = client.get(reverse(LOG), {"status__exact": "failed"})
    assert list(failed.context["cl"].result_list) == []
    detail = client.get(reverse("admin:reminders_reminder_change", args=[Reminder.objects.get(user=clerk).pk]))
    assert detail.status_code == 200
    assert Reminder.objects.get(user=clerk).subject in detail.content.decode()


def test_others_see_only_their_own_emails_and_clerks_not_the_log(client, sent_log):
    clerk, leader = sent_log

    client.force_login(leader)
    response = client.get(reverse(LOG))
    assert [r.recipient for r in response.context["cl"].result_list] == ["adm-leader@example.com"]

    client.force_login(clerk)
    assert client.get(reverse(LOG)).status_code == 403


def test_an_administrator_can_resend_failed_emails_at_the_next_sweep(client, sent_log):
    clerk, _leader = sent_log
    reminder = Reminder.objects.get(user=clerk)
    Reminder.objects.filter(pk=reminder.pk).update(status="failed", error="SMTPServerDisconnected: gone")
    client.force_login(make_user("adm-admin", Unit.objects.get(code="adm-bureau"), Role.ADMIN))

    response = client.post(reverse(LOG), {"action": "retry_now", "_selected_action": [reminder.pk]}, follow=True)

    assert response.status_code == 200
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == ("retry", 0)
    sweep(today=datetime.date(2022, 6, 9), deliver=delivery.deliver)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.error) == ("sent", 1, "")


def test_only_administrators_edit_the_reporting_policy_and_the_default_cannot_be_deleted(client, sent_log):
    clerk, leader = sent_log
    default = ReportingPolicy.objects.get(unit=None, target=None)
    url = reverse("admin:targets_reportingpolicy_change", args=[default.pk])

    client.force_login(leader)
    response = client.post(url, {"due_working_day": 7, "remind_days_before": 3, "escalate_after_days": 2,
                                 "overdue_cap_days": 10})
    assert response.status_code == 403
    default.refresh_from_db()
    assert default.due_working_day == 5

    client.force_login(make_user("adm-admin", Unit.objects.get(code="adm-bureau"), Role.ADMIN))
    response = client.post(url, {"due_working_day": 7, "remind_days_before": 3, "escalate_after_days": 2,
                                 "overdue_cap_days": 10})
    assert response.status_code == 302
    default.refresh_from_db()
    assert default.due_working_day == 7
    assert client.get(reverse("admin:targets_reportingpolicy_delete", args=[default.pk])).status_code == 403

    # A second default is refused with a clear message; escalation must fall within the chase window.
    response = client.post(reverse("admin:targets_reportingpolicy_add"), {
        "due_working_day": 5, "remind_days_before": 3, "escalate_after_days": 12, "overdue_cap_days": 10})
    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors)
    assert "已有默认规则；请选择单位或目标。" in errors
    assert "督办必须在催报期限之内。" in errors
    assert ReportingPolicy.objects.count() == 1


def attention_rows(clerk):
    """One row per situation, on days of their own; created now unless said otherwise."""
    now = timezone.now()
    ago = datetime.timedelta
    rows = {}
    for name, fields in {
        "interrupted": {"status": "sending", "attempts": 1, "lease_until": now - ago(minutes=1)},
        "sending": {"status": "sending", "attempts": 1, "lease_until": now + ago(minutes=4)},
        "pending_long": {"status": "pending", "created_at": now - ago(hours=1)},
        "pending": {"status": "pending"},
        "failed": {"status": "failed", "attempts": 1, "error": "SMTPRecipientsRefused: 550"},
        "failed_long_ago": {"status": "failed", "attempts": 1, "created_at": now - ago(days=8)},
        "retried_often": {"status": "retry", "attempts": 3, "next_attempt_at": now + ago(minutes=4)},
        "retried_once": {"status": "retry", "attempts": 1, "next_attempt_at": now + ago(minutes=1)},
    }.items():
        day = datetime.date(2022, 7, 1) + datetime.timedelta(days=len(rows))
        rows[name] = Reminder.objects.create(user=clerk, recipient=clerk.email, kind="overdue", period="2022-06",
                                             day=day, subject="s", **{"created_at": now, **fields})
    return rows


def test_the_needs_attention_filter_lists_stuck_failed_and_often_retried_emails(client, sent_log):
    clerk, _leader = sent_log
    rows = attention_rows(clerk)
    client.force_login(make_user("adm-admin", Unit.objects.get(code="adm-bureau"), Role.ADMIN))

    def listed(attention):
        response = client.get(reverse(LOG), {"attention": attention})
        assert response.status_code == 200
        return {name for name, row in rows.items() if row in response.context["cl"].result_list}, response

    names, response = listed("any")
    assert names == {"interrupted", "pending_long", "failed", "retried_often"}
    assert len(response.context["cl"].result_list) == 4  # the sent emails are not listed
    content = response.content.decode()
    assert "需要处理" in content and "卡住" in content and "近期发送失败" in content and "多次重试" in content
    assert listed("stuck")[0] == {"interrupted", "pending_long"}
    assert listed("failed")[0] == {"failed"}
    assert listed("many_attempts")[0] == {"retried_often"}
    assert listed("nonsense")[0] == set(rows)  # a hand-made URL shows everything, not an error


def test_resending_leaves_an_email_being_sent_under_a_live_lease_alone(client, sent_log):
    clerk, _leader = sent_log
    rows = attention_rows(clerk)
    client.force_login(make_user("adm-admin", Unit.objects.get(code="adm-bureau"), Role.ADMIN))
    chosen = [rows[name].pk for name in ("interrupted", "sending", "failed")]

    client.post(reverse(LOG), {"action": "retry_now", "_selected_action": chosen}, follow=True)

    states = dict(Reminder.objects.filter(pk__in=chosen).values_list("pk", "status"))
    assert states == {rows["interrupted"].pk: "retry", rows["sending"].pk: "sending", rows["failed"].pk: "retry"}
    assert Reminder.objects.get(pk=rows["interrupted"].pk).lease_until is None


def test_the_log_filters_by_month_named_as_every_other_screen(client, sent_log):
    clerk, _leader = sent_log
    Reminder.objects.create(user=clerk, recipient=clerk.email, kind="overdue", period="2022-04",
                            day=datetime.date(2022, 5, 12))
    client.force_login(make_user("adm-admin2", Unit.objects.get(code="adm-bureau"), Role.ADMIN))

    page = client.get(reverse(LOG)).content.decode()
    assert "2022年1—5月" in page and "2022年1—4月" in page
    assert ">2022-05<" not in page  # neither in the filter nor in the column
    sidebar = page[page.index('id="changelist-filter"'):]
    assert sidebar.index("2022年1—5月") < sidebar.index("2022年1—4月")  # newest first
    april = client.get(reverse(LOG), {"period": "2022-04"})
    assert [r.period for r in april.context["cl"].result_list] == ["2022-04"]
    client.cookies["django_language"] = "en"
    assert "Jan–Apr 2022" in client.get(reverse(LOG)).content.decode()
