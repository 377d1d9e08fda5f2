"""A leader opens the monthly report in headless Chromium, filters by status and downloads the XLSX."""

import io
from decimal import Decimal

import pytest

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.targets.models import Target

pytestmark = pytest.mark.browser
PASSWORD = "pw-Secret-123"


@pytest.fixture
def world(transactional_db):
    plan = make_plan(2022)
    section = make_section(plan, 1, name="经济运行调度")
    unit = make_unit("econ", name="经济运行科")
    make_user("boss", unit=unit, role=Membership.Role.LEADER, password=PASSWORD)
    red = make_target(Target.Kind.GROWTH, code="R1", name="工业投资", section=section, lead_unit=unit,
                      tolerance=Decimal("0"))
    green = make_target(Target.Kind.CUMULATIVE, code="G1", name="新增规上企业", section=section, lead_unit=unit)
    make_entry(red, 6, Decimal("4.5"))
    make_entry(green, 6, Decimal("41"))


def test_a_leader_filters_the_report_and_downloads_the_xlsx(page, live_server, world):
    from openpyxl import load_workbook

    page.goto(f"{live_server.url}/reports/2022-06/")
    page.wait_for_selector("#id_username")  # the report asks for a login first
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#report-table")
    assert page.locator("#report-table tbody tr[data-status]").count() == 2
    assert "1—6月工业投资增长4.5%，低于目标3.5个百分点" in page.inner_text("#report-table")

    page.select_option("#id_status", "off_track")
    page.click("#report-filters button[type=submit]")
    page.wait_for_url("**status=off_track**")
    rows = page.locator("#report-table tbody tr[data-status]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-status") == "off_track"
    assert "R1" in rows.first.inner_text()
    # The red badge is drawn from the local stylesheet (no network): its background is red.
    colour = page.eval_on_selector("#report-table .badge.status-off_track", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(198, 40, 40)"

    with page.expect_download() as info:
        page.click("a.export[data-format=xlsx]")
    download = info.value
    assert download.suggested_filename == "report-2022-06.xlsx"
    ws = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    assert ws.title == "2022-06月度报告"
    assert [c.value for c in ws[2]][:2] == ["R1", "工业投资"]
    assert ws.max_row == 2  # the status filter carried into the export
