"""The 月度调度通报: the month's bulletin as a bureau issues it, in the layout of GB/T 9704-2012 (党政机关公文格式).

`build(...)` gathers what the bulletin says (one query for the clerks' 存在问题 and one for the
next-steps text); `to_docx(briefing)` lays it out:

- A4 portrait, type area 156 × 225 mm (top margin 37 mm, binding side 28 mm);
- title in 2号 (22 pt) 方正小标宋简体, body in 3号 (16 pt) 仿宋_GB2312 at 22 lines of 28 characters,
  first-level headings (一、) in 黑体 and second-level ones (（一）) in 楷体_GB2312, East Asian font
  names set so Word on the recipient's machine uses them;
- page numbers "— 1 —" in 4号 宋体, odd pages on the right and even pages on the left;
- sections 一、总体情况 二、主要指标完成情况 三、各县区完成情况 四、存在问题 五、下步工作, then the issuing
  office and the date written in full (2022年7月15日);
- tables whose header row repeats on every page, column widths fitted to their content.

The English export keeps the same structure.
"""

import datetime
import io
import re
import unicodedata
from dataclasses import dataclass, field
from html import escape

from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from tracker.reports.models import BriefingNote
from tracker.targets.models import ProgressEntry, Unit
from tracker.targets.numbers import fmt_percent, fmt_quantity, fmt_rate
from tracker.targets.period import Period, months_label
from tracker.targets.ranks import competition_ranks
from tracker.targets.status import STATUSES

MM_PER_PT = 25.4 / 72
# The body's characters condensed by this much (in twips, a twentieth of a point): see _layout.
CONDENSED_TWIPS = -5
TYPE_AREA_MM = (156, 225)
LINES, CHARACTERS = 22, 28
FONT_TITLE, FONT_BODY, FONT_HEADING, FONT_SUBHEADING, FONT_PAGE = (
    "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体")
SIZE_TITLE, SIZE_BODY, SIZE_PAGE, SIZE_TABLE = 22, 16, 14, 10.5
# Status cells shaded like the report's badges (red, yellow, green…), the word itself always written too.
STATUS_FILL = {"off_track": "F4B6B0", "at_risk": "FBE3A1", "on_track": "C9E7C3", "achieved": "B7D7F0",
               "no_data": "E3E3E3", "not_due": "F2F2F2"}
NUMERALS = "一二三四五六七八九十"


def chinese_numeral(number):
    """1 → 一, 10 → 十, 11 → 十一, 20 → 二十, 99 → 九十九 (headings as a 公文 numbers them); from 100 on, digits."""
    if not 1 <= number <= 99:
        return str(number)
    tens, ones = divmod(number, 10)
    if tens == 0:
        return NUMERALS[ones - 1]
    text = ("" if tens == 1 else NUMERALS[tens - 1]) + "十"
    return text + (NUMERALS[ones - 1] if ones else "")


@dataclass
class Briefing:
    issuer: str
    period: Period
    title: str
    overview: list  # paragraphs
    indicators: list  # [dict(name, target, actual, schedule, gap, province, rank, status, status_label)]
    counties: list  # [(sub-heading, [dict(place, unit, actual, completion, status_label)])]
    problems: list  # [(section name, [(unit name, target name, text)])]
    next_steps: str
    issued_on: datetime.date
    extras: dict = field(default_factory=dict)


def issued_date(day):
    """2022年7月15日 / 15 July 2022: the date as a bulletin writes it."""
    if (get_language() or "").startswith("en"):
        return day.strftime("%-d %B %Y")
    return f"{day.year}年{day.month}月{day.day}日"


def _issuer(rows, units):
    """The issuing office: the unit at the top of the responsible units' tree."""
    parents = dict(Unit.objects.values_list("pk", "parent_id"))
    best = None
    for row in rows:
        unit_id, seen = row["unit_id"], set()
        while parents.get(unit_id) and unit_id not in seen:
            seen.add(unit_id)
            unit_id = parents[unit_id]
        best = best or unit_id
    unit = units.get(best) or Unit.objects.filter(pk=best).first()
    return unit.display_name if unit else ""


def _target_text(row):
    value = row["target"]
    if value is None:
        return "—"
    if row["kind"] in ("growth", "margin"):
        return fmt_rate(value) + ("%" if row["kind"] == "growth" else pgettext("points", " points"))
    return fmt_quantity(value, row["measure"] or "") + (row["measure"] or "")


