"""The 月度调度通报 as a bureau issues it (GB/T 9704-2012), checked in the document and by a real word processor."""

import datetime
import io
import re
import shutil
import subprocess
from decimal import Decimal as D

import pytest
from django.utils import translation
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from tests.conftest import unavailable
from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.reports import briefing
from tracker.reports.models import BriefingNote
from tracker.reports.report import build_rows, summarise
from tracker.targets.models import Plan, Target
from tracker.targets.ranks import competition_ranks

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2022, 7, 15)


@pytest.fixture
def bulletin():
    bureau = make_unit("bureau", name="亳州市经济和信息化局")
    plan = make_plan(2022)
    section = make_section(plan, number=1, name="经济运行调度")
    firms = make_target(Target.Kind.CUMULATIVE, code="F", plan=plan, section=section, lead_unit=bureau,
                        name="新增规上企业")
    for code, name, value in (("qc", "谯城区", "12"), ("gy", "涡阳县", "9"), ("mc", "蒙城县", "12")):
        unit = make_unit(code, name=name, parent=bureau)
        part = make_target(Target.Kind.CUMULATIVE, code=f"F-{code}", plan=plan, section=section, lead_unit=unit,
                           parent=firms, name=f"{name}新增规上企业", target_value=D("20"))
        make_entry(part, 6, D(value), state="approved",
                   problems="用地指标紧张，两家企业投产推迟" if code == "gy" else "")
    growth = make_target(Target.Kind.GROWTH, code="G", plan=plan, section=section, lead_unit=bureau,
                         name="工业投资")
    make_entry(growth, 6, D("6.8"), state="approved")
    BriefingNote.objects.create(plan=plan, year=2022, month=6, next_steps="一是加强调度。\n二是强化要素保障。")
    rows = build_rows(Target.objects.filter(plan=plan), 2022, 6, today=TODAY)
    made = briefing.build(rows, summarise(rows), 2022, 6, briefing.next_steps_of(plan, 2022, 6), today=TODAY)
    return made


def test_it_ranks_with_ties_sharing_a_place():
    assert competition_ranks({"a": 12, "b": 9, "c": 12, "d": None}) == {"a": 1, "c": 1, "b": 3}
    assert competition_ranks({"a": 1.5, "b": 0.2}, higher_is_better=False) == {"b": 1, "a": 2}


def test_it_says_what_a_bureau_bulletin_says(bulletin):
    assert bulletin.title == "亳州市经济和信息化局关于2022年1—6月全市工业经济主要指标和重点工作完成情况的通报"
    assert bulletin.overview[0].startswith("2022年1—6月，共调度目标任务2项")
    assert any("双过半" in text for text in bulletin.overview)
    (name, parts), = bulletin.counties
    assert [(p["place"], p["unit"]) for p in parts] == [(1, "蒙城县"), (1, "谯城区"), (3, "涡阳县")]
    assert bulletin.problems == [("经济运行调度", [("涡阳县", "涡阳县新增规上企业", "用地指标紧张，两家企业投产推迟")])]
    assert bulletin.next_steps.startswith("一是加强调度")
    assert briefing.issued_date(TODAY) == "2022年7月15日"


def _run_fonts(paragraph):
    fonts = paragraph.runs[0].element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia")), paragraph.runs[0].font.size.pt


def test_it_lays_the_bulletin_out_as_gb_t_9704(bulletin):
    doc = Document(io.BytesIO(briefing.to_docx(bulletin)))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    assert round((section.page_width - section.left_margin - section.right_margin) / Mm(1)) == 156
    assert round((section.page_height - section.top_margin - section.bottom_margin) / Mm(1)) == 225
    paragraphs = [p for p in doc.paragraphs if p.text]
    assert _run_fonts(paragraphs[0]) == ("方正小标宋简体", 22)
    by_text = {p.text: p for p in paragraphs}
    assert _run_fonts(by_text["一、总体情况"]) == ("黑体", 16)
    assert _run_fonts(by_text["（一）新增规上企业"]) == ("楷体_GB2312", 16)
    assert _run_fonts(by_text["一是加强调度。"]) == ("仿宋_GB2312", 16)
    # 22 lines in the 225 mm type area.
    assert abs(doc.styles["Normal"].paragraph_format.line_spacing.mm * 22 - 225) < 1
    assert [p.text for p in paragraphs[-2:]] == ["亳州市经济和信息化局", "2022年7月15日"]
    footer_xml = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer_xml and "— " in section.footer.paragraphs[0].text
    for table in doc.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # the header repeats on each page
    status_cell = doc.tables[0].rows[1].cells[-1]
    assert status_cell._tc.tcPr.find(qn("w:shd")) is not None and status_cell.text  # coloured, and in words


