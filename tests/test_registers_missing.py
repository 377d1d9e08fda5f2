"""A register-backed target with no entry yet for a month is no clerk's missing figure (only the register refresh
writes it), yet it is not reported either: the entry screen, the completeness page and the reminders do not chase
the clerk for it, and the report still shows it as no data (never a better colour)."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import make_target, make_user
from tests.test_registers import county_world  # noqa: F401 (a fixture)
from tracker.accounts.models import Membership
from tracker.reminders import chase, delivery
from tracker.reminders.sweep import sweep
from tracker.reports.completeness import completeness
from tracker.targets import status
from tracker.targets.models import Target
from tracker.targets.period import Period

pytestmark = pytest.mark.django_db
Role = Membership.Role
# May's figures are due on Wednesday 8 June 2022; the 10th is two working days later.
OVERDUE = datetime.date(2022, 6, 10)


@pytest.fixture
def world(county_world):  # noqa: F811
    """The county leads a register-backed target (NEW-ABOVE-GY) and a typed one; no refresh has run."""
    city, county, other, total, part = county_world
    typed = make_target(code="TYPED-GY", plan=part.plan, lead_unit=county, target_value=Decimal("10"))
    clerk = make_user("gy_clerk", unit=county, role=Role.CLERK)
    return {"county": county, "part": part, "typed": typed, "clerk": clerk}


def test_it_lists_a_register_target_without_a_figure_apart_from_the_clerks_missing_ones(client, world):
    client.force_login(world["clerk"])
    response = client.get(reverse("admin:targets_progressentry_entry", args=["guoyang", "2022-05"]))
    assert response.status_code == 200
    assert [r.target.code for r in response.context["missing"]] == ["TYPED-GY"]
    assert [r.target.code for r in response.context["awaiting_register"]] == ["NEW-ABOVE-GY"]
    html = response.content.decode()
    missing_box = html.split('id="entry-missing"')[1].split("</div>")[0]
    assert "TYPED-GY" in missing_box and "NEW-ABOVE-GY" not in missing_box
    assert "NEW-ABOVE-GY" in html.split('id="entry-awaiting-register"')[1].split("</p>")[0]


def test_it_counts_a_register_target_without_a_figure_as_awaiting_not_missing_and_not_reported(world):
    targets = Target.objects.filter(lead_unit=world["county"])
    result = completeness(targets, 2022, 5, today=OVERDUE)
    (unit,) = result["units"]
    assert (unit["expected"], unit["missing"], unit["register"], unit["reported"]) == (2, 1, 1, 0)
    # Not reported: the rate does not look better because the clerk is not chased for it.
    assert unit["reporting_rate"] == 0
    states = {i["target"].code: i["state"] for i in result["items"]}
    assert states == {"NEW-ABOVE-GY": "register", "TYPED-GY": "missing"}
    # And the report judges the month as any month without a figure.
    assessment = status.assess_period(Target.objects.filter(pk=world["part"].pk), 2022, 5, today=OVERDUE)
    assert assessment[world["part"].pk].status == status.NO_DATA


def test_the_completeness_page_shows_the_register_column_and_names_the_target(client, world):
    client.force_login(make_user("city_admin", is_superuser=True))
    client.cookies["django_language"] = "en"
    response = client.get(reverse("reports:completeness", kwargs={"year": "2022", "month": "05"}))
    html = response.content.decode()
    head = html.split('id="completeness"')[1].split("</thead>")[0]
    assert "Awaiting the register" in head
    row = html.split('class="item-register"')[1].split("</tr>")[0]
    assert "NEW-ABOVE-GY" in row and "No figure from the register yet" in row


def test_it_does_not_remind_or_chase_the_clerk_for_a_register_figure_not_computed_yet(world):
    sweep(today=OVERDUE, deliver=delivery.deliver)
    (email,) = [m for m in mail.outbox if m.to == [world["clerk"].email]]
    assert "TYPED-GY" in email.body and "NEW-ABOVE-GY" not in email.body
    found = chase.missing_by_unit([world["county"]], Period(2022, 5), OVERDUE)
    assert [i.target.code for i in found[world["county"].pk]] == ["TYPED-GY"]


def test_once_the_register_wrote_a_draft_the_clerk_is_chased_to_submit_it(world):
    from tracker.registers import figures

    figures.refresh(today=OVERDUE)
    result = completeness(Target.objects.filter(lead_unit=world["county"]), 2022, 5, today=OVERDUE)
    assert {i["target"].code: i["state"] for i in result["items"]} == {"NEW-ABOVE-GY": "missing", "TYPED-GY": "missing"}
    found = chase.missing_by_unit([world["county"]], Period(2022, 5), OVERDUE)
    assert sorted(i.target.code for i in found[world["county"].pk]) == ["NEW-ABOVE-GY", "TYPED-GY"]
