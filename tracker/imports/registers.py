"""Importing the registers (企业库、项目库) from the bureau's own CSV/XLSX lists.

The file is read by the figure imports' machinery (`parsing.read_table`: size, encoding — UTF-8 or GB18030 —,
XLSX limits, time budget). The header may use the column names such lists use (企业名称, 统一社会信用代码,
所属县区, 行业代码, 总投资（亿元）…). Every row is checked before anything is written, and then all rows are
written or none: a row's problems come back with its line and column. Firms are matched by their credit code,
projects by their unit and name. A preview keeps each matched row's version; confirming refuses a row changed
since (someone else's save is never overwritten). Every change goes into the history (source "import") and the
register-backed targets' figures are refreshed.
"""

import datetime
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.imports.parsing import ImportFileError, TimeBudget, read_table
from tracker.registers import figures
from tracker.registers.creditcode import normalise, problem
from tracker.registers.models import Firm, Industry, Listing, Project
from tracker.targets.models import Unit

SOURCE = "import"
FIRMS, PROJECTS = "firms", "projects"

# key -> (label in the template, other spellings found in the bureaus' lists)
FIRM_COLUMNS = {
    "name": (pgettext_lazy("register column", "Firm name"), ["企业名称", "单位名称", "企业"]),
    "credit_code": (pgettext_lazy("register column", "Unified social credit code"),
                    ["统一社会信用代码", "信用代码", "社会信用代码", "统一代码"]),
    "unit": (pgettext_lazy("register column", "County or zone"),
             ["所属县区", "县区", "所在县区", "县（区）", "所属地区"]),
    "industry": (pgettext_lazy("register column", "Industry"), ["行业代码", "所属行业", "行业", "国民经济行业"]),
    "size": (pgettext_lazy("register column", "Size"), ["企业规模", "规模"]),
    "contact_person": (pgettext_lazy("register column", "Contact person"), ["联系人"]),
    "contact_phone": (pgettext_lazy("register column", "Contact phone"), ["联系电话", "电话", "手机"]),
    "address": (pgettext_lazy("register column", "Address"), ["地址", "企业地址"]),
    "cultivation": (pgettext_lazy("register column", "Cultivation list"), ["入规培育库", "培育库状态", "小升规"]),
    "expected_month": (pgettext_lazy("register column", "Expected to enter (month)"),
                       ["预计入规月份", "预计入规时间"]),
    "entered_month": (pgettext_lazy("register column", "Entered (month)"), ["入规月份", "入规时间"]),
    "reason": (pgettext_lazy("register column", "Reason for removal"), ["退库原因"]),
    "specialised": (pgettext_lazy("register column", "专精特新 level"), ["专精特新", "专精特新等级", "专精特新级别"]),
    "recognised_year": (pgettext_lazy("register column", "Year recognised"), ["认定年份", "认定年度"]),
    "listing_plan": (pgettext_lazy("register column", "Listing cultivation plan"), ["上市培育", "上市培育计划"]),
    "monitored": (pgettext_lazy("register column", "Key monitored"), ["重点监测", "重点监测企业"]),
    "joined_on": (pgettext_lazy("register column", "Joined on"), ["入库日期", "入库时间"]),
}
PROJECT_COLUMNS = {
    "name": (pgettext_lazy("register column", "Project name"), ["项目名称", "项目"]),
    "unit": FIRM_COLUMNS["unit"],
    "firm_code": (pgettext_lazy("register column", "Owner's credit code"),
                  ["项目单位统一社会信用代码", "建设单位统一社会信用代码", "统一社会信用代码", "信用代码"]),
    "kind": (pgettext_lazy("register column", "Kind"), ["建设性质", "项目性质", "类型"]),
    "total_investment": (pgettext_lazy("register column", "Total investment (亿元)"),
                         ["总投资（亿元）", "总投资(亿元)", "总投资", "计划总投资（亿元）"]),
    "in_province_list": (pgettext_lazy("register column", "In the province's renovation list"),
                         ["省技改项目库", "是否纳入省技改项目库", "省技改"]),
    "stage": (pgettext_lazy("register column", "Stage"), ["项目阶段", "建设阶段", "形象进度", "阶段"]),
    "signed_on": (pgettext_lazy("register column", "Signed on"), ["签约时间", "签约日期"]),
    "started_on": (pgettext_lazy("register column", "Started on"), ["开工时间", "开工日期"]),
    "completed_on": (pgettext_lazy("register column", "Completed on"), ["竣工时间", "竣工日期"]),
    "producing_on": (pgettext_lazy("register column", "In production since"), ["投产时间", "投产日期"]),
    "suspended_on": (pgettext_lazy("register column", "Suspended on"), ["停缓建时间"]),
    "suspended_reason": (pgettext_lazy("register column", "Reason for suspension"), ["停缓建原因"]),
    "planned_start": (pgettext_lazy("register column", "Planned start (month)"), ["计划开工时间", "计划开工"]),
    "planned_production": (pgettext_lazy("register column", "Planned production (month)"),
                           ["计划投产时间", "计划投产"]),
}
COLUMNS = {FIRMS: FIRM_COLUMNS, PROJECTS: PROJECT_COLUMNS}
REQUIRED = {FIRMS: ("name", "credit_code", "unit"), PROJECTS: ("name", "unit", "kind", "total_investment")}
YES = {"是", "y", "yes", "1", "√", "✓", "true", "在库"}
NO = {"否", "n", "no", "0", "false", ""}
SIZES = {"大型": "large", "中型": "medium", "小型": "small", "微型": "micro"}
KINDS = {"新建": "new", "技改": "renovation", "技术改造": "renovation", "扩建": "expansion"}
STAGES = {"签约": "signed", "已签约": "signed", "开工": "started", "新开工": "started", "在建": "building",
          "竣工": "completed", "投产": "producing", "竣工投产": "producing", "停缓建": "suspended", "停建": "suspended",
          "缓建": "suspended"}
