"""The reminder sweep: each kind, when it stops, one email per person, languages, bad addresses, dry run.

Dates are in 2022 with the default policy (due on the 5th working day, due
soon 3 working days before, escalation after 2, chased for 10). May's figures
are due on Wednesday 8 June 2022 (3 June was the Dragon Boat Festival):
window 2, 6, 7 June; overdue 9, 10, 13 ... 22 June.
"""

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from tests.factories import make_entry, make_plan, make_target, make_unit, make_user
from tracker import links
from tracker.accounts.models import Membership, Profile
from tracker.reminders import delivery
from tracker.reminders.models import Reminder
from tracker.reminders.sweep import sweep
from tracker.targets.models import ProgressEntry, ReportingPolicy, Target
from tracker.targets.period import Period

pytestmark = pytest.mark.django_db

D = datetime.date
Role = Membership.Role
State = ProgressEntry.State


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def run(day):
    """One sweep as if today were `day`, delivering inline; returns the emails it sent."""
    before = len(mail.outbox)
    sweep(today=day, deliver=delivery.deliver)
    return mail.outbox[before:]


def to(messages, user):
    return [m for m in messages if m.to == [user.email]]


@pytest.fixture
def world():
    """A bureau with a section (two clerks, a reviewer) and a county (one clerk, no reviewer)."""
    plan = make_plan(2022, title="2022年工作要点", title_en="2022 work plan")
    bureau = make_unit("bureau", name="市经信局", name_en="City bureau")
    office = make_unit("office", name="运行监测科", name_en="Operations section", parent=bureau)
    county = make_unit("county", name="涡阳县", name_en="Guoyang county", parent=bureau)
    w = type("World", (), {})()
    w.plan, w.bureau, w.office, w.county = plan, bureau, office, county
    # Alice has no profile, so the default language (Chinese); everyone else reads English.
    w.alice = make_user("alice", office, Role.CLERK, first_name="Alice")
    w.bob = make_user("bob", office, Role.CLERK)
    w.rita = make_user("rita", office, Role.REVIEWER)
    w.carl = make_user("carl", county, Role.CLERK)
    w.boss = make_user("boss", bureau, Role.REVIEWER)
    w.lena = make_user("lena", bureau, Role.LEADER)
    for user in (w.bob, w.rita, w.carl, w.boss, w.lena):
        Profile.objects.create(user=user, language="en")
    w.firms = make_target(plan=plan, lead_unit=office, code="T-FIRMS", name="新增规上企业", name_en="New firms",
                          target_value=Decimal("80"))
    w.growth = make_target(Target.Kind.GROWTH, plan=plan, lead_unit=office, code="T-GROWTH", name="工业增加值增速",
                           name_en="Value added growth", combined_jan_feb=True)
    w.county_firms = make_target(plan=plan, lead_unit=county, code="T-COUNTY", name="涡阳新增企业",
                                 name_en="Guoyang new firms")
    return w


def submit(target, month, day, state=State.SUBMITTED, value=Decimal("30")):
    return make_entry(target, month, value, state=state, submitted_at=at(day, 9))


def test_it_sends_due_soon_once_in_the_window_then_due_today(world):
    assert run(D(2022, 6, 1)) == []  # 4 working days before: too early

    sent = run(D(2022, 6, 2))
    assert sorted(m.to[0] for m in sent) == ["alice@example.com", "bob@example.com", "carl@example.com"]
    (bob_mail,) = to(sent, world.bob)
    assert bob_mail.subject == "[Target tracker] 2 figures due on 2022-06-08"
    assert "T-FIRMS New firms: deadline 2022-06-08, due in 3 working days" in bob_mail.body
    assert "T-GROWTH Value added growth: deadline 2022-06-08, due in 3 working days" in bob_mail.body
    assert Reminder.objects.get(user=world.bob).kind == Reminder.Kind.DUE_SOON

    assert run(D(2022, 6, 6)) == []  # still in the window: no second due-soon email
    assert run(D(2022, 6, 7)) == []

    sent = run(D(2022, 6, 8))
    (bob_mail,) = to(sent, world.bob)
    assert bob_mail.subject == "[Target tracker] Due today: 2 figures to submit"
    assert "due today" in bob_mail.body
    assert {r.kind for r in Reminder.objects.filter(day=D(2022, 6, 8))} == {"due_today"}


