"""The monthly report page and its exports: exact rows, filters, scoping, formula neutralising."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.reports.exports import neutralise
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db
Kind = Target.Kind
State = ProgressEntry.State
EVIL = '=HYPERLINK("http://evil.example/","点我")'


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def world():
    """Four targets in two sections for 2022-06 (figures due on 2022-07-07, the 5th working day of July)."""
    plan = make_plan(2022)
    s1 = make_section(plan, 1, name="经济运行调度", name_en="Economic operation")
    s2 = make_section(plan, 2, name="项目调度", name_en="Projects")
    econ = make_unit("econ", name="经济运行科", name_en="Economic Operation Section")
    invest = make_unit("invest", name="投资科", name_en="Investment Section")
    w = type("World", (), {})()
    w.plan, w.econ, w.invest = plan, econ, invest
    w.growth = make_target(Kind.GROWTH, code="A-01", name="工业投资", name_en="Industrial investment",
                           section=s1, lead_unit=invest, tolerance=Decimal("0"))
    w.count = make_target(Kind.CUMULATIVE, code="A-02", name="新增规上企业", name_en="New above-scale firms",
                          section=s1, lead_unit=econ)
    w.margin = make_target(Kind.MARGIN, code="B-01", name="规上工业增加值", name_en="Industrial value added",
                           section=s2, lead_unit=econ, comparator_name="全省")
    w.task = make_target(Kind.QUALITATIVE, code="B-02", name=EVIL, section=s2, lead_unit=econ)
    make_entry(w.growth, 6, Decimal("6.0"), state=State.SUBMITTED, submitted_at=at(datetime.date(2022, 7, 5)))
    make_entry(w.count, 6, Decimal("24"), state=State.SUBMITTED, submitted_at=at(datetime.date(2022, 7, 10)))
    make_entry(w.margin, 6, Decimal("9.0"), comparator=Decimal("8.5"))  # a draft: not reported yet
    w.leader = make_user("leader1", unit=econ, role=Membership.Role.LEADER)
    w.clerk = make_user("clerk1", unit=econ)
    return w


def report_url(**query):
    url = reverse("reports:report", args=[2022, "06"])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def kind_label(kind):
    with translation.override("zh-hans"):
        return str(Target.Kind(kind).label)


A02_REASON = ("1—6月新增规上企业累计完成24家，完成全年目标的30.0%，落后序时进度16家（序时应达40家），"
              "落后时序进度20.0个百分点（时序进度50.0%）")
HEADER = ["编号", "目标", "板块", "责任单位", "类型", "计量单位", "目标值", "累计完成", "对比值", "序时应达", "差距",
          "完成率", "序时完成率", "年末预计", "状态", "原因", "数据期", "数据说明", "全省（同期）",
          "与全省差距（百分点）", "位次"]


def expected_csv_rows():
    return [
        HEADER,
        ["A-01", "工业投资", "经济运行调度", "投资科", kind_label("growth"), "%", "8", "6", "", "8", "-2", "", "", "",
         "预警", "1—6月工业投资增长6.0%，低于目标2.0个百分点", "1—6月", "未审核", "", "", ""],
        ["A-02", "新增规上企业", "经济运行调度", "经济运行科", kind_label("cumulative"), "家", "80", "24", "", "40",
         "-16", "0.3", "0.6", "48", "滞后",
         A02_REASON, "1—6月", "未审核", "", "", ""],
        ["B-01", "规上工业增加值", "项目调度", "经济运行科", kind_label("margin"), "百分点", "0.5", "9", "8.5", "9",
         "0", "", "", "", "正常", "1—6月规上工业增加值增长9.0%，高于全省（8.5%）0.5个百分点，达到高出0.5个百分点的要求",
         "1—6月", "未审核", "", "", ""],
        ["B-02", "'" + EVIL, "项目调度", "经济运行科", kind_label("qualitative"), "", "", "", "", "", "", "", "", "",
         "暂无数据", f"1—6月{EVIL}：未报送进展情况", "", "", "", "", ""],
    ]


def read_csv(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_it_sends_anonymous_visitors_to_the_login(client, world):
    response = client.get(report_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_shows_every_target_grouped_by_section_with_status_and_reason(client, world):
    client.force_login(world.leader)
    response = client.get(report_url())
    assert response.status_code == 200
    rows = response.context["table"].data.data
    assert [(r["code"], r["status"]) for r in rows] == [
        ("A-01", "at_risk"), ("A-02", "off_track"), ("B-01", "on_track"), ("B-02", "no_data")]
    html = response.content.decode()
    table = html[html.index('id="report-table"'):]
    assert (table.index('scope="colgroup">1. 经济运行调度') < table.index("A-01")
            < table.index('scope="colgroup">2. 项目调度') < table.index("B-01"))
    # A draft figure is marked as such beside its status.
    assert ('<span class="badge status-at_risk">预警</span> <span class="figure-note">未审核</span>'
            '<div class="reason">1—6月工业投资增长6.0%，低于目标2.0个百分点</div>') in html
    assert "&lt;" not in EVIL and "=HYPERLINK(&quot;http://evil.example/&quot;" in html  # escaped, not markup
    assert "<svg class=\"spark\"" in html
    assert 'href="/targets/A-02/?period=2022-06"' in html
    # Period navigation and the language switcher.
    assert 'href="/reports/2022-05/"' in html and 'href="/reports/2022-07/"' in html
    assert 'action="/i18n/setlang/"' in html


def test_it_filters_by_status_section_unit_and_kind(client, world):
    client.force_login(world.leader)

    def codes(**query):
        return [r["code"] for r in client.get(report_url(**query)).context["table"].data.data]

    section2 = world.margin.section_id
    assert codes(status="off_track") == ["A-02"]
    assert codes(section=section2) == ["B-01", "B-02"]
    assert codes(unit=world.invest.pk) == ["A-01"]
    assert codes(kind="margin") == ["B-01"]
    assert codes(section=section2, status="no_data") == ["B-02"]
    # Counts by status ignore the status filter, so the other statuses stay one click away.
    summary = client.get(report_url(status="off_track")).context["summary"]
    assert summary["by_status"] == {"achieved": 0, "on_track": 1, "at_risk": 1, "off_track": 1, "no_data": 1,
                                    "not_due": 0}


def test_its_filter_lists_keep_the_choice_escaped_and_labelled_as_django_would(client, world):
    """The report's selects are written in one pass (filters.QuickSelect): the same options, the chosen one
    selected, names escaped, each select labelled, only the units the reader sees."""
    import re

    world.invest.name = "投资科 <b>&</b>"
    world.invest.save()
    client.force_login(world.leader)
    html = client.get(report_url(unit=world.invest.pk, status="at_risk")).content.decode()
    form = html[html.index('id="report-filters"'):html.index("</form>", html.index('id="report-filters"'))]
    for name in ("section", "unit", "status", "kind"):
        assert re.search(rf'<label for="id_{name}">[^<]+</label>\s*<select name="{name}" id="id_{name}">', form)
    assert f'<option value="{world.invest.pk}" selected>投资科 &lt;b&gt;&amp;&lt;/b&gt;</option>' in form
    assert '<option value="at_risk" selected>' in form and form.count(" selected>") == 4  # two chosen, two "All"
    units = re.findall(r'<select name="unit".*?</select>', form, re.S)[0]
    assert units.count("<option") == 3  # All, and the two units of the plan

    client.force_login(world.clerk)  # the clerk sees the economic operation section's targets only
    html = client.get(report_url()).content.decode()
    units = re.findall(r'<select name="unit".*?</select>', html, re.S)[0]
    assert "投资科" not in units and "经济运行科" in units


def test_it_sorts_by_a_column(client, world):
    client.force_login(world.leader)
    rows = client.get(report_url(sort="status")).context["table"].data.data
    assert [r["code"] for r in rows] == ["A-02", "A-01", "B-02", "B-01"]  # red, yellow, grey, green
    rows = client.get(report_url(sort="-gap")).context["table"].data.data
    # Within each section by the gap's share of the expectation; the task without a gap last (issue 16).
    assert [r["code"] for r in rows] == ["A-01", "A-02", "B-01", "B-02"]


def test_it_sorts_by_gap_within_sections_by_share_of_the_expectation_with_empty_gaps_last(client, world):
    # A-01 is 2 points short of 8% (a quarter); A-02 16 firms short of 40 (two fifths); a third target in
    # section 1, 1 firm short of 1 expected: the whole expectation, though the smallest number.
    small = make_target(Kind.CUMULATIVE, code="A-03", name="小目标", section=world.growth.section,
                        lead_unit=world.econ, target_value=Decimal("2"))
    make_entry(small, 6, Decimal("0"))
    empty = make_target(Kind.CUMULATIVE, code="A-04", name="无数据", section=world.growth.section,
                        lead_unit=world.econ)
    client.force_login(world.leader)
    response = client.get(report_url(sort="gap"))
    rows = response.context["table"].data.data
    gaps = {r["code"]: r["gap"] for r in rows}
    assert gaps["A-03"] == Decimal("-1") and gaps["A-04"] is None
    assert [r["code"] for r in rows] == ["A-03", "A-02", "A-01", "A-04", "B-01", "B-02"]
    rows = client.get(report_url(sort="-gap")).context["table"].data.data
    assert [r["code"] for r in rows] == ["A-01", "A-02", "A-03", "A-04", "B-01", "B-02"]
    # The section headings stay.
    html = response.content.decode()
    html = html[html.index('id="report-table"'):]
    assert html.count('class="section-row"') == 2
    assert html.index("1. 经济运行调度") < html.index("A-03") < html.index("2. 项目调度") < html.index("B-01")
    assert empty.pk


def test_it_limits_a_clerk_to_their_units(client, world):
    client.force_login(world.clerk)
    response = client.get(report_url())
    assert [r["code"] for r in response.context["table"].data.data] == ["A-02", "B-01", "B-02"]
    assert [row[0] for row in read_csv(client.get(report_url(_export="csv")))] == ["编号", "A-02", "B-01", "B-02"]
    assert client.get(reverse("reports:target", args=["A-01"])).status_code == 404
    assert client.get(reverse("reports:target", args=["A-02"])).status_code == 200


def test_it_exports_csv_with_chinese_headers_numbers_and_the_filters(client, world):
    client.force_login(world.leader)
    response = client.get(report_url(_export="csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report-2022-06.csv"'
    assert read_csv(response) == expected_csv_rows()
    filtered = read_csv(client.get(report_url(_export="csv", status="off_track")))
    assert filtered == [HEADER, expected_csv_rows()[2]]


def test_it_exports_xlsx_with_numbers_as_numbers_and_no_formulas(client, world):
    from openpyxl import load_workbook

    client.force_login(world.leader)
    response = client.get(report_url(_export="xlsx", sort="code"))
    assert response["Content-Disposition"] == 'attachment; filename="report-2022-06.xlsx"'
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws.title == "2022-06月度报告"
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == HEADER
    assert rows[2][:15] == ["A-02", "新增规上企业", "经济运行调度", "经济运行科", kind_label("cumulative"), "家",
                            80, 24, None, 40, -16, 0.3, 0.6, 48, "滞后"]
    assert rows[4][1] == "'" + EVIL
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws.cell(row=3, column=12).number_format == "0.0%"
    # Firms are whole: 80 and 40, not 80.00 and 40.00; a growth rate to one decimal.
    assert ws.cell(row=3, column=7).number_format == ws.cell(row=3, column=10).number_format == "#,##0"
    assert ws.cell(row=2, column=8).number_format == "0.0"
    assert ws.freeze_panes == "C2" and ws.column_dimensions["P"].width == 60


def test_it_writes_the_monthly_briefing_as_docx(client, world):
    """The structure of the bulletin; its layout is checked in tests/test_briefing.py."""
    from docx import Document

    client.force_login(world.leader)
    response = client.get(report_url(_export="docx"))
    assert response["Content-Disposition"] == 'attachment; filename="report-2022-06.docx"'
    doc = Document(io.BytesIO(response.content))
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    assert paragraphs[0].endswith("关于2022年1—6月全市工业经济主要指标和重点工作完成情况的通报")
    headings = [p for p in paragraphs if p[:2] in ("一、", "二、", "三、", "四、", "五、")]
    assert headings == ["一、总体情况", "二、主要指标完成情况", "三、各县区完成情况", "四、存在问题", "五、下步工作"]
    assert "2022年1—6月，共调度目标任务4项" in paragraphs[2]
    table = doc.tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["指标", "目标", "1—6月累计", "完成率 / 时序进度", "差距", "与全省比较", "位次", "状态"]
    assert ["新增规上企业", "80家", "24家", "30.0% / 50.0%", "-16", "—", "—", "滞后"] in cells
    assert doc.sections[0].page_width < doc.sections[0].page_height  # portrait A4


def test_it_refuses_an_unknown_export_format_or_period_clearly(client, world):
    client.force_login(world.leader)
    response = client.get(report_url(_export="pdf"))
    assert response.status_code == 400
    assert "不支持导出格式“pdf”" in response.content.decode()
    response = client.get("/reports/2022-13/")
    assert response.status_code == 400
    assert "2022-13" in response.content.decode()


def test_it_keeps_text_that_looks_like_a_number_or_a_link_as_text_in_xlsx():
    from openpyxl import load_workbook

    from tracker.reports.exports import COLUMNS, TEXT, to_xlsx

    row = {key: "" if kind == TEXT else None for key, _label, kind in COLUMNS}
    row.update(code="0012", name="https://example.org/a", unit_name="1e5", measure="家", target=Decimal("80.0000"),
               completion=Decimal("0.3000"), reason="第一行\n第二行")
    ws = load_workbook(io.BytesIO(to_xlsx([row], 2022, 6))).active
    cells = {c.column_letter: c for c in ws[2]}
    assert [cells[k].value for k in "ABDFGLP"] == ["0012", "https://example.org/a", "1e5", "家", 80, 0.3,
                                                  "第一行\n第二行"]
    assert [cells[k].data_type for k in "ABDGL"] == ["s", "s", "s", "n", "n"]
    assert cells["A"].hyperlink is None and cells["B"].hyperlink is None
    assert cells["C"].value is None and cells["H"].value is None  # empty text and missing numbers stay empty
    assert cells["P"].alignment.wrap_text and ws["A1"].font.b


def test_it_neutralises_text_that_a_spreadsheet_would_run():
    assert [neutralise(t) for t in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "ok", "", None, "a=b")] == [
        "'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "ok", "", "", "a=b"]


def test_it_shows_completeness_with_rates_and_entry_links(client, world):
    client.force_login(world.leader)
    response = client.get(reverse("reports:completeness", args=[2022, "06"]))
    result = response.context["result"]
    by_unit = {u["unit"].code: u for u in result["units"]}
    assert {k: by_unit["econ"][k] for k in ("expected", "on_time", "late", "missing", "reporting_rate",
                                            "on_time_rate")} == {
        "expected": 3, "on_time": 0, "late": 1, "missing": 2, "reporting_rate": Decimal("0.3333"),
        "on_time_rate": Decimal("0")}
    assert (by_unit["invest"]["on_time"], by_unit["invest"]["on_time_rate"]) == (1, Decimal("1"))
    assert result["totals"]["reporting_rate"] == Decimal("0.5")
    assert [i["deadline"] for i in result["items"]][0] == datetime.date(2022, 7, 7)
    html = response.content.decode()
    # A leader reads: no "去填报" link to a screen they cannot enter on (issue 16); the unit's clerk gets it.
    entry_link = reverse("admin:targets_progressentry_entry", args=["econ", "2022-06"])
    assert entry_link not in html and "去填报" not in html
    client.force_login(world.clerk)
    html = client.get(reverse("reports:completeness", args=[2022, "06"])).content.decode()
    assert entry_link in html
    assert reverse("admin:targets_progressentry_entry", args=["invest", "2022-06"]) not in html


def test_its_completeness_is_the_same_from_targets_already_read(world):
    """The dashboard reads the targets once for judging and completeness: the same counts either way."""
    from tracker.reports.completeness import completeness
    from tracker.targets.status import load_targets

    qs = Target.objects.filter(plan=world.plan)
    today = datetime.date(2022, 7, 8)
    fresh = completeness(qs, 2022, 6, today=today)
    given = completeness(qs, 2022, 6, today=today, targets=load_targets(qs))
    assert fresh["totals"] == given["totals"] and fresh["totals"]["expected"] == 4
    assert [(i["target"].code, i["state"]) for i in fresh["items"]] == [
        (i["target"].code, i["state"]) for i in given["items"]]


def test_it_runs_the_same_report_from_the_command_line(world, tmp_path):
    out = io.StringIO()
    call_command("monthly_report", "--period", "2022-06", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    keys = {"code", "name", "section", "unit_code", "unit_name", "kind", "measure", "target", "actual", "comparator",
            "expected", "gap", "status", "reason", "forecast"}
    assert all(keys <= set(r) for r in rows)
    assert {k: rows[1][k] for k in keys} == {
        "code": "A-02", "name": "新增规上企业", "section": "经济运行调度", "unit_code": "econ",
        "unit_name": "经济运行科",
        "kind": "cumulative", "measure": "家", "target": 80, "actual": 24, "comparator": None, "expected": 40,
        "gap": -16, "status": "off_track", "forecast": 48,
        "reason": A02_REASON}
    assert rows[0]["gap"] == -2 and rows[2]["comparator"] == 8.5 and rows[3]["measure"] is None
    call_command("monthly_report", "--period", "2022-06", "--format", "csv", "--output", str(tmp_path / "r.csv"),
                 stderr=io.StringIO())
    text = (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == expected_csv_rows()
    for fmt in ("xlsx", "docx", "html"):
        call_command("monthly_report", "--period", "2022-06", "--format", fmt, "--output", str(tmp_path / f"r.{fmt}"),
                     stderr=io.StringIO())
        assert (tmp_path / f"r.{fmt}").stat().st_size > 1000
    assert "A-02" in (tmp_path / "r.html").read_text(encoding="utf-8")
    out = io.StringIO()
    call_command("monthly_report", "--period", "2022-06", "--language", "en", stdout=out)
    assert json.loads(out.getvalue())[0]["reason"] == (
        "Jan–Jun Industrial investment grew 6.0%, 2.0 points below the target")


def test_it_refuses_a_bad_period_on_the_command_line(world):
    with pytest.raises(CommandError, match="2022-13"):
        call_command("monthly_report", "--period", "2022-13")
    with pytest.raises(CommandError, match="2031"):
        call_command("monthly_report", "--period", "2031-01")


def test_it_switches_the_report_to_english(client, world):
    client.force_login(world.leader)
    response = client.post("/i18n/setlang/", {"language": "en", "next": report_url()})
    assert response.status_code == 302
    html = client.get(report_url()).content.decode()
    assert "Jan–Jun Industrial investment grew 6.0%, 2.0 points below the target" in html
    assert "Monthly report" in html
    rows = read_csv(client.get(report_url(_export="csv")))
    assert rows[0][:3] == ["Code", "Target", "Section"]