CULTIVATION = {"培育中": "active", "在库": "active", "是": "active", "已入规": "entered", "入规": "entered",
               "退库": "removed", "出库": "removed"}
LEVELS = {"市级": "city", "省级": "province", "国家级": "national", "国家级小巨人": "national", "小巨人": "national"}
DATE_FIELDS = ("signed_on", "started_on", "completed_on", "producing_on", "suspended_on", "joined_on")
MONTH_FIELDS = ("expected_month", "entered_month", "planned_start", "planned_production")


def fold(text):
    return "".join(unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "").split()).casefold()


def _aliases(kind):
    table = {}
    for key, (label, others) in COLUMNS[kind].items():
        spellings = [key, *others]
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                spellings.append(str(label))
        for spelling in spellings:
            table.setdefault(fold(spelling), key)
    return table


@dataclass
class RowProblem:
    line: int | None
    column: str
    message: str


@dataclass
class Report:
    kind: str
    rows: list = field(default_factory=list)  # {"line", "values", "outcome", "version", "key"}
    problems: list = field(default_factory=list)
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    written: bool = False

    @property
    def ok(self):
        return not self.problems


def read_rows(data, kind):
    """[(line, {column key: cell text})] of a file, or raise ImportFileError for the file as a whole."""
    budget = TimeBudget()
    aliases = _aliases(kind)
    table = read_table(data)
    try:
        header, columns, line = None, {}, 0
        for line, row in enumerate(table, start=1):
            mapped = {i: aliases[fold(cell)] for i, cell in enumerate(row) if cell not in (None, "")
                      and fold(cell) in aliases}
            if mapped:
                header, columns = row, mapped
                break
            if line >= 20:
                break
        if header is None:
            raise ImportFileError(_("No header row found. Download the template to see the columns."))
        missing = [str(COLUMNS[kind][key][0]) for key in REQUIRED[kind] if key not in columns.values()]
        if missing:
            raise ImportFileError(_("The header lacks the columns %(columns)s.") % {"columns": "、".join(missing)},
                                  line=line)
        found = []
        for number, row in enumerate(table, start=line + 1):
            budget.check()
            values = {key: _text(row[i]) for i, key in columns.items() if i < len(row)}
            if not any(values.values()):
                continue
            if len(found) >= settings.IMPORT_MAX_ROWS:
                raise ImportFileError(_(
                    "The file has more than %(limit)s rows; at most %(limit)s rows can be imported at once. "
                    "Split it into smaller files.") % {"limit": f"{settings.IMPORT_MAX_ROWS:,}"}, line=number)
            found.append((number, values))
        return found
    finally:
        table.close()


def _text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFKC", str(value)).strip()


DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
MONTH_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$|^(\d{4})(\d{2})$")


def parse_date(text):
    match = DATE_RE.match(text)
    if not match:
        raise ValueError(_("“%(text)s” is not a date; write it as 2022-03-15.") % {"text": text[:40]})
    try:
        return datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ValueError(_("“%(text)s” is not a date; write it as 2022-03-15.") % {"text": text[:40]}) from None


