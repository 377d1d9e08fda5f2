"""QA in the browser at 1366 px: admin lists and the entry screen fit and stay readable in both languages."""

import re

import pytest
from django.urls import reverse

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Pw-for-tests-1"


def log_in(page, live_server, username):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server.url + reverse("admin:login") + "?next=" + reverse("admin:index"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


def test_it_keeps_the_entry_period_on_one_line_and_wraps_long_target_names(page, live_server):
    make_plan(2022)
    unit = make_unit("city", name="市经信局")
    target = make_target(lead_unit=unit, code="BZ22-1-04", name="规模以上工业增加值增速高于全省0.5个百分点" * 2)
    make_entry(target, 5, 9)
    make_user("reviewer", unit=unit, role=Membership.Role.REVIEWER, password=PASSWORD)
    log_in(page, live_server, "reviewer")
    page.goto(live_server.url + reverse("admin:targets_progressentry_changelist"))

    period = page.locator("#result_list td.field-period").first
    assert period.inner_text() == "2022年1—5月"
    lines = "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    assert period.evaluate(lines) == 1
    name = page.locator("#result_list th.field-target").first
    assert name.evaluate(lines) > 1


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_entry_screen_fits_a_1366_pixel_screen_in_both_languages(page, live_server, language):
    make_plan(2022)
    unit = make_unit("city", name="亳州市经济和信息化局", name_en="Bozhou Municipal Bureau of Economy and IT")
    for n, kind in enumerate(["cumulative", "margin", "milestone", "qualitative"]):
        make_target(kind, lead_unit=unit, code=f"BZ22-1-0{n}", name="规模以上工业增加值增速高于全省0.5个百分点",
                    name_en="Above-scale industrial value added growing 0.5 percentage points faster than the "
                            "province's")
    make_user("clerk", unit=unit, role=Membership.Role.CLERK, password=PASSWORD)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    log_in(page, live_server, "clerk")
    page.goto(live_server.url + reverse("admin:targets_progressentry_entry", args=["city", "2022-05"]))

    overflow = page.evaluate("""() => [...document.querySelectorAll('table.entry-screen')]
        .map(t => t.scrollWidth - t.closest('.module').clientWidth)""")
    assert overflow and all(px <= 0 for px in overflow), overflow
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366


def test_the_targets_list_does_not_squeeze_the_name_behind_a_long_section_name(page, live_server):
    plan = make_plan(2022)
    section = make_section(plan, 1, name="加强工业经济运行调度，在提升发展质量上下功夫" * 2)
    unit = make_unit("city", name="亳州市经济和信息化局")
    make_target(plan=plan, section=section, lead_unit=unit, code="BZ22-1-01", name="加强重点行业、重点企业监测")
    make_user("boss", unit=unit, role=Membership.Role.ADMIN, password=PASSWORD, is_superuser=True)
    log_in(page, live_server, "boss")
    page.goto(live_server.url + reverse("admin:targets_target_changelist"))
    link = page.locator("#result_list .field-name a").first
    assert link.inner_text() == "加强重点行业、重点企业监测"
    assert link.evaluate("a => a.getClientRects().length") <= 3  # lines the name takes (7 when squeezed)
