"""The review workflow in the admin: the review page per entry and the bulk actions."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
Role = Membership.Role
State = ProgressEntry.State
CHANGELIST = "admin:targets_progressentry_changelist"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world():
    w = type("World", (), {})()
    w.a, w.b = make_unit("qiaocheng", name="谯城区"), make_unit("guoyang", name="涡阳县")
    w.clerk = make_user("clerk_a", unit=w.a)
    w.clerk_b = make_user("clerk_b", unit=w.b)
    w.reviewer = make_user("reviewer_a", unit=w.a, role=Role.REVIEWER)
    w.leader = make_user("leader", unit=make_unit("city"), role=Role.LEADER)
    w.ta = make_target(lead_unit=w.a, code="A-1")
    w.tb = make_target(lead_unit=w.b, code="B-1")
    return w


def review_url(entry):
    return reverse("admin:targets_progressentry_review", args=[entry.pk])


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def post_review(client, entry, action, comment="", version=None):
    data = {"action": action, "comment": comment, "version": entry.version if version is None else version}
    client.cookies["django_language"] = "en"
    return client.post(review_url(entry), data)


def test_it_shows_the_reviewer_the_buttons_for_a_submitted_entry_and_approves(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED)
    client.force_login(world.reviewer)
    client.cookies["django_language"] = "en"
    page = client.get(review_url(entry))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="review-approve"' in html and 'id="review-return"' in html and 'id="review-reopen"' not in html
    response = post_review(client, entry, "approve", "OK")
    assert response.status_code == 302
    assert texts(response) == ["1 entry approved and locked."]
    entry.refresh_from_db()
    assert entry.state == State.APPROVED and entry.review_comment == "OK"
    change = Change.objects.get(action=Change.Action.TRANSITION)
    assert (change.user, change.source, change.reason) == (world.reviewer, "admin", "OK")


def test_it_refuses_a_return_without_a_comment_and_keeps_the_entry(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED)
    client.force_login(world.reviewer)
    response = post_review(client, entry, "return", "   ")
    assert texts(response) == ["Give a reason: the clerk sees it with the returned entry."]
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED and not Change.objects.exists()


def test_it_refuses_approving_a_figure_changed_after_the_page_was_shown(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED, version=3, entered_by=world.clerk)
    client.force_login(world.reviewer)
    response = post_review(client, entry, "approve", version=2)
    assert texts(response) == ["A-1 2022-03 was changed by clerk_a meanwhile (now 8); reload and check it again."]
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED


def test_it_lets_the_reviewer_reopen_an_approved_entry_with_a_reason(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.APPROVED)
    client.force_login(world.reviewer)
    assert 'id="review-reopen"' in client.get(review_url(entry)).content.decode()
    post_review(client, entry, "reopen", "统计局修订")
    entry.refresh_from_db()
    assert entry.state == State.RETURNED and entry.review_comment == "统计局修订"


@pytest.mark.parametrize("who", ["clerk", "leader"])
def test_it_offers_no_review_to_clerks_and_leaders_and_refuses_a_forged_post(client, world, who):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED)
    client.force_login(getattr(world, who))
    page = client.get(review_url(entry))
    assert page.status_code == 200 and 'id="review-nothing"' in page.content.decode()
    response = post_review(client, entry, "approve")
    assert len(texts(response)) == 1 and "You may not review A-1 2022-03" in texts(response)[0]
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED


def test_it_gives_404_for_another_units_review_and_history_pages(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED)
    client.force_login(world.clerk_b)
    assert client.get(review_url(entry)).status_code == 404
    assert post_review(client, entry, "approve").status_code == 404
    assert client.get(reverse("admin:targets_progressentry_history", args=[entry.pk])).status_code == 404
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED


def test_it_lets_a_clerk_submit_from_the_review_page(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"))
    client.force_login(world.clerk)
    assert 'id="review-submit"' in client.get(review_url(entry)).content.decode()
    post_review(client, entry, "submit")
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED and entry.submitted_by == world.clerk


def run_action(client, action, entries, **extra):
    data = {"action": action, "_selected_action": [e.pk for e in entries], **extra}
    client.cookies["django_language"] = "en"
    return client.post(reverse(CHANGELIST), data)


def test_it_bulk_approves_only_the_reviewers_submitted_entries(client, world):
    submitted = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED)
    draft = make_entry(world.ta, 4, Decimal("9"))
    foreign = make_entry(world.tb, 3, Decimal("1"), state=State.SUBMITTED)
    client.force_login(world.reviewer)
    response = run_action(client, "approve_selected", [submitted, draft, foreign])
    assert response.status_code == 302
    assert texts(response) == [
        "1 entry approved and locked.",
        "A-1 2022-04 is Draft; only a submitted entry can be approved or returned.",
    ]
    states = dict(ProgressEntry.objects.values_list("pk", "state"))
    assert states == {submitted.pk: State.APPROVED, draft.pk: State.DRAFT, foreign.pk: State.SUBMITTED}


def test_it_does_not_offer_review_actions_to_a_clerk(client, world):
    submitted = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED)
    client.force_login(world.clerk)
    page = client.get(reverse(CHANGELIST))
    choices = [value for value, _label in page.context["action_form"].fields["action"].choices]
    assert "submit_selected" in choices and "approve_selected" not in choices and "reopen_selected" not in choices
    run_action(client, "approve_selected", [submitted])
    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_it_bulk_returns_with_a_comment_asked_on_an_intermediate_page(client, world):
    entries = [make_entry(world.ta, m, Decimal("8"), state=State.SUBMITTED) for m in (3, 4)]
    client.force_login(world.reviewer)
    page = run_action(client, "return_selected", entries)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    again = run_action(client, "return_selected", entries, confirm="1", reason="")
    assert again.status_code == 200 and "Give a reason" in again.content.decode()
    assert not ProgressEntry.objects.filter(state=State.RETURNED).exists()
    done = run_action(client, "return_selected", entries, confirm="1", reason="请按累计口径重填")
    assert done.status_code == 302
    assert texts(done) == ["2 entries returned to the clerk."]
    assert set(ProgressEntry.objects.values_list("state", "review_comment")) == {(State.RETURNED, "请按累计口径重填")}
    assert Change.objects.filter(action="transition", reason="请按累计口径重填", source="admin action").count() == 2


def test_it_bulk_reopens_approved_entries_with_a_reason(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.APPROVED)
    client.force_login(world.reviewer)
    run_action(client, "reopen_selected", [entry], confirm="1", reason="更正")
    entry.refresh_from_db()
    assert entry.state == State.RETURNED


def test_it_lets_a_clerk_bulk_submit_their_drafts(client, world):
    drafts = [make_entry(world.ta, m, Decimal("8")) for m in (3, 4)]
    client.force_login(world.clerk)
    response = run_action(client, "submit_selected", drafts)
    assert texts(response) == ["2 entries submitted for review."]
    assert set(ProgressEntry.objects.values_list("state", flat=True)) == {State.SUBMITTED}


def test_it_shows_an_approved_entry_read_only_and_refuses_a_posted_change(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.APPROVED)
    client.force_login(world.clerk)
    url = reverse("admin:targets_progressentry_change", args=[entry.pk])
    page = client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert client.post(url, {"value": "99", "base_version": entry.version}).status_code == 403
    entry.refresh_from_db()
    assert entry.value == Decimal("8")


def test_it_lists_the_review_state_lateness_and_a_review_link(client, world, django_assert_max_num_queries):
    for m in range(2, 8):
        make_entry(world.ta, m, Decimal(m), state=State.SUBMITTED, is_late=m == 3)
    client.force_login(world.reviewer)
    with django_assert_max_num_queries(15):
        page = client.get(reverse(CHANGELIST))
    html = page.content.decode()
    assert html.count('class="review-link"') == 6


def test_it_shows_the_clerk_the_reviewers_comment_on_the_entry_screen_and_links_the_review_page(client, world):
    entry = make_entry(world.ta, 3, Decimal("8"), state=State.RETURNED, review_comment="请按累计口径重填")
    client.force_login(world.clerk)
    client.cookies["django_language"] = "en"
    screen = client.get(reverse("admin:targets_progressentry_entry", args=["qiaocheng", "2022-03"]))
    assert "Returned by the reviewer: 请按累计口径重填" in screen.content.decode()
    form = client.get(reverse("admin:targets_progressentry_change", args=[entry.pk]))
    assert f'href="{review_url(entry)}" id="review-link"' in form.content.decode()


def test_it_does_not_bulk_approve_a_figure_changed_since_the_list_was_shown(client, world):
    seen = make_entry(world.ta, 3, Decimal("8"), state=State.SUBMITTED)
    changed = make_entry(world.ta, 4, Decimal("9"), state=State.SUBMITTED)
    client.force_login(world.reviewer)
    listing = client.get(reverse(CHANGELIST)).content.decode()
    assert f'name="seen_version_{changed.pk}" value="{changed.version}"' in listing
    shown = {f"seen_version_{e.pk}": e.version for e in (seen, changed)}
    ProgressEntry.objects.filter(pk=changed.pk).update(value=Decimal("99"), version=changed.version + 1)
    response = run_action(client, "approve_selected", [seen, changed], **shown)
    seen.refresh_from_db()
    changed.refresh_from_db()
    assert (seen.state, changed.state) == (State.APPROVED, State.SUBMITTED)
    assert any("changed since the list was shown (now 99); check it again." in m for m in texts(response))