def test_it_chases_overdue_figures_every_working_day_up_to_the_cap(world):
    ReportingPolicy.objects.filter(unit=None, target=None).update(overdue_cap_days=3, escalate_after_days=3)

    for day, days in ((D(2022, 6, 9), 1), (D(2022, 6, 10), 2), (D(2022, 6, 13), 3)):
        (carl_mail,) = to(run(day), world.carl)
        assert carl_mail.subject == "[Target tracker] Overdue: 1 figure not yet submitted"
        working_days = "working day" if days == 1 else "working days"
        assert f"T-COUNTY Guoyang new firms: deadline 2022-06-08, {days} {working_days} overdue" in carl_mail.body

    assert run(D(2022, 6, 11)) == []  # Saturday: nothing goes out
    assert to(run(D(2022, 6, 14)), world.carl) == []  # past the cap
    assert Reminder.objects.filter(user=world.carl, kind="overdue").count() == 3


def test_it_escalates_to_the_units_reviewer_after_two_working_days_and_to_the_parent_when_none(world):
    assert [m.to for m in run(D(2022, 6, 9)) if "Escalation" in m.subject] == []

    sent = run(D(2022, 6, 10))
    (rita_mail,) = to(sent, world.rita)
    assert rita_mail.subject == "[Target tracker] Escalation: 2 figures overdue in your units"
    assert "clerks: Alice, bob" in rita_mail.body
    # The county has no reviewer: its head is the parent unit's reviewer.
    (boss_mail,) = to(sent, world.boss)
    assert boss_mail.subject == "[Target tracker] Escalation: 1 figure overdue in your units"
    assert "T-COUNTY" in boss_mail.body and "T-FIRMS" not in boss_mail.body
    escalations = Reminder.objects.filter(kind="escalation")
    assert sorted((r.recipient, r.period, r.day, tuple(r.targets)) for r in escalations) == [
        ("boss@example.com", "2022-05", D(2022, 6, 10), ("T-COUNTY",)),
        ("rita@example.com", "2022-05", D(2022, 6, 10), ("T-FIRMS", "T-GROWTH")),
    ]

    later = run(D(2022, 6, 13))  # escalated once per period, not every day
    assert to(later, world.rita) == [] and to(later, world.boss) == []


def test_it_stops_as_soon_as_the_figures_are_submitted_but_chases_drafts_and_returned_entries(world):
    submit(world.firms, 5, D(2022, 6, 9))
    make_entry(world.growth, 5, Decimal("7"), state=State.DRAFT)
    make_entry(world.county_firms, 5, Decimal("3"), state=State.RETURNED, submitted_at=at(D(2022, 6, 7)))

    sent = run(D(2022, 6, 9))  # submitted at 09:00 that day: no longer chased
    assert Reminder.objects.get(user=world.alice, day=D(2022, 6, 9)).targets == ["T-GROWTH"]
    assert Reminder.objects.get(user=world.carl, day=D(2022, 6, 9)).targets == ["T-COUNTY"]

    ProgressEntry.objects.filter(target=world.growth).update(state=State.APPROVED, submitted_at=at(D(2022, 6, 9)))
    sent = run(D(2022, 6, 10))
    assert to(sent, world.alice) == [] and to(sent, world.bob) == []
    assert [m.to for m in sent if "Overdue" in m.subject] == [["carl@example.com"]]


def test_it_skips_an_email_whose_figures_arrive_between_the_claim_and_the_send(world):
    sweep(today=D(2022, 6, 9))  # claims, no delivery
    reminder = Reminder.objects.get(user=world.carl, kind="overdue")
    submit(world.county_firms, 5, D(2022, 6, 9))

    assert delivery.deliver(reminder.pk, 1) == Reminder.Status.SKIPPED

    reminder.refresh_from_db()
    assert reminder.status == "skipped"
    assert reminder.error == "邮件发出前，所有数据均已报送。"  # recorded in the site's language
    assert to(mail.outbox, world.carl) == []


