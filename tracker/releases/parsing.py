"""Reading a release table as the statistics bureau publishes it (CSV or XLSX, UTF-8 or GB18030).

One row per region (名称 as printed: 亳州 and 亳州市 alike, 全省 or 安徽省 for the province), one column per
indicator (its name, code or another spelling), each optionally followed by a rank column: 位次 / 排位 / 排名
(the first peer group, e.g. 全省) or a group's name before it (皖北位次). A two-row heading, the indicator
spanning its value and rank columns over 增速 / 位次, is read too. A title above the heading that names a
period (2022年1-9月) must agree with the month chosen. Bytes, encodings and limits are those of the figure
import (`tracker.imports.parsing.read_table`): the same refusals with the same reasons.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from tracker.imports.parsing import BLANK_MARKERS, Formula, ImportFileError, TimeBudget, parse_number, read_table
from tracker.targets.models import Indicator, PeerGroup, Region

REGION_HEADINGS = {"地区", "区域", "地市", "城市", "市别", "单位", "地区名称", "region", "regions", "city"}
RANK_WORDS = ("位次", "排位", "排名", "名次", "rank", "place")
VALUE_WORDS = ("增速", "增幅", "增长", "累计增速", "同比增长", "%", "value", "growth")
HEADER_SEARCH_ROWS = 20
PERIOD_IN_TITLE = re.compile(r"(\d{4})\s*年\s*(?:1\s*[~～\-–—至到]\s*)?(\d{1,2})\s*月")
RANK_CELL = re.compile(r"^(?:第)?\s*(\d{1,3})\s*(?:位|名)?$")


@dataclass
class ReleaseCell:
    line: int
    letter: str
    region: object
    indicator: object
    value: object = None  # Decimal or None (empty: left as stored)
    ranks: dict = field(default_factory=dict)  # PeerGroup -> rank


@dataclass
class ReleaseProblem:
    line: int | None
    letter: str
    message: str


@dataclass
class ParsedRelease:
    cells: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def fold(text):
    text = unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", "")
    text = "".join(text.split()).casefold()
    for unit in ("(%)", "（%）", "%", "(百分点)"):
        text = text.replace(unit, "")
    return text


def _lookup(objects):
    table = {}
    for obj in objects:
        for spelling in obj.spellings():
            table.setdefault(fold(spelling), obj)
    return table


def _indicator_of(text, indicators):
    key = fold(text)
    if key in indicators:
        return indicators[key]
    for word in VALUE_WORDS:  # 工业投资增速 for 工业投资, and the other way round
        if key.endswith(word) and key[: -len(word)] in indicators:
            return indicators[key[: -len(word)]]
        if key + word in indicators:
            return indicators[key + word]
    return None


def _rank_group(text, groups, default):
    """The peer group a rank heading is for (None: not a rank heading)."""
    key = fold(text)
    for word in RANK_WORDS:
        if key.endswith(word):
            prefix = key[: -len(word)]
            if prefix in ("", "增速", "增幅"):
                return default
            return groups.get(prefix, False)
    return None


def _cell_text(value):
    return "" if value is None else str(value).strip()


def _columns(header, sub, indicators, groups, default, line):
    """[(index, indicator, group or None)] and problems, from one or two heading rows."""
    columns, problems, current, top = [], [], None, None
    for index in range(1, max(len(header), len(sub or ()))):
        text = _cell_text(header[index]) if index < len(header) else ""
        below = _cell_text(sub[index]) if sub and index < len(sub) else ""
        letter = get_column_letter(index + 1)
        if text:
            top = text
        if sub is not None:
            if not top or (not text and not below):
                continue
            indicator = _indicator_of(top, indicators)
            if indicator is None:
                if text:
                    problems.append(ReleaseProblem(line, letter, _("Unknown indicator '%(name)s'.") % {"name": top}))
                continue
            group = _rank_group(below, groups, default) if below else None
            if group is False:
                problems.append(ReleaseProblem(line + 1, letter, _("Unknown peer group in '%(name)s'.") % {
                    "name": below}))
                continue
            columns.append((index, indicator, group))
            continue
        if not text:
            continue
        group = _rank_group(text, groups, default)
        if group is False:
            problems.append(ReleaseProblem(line, letter, _("Unknown peer group in '%(name)s'.") % {"name": text}))
        elif group is not None:
            if current is None:
                problems.append(ReleaseProblem(line, letter, _("A rank column must follow its indicator's column.")))
            else:
                columns.append((index, current, group))
        else:
            current = _indicator_of(text, indicators)
            if current is None:
                problems.append(ReleaseProblem(line, letter, _("Unknown indicator '%(name)s'.") % {"name": text}))
            else:
                columns.append((index, current, None))
    return columns, problems


def _is_sub_heading(row):
    if not row or _cell_text(row[0]):
        return False
    texts = [fold(c) for c in row[1:] if _cell_text(c)]
    return bool(texts) and all(any(t.endswith(w) for w in (*RANK_WORDS, *VALUE_WORDS)) or t == "" for t in texts)


def _rank(value):
    if isinstance(value, Formula):
        raise ValueError(_("Formulas are not accepted; type the value itself."))
    if value is None or _cell_text(value).casefold() in BLANK_MARKERS:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    match = RANK_CELL.match(unicodedata.normalize("NFKC", _cell_text(value)))
    if not match or int(match.group(1)) < 1:
        raise ValueError(_("'%(value)s' is not a rank (a whole number from 1, e.g. 9 or 第9位).") % {
            "value": _cell_text(value)[:40]})
    return int(match.group(1))


def parse_release(data, year, month):
    """ParsedRelease of the file's bytes for (year, month); ImportFileError for a file that cannot be read."""
    budget = TimeBudget()
    rows = read_table(data)
    regions = _lookup(Region.objects.all())
    indicators = _lookup(Indicator.objects.all())
    all_groups = list(PeerGroup.objects.all())
    groups = {fold(spelling): g for g in all_groups for spelling in {g.name, g.name_en, g.code} if spelling}
    default = all_groups[0] if all_groups else False
    result = ParsedRelease()
    header, sub, columns, line, pending_sub = None, None, [], 0, False
    filled = 0
    for line, row in enumerate(rows, start=1):
        budget.check()
        if header is None:
            first = fold(row[0]) if row else ""
            if first in REGION_HEADINGS:
                header, header_line, pending_sub = list(row), line, True
                continue
            for cell in row:
                match = PERIOD_IN_TITLE.search(unicodedata.normalize("NFKC", _cell_text(cell)))
                if match and (int(match.group(1)), int(match.group(2))) != (year, month):
                    result.problems.append(ReleaseProblem(line, "", _(
                        "The file is for %(found)s, not for the month chosen (%(chosen)s).") % {
                        "found": f"{match.group(1)}-{int(match.group(2)):02d}", "chosen": f"{year}-{month:02d}"}))
            if line >= HEADER_SEARCH_ROWS:
                break
            continue
        if pending_sub:
            pending_sub = False
            sub = list(row) if _is_sub_heading(row) else None
            columns, problems = _columns(header, sub, indicators, groups, default, header_line)
            result.problems.extend(problems)
            if sub is not None:
                continue
        if not row or not _cell_text(row[0]):
            continue
        filled += 1
        if filled > settings.IMPORT_MAX_ROWS:
            raise ImportFileError(_("The file has more than %(limit)s filled rows, the limit.") % {
                "limit": f"{settings.IMPORT_MAX_ROWS:,}"})
        region = regions.get(fold(row[0]))
        if region is None:
            result.problems.append(ReleaseProblem(line, "A", _(
                "Unknown region '%(name)s'. Add it (or another spelling of it) under Regions first.") % {
                "name": _cell_text(row[0])[:40]}))
            continue
        cells = {}
        for index, indicator, group in columns:
            raw = row[index] if index < len(row) else None
            letter = get_column_letter(index + 1)
            cell = cells.setdefault(indicator.pk, ReleaseCell(line, letter, region, indicator))
            try:
                if group is None:
                    cell.value = parse_number(raw)
                else:
                    rank = _rank(raw)
                    if rank is not None:
                        cell.ranks[group] = rank
            except ValueError as exc:
                result.problems.append(ReleaseProblem(line, letter, str(exc)))
        result.cells.extend(c for c in cells.values() if c.value is not None or c.ranks)
    if header is None:
        if not data:
            raise ImportFileError(_("The file is empty."))
        raise ImportFileError(_(
            "No heading row found: the first column of the heading must say 地区 (or 区域, 城市, region), "
            "followed by the indicators' names."))
    if pending_sub:  # a heading and nothing under it
        result.problems.extend(_columns(header, None, indicators, groups, default, header_line)[1])
    return result