def test_the_english_bulletin_keeps_the_structure(bulletin):
    with translation.override("en"):
        rows = bulletin  # built in Chinese; the English export builds its own
        doc = Document(io.BytesIO(briefing.to_docx(rows)))
        headings = [p.text for p in doc.paragraphs if re.match("^[一二三四五]、", p.text)]
    assert len(headings) == 5


def _soffice():
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        unavailable("needs LibreOffice (apt-get install libreoffice-writer-nogui) for the word-processor check")
    if not shutil.which("pdftotext"):
        unavailable("needs pdftotext (apt-get install poppler-utils) to read the converted bulletin")
    return found


def test_a_real_word_processor_opens_the_bulletin_as_a4_with_its_sections_in_order(bulletin, tmp_path):
    soffice = _soffice()
    # Enough rows for the indicator table to run over a page, so its header must repeat.
    bulletin.indicators = bulletin.indicators * 30
    source = tmp_path / "bulletin.docx"
    source.write_bytes(briefing.to_docx(bulletin))
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
    pdf = tmp_path / "bulletin.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    positions = [text.index(h) for h in ("一、总体情况", "二、主要指标完成情况", "三、各县区完成情况", "四、存在问题",
                                         "五、下步工作")]
    assert positions == sorted(positions)
    per_page = text.split("\f")
    table_pages = [page for page in per_page if "工业投资" in page]
    assert len(table_pages) >= 2 and all("位次" in page for page in table_pages)  # the header on every page
    assert re.search(r"—\s*1\s*—", per_page[0]) and re.search(r"—\s*2\s*—", per_page[1])


def test_the_type_area_holds_22_lines_of_28_characters(bulletin):
    doc = Document(io.BytesIO(briefing.to_docx(bulletin)))
    grids = doc.sections[0]._sectPr.findall(qn("w:docGrid"))
    assert len(grids) == 1
    # 225 mm / 22 lines = 28.99 pt = 580 twips.
    assert (grids[0].get(qn("w:type")), grids[0].get(qn("w:linePitch"))) == ("lines", "580")
    # 3号 condensed by 5 twips: 28 characters of 15.75 pt fit the 156 mm line (442.2 pt), 29 do not.
    spacing = doc.styles["Normal"].element.rPr.find(qn("w:spacing"))
    pitch = 16 + int(spacing.get(qn("w:val"))) / 20
    line = 156 / 25.4 * 72
    assert 28 * pitch <= line < 29 * pitch


def test_headings_stay_with_what_follows_them(bulletin):
    doc = Document(io.BytesIO(briefing.to_docx(bulletin)))
    headings = [p for p in doc.paragraphs if p.text[:2] in ("一、", "二、", "三、", "四、", "五、")
                or p.text.startswith("（")]
    assert len(headings) >= 6 and all(p.paragraph_format.keep_with_next for p in headings)


def test_a_page_of_the_bulletin_renders_to_an_image(bulletin, tmp_path):
    """The page image kept with the note: LibreOffice's PDF rasterised (pdftoppm), a real page with ink on it."""
    soffice = _soffice()
    if shutil.which("pdftoppm") is None:
        unavailable("pdftoppm (poppler-utils) is not installed")
    source = tmp_path / "bulletin.docx"
    source.write_bytes(briefing.to_docx(bulletin))
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(tmp_path / "bulletin.pdf"),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
    image = next(tmp_path.glob("page*.png")).read_bytes()
    assert image.startswith(b"\x89PNG")
    width, height = int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")
    assert abs(width / height - 210 / 297) < 0.01  # A4 portrait
    assert len(image) > 5_000  # text was drawn, not a blank page


def test_only_reviewers_leaders_and_administrators_write_the_next_steps(client):
    bureau = make_unit("b2")
    plan = make_plan(2022)
    make_target(Target.Kind.CUMULATIVE, code="X", plan=plan, lead_unit=bureau)
    url = "/reports/2022-06/next-steps/"
    client.force_login(make_user(unit=bureau, role="clerk"))
    assert client.post(url, {"next_steps": "x"}).status_code == 403
    client.force_login(make_user(unit=bureau, role="leader"))
    response = client.post(url, {"next_steps": "加强调度"})
    assert response.status_code == 302
    assert BriefingNote.objects.get(plan=plan, year=2022, month=6).next_steps == "加强调度"
    assert "加强调度" in client.get("/reports/2022-06/").content.decode()


