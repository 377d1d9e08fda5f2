"""QA in the browser: the entries list is readable at 1366 px: the period on one line, the target name wrapping."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_entry, make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_keeps_the_entry_period_on_one_line_and_wraps_long_target_names(page, live_server):
    make_plan(2022)
    unit = make_unit("city", name="市经信局")
    target = make_target(lead_unit=unit, code="BZ22-1-04", name="规模以上工业增加值增速高于全省0.5个百分点" * 2)
    make_entry(target, 5, 9)
    make_user("reviewer", unit=unit, role=Membership.Role.REVIEWER, password="Pw-for-tests-1")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "reviewer")
    page.fill("#id_password", "Pw-for-tests-1")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))
    page.goto(live_server.url + reverse("admin:targets_progressentry_changelist"))

    period = page.locator("#result_list td.field-period").first
    assert period.inner_text() == "2022年1~5月"
    lines = "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    assert period.evaluate(lines) == 1
    name = page.locator("#result_list th.field-target").first
    assert name.evaluate(lines) > 1
