import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.services import review
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db
State = ProgressEntry.State
Role = Membership.Role


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world():
    city = make_unit("city")
    qiaocheng = make_unit("qiaocheng", parent=city)
    guoyang = make_unit("guoyang", parent=city)
    w = type("World", (), {})()
    w.qiaocheng, w.guoyang = qiaocheng, guoyang
    w.clerk = make_user("clerk_q", unit=qiaocheng, role=Role.CLERK)
    w.other_clerk = make_user("clerk_g", unit=guoyang, role=Role.CLERK)
    w.reviewer = make_user("reviewer_q", unit=qiaocheng, role=Role.REVIEWER)
    w.other_reviewer = make_user("reviewer_g", unit=guoyang, role=Role.REVIEWER)
    w.city_reviewer = make_user("reviewer_city", unit=city, role=Role.REVIEWER)
    w.leader = make_user("leader", unit=city, role=Role.LEADER)
    w.target = make_target(lead_unit=qiaocheng, code="Q-1")
    w.other_target = make_target(lead_unit=guoyang, code="G-1")
    return w


def entered(w, month=3, value="12", **kw):
    return make_entry(w.target, month, Decimal(value), entered_by=w.clerk, **kw)


def transitions(entry):
    return list(Change.objects.filter(object_id=str(entry.pk), action=Change.Action.TRANSITION).order_by("pk"))


def test_it_lets_a_clerk_submit_and_records_who_when_and_lateness(world):
    entry = entered(world)
    review.submit(world.clerk, entry)
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED and entry.submitted_by == world.clerk
    assert entry.is_late  # March 2022 figures were due in April 2022
    (change,) = transitions(entry)
    assert change.user == world.clerk and change.source == "admin"
    assert change.changes["state"] == ["draft", "submitted"]
    assert change.changes["is_late"] == [False, True]
    assert change.unit_id == world.qiaocheng.pk


def test_it_records_an_on_time_submission_as_not_late(world):
    today = timezone.localdate()
    entry = make_entry(world.target, today.month, Decimal("3"), year=today.year)
    review.submit(world.clerk, entry)
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED and entry.is_late is False


def test_it_refuses_to_submit_an_empty_entry_or_another_units_entry(world):
    empty = make_entry(world.target, 4)
    with pytest.raises(review.ReviewError, match="Q-1 2022-04 has no figure or progress note yet"):
        review.submit(world.clerk, empty)
    other = make_entry(world.other_target, 3, Decimal("1"))
    with pytest.raises(review.ReviewError, match="does not exist or is not yours to see"):
        review.submit(world.clerk, other)
    assert ProgressEntry.objects.filter(state=State.SUBMITTED).count() == 0
    assert not Change.objects.exists()


def test_it_locks_an_approved_entry_against_every_edit(world):
    entry = entered(world, state=State.SUBMITTED)
    review.approve(world.reviewer, entry, comment="核对无误")
    entry.refresh_from_db()
    assert entry.state == State.APPROVED and entry.is_locked
    assert entry.reviewed_by == world.reviewer and entry.review_comment == "核对无误"
    result = save_entries(world.clerk, [EntryRow(world.target, 2022, 3, {"value": Decimal("99")})], "entry screen",
                          today=datetime.date(2022, 4, 3))
    assert [e.message for e in result.errors] == [
        "Q-1 2022-03 is approved and locked; a reviewer must reopen it first."]
    entry.refresh_from_db()
    assert entry.value == Decimal("12")
    (change,) = transitions(entry)
    assert change.user == world.reviewer and change.reason == "核对无误"
    assert change.changes["state"] == ["submitted", "approved"]


def test_it_lets_a_reviewer_of_a_parent_unit_review_sub_units(world):
    entry = entered(world, state=State.SUBMITTED)
    review.approve(world.city_reviewer, entry)
    entry.refresh_from_db()
    assert entry.state == State.APPROVED


@pytest.mark.parametrize("who", ["clerk", "other_reviewer", "leader", "other_clerk"])
def test_it_refuses_approval_by_anyone_but_a_reviewer_of_the_unit(world, who):
    entry = entered(world, state=State.SUBMITTED)
    with pytest.raises(review.ReviewError):
        review.approve(getattr(world, who), entry)
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED and entry.reviewed_by is None
    assert not Change.objects.exists()