def _actual_text(row, month):
    """The figure as printed; one of an earlier month than the bulletin's (overdue) says which months it covers."""
    if row["actual"] is None:
        return "—"
    if row["kind"] in ("growth", "margin"):
        text = fmt_rate(row["actual"]) + "%"
    else:
        text = fmt_quantity(row["actual"], row["measure"] or "") + (row["measure"] or "")
    older = row.get("as_of_month")
    if older and older != month:
        text = pgettext("briefing", "%(figure)s (%(months)s)") % {"figure": text, "months": months_label(older)}
    return text


def _schedule_text(row):
    """完成率 and 时序进度 of a count (65.0% / 75.0%), or the gap of a rate in points."""
    if row["kind"] in ("cumulative", "recurring") and row["completion"] is not None and row["target"]:
        expected_share = row["expected"] / row["target"] if row["expected"] is not None else None
        return f"{fmt_percent(row['completion'])}% / {fmt_percent(expected_share)}%"
    return "—"


def _gap_text(row):
    if row["gap"] is None:
        return "—"
    text = fmt_rate(row["gap"]) if row["kind"] in ("growth", "margin") else fmt_quantity(row["gap"],
                                                                                        row["measure"] or "")
    return f"+{text}" if row["gap"] > 0 else text


def _province_text(row):
    """高于全省1.6个百分点 / 1.6 points above the province: the gap as the release prints it."""
    gap, province = row.get("province_gap"), row.get("province")
    if gap is None:
        return "—" if province is None else fmt_rate(province) + "%"
    values = {"gap": fmt_rate(abs(gap)), "province": fmt_rate(province)}
    if gap > 0:
        return _("%(gap)s points above (province %(province)s%%)") % values
    if gap < 0:
        return _("%(gap)s points below (province %(province)s%%)") % values
    return _("level with the province (%(province)s%%)") % values


def _overview(summary, period):
    counts = summary["by_status"]
    values = {"period": period.label, "total": summary["total"],
              **{key: counts[key] for key in STATUSES}}
    paragraphs = [_(
        "In %(period)s, %(total)s targets were scheduled: %(achieved)s achieved, %(on_track)s on track, "
        "%(at_risk)s at risk, %(off_track)s off track, %(no_data)s without data and %(not_due)s not yet due."
    ) % values]
    return paragraphs


def _double_half(rows, period):
    """双过半 at mid-year: the counts past half the year's target as half the year has passed."""
    if period.month != 6:
        return None
    counts = [r for r in rows if r["kind"] == "cumulative" and r["completion"] is not None and not r["parent_id"]]
    if not counts:
        return None
    past = sum(1 for r in counts if r["completion"] >= 0.5)
    return _("Half the year, half the task (双过半): %(past)s of %(count)s cumulative targets are past half of "
             "their annual target.") % {"past": past, "count": len(counts)}


def _counties(rows, month):
    """For each decomposed target, its parts ranked among themselves (completion for counts, growth for rates)."""
    by_parent = {}
    for row in rows:
        if row["parent_id"]:
            by_parent.setdefault(row["parent_id"], []).append(row)
    names = {r["target_id"]: r["name"] for r in rows}
    tables = []
    for parent_id, parts in by_parent.items():
        rates = parts[0]["kind"] in ("growth", "margin")
        values = {r["target_id"]: (r["actual"] if rates else r["completion"]) for r in parts}
        places = competition_ranks(values)
        parts.sort(key=lambda r: (places.get(r["target_id"], 10**6), r["unit_name"]))
        tables.append((names.get(parent_id, ""), [{
            "place": places.get(r["target_id"], "—"), "unit": r["unit_name"], "actual": _actual_text(r, month),
            "completion": _schedule_text(r) if not rates else _gap_text(r), "status": r["status"],
            "status_label": r["status_label"]} for r in parts]))
    return tables


def _problems(rows, year, month):
    """The clerks' 存在问题 of the month, grouped by section in plan order and attributed to units."""
    by_id = {r["target_id"]: r for r in rows}
    # One query even for no rows (an empty IN would skip it): the same number of queries whatever is shown.
    found = (ProgressEntry.objects.filter(target_id__in=list(by_id) or [0], year=year, month=month)
             .exclude(problems="").values_list("target_id", "problems"))
    sections = {}
    for target_id, text in found:
        row = by_id[target_id]
        sections.setdefault((row["section_number"], row["section"]), []).append(
            (row["unit_name"], row["name"], " ".join(text.split())))
    return [(name, items) for (_number, name), items in sorted(sections.items())]