def test_it_sends_one_email_per_person_per_run_listing_all_their_missing_figures(world):
    # Alice also clerks for the county; one target has its own earlier deadline (1st working day: 1 June).
    Membership.objects.create(user=world.alice, unit=world.county, role=Role.CLERK)
    early = make_target(plan=world.plan, lead_unit=world.office, code="T-EARLY", name="提前报送")
    ReportingPolicy.objects.create(target=early, due_working_day=1)

    sent = run(D(2022, 6, 6))

    assert len(to(sent, world.alice)) == 1
    (alice_mail,) = to(sent, world.alice)
    reminder = Reminder.objects.get(user=world.alice)
    assert (reminder.kind, reminder.period, reminder.day) == ("overdue", "2022-05", D(2022, 6, 6))
    assert reminder.targets == ["T-COUNTY", "T-EARLY", "T-FIRMS", "T-GROWTH"]
    assert "T-EARLY 提前报送：截止日期 2022-06-01，已逾期2个工作日" in alice_mail.body
    assert "T-FIRMS 新增规上企业：截止日期 2022-06-08，还有2个工作日截止" in alice_mail.body
    assert "T-COUNTY 涡阳新增企业：截止日期 2022-06-08，还有2个工作日截止" in alice_mail.body
    assert len(sent) == len({(m.to[0], m.subject.split()[1]) for m in sent})


def test_it_expects_no_january_figure_from_combined_targets(world):
    # January's figures are due 11 February 2022 (after the Spring Festival).
    sweep(today=D(2022, 2, 11), deliver=delivery.deliver)
    reminder = Reminder.objects.get(user=world.bob, kind="due_today")
    assert (reminder.period, reminder.targets) == ("2022-01", ["T-FIRMS"])

    sweep(today=D(2022, 3, 7), deliver=delivery.deliver)  # February's figures: 1~2月 for the combined one
    reminder = Reminder.objects.get(user=world.bob, kind="due_today", period="2022-02")
    assert reminder.targets == ["T-FIRMS", "T-GROWTH"]
    assert "Jan–Feb 2022" in reminder.body_text


def test_it_sends_nothing_on_a_day_off(world):
    assert run(D(2022, 6, 3)) == []  # Dragon Boat Festival
    assert run(D(2022, 10, 3)) == []  # National Day
    assert Reminder.objects.count() == 0


def test_it_tells_reviewers_of_entries_waiting_for_them(world):
    submit(world.firms, 5, D(2022, 6, 7))
    submit(world.county_firms, 5, D(2022, 6, 7))
    submit(world.growth, 4, D(2022, 6, 9))  # submitted after the day the sweep runs as
    make_entry(world.growth, 3, Decimal("6"), state=State.APPROVED, submitted_at=at(D(2022, 4, 1)))

    sent = run(D(2022, 6, 8))

    (rita_mail,) = to(sent, world.rita)
    assert rita_mail.subject == "[Target tracker] 1 entry waiting for your review"
    assert "T-FIRMS" in rita_mail.body and "T-GROWTH" not in rita_mail.body
    assert "/admin/targets/progressentry/?state__exact=submitted" in rita_mail.body
    # The bureau's reviewer reviews its sub-units too.
    (boss_mail,) = to(sent, world.boss)
    assert boss_mail.subject == "[Target tracker] 2 entries waiting for your review"
    assert Reminder.objects.get(user=world.boss, kind="review").targets == ["T-COUNTY", "T-FIRMS"]


