"""The review page: everything a reviewer needs to judge one figure, and why an action is refused."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.services import review
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, Target
from tracker.targets.status import assess_period

pytestmark = pytest.mark.django_db
State = ProgressEntry.State
D = Decimal


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world():
    plan = make_plan(2022)
    w = type("World", (), {})()
    w.unit = make_unit("qiaocheng", name="谯城区")
    w.clerk = make_user("clerk_qc", unit=w.unit)
    w.reviewer = make_user("reviewer_qc", unit=w.unit, role=Membership.Role.REVIEWER)
    w.other_reviewer = make_user("reviewer2_qc", unit=w.unit, role=Membership.Role.REVIEWER)
    w.target = make_target(Target.Kind.CUMULATIVE, code="QC-FIRMS", name="新增规上工业企业",
                           section=make_section(plan, 1), lead_unit=w.unit, target_value=D("80"))
    w.june = make_entry(w.target, 6, D("18"), state=State.APPROVED)
    return w


def review_url(entry):
    return reverse("admin:targets_progressentry_review", args=[entry.pk])


def submitted_july(world, submitter=None):
    """July: 10 firms (below June's 18), confirmed with an explanation, notes, evidence, submitted late."""
    result = save_entries(world.clerk, [EntryRow(world.target, 2022, 7, {
        "value": D("10"), "note": "7月新入库2家", "problems": "1家企业退库", "warning_note": "统计局核减8家",
        "evidence": SimpleUploadedFile("核减通知.pdf", b"%PDF-1.4", "application/pdf"),
    })], "entry_screen")
    assert result.ok
    july = ProgressEntry.objects.get(month=7)
    review.submit(submitter or world.clerk, july)
    july.refresh_from_db()
    return july


def page(client, user, entry, language="zh-hans"):
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(review_url(entry))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_reviewer_the_figure_in_its_context(client, world):
    july = submitted_july(world)
    html = page(client, world.reviewer, july)
    assert "QC-FIRMS 新增规上工业企业" in html and 'id="review-unit">谯城区' in html and "家" in html
    # This figure beside last month's, which was approved.
    assert '<strong>10</strong>' in html
    assert 'id="review-previous">18 · <span class="review-previous-state">已审核</span>' in html
    # The status this figure gives the target, from the report's own engine.
    with translation.override("zh-hans"):
        assessment = assess_period(Target.objects.filter(pk=world.target.pk), 2022, 7)[world.target.pk]
        label, reason = assessment.label, assessment.reason
    assert escape(label) in html and escape(reason) in html and reason
    assert "7月新入库2家" in html and "1家企业退库" in html
    # The warning the clerk confirmed, and why.
    assert "累计值10家低于1—6月已填报的18家" in html and "统计局核减8家" in html
    assert f'href="{july.evidence.url}"' in html and "核减通知" in html
    assert review.deadline(july).isoformat() in html
    assert 'id="review-approve"' in html and 'id="review-why-not"' not in html


def test_it_says_whether_the_submission_was_late_or_on_time(client, world):
    july = submitted_july(world)
    assert july.is_late  # submitted in 2026 for 2022's July
    assert "<strong>逾期</strong>" in page(client, world.reviewer, july)
    ProgressEntry.objects.filter(pk=july.pk).update(is_late=False)
    assert "按时" in page(client, world.reviewer, july)


def test_it_marks_a_draft_past_its_deadline_as_overdue(client, world):
    draft = make_entry(world.target, 8, D("20"))
    html = page(client, world.reviewer, draft, "en")
    assert "overdue, not submitted yet" in html


def test_it_shows_last_months_figure_as_returned_with_the_reviewers_comment(client, world):
    world.june.state, world.june.review_comment = State.RETURNED, "口径有误"
    world.june.save()
    july = make_entry(world.target, 7, D("20"), state=State.SUBMITTED, submitted_by=world.clerk,
                      submitted_at=timezone.now())
    html = page(client, world.reviewer, july, "en")
    assert '<span class="review-previous-state">Returned</span> (口径有误)' in html


def test_it_says_why_a_reviewer_who_submitted_the_figure_may_not_approve_it(client, world):
    july = submitted_july(world, submitter=world.reviewer)
    html = page(client, world.reviewer, july, "en")
    assert 'id="review-approve"' not in html and 'id="review-return"' in html
    assert ("You submitted QC-FIRMS 2022-07 yourself; another reviewer must approve it." in html)
    # Another reviewer may.
    assert 'id="review-approve"' in page(client, world.other_reviewer, july, "en")


def test_it_says_why_a_draft_cannot_be_approved_yet(client, world):
    draft = make_entry(world.target, 7, D("20"))
    html = page(client, world.reviewer, draft, "en")
    assert 'id="review-why-not"' in html
    assert "QC-FIRMS 2022-07 is Draft; only a submitted entry can be approved or returned." in html


def test_it_tells_a_clerk_why_they_cannot_approve_or_submit(client, world):
    empty = make_entry(world.target, 7, None)
    html = page(client, world.clerk, empty, "en")
    assert "You may not review QC-FIRMS 2022-07 (not a reviewer of its unit)." in html
    assert "QC-FIRMS 2022-07 has no figure or progress note yet; enter one before submitting." in html
    assert 'id="review-nothing"' in html


def test_it_speaks_chinese_for_the_refusal(client, world):
    july = submitted_july(world, submitter=world.reviewer)
    html = page(client, world.reviewer, july)
    with translation.override("zh-hans"):
        assert escape(review.refusal(world.reviewer, july, "approve")) in html


def test_the_refusal_is_the_one_the_workflow_raises(world):
    july = submitted_july(world, submitter=world.reviewer)
    message = review.refusal(world.reviewer, july, "approve")
    with pytest.raises(review.ReviewError, match=message):
        review.approve(world.reviewer, july)
    assert review.refusal(world.other_reviewer, july, "approve") is None


def _grow(world, july, months, edits):
    """Earlier figures of the year and history rows of the entry, which the page shows."""
    for month in months:
        make_entry(world.target, month, D(month), state=State.APPROVED)
    for n in range(edits):
        assert save_entries(world.clerk, [EntryRow(world.target, 2022, 7, {"note": f"备注{n}"})], "command").ok


def test_it_shows_the_review_page_in_a_constant_number_of_queries(client, world, django_assert_max_num_queries):
    july = submitted_july(world)
    client.force_login(world.reviewer)
    with django_assert_max_num_queries(25) as few:
        assert client.get(review_url(july)).status_code == 200
    _grow(world, july, months=range(1, 6), edits=30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(review_url(july))
    assert response.status_code == 200 and "备注29" in response.content.decode()