def next_steps_of(plan, year, month):
    """The 下步工作 text written for the plan's month ('' when none)."""
    if plan is None:
        return ""
    note = BriefingNote.objects.filter(plan=plan, year=year, month=month).values_list("next_steps", flat=True)
    return note.first() or ""


def build(rows, summary, year, month, next_steps="", today=None, units=None, register_problems=()):
    """What the bulletin for (year, month) says, from the report's rows (as the user may see them).

    `register_problems`: [(unit name, text)] from the registers (open coordination items, projects behind plan,
    firms expected to enter the above-scale list that have not), a last part of 存在问题.
    """
    period = Period(year, month)
    issuer = _issuer(rows, units or {})
    title = _("%(issuer)s bulletin on the main industrial indicators and key tasks of the city, %(period)s") % {
        "issuer": issuer, "period": period.label}
    overview = _overview(summary, period)
    double = _double_half(rows, period)
    if double:
        overview.append(double)
    flagged = [r for r in summary["flagged"] if r["status"] == "off_track"]
    if flagged:
        overview.append(_("Off track: %(list)s.") % {"list": pgettext("list separator", "; ").join(
            f"{r['name']}（{r['unit_name']}）" for r in flagged)})
    indicators = [{
        "name": r["name"], "target": _target_text(r), "actual": _actual_text(r, month), "schedule": _schedule_text(r),
        "gap": _gap_text(r), "province": _province_text(r), "rank": r.get("rank") or "—", "status": r["status"],
        "status_label": r["status_label"],
    } for r in rows if not r["parent_id"] and r["kind"] in ("growth", "margin", "cumulative", "recurring")]
    problems = _problems(rows, year, month)
    if register_problems:
        heading = pgettext("briefing", "Project and firm scheduling")
        problems.append((heading, [(unit, heading, text) for unit, text in register_problems]))
    return Briefing(issuer, period, title, overview, indicators, _counties(rows, month), problems,
                    next_steps, today or timezone.localdate())


# --- the document -----------------------------------------------------------------------------------------


def _fonts(run_or_style, name, size):
    """Latin and East Asian font names both set: Word uses w:eastAsia for Chinese characters."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = run_or_style.font
    font.name, font.size = name, Pt(size)
    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


def _page_number_field(paragraph):
    """"— PAGE —": a PAGE field between two dashes."""
    from docx.oxml.ns import qn

    run = paragraph.add_run("— ")
    _fonts(run, FONT_PAGE, SIZE_PAGE)
    field_run = paragraph.add_run()
    _fonts(field_run, FONT_PAGE, SIZE_PAGE)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = field_run._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
        else:
            element = field_run._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            element.text = text
        field_run._r.append(element)
    run = paragraph.add_run(" —")
    _fonts(run, FONT_PAGE, SIZE_PAGE)


def _layout(doc):
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    width, height = TYPE_AREA_MM
    section.top_margin, section.left_margin = Mm(37), Mm(28)
    section.right_margin, section.bottom_margin = Mm(210 - 28 - width), Mm(297 - 37 - height)
    section.footer_distance = Mm(297 - 37 - height - 7 - SIZE_PAGE * MM_PER_PT)  # 7 mm below the type area
    # 22 lines in the type area: a line grid of that pitch (Word's 公文 templates set it), with the body's exact
    # line spacing below. 28 characters a line: 3号 (16 pt) condensed by a quarter point, 15.75 pt a character,
    # so 28 fit in 156 mm (442.2 pt) and a 29th does not. Character spacing is honoured by Word, WPS and
    # LibreOffice alike; a character grid (linesAndChars) is not: LibreOffice gives a 16 pt character two cells.
    from docx.oxml.ns import qn

    sect_pr = section._sectPr
    for old in sect_pr.findall(qn("w:docGrid")):
        sect_pr.remove(old)
    sect_pr.append(sect_pr.makeelement(qn("w:docGrid"), {
        qn("w:type"): "lines", qn("w:linePitch"): str(Pt(height / LINES / MM_PER_PT).twips)}))
    normal = doc.styles["Normal"]
    _fonts(normal, FONT_BODY, SIZE_BODY)
    rpr = normal.element.get_or_add_rPr()
    rpr.append(rpr.makeelement(qn("w:spacing"), {qn("w:val"): str(CONDENSED_TWIPS)}))
    paragraph_format = normal.paragraph_format
    paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph_format.line_spacing = Pt(height / LINES / MM_PER_PT)  # 22 lines in the type area
    paragraph_format.space_before = paragraph_format.space_after = Pt(0)
    # Page numbers: odd pages on the right, even ones on the left (one character in from the edge).
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer,
                                                                         WD_ALIGN_PARAGRAPH.LEFT)):
        paragraph = footer.paragraphs[0]
        paragraph.alignment = align
        indent = Pt(SIZE_PAGE)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = indent
        else:
            paragraph.paragraph_format.left_indent = indent
        _page_number_field(paragraph)


def _paragraph(doc, text, font=FONT_BODY, size=SIZE_BODY, indent=True, align=None, style=None):
    from docx.shared import Pt

    paragraph = doc.add_paragraph(style=style)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)  # two characters
    if align is not None:
        paragraph.alignment = align
    run = paragraph.add_run(text)
    _fonts(run, font, size)
    return paragraph


def _off_grid(paragraph):
    """Laid out at its own font size rather than on the body's character grid (the title, in 2号)."""
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    ppr.insert(0, ppr.makeelement(qn("w:snapToGrid"), {qn("w:val"): "0"}))


