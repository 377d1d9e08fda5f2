"""The registers in the reviewers' reminder email (issue 15, point 6): open coordination items by age and handler,
projects behind their planned stage, firms expected to enter the above-scale list this quarter that have not —
counts and the oldest few, only of the units the reviewer reviews, with links to the three leader pages; in the
text and HTML parts, in the reader's language; one email per reviewer per day, never sent twice."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils.html import escape

from tests.factories import make_user
from tests.test_registers import codes
from tests.test_reminders import D, Role, run, submit, to, world  # noqa: F401 (world is a fixture)
from tracker.registers.models import Coordination, Firm, Listing, Project
from tracker.reminders.models import Reminder

pytestmark = pytest.mark.django_db


@pytest.fixture
def registers(world):  # noqa: F811
    county, office = world.county, world.office
    late = Project.objects.create(
        name="涡阳扩能项目",
        unit=county,
        kind=Project.Kind.NEW,
        total_investment=Decimal("3"),
        signed_on=datetime.date(2022, 1, 10),
        planned_start="2022-03",
    )
    Project.objects.create(
        name="涡阳按期项目",
        unit=county,
        kind=Project.Kind.NEW,
        total_investment=Decimal("2"),
        signed_on=datetime.date(2022, 1, 10),
        planned_start="2022-09",
    )
    office_project = Project.objects.create(
        name="科室技改项目",
        unit=office,
        kind=Project.Kind.RENOVATION,
        total_investment=Decimal("1.5"),
        signed_on=datetime.date(2022, 2, 1),
    )
    Coordination.objects.create(
        project=late, raised_on=datetime.date(2022, 4, 1), request="用地指标尚未落实", handler="张科长"
    )
    Coordination.objects.create(
        project=late,
        raised_on=datetime.date(2022, 3, 1),
        request="已解决的事项",
        handler="张科长",
        solved_on=datetime.date(2022, 3, 20),
    )
    Coordination.objects.create(project=office_project, raised_on=datetime.date(2022, 6, 1), request="电力增容")
    first, second = codes(2)
    waiting = Firm.objects.create(name="涡阳待入规企业", credit_code=first, unit=county)
    Listing.objects.create(
        firm=waiting, kind=Listing.Kind.CULTIVATION, expected_month="2022-06", joined_on=datetime.date(2021, 6, 1)
    )
    later = Firm.objects.create(name="涡阳年底入规企业", credit_code=second, unit=county)
    Listing.objects.create(
        firm=later, kind=Listing.Kind.CULTIVATION, expected_month="2022-12", joined_on=datetime.date(2021, 6, 1)
    )
    return world


def registers_part(body):
    return body.split("The registers in your units")[1]


def test_it_adds_the_registers_of_the_reviewers_units_to_the_review_email(registers):
    w = registers
    submit(w.firms, 5, D(2022, 6, 7))
    submit(w.county_firms, 5, D(2022, 6, 7))

    sent = run(D(2022, 6, 8))

    (boss_mail,) = to(sent, w.boss)  # the bureau's reviewer: the office and the county
    assert boss_mail.subject == "[Target tracker] 2 entries waiting for your review"
    part = registers_part(boss_mail.body)
    assert ", as at May 2022:" in part
    assert "Open coordination items (协调事项): 2 (1 open for more than 30 days)" in part
    assert "By handler: 张科长 1, no handler 1" in part  # the most first, those with no handler last
    assert "Guoyang county · 涡阳扩能项目: 用地指标尚未落实 · 张科长 · 68 days open" in part
    assert "已解决的事项" not in part
    assert "Projects behind their planned stage: 1" in part
    assert "Guoyang county · 涡阳扩能项目: Planned to start in Mar 2022, still Signed (签约)" in part
    assert "涡阳按期项目" not in part
    assert "that have not: 1" in part and "涡阳待入规企业: expected Jun 2022" in part
    assert "涡阳年底入规企业" not in part
    for page in ("open-items", "behind", "expected"):
        assert f"http://127.0.0.1:8000/registers/{page}/?period=2022-05" in part
    html = boss_mail.alternatives[0].content
    assert escape("涡阳扩能项目: 用地指标尚未落实") in html
    assert 'href="http://127.0.0.1:8000/registers/behind/?period=2022-05"' in html

    (rita_mail,) = to(sent, w.rita)  # the office's reviewer: the office's rows only
    part = registers_part(rita_mail.body)
    assert "Open coordination items (协调事项): 1 (0 open for more than 30 days)" in part
    assert "电力增容" in part and "涡阳" not in part
    assert "Projects behind their planned stage: 0" in part


def test_it_writes_the_registers_in_chinese_for_a_chinese_reader(registers):
    w = registers
    zhao = make_user("zhao", w.county, Role.REVIEWER)  # no profile: the default language, Chinese
    submit(w.county_firms, 5, D(2022, 6, 7))
    (email,) = to(run(D(2022, 6, 8)), zhao)
    body = email.body
    assert "截至2022年5月，您所辖单位的台账情况：" in body
    assert "未解决的协调事项：1（其中超过30天的1个）" in body
    assert "涡阳县 · 涡阳扩能项目：用地指标尚未落实 · 张科长 · 已68天未解决" in body
    assert "未按计划推进的项目：1" in body and "涡阳县 · 涡阳扩能项目：计划2022年3月开工，目前仍为“签约”" in body
    assert "涡阳县 · 涡阳待入规企业：预计2022年6月入规" in body
    assert "科室技改项目" not in body  # the office is not the county reviewer's
    assert "查看全部：未解决的协调事项" in email.alternatives[0].content


def test_it_sends_the_registers_alone_on_the_months_first_working_day_once(registers):
    w = registers
    assert to(run(D(2022, 6, 9)), w.boss) == []  # nothing waiting, not the first working day: no email
    sent = run(D(2022, 7, 1))  # Friday 1 July: the month's first working day
    (boss_mail,) = to(sent, w.boss)
    assert boss_mail.subject == "[Target tracker] The registers to follow up, Jun 2022"
    assert "waiting for your review" not in boss_mail.body
    assert "Open coordination items (协调事项): 2" in boss_mail.body
    reminder = Reminder.objects.get(user=w.boss, kind="review")
    assert (reminder.period, reminder.day, reminder.targets) == ("2022-06", D(2022, 7, 1), [])
    before = len(mail.outbox)
    assert to(run(D(2022, 7, 1)), w.boss) == []  # the same day again: nothing sent twice
    assert len(mail.outbox) == before
    assert to(run(D(2022, 7, 4)), w.boss) == []


def test_a_reviewer_whose_units_have_no_register_rows_gets_no_registers_part(registers):
    w = registers
    Coordination.objects.filter(project__unit=w.office).delete()
    submit(w.firms, 5, D(2022, 6, 7))
    (rita_mail,) = to(run(D(2022, 6, 8)), w.rita)
    assert "The registers in your units" not in rita_mail.body
    (july,) = to(run(D(2022, 7, 1)), w.rita)  # the entry still waits; the registers stay out
    assert "waiting for your review" in july.body and "The registers in your units" not in july.body


def test_it_asks_the_reviewer_every_day_for_the_scheduling_months_waiting_and_stops_once_reviewed(registers):
    from django.utils import timezone

    from tracker.registers.models import ScheduleMonth

    w = registers
    submitted = timezone.make_aware(datetime.datetime(2022, 6, 8, 16))
    month = ScheduleMonth.objects.create(unit=w.county, register=ScheduleMonth.Register.PROJECTS, year=2022,
                                         month=5, state="submitted", submitted_at=submitted)
    assert to(run(D(2022, 6, 7)), w.boss) == []  # not submitted yet that day
    (boss_mail,) = to(run(D(2022, 6, 9)), w.boss)  # not the first working day: the month brings the email
    part = registers_part(boss_mail.body)
    assert "Scheduling months waiting for review: 1" in part
    assert f"http://127.0.0.1:8000/registers/schedule/{w.county.code}/2022-05/" in part
    html = boss_mail.alternatives[0].content
    assert f'href="http://127.0.0.1:8000/registers/schedule/{w.county.code}/2022-05/"' in html
    assert to(run(D(2022, 6, 9)), w.rita) == []  # the office's reviewer does not review the county
    def subjects(day):  # the boss also leads: the escalation of overdue figures comes apart
        return [m.subject for m in to(run(day), w.boss) if "Escalation" not in m.subject]

    assert subjects(D(2022, 6, 10)) == [boss_mail.subject]  # still waiting the next day: asked again
    assert subjects(D(2022, 6, 10)) == []  # once a day
    ScheduleMonth.objects.filter(pk=month.pk).update(state="approved")
    assert subjects(D(2022, 6, 13)) == []