def test_it_refuses_approving_a_draft_or_reopening_a_submitted_entry(world):
    draft = entered(world)
    with pytest.raises(review.ReviewError, match="Q-1 2022-03 is Draft; only a submitted entry can be approved"):
        review.approve(world.reviewer, draft)
    submitted = entered(world, month=4, state=State.SUBMITTED)
    with pytest.raises(review.ReviewError, match="only an approved entry can be reopened"):
        review.reopen(world.reviewer, submitted, reason="typo")


def test_it_returns_with_a_comment_and_the_clerk_corrects_and_resubmits(world):
    entry = entered(world, state=State.SUBMITTED)
    with pytest.raises(review.ReviewError, match="Give a reason"):
        review.transition(world.reviewer, entry, "return", "  ")
    review.transition(world.reviewer, entry, "return", "口径不对，请按累计数填报")
    entry.refresh_from_db()
    assert entry.state == State.RETURNED and entry.review_comment == "口径不对，请按累计数填报"

    result = save_entries(world.clerk, [EntryRow(world.target, 2022, 3, {"value": Decimal("15")}, entry.version)],
                          "entry screen", today=datetime.date(2022, 4, 3))
    assert result.ok, result.errors
    entry.refresh_from_db()
    assert entry.state == State.DRAFT and entry.value == Decimal("15")
    review.submit(world.clerk, entry)
    review.approve(world.reviewer, entry)
    entry.refresh_from_db()
    assert entry.state == State.APPROVED
    steps = [(c.changes["state"], c.user.username, c.reason) for c in transitions(entry)]
    assert steps == [
        (["submitted", "returned"], "reviewer_q", "口径不对，请按累计数填报"),
        (["draft", "submitted"], "clerk_q", ""),
        (["submitted", "approved"], "reviewer_q", ""),
    ]


def test_it_keeps_the_first_submissions_timeliness_on_resubmission(world):
    today = timezone.localdate()
    entry = make_entry(world.target, today.month, Decimal("3"), year=today.year)
    review.submit(world.clerk, entry)
    review.transition(world.reviewer, entry, "return", "再核实")
    entry.refresh_from_db()
    entry.submitted_at = timezone.now() - datetime.timedelta(days=400)  # long ago, yet on time
    entry.save()
    review.submit(world.clerk, entry)
    entry.refresh_from_db()
    assert entry.is_late is False


def test_it_only_unlocks_through_a_reviewers_reopen_with_a_reason(world):
    entry = entered(world, state=State.SUBMITTED)
    review.approve(world.reviewer, entry)
    with pytest.raises(review.ReviewError, match="Give a reason"):
        review.reopen(world.reviewer, entry, reason="")
    with pytest.raises(review.ReviewError, match="not a reviewer of its unit"):
        review.reopen(world.clerk, entry, reason="我填错了")
    review.reopen(world.reviewer, entry, reason="统计局修订了2月数据")
    entry.refresh_from_db()
    assert entry.state == State.RETURNED and not entry.is_locked
    assert entry.review_comment == "统计局修订了2月数据"
    result = save_entries(world.clerk, [EntryRow(world.target, 2022, 3, {"value": Decimal("13")})], "entry screen",
                          today=datetime.date(2022, 4, 3))
    assert result.ok
    last = transitions(entry)[-1]
    assert last.changes["state"] == ["approved", "returned"] and last.reason == "统计局修订了2月数据"
    assert last.user == world.reviewer


def test_it_refuses_approving_a_figure_changed_since_the_reviewer_looked(world):
    entry = entered(world, state=State.SUBMITTED)
    seen_version = entry.version
    save_entries(world.clerk, [EntryRow(world.target, 2022, 3, {"value": Decimal("20")})], "entry screen",
                 today=datetime.date(2022, 4, 3))
    with pytest.raises(review.ReviewError, match="was changed by clerk_q meanwhile \\(now 20"):
        review.approve(world.reviewer, entry, base_version=seen_version)
    entry.refresh_from_db()
    assert entry.state == State.SUBMITTED