def parse_month(text):
    match = MONTH_RE.match(text) or DATE_RE.match(text)
    if not match:
        raise ValueError(_("“%(text)s” is not a month; write it as 2022-09.") % {"text": text[:40]})
    groups = [g for g in match.groups() if g]
    year, month = int(groups[0]), int(groups[1])
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValueError(_("“%(text)s” is not a month; write it as 2022-09.") % {"text": text[:40]})
    return f"{year:04d}-{month:02d}"


def _choice(table, text, column_label):
    if text in table:
        return table[text]
    values = set(table.values())
    if text in values:
        return text
    raise ValueError(_("“%(text)s” is not one of %(choices)s for %(column)s.") % {
        "text": text[:40], "choices": "、".join(table), "column": column_label})


def _flag(text):
    folded = fold(text)
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise ValueError(_("Write 是 or 否, not “%(text)s”.") % {"text": text[:40]})


class _Lookups:
    """Everything rows are matched against, in a fixed number of queries whatever the number of rows."""

    def __init__(self, user, kind, rows):
        self.allowed = scoping.edit_unit_ids(user)
        self.units = {}
        for unit in Unit.objects.all():
            for key in (unit.code, unit.name, unit.name_en):
                if key:
                    self.units.setdefault(fold(key), unit)
        self.industries = {}
        for industry in Industry.objects.all():
            for key in (industry.code, f"{industry.section}{industry.code}", industry.name, str(industry)):
                self.industries[fold(key)] = industry
        codes = {normalise(v.get("credit_code") or v.get("firm_code") or "") for _line, v in rows}
        self.firms = {f.credit_code: f for f in Firm.objects.filter(credit_code__in=codes - {""})}
        self.listings = {}
        if kind == FIRMS:
            for listing in Listing.objects.filter(firm__in=list(self.firms.values())):
                self.listings[(listing.firm_id, listing.kind)] = listing
        self.projects = {}
        if kind == PROJECTS:
            names = {v.get("name", "") for _line, v in rows}
            for project in Project.objects.filter(name__in=names):
                self.projects[(project.unit_id, project.name)] = project

    def unit(self, text):
        unit = self.units.get(fold(text))
        if unit is None:
            raise ValueError(_("No county or zone “%(text)s”.") % {"text": text[:40]})
        if self.allowed is not None and unit.pk not in self.allowed:
            raise ValueError(_("You may not import rows of %(unit)s (not one of your units).") % {"unit": unit})
        return unit

    def industry(self, text):
        match = re.match(r"^[A-Ta-t]?(\d{2})\b", text)
        industry = self.industries.get(match.group(1)) if match else self.industries.get(fold(text))
        if industry is None:
            raise ValueError(_("“%(text)s” is not a division (大类) of GB/T 4754-2017, e.g. C27 or 医药制造业.") % {
                "text": text[:40]})
        return industry


class _Row:
    def __init__(self, report, line, kind):
        self.report, self.line, self.kind, self.bad = report, line, kind, False

    def fail(self, column, message):
        self.bad = True
        label = COLUMNS[self.kind].get(column, (column,))[0]
        self.report.problems.append(RowProblem(self.line, str(label), str(message)))

    def take(self, column, parse, text):
        try:
            return parse(text)
        except ValueError as exc:
            self.fail(column, exc)
            return None

    def validation(self, exc):
        for name, messages in exc.message_dict.items():
            for message in messages:
                self.fail(name if name != "__all__" else "name", message)


def plan_firms(user, rows, report, base_versions):
    lookups = _Lookups(user, FIRMS, rows)
    today = timezone.localdate()
    seen, writes = {}, []
    for line, values in rows:
        row = _Row(report, line, FIRMS)
        code = normalise(values.get("credit_code", ""))
        why = problem(code) if code else _("This column must be filled in.")
        if why:
            row.fail("credit_code", why)
        elif code in seen:
            row.fail("credit_code", _("The same credit code is on row %(line)s.") % {"line": seen[code]})
        seen.setdefault(code, line)
        unit = row.take("unit", lookups.unit, values.get("unit", "")) if values.get("unit") else None
        if unit is None and not row.bad:
            row.fail("unit", _("This column must be filled in."))
        firm = lookups.firms.get(code)
        stored_version = firm.version if firm else 0
        expected = base_versions.get(line)
        if expected is not None and expected != stored_version:
            row.fail("credit_code", _("This firm was changed by someone else after the preview; refresh it."))
        if firm is not None and lookups.allowed is not None and firm.unit_id not in lookups.allowed:
            row.fail("credit_code", _("A firm with this code belongs to another unit; you may not change it."))
        before = audit.snapshot(firm) if firm else None
        firm = firm or Firm(credit_code=code)
        changes = {"name": values.get("name", "")}
        if unit is not None:
            changes["unit"] = unit
        for name in ("contact_person", "contact_phone", "address"):
            if values.get(name):
                changes[name] = values[name]
        if values.get("industry"):
            changes["industry"] = row.take("industry", lookups.industry, values["industry"])
        if values.get("size"):
            changes["size"] = row.take("size", lambda t: _choice(SIZES, t, gettext_lazy("size")), values["size"])
        if not changes["name"]:
            row.fail("name", _("This column must be filled in."))
        for key, value in changes.items():
            setattr(firm, key, value)
        try:
            firm.full_clean(exclude=["unit", "industry", "credit_code"], validate_unique=False,
                            validate_constraints=False)
        except ValidationError as exc:
            row.validation(exc)
        listings = [] if row.bad else _plan_listings(row, values, firm, lookups, today)
        changed = before is None or audit.diff(before, audit.snapshot(firm))
        outcome = "error" if row.bad else ("created" if before is None else "changed" if changed else "unchanged")
        if any(state for _listing, state in listings) and outcome == "unchanged":
            outcome = "changed"
        report.rows.append({"line": line, "key": code, "name": values.get("name", ""), "outcome": outcome,
                            "version": stored_version, "values": values})
        if not row.bad:
            writes.append((firm, before, listings))
    return writes


