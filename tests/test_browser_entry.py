"""A clerk enters a month's figures in a real (headless Debian Chromium) browser."""

from decimal import Decimal

import pytest

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.browser
PASSWORD = "pw-Secret-123"


@pytest.fixture
def world(transactional_db):
    plan = make_plan(2022)
    section = make_section(plan, 1, name="经济运行调度")
    unit = make_unit("econ", name="经济运行科")
    w = type("World", (), {})()
    w.unit = unit
    w.clerk = make_user("clerk", unit=unit, password=PASSWORD)
    w.count = make_target(Target.Kind.CUMULATIVE, code="C1", name="新增规上工业企业", section=section,
                          lead_unit=unit)
    w.margin = make_target(Target.Kind.MARGIN, code="M1", name="工业投资增速高于全省", section=section,
                           lead_unit=unit, comparator_name="全省工业投资增速")
    make_entry(w.count, 2, Decimal("7"))
    return w


def log_in(page, live_server, next_url="/admin/"):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_a_clerk_enters_and_saves_a_months_figures(page, live_server, world):
    log_in(page, live_server)
    page.wait_for_selector("#site-name")
    assert "亳州市经信局目标任务跟踪" in page.inner_text("#site-name")

    page.click("text=打开月度填报")
    page.select_option("#id_unit", "econ")
    page.fill("#id_period", "2022-03")
    page.click("input[type=submit][value=打开]")
    page.wait_for_selector("table.entry-screen")
    assert "月度填报：经济运行科，2022年1—3月" in page.inner_text("#content")
    # Last month's figure is shown next to the inputs.
    assert "7" in page.inner_text("#row-C1 td:nth-child(5)")

    page.fill(f"#id_t{world.count.pk}-value", "12")
    page.fill(f"#id_t{world.count.pk}-note", "新增12家")
    page.fill(f"#id_t{world.margin.pk}-value", "7.5")
    page.fill(f"#id_t{world.margin.pk}-comparator", "6.2")
    page.fill(f"#id_t{world.margin.pk}-problems", "项目开工偏慢")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist")
    assert "已保存：新增 2 条，修改 0 条。" in page.inner_text("ul.messagelist")
    # The reloaded screen shows the stored figures.
    assert page.input_value(f"#id_t{world.count.pk}-value") == "12"
    assert page.input_value(f"#id_t{world.margin.pk}-comparator") == "6.2"

    saved = {e.target.code: e for e in ProgressEntry.objects.filter(month=3).select_related("target", "entered_by")}
    assert saved["C1"].value == Decimal("12") and saved["C1"].note == "新增12家"
    assert (saved["M1"].value, saved["M1"].comparator, saved["M1"].problems) == (
        Decimal("7.5"), Decimal("6.2"), "项目开工偏慢")
    assert {e.entered_by.username for e in saved.values()} == {"clerk"}


def test_a_wrong_row_is_marked_and_nothing_is_saved(page, live_server, world):
    log_in(page, live_server, "/admin/targets/progressentry/entry/econ/2022-03/")
    page.wait_for_selector("table.entry-screen")
    page.fill(f"#id_t{world.count.pk}-value", "12")
    page.fill(f"#id_t{world.margin.pk}-value", "7.5")  # comparator missing
    page.click("input[name=_save]")
    page.wait_for_selector("#row-M1.errors")
    assert "请填写同期的对比值（全省工业投资增速）。" in page.inner_text("#row-M1")
    assert page.input_value(f"#id_t{world.count.pk}-value") == "12"  # kept for the correction
    assert not ProgressEntry.objects.filter(month=3).exists()


def test_text_typed_into_a_number_field_reaches_the_server_as_an_error_on_its_row(page, live_server, world):
    """A type=number input drops "十二" and posts it empty, so the row was saved without its figure (issue 16)."""
    log_in(page, live_server, "/admin/targets/progressentry/entry/econ/2022-03/")
    page.wait_for_selector("table.entry-screen")
    page.fill(f"#id_t{world.count.pk}-value", "十二")
    page.fill(f"#id_t{world.count.pk}-note", "新增12家")
    page.click("input[name=_save]")
    page.wait_for_selector("#row-C1.errors")
    assert "输入一个数字。" in page.inner_text("#row-C1")
    assert page.input_value(f"#id_t{world.count.pk}-value") == "十二"  # kept for the correction
    assert not ProgressEntry.objects.filter(month=3).exists()


def test_one_table_lines_up_every_section_and_keeps_codes_and_measures_on_one_line(page, live_server, world):
    other = make_section(world.count.plan, 2, name="项目调度")
    make_target(Target.Kind.CUMULATIVE, code="BZ22-2-01-QC", name="谯城区新增规模工业企业（示例分解）",
                section=other, lead_unit=world.unit)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, "/admin/targets/progressentry/entry/econ/2022-03/")
    page.wait_for_selector("table.entry-screen")
    assert page.locator("table.entry-screen").count() == 1
    lefts = page.evaluate("""() => [...document.querySelectorAll('tr.entry-row')].map(
        r => r.querySelector('input.entry-num').getBoundingClientRect().left)""")
    assert len(lefts) == 3 and len(set(lefts)) == 1  # the figure column stands at the same place in both sections
    lines = "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    assert page.locator("#row-BZ22-2-01-QC td.code").evaluate(lines) == 1
    assert page.locator("#row-BZ22-2-01-QC td.code").evaluate("td => td.scrollWidth <= td.clientWidth")  # not cut
    assert page.locator("#row-C1 td.measure").evaluate(lines) == 1
    # After saving, the row says where the target now stands, in words.
    page.fill(f"#id_t{world.count.pk}-value", "12")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist")
    assert page.inner_text("#status-C1").startswith("滞后 1—3月新增规上工业企业累计完成12家")