def test_it_sends_leaders_the_digest_once_after_the_deadline(world):
    from tracker.targets.status import assess_period

    submit(world.firms, 5, D(2022, 6, 7), value=Decimal("10"))  # far behind 80 × 5/12
    submit(world.growth, 5, D(2022, 6, 7), value=Decimal("9"))

    assert to(run(D(2022, 6, 8)), world.lena) == []  # the deadline day itself

    (digest,) = to(run(D(2022, 6, 9)), world.lena)
    assert digest.subject == "[Target tracker] Monthly digest for Jan–May 2022"
    reminder = Reminder.objects.get(user=world.lena)
    assert (reminder.kind, reminder.period, reminder.day) == ("digest", "2022-05", D(2022, 6, 8))
    with translation.override("en"):
        assessments = assess_period(Target.objects.all(), 2022, 5, today=D(2022, 6, 9))
        firms = assessments[world.firms.pk]
        assert firms.status == "off_track"
        assert f"T-FIRMS New firms · Operations section: {firms.reason}" in digest.body
        counts = {s: sum(1 for a in assessments.values() if a.status == s) for s in ("off_track", "at_risk")}
        html = digest.alternatives[0]
        assert html.mimetype == "text/html" and escape(firms.reason) in html.content
    assert f"Off track: {counts['off_track']}" in digest.body
    assert reminder.targets == sorted(
        t.code for t in Target.objects.all() if assessments[t.pk].status in ("off_track", "at_risk")
    )
    # Only the county has not reported May.
    not_reported = digest.body.split("Units that have not reported:")[1].split("The full report:")[0]
    assert not_reported.split() == ["-", "Guoyang", "county"]
    assert "http://127.0.0.1:8000/reports/2022-05/" in digest.body

    assert to(run(D(2022, 6, 10)), world.lena) == []  # once per period


def test_every_email_has_text_and_html_in_the_recipients_language(world):
    active = translation.get_language()
    sent = run(D(2022, 6, 8))

    (alice_mail,) = to(sent, world.alice)  # no profile: the default language, Chinese
    with translation.override("zh-hans"):
        site = gettext("Target tracker")
    assert alice_mail.subject == f"[{site}] 今日截止：您有2项数据需要报送"
    assert "T-FIRMS 新增规上企业" in alice_mail.body
    assert "2022年1—5月 · 运行监测科" in alice_mail.body
    (bob_mail,) = to(sent, world.bob)
    assert "2022 Jan–May · Operations section" not in bob_mail.body
    assert "Jan–May 2022 · Operations section" in bob_mail.body
    for message in (alice_mail, bob_mail):
        (html,) = message.alternatives
        assert html.mimetype == "text/html"
        assert "<table" in html.content and "http://127.0.0.1:8000/admin/" in html.content
    assert Reminder.objects.get(user=world.alice).language == "zh-hans"
    assert Reminder.objects.get(user=world.bob).language == "en"
    # The active language of the thread is left alone.
    assert translation.get_language() == active


def test_it_links_each_unit_and_month_to_the_entry_screen(world):
    sent = run(D(2022, 6, 8))
    (carl_mail,) = to(sent, world.carl)
    assert links.absolute(links.entry_screen_url(world.county, Period(2022, 5))) in carl_mail.body
    assert "http://127.0.0.1:8000/admin/targets/progressentry/entry/county/2022-05/" in carl_mail.body


def test_it_records_a_bad_address_and_still_sends_the_rest(world):
    world.bob.email = "bob-at-nowhere"
    world.bob.save()
    world.carl.email = ""
    world.carl.save()

    sent = run(D(2022, 6, 8))

    assert sorted(m.to[0] for m in sent) == ["alice@example.com"]
    bob_row = Reminder.objects.get(user=world.bob)
    assert (bob_row.status, bob_row.error) == ("failed", "bob-at-nowhere不是有效的电子邮箱地址。")
    carl_row = Reminder.objects.get(user=world.carl)
    assert (carl_row.status, carl_row.error) == ("failed", "carl没有电子邮箱地址。")
    assert run(D(2022, 6, 8)) == []  # recorded once, not retried every sweep


def test_running_the_sweep_twice_the_same_day_sends_nothing_twice(world):
    first = run(D(2022, 6, 9))
    assert len(first) == 4  # alice, bob, carl, the digest for lena
    assert run(D(2022, 6, 9)) == []
    assert Reminder.objects.filter(status="sent").count() == 4