def test_it_bulk_approves_only_what_the_reviewer_may_review(world, django_assert_max_num_queries):
    mine = [entered(world, month=m, state=State.SUBMITTED) for m in (2, 3, 4)]
    draft = entered(world, month=5)
    theirs = make_entry(world.other_target, 3, Decimal("1"), state=State.SUBMITTED)
    with django_assert_max_num_queries(9):
        result = review.bulk_transition(world.reviewer, ProgressEntry.objects.all(), "approve", "批量审核")
    assert sorted(e.pk for e in result.done) == sorted(e.pk for e in mine)
    assert [(e.pk, msg) for e, msg in result.skipped] == [
        (draft.pk, "Q-1 2022-05 is Draft; only a submitted entry can be approved or returned.")]
    assert set(ProgressEntry.objects.filter(state=State.APPROVED).values_list("pk", flat=True)) == {
        e.pk for e in mine}
    theirs.refresh_from_db()
    assert theirs.state == State.SUBMITTED
    rows = Change.objects.filter(action=Change.Action.TRANSITION)
    assert rows.count() == 3
    assert {(r.user_id, r.reason, r.source) for r in rows} == {(world.reviewer.pk, "批量审核", "admin action")}


def test_it_bulk_approves_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for m in range(2, 12):
        entered(world, month=m, state=State.SUBMITTED)
    with django_assert_max_num_queries(9):
        result = review.bulk_transition(world.reviewer, ProgressEntry.objects.all(), "approve")
    assert len(result.done) == 10


def test_it_lets_an_administrator_review_any_unit_of_their_tree_only(world):
    outsider = make_user("county_boss", unit=world.guoyang, role=Role.ADMIN)
    entry = entered(world, state=State.SUBMITTED)
    with pytest.raises(review.ReviewError):
        review.approve(outsider, entry)  # Guoyang's administrator, for Qiaocheng's figure
    admin_user = make_user("boss", unit=world.guoyang.parent, role=Role.ADMIN)
    review.approve(admin_user, entry)
    entry.refresh_from_db()
    assert entry.state == State.APPROVED


def test_it_refuses_everything_to_an_inactive_reviewer(world):
    world.reviewer.is_active = False
    world.reviewer.save()
    entry = entered(world, state=State.SUBMITTED)
    with pytest.raises(review.ReviewError):
        review.approve(world.reviewer, entry)


def test_it_judges_lateness_by_the_reporting_policy(world):
    from tracker.targets.models import ReportingPolicy

    # March 2022 figures due on the 2nd working day of April 2022: Friday 1 April, Saturday 2 April (调休), ...
    ReportingPolicy.objects.create(unit=world.qiaocheng, due_working_day=2)
    entry = entered(world)
    assert review.deadline(entry) == datetime.date(2022, 4, 2)
    assert not review.is_late(entry, timezone.make_aware(datetime.datetime(2022, 4, 2, 23, 59)))
    assert review.is_late(entry, timezone.make_aware(datetime.datetime(2022, 4, 3, 0, 1)))


def test_it_lists_the_actions_each_person_may_take_now(world):
    entry = entered(world)
    assert review.allowed_actions(world.clerk, entry) == ["submit"]
    assert review.allowed_actions(world.leader, entry) == []
    entry.state = State.SUBMITTED
    assert review.allowed_actions(world.reviewer, entry) == ["approve", "return"]
    assert review.allowed_actions(world.clerk, entry) == []
    assert review.allowed_actions(world.other_reviewer, entry) == []
    entry.state = State.APPROVED
    assert review.allowed_actions(world.reviewer, entry) == ["reopen"]


def test_it_keeps_a_reviewer_from_approving_their_own_submission(world, settings):
    entry = make_entry(world.target, 3, Decimal("12"), entered_by=world.reviewer)
    review.submit(world.reviewer, entry)
    with pytest.raises(review.ReviewError, match="another reviewer must approve"):
        with translation.override("en"):
            review.approve(world.reviewer, entry)
    assert review.approve(world.city_reviewer, entry).state == State.APPROVED


def test_it_allows_self_approval_when_configured(world, settings):
    settings.REVIEW_SELF_APPROVAL = True
    entry = make_entry(world.target, 3, Decimal("12"), entered_by=world.reviewer)
    review.submit(world.reviewer, entry)
    assert review.approve(world.reviewer, entry).state == State.APPROVED
