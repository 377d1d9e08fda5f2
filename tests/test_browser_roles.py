"""Done when: tried as a new user would, with two clerks of different units and a reviewer, in the browser:
each sees only their own, the reviewer's approval locks, the history shows every step."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.factories import make_plan, make_section, make_target, make_unit
from tracker.targets.models import ProgressEntry, Target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Bozhou-Test-2022"


@pytest.fixture
def bureau():
    plan = make_plan(2022)
    section = make_section(plan, 1, name="经济运行调度")
    qiaocheng = make_unit("qiaocheng", name="谯城区", name_en="Qiaocheng")
    guoyang = make_unit("guoyang", name="涡阳县", name_en="Guoyang")
    a = make_target(Target.Kind.CUMULATIVE, plan=plan, section=section, lead_unit=qiaocheng, code="QC-1",
                    name="谯城区新增规上工业企业")
    b = make_target(Target.Kind.CUMULATIVE, plan=plan, section=section, lead_unit=guoyang, code="GY-1",
                    name="涡阳县新增规上工业企业")
    # Accounts made the way an administrator makes them.
    for username, unit, role in [("clerk_qc", "qiaocheng", "clerk"), ("clerk_gy", "guoyang", "clerk"),
                                 ("reviewer_qc", "qiaocheng", "reviewer")]:
        call_command("add_staff", username, "--email", f"{username}@example.com", "--unit", unit, "--role", role,
                     "--password", PASSWORD, stdout=io.StringIO())
    return a, b


def login(page, base, username):
    page.context.clear_cookies()
    page.goto(base + reverse("admin:login") + "?next=" + reverse("admin:index"))  # else each role lands on its start
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(re.escape(base + reverse("admin:index")) + "$"))


def test_two_clerks_and_a_reviewer_each_see_their_own_and_approval_locks_with_history(page, live_server, bureau):
    a, b = bureau
    base = live_server.url

    # Clerk of 谯城区 enters and submits March's figure on the monthly entry screen.
    login(page, base, "clerk_qc")
    page.goto(base + reverse("admin:targets_progressentry_entry", args=["qiaocheng", "2022-03"]))
    assert page.locator("#row-QC-1").is_visible()
    assert page.locator("#row-GY-1").count() == 0
    page.fill(f"input[name='t{a.pk}-value']", "12")
    page.click("input[name='_submit']")
    page.wait_for_load_state()
    entry = ProgressEntry.objects.get(target=a)
    assert (entry.value, entry.state) == (12, ProgressEntry.State.SUBMITTED)
    # The other county's screen and entries are not there for this clerk.
    response = page.goto(base + reverse("admin:targets_progressentry_entry", args=["guoyang", "2022-03"]))
    assert response.status in (403, 404)
    page.goto(base + reverse("admin:targets_progressentry_changelist"))
    assert "QC-1" in page.content() and "GY-1" not in page.content()

    # Clerk of 涡阳县 sees only their own target, and not 谯城区's entry even by its URL.
    login(page, base, "clerk_gy")
    page.goto(base + reverse("admin:targets_target_changelist"))
    assert "GY-1" in page.content() and "QC-1" not in page.content()
    response = page.goto(base + reverse("admin:targets_progressentry_change", args=[entry.pk]))
    assert response.status == 404
    response = page.goto(base + reverse("admin:targets_progressentry_history", args=[entry.pk]))
    assert response.status == 404

    # The reviewer approves it from the list (bulk approve); it is now locked.
    login(page, base, "reviewer_qc")
    page.goto(base + reverse("admin:targets_progressentry_changelist"))
    page.check(f"input[name='_selected_action'][value='{entry.pk}']")
    page.select_option("select[name='action']", "approve_selected")
    page.click("button[name='index']")
    page.wait_for_load_state()
    entry.refresh_from_db()
    assert entry.state == ProgressEntry.State.APPROVED

    # Back as the clerk: the entry is read-only everywhere.
    login(page, base, "clerk_qc")
    page.goto(base + reverse("admin:targets_progressentry_entry", args=["qiaocheng", "2022-03"]))
    assert page.locator(f"input[name='t{a.pk}-value']").count() == 0
    assert "锁定" in page.locator("#row-QC-1").inner_text()
    page.goto(base + reverse("admin:targets_progressentry_change", args=[entry.pk]))
    assert page.locator("input[name='_save']").count() == 0
    page.goto(base + reverse("admin:targets_progressentry_review", args=[entry.pk]))
    assert page.locator("#review-nothing").is_visible()

    # The history shows every step: entered, submitted, approved, with who did it.
    page.goto(base + reverse("admin:targets_progressentry_history", args=[entry.pk]))
    rows = [r.inner_text() for r in page.locator("#history-table tr.history-row").all()]
    assert len(rows) == 3
    approved, submitted, created = rows
    assert "reviewer_qc" in approved and "已审核" in approved
    assert "clerk_qc" in submitted and "已提交" in submitted
    assert "clerk_qc" in created and "12" in created