def test_the_dry_run_prints_one_json_line_per_email_and_writes_nothing(world):
    submit(world.firms, 5, D(2022, 6, 7))
    out = StringIO()

    call_command("send_reminders", "--date", "2022-06-10", "--dry-run", stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [
        {"recipient": "alice@example.com", "kind": "overdue", "period": "2022-05", "targets": ["T-GROWTH"]},
        {"recipient": "bob@example.com", "kind": "overdue", "period": "2022-05", "targets": ["T-GROWTH"]},
        {"recipient": "carl@example.com", "kind": "overdue", "period": "2022-05", "targets": ["T-COUNTY"]},
        {"recipient": "boss@example.com", "kind": "escalation", "period": "2022-05", "targets": ["T-COUNTY"]},
        {"recipient": "rita@example.com", "kind": "escalation", "period": "2022-05", "targets": ["T-GROWTH"]},
        {"recipient": "boss@example.com", "kind": "review", "period": "2022-05", "targets": ["T-FIRMS"]},
        {"recipient": "rita@example.com", "kind": "review", "period": "2022-05", "targets": ["T-FIRMS"]},
        {"recipient": "lena@example.com", "kind": "digest", "period": "2022-05", "targets": lines[-1]["targets"]},
    ]
    assert Reminder.objects.count() == 0
    assert mail.outbox == []


def test_the_command_sends_and_reports_what_it_did(world):
    out, err = StringIO(), StringIO()

    call_command("send_reminders", "--date", "2022-06-08", stdout=out, stderr=err)

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {(r["recipient"], r["kind"], r["status"]) for r in rows} == {
        ("alice@example.com", "due_today", "sent"), ("bob@example.com", "due_today", "sent"),
        ("carl@example.com", "due_today", "sent"),
    }
    assert len(mail.outbox) == 3
    assert err.getvalue().startswith("2022-06-08：已发送3封，失败0封，待重试0封，跳过0封，此前已发送0封")

    call_command("send_reminders", "--date", "2022-06-08", "--dry-run", stdout=(again := StringIO()))
    assert again.getvalue() == ""  # nothing left to send that day


def test_the_command_rejects_a_bad_date():
    with pytest.raises(CommandError, match="“2022-13-01”不是 YYYY-MM-DD 格式的日期。"):
        call_command("send_reminders", "--date", "2022-13-01", "--dry-run")


def test_a_kind_that_fails_to_plan_is_logged_and_the_others_still_go_out(world, monkeypatch, caplog):
    import tracker.targets.status

    def broken(*args, **kwargs):
        raise RuntimeError("engine down")

    monkeypatch.setattr(tracker.targets.status, "assess_period", broken)

    sent = run(D(2022, 6, 9))  # the digest day

    assert sorted(m.to[0] for m in sent) == ["alice@example.com", "bob@example.com", "carl@example.com"]
    assert not Reminder.objects.filter(kind="digest").exists()
    assert "Could not work out the digests due on 2022-06-09" in caplog.text


def test_inactive_people_get_nothing(world):
    world.bob.is_active = False
    world.bob.save()

    sent = run(D(2022, 6, 8))

    assert sorted(m.to[0] for m in sent) == ["alice@example.com", "carl@example.com"]


def test_it_chases_last_months_and_earlier_figures_within_the_cap(world):
    # April's figures were due 10 May (21 working days before 9 June), March's on 8 April (42).
    ReportingPolicy.objects.filter(unit=None, target=None).update(overdue_cap_days=25)
    submit(world.county_firms, 5, D(2022, 6, 8))

    (carl_mail,) = to(run(D(2022, 6, 9)), world.carl)

    reminder = Reminder.objects.get(user=world.carl)
    assert (reminder.kind, reminder.period, reminder.targets) == ("overdue", "2022-04", ["T-COUNTY"])
    assert reminder.items == [{"target": world.county_firms.pk, "period": "2022-04"}]
    assert "Jan–Apr 2022 · Guoyang county" in carl_mail.body
    assert "T-COUNTY Guoyang new firms: deadline 2022-05-10, 21 working days overdue" in carl_mail.body
    alice = Reminder.objects.get(user=world.alice)
    assert sorted((i["period"], i["target"]) for i in alice.items) == sorted(
        (p, t.pk) for p in ("2022-04", "2022-05") for t in (world.firms, world.growth))