def test_the_report_edits_and_prints_the_next_steps_of_the_plan_chosen_when_plans_share_a_year(client):
    bureau = make_unit("b3")
    points = Plan.objects.create(year=2022, title="2022年工作要点", unit=bureau)
    special = Plan.objects.create(year=2022, title="2022年专项行动方案", unit=bureau)
    for plan, code in ((points, "P"), (special, "S")):
        make_target(Target.Kind.CUMULATIVE, code=code, plan=plan, lead_unit=bureau)
    BriefingNote.objects.create(plan=points, year=2022, month=6, next_steps="要点的下步工作")
    client.force_login(make_user(unit=bureau, role="leader"))

    page = client.get("/reports/2022-06/").content.decode()
    assert "要点的下步工作" in page and f'name="note_plan" value="{points.pk}"' in page
    assert f"?note_plan={special.pk}" in page  # the other plan's note is one click away

    response = client.post("/reports/2022-06/next-steps/", {"next_steps": "专项的下步工作", "note_plan": special.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"?note_plan={special.pk}")
    assert BriefingNote.objects.get(plan=special, year=2022, month=6).next_steps == "专项的下步工作"
    assert BriefingNote.objects.get(plan=points, year=2022, month=6).next_steps == "要点的下步工作"
    page = client.get(f"/reports/2022-06/?note_plan={special.pk}").content.decode()
    assert "专项的下步工作" in page and f'name="note_plan" value="{special.pk}"' in page

    docx = client.get(f"/reports/2022-06/?note_plan={special.pk}&_export=docx").content
    text = "".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    assert "专项的下步工作" in text and "要点的下步工作" not in text


def test_a_city_cannot_write_the_next_steps_of_a_plan_issued_above_it(client):
    province = make_unit("prov", name="安徽省经济和信息化厅")
    city = make_unit("city", name="亳州市经济和信息化局", parent=province)
    upper = Plan.objects.create(year=2022, title="全省工作要点", unit=province)
    own = Plan.objects.create(year=2022, title="亳州市工作要点", unit=city)
    make_target(Target.Kind.CUMULATIVE, code="U", plan=upper, lead_unit=city)
    make_target(Target.Kind.CUMULATIVE, code="O", plan=own, lead_unit=city)
    client.force_login(make_user(unit=city, role="leader"))

    assert client.post("/reports/2022-06/next-steps/", {"next_steps": "x", "note_plan": upper.pk}).status_code == 403
    assert not BriefingNote.objects.filter(plan=upper).exists()
    page = client.get("/reports/2022-06/").content.decode()
    assert f'name="note_plan" value="{own.pk}"' in page and f"?note_plan={upper.pk}" not in page
    assert client.post("/reports/2022-06/next-steps/", {"next_steps": "市里的", "note_plan": own.pk}).status_code == 302
    assert BriefingNote.objects.get(plan=own, year=2022, month=6).next_steps == "市里的"


def test_an_older_figure_in_the_bulletin_says_which_months_it_covers():
    bureau = make_unit("bureau9", name="亳州市经济和信息化局")
    plan = make_plan(2022)
    growth = make_target(Target.Kind.GROWTH, code="G9", plan=plan, lead_unit=bureau, name="工业投资")
    make_entry(growth, 5, D("6.8"), state="approved")
    today = datetime.date(2022, 10, 20)  # 1—9月 is overdue: the latest figure is 1—5月's
    rows = build_rows(Target.objects.filter(plan=plan), 2022, 9, today=today)
    (row,) = briefing.build(rows, summarise(rows), 2022, 9, today=today).indicators
    assert row["actual"] == "6.8%（1—5月）"
    with translation.override("en"):
        (row,) = briefing.build(rows, summarise(rows), 2022, 9, today=today).indicators
        assert row["actual"] == "6.8% (Jan–May)"
    current = build_rows(Target.objects.filter(plan=plan), 2022, 5, today=today)
    (row,) = briefing.build(current, summarise(current), 2022, 5, today=today).indicators
    assert row["actual"] == "6.8%"