def _heading(doc, number, text, level=1):
    """一、总体情况 in 黑体; （一）… in 楷体. Outline levels set, so Word's navigation pane lists them."""
    from docx.oxml.ns import qn

    numeral = chinese_numeral(number)
    label = f"{numeral}、{text}" if level == 1 else f"（{numeral}）{text}"
    paragraph = _paragraph(doc, label, FONT_HEADING if level == 1 else FONT_SUBHEADING)
    paragraph.paragraph_format.keep_with_next = True  # never alone at the foot of a page
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(ppr.makeelement(qn("w:outlineLvl"), {qn("w:val"): str(level - 1)}))
    return paragraph


# Characters XML 1.0 cannot hold (a stray control character pasted into a name).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _run_xml(text, font, half_points):
    fonts = escape(font, quote=True)
    text = NOT_XML.sub("", str(text))
    return (f'<w:r><w:rPr><w:rFonts w:ascii="{fonts}" w:hAnsi="{fonts}" w:eastAsia="{fonts}" w:cs="{fonts}"/>'
            f'<w:sz w:val="{half_points}"/></w:rPr><w:t xml:space="preserve">{escape(text, quote=False)}</w:t>'
            f'</w:r>')


def _table(doc, headers, rows, widths_chars, status_column=None):
    """A table whose header row repeats on every page; columns sized to their content (in characters).

    The rows are written as one piece of XML and parsed once: python-docx's add_row and row.cells walk the
    whole table for every row, which made a bulletin of 2,000 targets take many seconds.
    """
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Mm, Pt

    table = doc.add_table(rows=0, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Mm(mm) for mm in _column_mm(widths_chars)]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid, which LibreOffice and WPS read
    twips = [width.twips for width in widths]
    line = Pt(SIZE_TABLE * 1.5).twips
    half_points = round(SIZE_TABLE * 2)
    # Off the document's character grid: a 5号 table would otherwise spread over the body's 3号 grid.
    paragraph = (f'<w:pPr><w:snapToGrid w:val="0"/><w:spacing w:line="{line}" w:lineRule="exact"/>'
                 f'<w:ind w:firstLine="0"/></w:pPr>')
    shades = {key: f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' for key, fill in STATUS_FILL.items()}
    parts = []
    for values, status in [(headers, None), *rows]:
        header = values is headers
        font = FONT_HEADING if header else FONT_BODY
        parts.append('<w:tr><w:trPr>' + ('<w:tblHeader w:val="true"/>' if header else "")
                     + '<w:cantSplit w:val="true"/></w:trPr>')  # a row stays on one page
        for index, value in enumerate(values):
            shade = shades.get(status, '<w:shd w:val="clear" w:color="auto" w:fill="FFFFFF"/>') if (
                status and index == status_column) else ""
            parts.append(f'<w:tc><w:tcPr><w:tcW w:w="{twips[index]}" w:type="dxa"/>{shade}</w:tcPr>'
                         f'<w:p>{paragraph}{_run_xml(value, font, half_points)}</w:p></w:tc>')
        parts.append("</w:tr>")
    built = parse_xml(f'<w:tbl {nsdecls("w")}>{"".join(parts)}</w:tbl>')
    for row in list(built):
        table._tbl.append(row)
    return table


def _em(text):
    """The width of a text in Chinese characters: a Latin letter or digit a little over half of one (a CJK font's
    digits and % are often wider than half), and a quarter more where Chinese and Latin text meet."""
    width, previous = 0.0, None
    for ch in str(text):
        wide = unicodedata.east_asian_width(ch) in "WFA"
        width += 1 if wide else 0.6
        if previous is not None and wide != previous and not ch.isspace():
            width += 0.25  # the space a word processor puts between Chinese and Latin text (第 9 位)
        previous = wide
    return width


def _widths(headers, rows):
    """Column widths in Chinese characters: the widest cell (a header may wrap onto two lines), at most 12."""
    widths = [max(2.0, _em(h) / 2) for h in headers]
    for values, _status in rows:
        for index, value in enumerate(values):
            widths[index] = min(12.0, max(widths[index], _em(value)))
    return widths


# A table character (5号, 10.5 pt) in mm, and a cell's left and right padding together (Word: 0.19 cm each).
TABLE_CHAR_MM, CELL_PADDING_MM = SIZE_TABLE * MM_PER_PT, 4.5
# A column whose widest cell is at most this many characters keeps its whole width: short figures never break.
SHORT_COLUMN = 6


def _column_mm(widths_chars):
    """Widths in mm filling the type area: short columns (figures, statuses) get all they need; the longer text
    columns share the rest in proportion to their content, wrapping inside the cell when they must."""
    area = TYPE_AREA_MM[0]
    need = [w * TABLE_CHAR_MM + CELL_PADDING_MM for w in widths_chars]
    if sum(need) <= area:
        return [n * area / sum(need) for n in need]
    short = [w <= SHORT_COLUMN for w in widths_chars]
    fixed = sum(n for n, is_short in zip(need, short, strict=True) if is_short)
    flexible = sum(n for n, is_short in zip(need, short, strict=True) if not is_short)
    if not flexible or fixed >= area:
        return [n * area / sum(need) for n in need]
    scale = (area - fixed) / flexible
    return [n if is_short else n * scale for n, is_short in zip(need, short, strict=True)]


def to_docx(briefing):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    _layout(doc)
    title = _paragraph(doc, briefing.title, FONT_TITLE, SIZE_TITLE, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(SIZE_TITLE * 1.5)  # two lines of the grid, the title's own size
    _off_grid(title)
    _paragraph(doc, "", indent=False)

    _heading(doc, 1, pgettext("briefing", "Overall"))
    for text in briefing.overview:
        _paragraph(doc, text)

    _heading(doc, 2, pgettext("briefing", "Main indicators"))
    headers = [pgettext("briefing", "Indicator"), pgettext("briefing", "Target"),
               pgettext("briefing", "Year to date (%(months)s)") % {"months": briefing.period.months_label},
               pgettext("briefing", "Completion / schedule"), pgettext("briefing", "Gap"),
               pgettext("briefing", "Against the province"), pgettext("briefing", "Rank"),
               pgettext("briefing", "Status")]
    rows = [([r["name"], r["target"], r["actual"], r["schedule"], r["gap"], r["province"], r["rank"],
              r["status_label"]], r["status"]) for r in briefing.indicators]
    if rows:
        _table(doc, headers, rows, _widths(headers, rows), status_column=7)
    else:
        _paragraph(doc, _("No indicator is tracked by a figure this month."))

    _heading(doc, 3, pgettext("briefing", "Counties and districts"))
    if not briefing.counties:
        _paragraph(doc, _("No target is decomposed among counties and districts."))
    for number, (name, parts) in enumerate(briefing.counties, start=1):
        _heading(doc, number, name, level=2)
        headers = [pgettext("briefing", "Place"), pgettext("briefing", "Unit"),
                   pgettext("briefing", "Year to date"), pgettext("briefing", "Completion / schedule"),
                   pgettext("briefing", "Status")]
        rows = [([p["place"], p["unit"], p["actual"], p["completion"], p["status_label"]], p["status"])
                for p in parts]
        _table(doc, headers, rows, _widths(headers, rows), status_column=4)

    _heading(doc, 4, pgettext("briefing", "Problems"))
    if not briefing.problems:
        _paragraph(doc, _("No problems were reported this month."))
    for number, (section, items) in enumerate(briefing.problems, start=1):
        _heading(doc, number, section, level=2)
        for unit, target, text in items:
            _paragraph(doc, _("%(unit)s (%(target)s): %(text)s") % {"unit": unit, "target": target, "text": text})

    _heading(doc, 5, pgettext("briefing", "Next steps"))
    for text in [line for line in (briefing.next_steps or "").splitlines() if line.strip()] or [
            _("(To be written by the reviewer or leader before the bulletin is issued.)")]:
        _paragraph(doc, text.strip())

    _paragraph(doc, "", indent=False)
    _paragraph(doc, briefing.issuer, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, issued_date(briefing.issued_on), indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()