LIST_COLUMNS = {"cultivation": Listing.Kind.CULTIVATION, "specialised": Listing.Kind.SPECIALISED,
                "listing_plan": Listing.Kind.LISTING_PLAN, "monitored": Listing.Kind.MONITORED}


def _plan_listings(row, values, firm, lookups, today):
    """[(listing, before snapshot or None)] of the lists the row sets; only lists named in the row change."""
    planned = []
    joined = row.take("joined_on", parse_date, values["joined_on"]) if values.get("joined_on") else today
    for column, kind in LIST_COLUMNS.items():
        text = values.get(column, "")
        if not text:
            continue
        listing = lookups.listings.get((firm.pk, kind)) if firm.pk else None
        before = audit.snapshot(listing) if listing else None
        listing = listing or Listing(kind=kind, joined_on=joined or today)
        if kind == Listing.Kind.CULTIVATION:
            state = row.take(column, lambda t: _choice(CULTIVATION, t, gettext_lazy("cultivation list")), text)
            if state is None:
                continue
            listing.state = state
            if values.get("expected_month"):
                listing.expected_month = row.take("expected_month", parse_month, values["expected_month"]) or ""
            listing.entered_month = (row.take("entered_month", parse_month, values["entered_month"]) or ""
                                     if values.get("entered_month") else "") if state == "entered" else ""
            if state == "removed":
                listing.reason = values.get("reason") or listing.reason
                listing.left_on = listing.left_on or today
        elif kind == Listing.Kind.SPECIALISED:
            level = row.take(column, lambda t: _choice(LEVELS, t, gettext_lazy("level")), text)
            if level is None:
                continue
            listing.level = level
            if values.get("recognised_year"):
                listing.recognised_year = row.take("recognised_year", int, values["recognised_year"])
        else:
            flag = row.take(column, _flag, text)
            if flag is None or (not flag and before is None):
                continue
            listing.state = Listing.State.ACTIVE if flag else Listing.State.REMOVED
            if not flag:
                listing.left_on = listing.left_on or today
                listing.reason = listing.reason or _("Removed by an import.")
        try:
            listing.full_clean(exclude=["firm"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            row.validation(exc)
            continue
        if before is None or audit.diff(before, audit.snapshot(listing)):
            planned.append((listing, before))
    return planned


def plan_projects(user, rows, report, base_versions):
    lookups = _Lookups(user, PROJECTS, rows)
    seen, writes = {}, []
    for line, values in rows:
        row = _Row(report, line, PROJECTS)
        name = values.get("name", "")
        unit = row.take("unit", lookups.unit, values.get("unit", "")) if values.get("unit") else None
        if unit is None and not row.bad:
            row.fail("unit", _("This column must be filled in."))
        if not name:
            row.fail("name", _("This column must be filled in."))
        key = (unit.pk if unit else None, name)
        if key in seen:
            row.fail("name", _("The same project is on row %(line)s.") % {"line": seen[key]})
        seen.setdefault(key, line)
        project = lookups.projects.get(key)
        stored_version = project.version if project else 0
        expected = base_versions.get(line)
        if expected is not None and expected != stored_version:
            row.fail("name", _("This project was changed by someone else after the preview; refresh it."))
        before = audit.snapshot(project) if project else None
        project = project or Project(name=name)
        if unit is not None:
            project.unit = unit
        code = normalise(values.get("firm_code", ""))
        if code:
            firm = lookups.firms.get(code)
            if firm is None:
                row.fail("firm_code", _("No firm with this credit code in the register; import the firm first."))
            elif lookups.allowed is not None and firm.unit_id not in lookups.allowed:
                row.fail("firm_code", _("A firm with this code belongs to another unit."))
            else:
                project.firm = firm
        if values.get("kind"):
            project.kind = (row.take("kind", lambda t: _choice(KINDS, t, gettext_lazy("kind")), values["kind"])
                            or project.kind)
        if values.get("total_investment"):
            project.total_investment = row.take("total_investment", _amount, values["total_investment"])
        if values.get("in_province_list"):
            project.in_province_list = bool(row.take("in_province_list", _flag, values["in_province_list"]))
        if values.get("stage"):
            project.stage = row.take("stage", lambda t: _choice(STAGES, t, gettext_lazy("stage")), values["stage"]) \
                or project.stage
        for name_ in DATE_FIELDS[:5]:
            if values.get(name_):
                setattr(project, name_, row.take(name_, parse_date, values[name_]))
        for name_ in ("planned_start", "planned_production"):
            if values.get(name_):
                setattr(project, name_, row.take(name_, parse_month, values[name_]) or "")
        if values.get("suspended_reason"):
            project.suspended_reason = values["suspended_reason"]
        if not row.bad:
            try:
                project.full_clean(exclude=["unit", "firm"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                row.validation(exc)
        changed = before is None or audit.diff(before, audit.snapshot(project))
        outcome = "error" if row.bad else ("created" if before is None else "changed" if changed else "unchanged")
        report.rows.append({"line": line, "key": name, "name": name, "outcome": outcome, "version": stored_version,
                            "values": values})
        if not row.bad:
            writes.append((project, before, []))
    return writes


def _amount(text):
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("“%(text)s” is not a number of 亿元.") % {"text": text[:40]}) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e8"):
        raise ValueError(_("“%(text)s” is not a number of 亿元.") % {"text": text[:40]})
    return value.quantize(Decimal("0.0001"))


PLANNERS = {FIRMS: plan_firms, PROJECTS: plan_projects}


def import_rows(user, kind, rows, dry_run=False, base_versions=None):
    """Check (and unless `dry_run` write) rows [(line, values)]; all or none. Returns a Report."""
    report = Report(kind)
    with transaction.atomic():
        writes = PLANNERS[kind](user, rows, report, base_versions or {})
        report.problems.sort(key=lambda p: p.line or 0)
        counts = {"created": 0, "changed": 0, "unchanged": 0}
        for row in report.rows:
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
        if report.ok:
            report.created, report.changed, report.unchanged = counts["created"], counts["changed"], counts["unchanged"]
        if dry_run or not report.ok:
            return report
        _write(user, kind, writes)
        report.written = True
        figures.refresh_after_commit()
    return report


def _write(user, kind, writes):
    model = Firm if kind == FIRMS else Project
    new = [obj for obj, before, _l in writes if before is None]
    changed = [obj for obj, before, _l in writes if before is not None and audit.diff(before, audit.snapshot(obj))]
    for obj in changed:
        obj.version += 1
    model.objects.bulk_create(new, batch_size=1000)
    fields = [f.name for f in model._meta.concrete_fields if not f.primary_key]
    model.objects.bulk_update(changed, fields, batch_size=500)
    touched = {id(obj) for obj in changed}  # by identity: `obj in changed` would compare every pair
    history = [(obj, user, SOURCE, before, None, "") for obj, before, _l in writes
               if before is None or id(obj) in touched]
    new_listings, changed_listings = [], []
    for obj, _before, listings in writes:
        for listing, before in listings:
            listing.firm = obj
            (new_listings if before is None else changed_listings).append(listing)
            history.append((listing, user, SOURCE, before, None, ""))
    for listing in changed_listings:
        listing.version += 1
    Listing.objects.bulk_create(new_listings, batch_size=1000)
    Listing.objects.bulk_update(changed_listings, [f.name for f in Listing._meta.concrete_fields
                                                   if not f.primary_key], batch_size=500)
    audit.record_many(history)


def run_import(user, data, kind, dry_run=True):
    """Read and check a file (and write it unless `dry_run`). Never raises for bad input."""
    try:
        rows = read_rows(data, kind)
    except ImportFileError as exc:
        return Report(kind, problems=[RowProblem(exc.line, str(_("Whole file")), str(exc))]), []
    return import_rows(user, kind, rows, dry_run=dry_run), rows


def problems_as_dicts(report):
    return [asdict(p) for p in report.problems]
