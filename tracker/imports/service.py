"""Importing parsed progress rows through the one entry write path.

`run_import` reads a file, resolves target codes and hands every row to
`save_entries`, which checks rights, locks and values and writes all rows or
none. Problems from the file and from the entry rules come back together,
each with its row and column, so a person can fix the whole file at once.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from tracker.imports.parsing import ImportFileError, ParsedRow, Problem, parse
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, Target

SOURCE = "import"
# save_entries names fields; the file names columns.
FIELD_TO_COLUMN = {"month": "period", "year": "period"}


class Outcome:
    CREATED = "created"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class ImportReport:
    rows: list = field(default_factory=list)  # dicts, one per data row, for previews and batches
    problems: list = field(default_factory=list)
    # Problems (on the value column) for figures the soft checks question: not errors, but nothing is
    # written until the import is confirmed with them (confirm_warnings) or they are explained.
    warnings: list = field(default_factory=list)
    skipped: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    written: bool = False

    @property
    def ok(self):
        return not self.problems and not self.warnings


def run_import(user, data, dry_run=False, today=None, source=SOURCE, confirm_warnings=False, warning_note=""):
    """Import file bytes as `user` (None: a system import over all units). Never raises for bad input."""
    try:
        parsed = parse(data)
    except ImportFileError as exc:
        return ImportReport(problems=[Problem(None, "file", str(exc))])
    report = import_rows(user, parsed.rows, dry_run=dry_run, today=today, source=source, problems=parsed.problems,
                         letters=parsed.letters, confirm_warnings=confirm_warnings, warning_note=warning_note)
    report.skipped = parsed.skipped
    return report


def import_rows(user, rows, dry_run=False, today=None, source=SOURCE, problems=(), letters=None,
                confirm_warnings=False, warning_note=""):
    """Save ParsedRows (all or none); with earlier `problems` it only checks the rows.

    `confirm_warnings` confirms the figures the soft checks question; `warning_note` explains them
    (kept with each such figure, and it confirms them too).
    """
    report = ImportReport(problems=list(problems))
    letters = letters or {}
    targets = {t.code: t for t in Target.objects.select_related("plan").filter(code__in={r.code for r in rows})}
    entry_rows = []
    for row in rows:
        target = targets.get(row.code)
        if target is None:
            report.problems.append(Problem(row.line, "target", _("Unknown target code '%(code)s'.") % {
                "code": row.code}, letters.get("target", "")))
            continue
        values = {"value": row.value, "comparator": row.comparator, "note": row.note}
        # An empty cell leaves the stored figure alone: a file never blanks what is there.
        values = {k: v for k, v in values.items() if v not in (None, "")}
        if (warning_note or "").strip():
            values["warning_note"] = warning_note.strip()
        entry_rows.append(EntryRow(target, row.year, row.month, values, line=row.line, confirmed=confirm_warnings))
    previous = _stored_values(entry_rows)
    result = save_entries(user, entry_rows, source, dry_run=dry_run or not report.ok, today=today)
    for error in result.errors:
        column = FIELD_TO_COLUMN.get(error.field, error.field)
        report.problems.append(Problem(error.line, column, error.message, letters.get(column, "")))
    warned = {}
    for warning in result.warnings:
        warned.setdefault(warning.line, []).append(warning.message)
        report.warnings.append(Problem(warning.line, "value", warning.message, letters.get("value", "")))
    report.problems.sort(key=lambda p: (p.line or 0,))
    report.written = report.ok and not dry_run

    outcome = {}
    for name, entries in ((Outcome.CREATED, result.created), (Outcome.CHANGED, result.changed),
                          (Outcome.UNCHANGED, result.unchanged)):
        for entry in entries:
            outcome[(entry.target_id, entry.year, entry.month)] = name
    if not report.problems:
        report.created, report.changed, report.unchanged = (
            len(result.created), len(result.changed), len(result.unchanged))
    failed = {p.line for p in report.problems}
    for row in rows:
        target = targets.get(row.code)
        key = (target.pk, row.year, row.month) if target else None
        old = previous.get(key, {})
        report.rows.append({
            "line": row.line,
            "code": row.code,
            "name": target.name if target else "",
            "period": row.period,
            "value": _text(row.value),
            "comparator": _text(row.comparator),
            "note": row.note,
            "old_value": _text(old.get("value")),
            "old_comparator": _text(old.get("comparator")),
            "outcome": Outcome.ERROR if row.line in failed else outcome.get(key, Outcome.UNCHANGED),
            "warnings": warned.get(row.line, []),
        })
    return report


def rows_from_report(stored_rows):
    """Rebuild ParsedRows from the dicts kept between preview and confirm."""
    return [
        ParsedRow(
            line=r["line"], code=r["code"], year=int(r["period"][:4]), month=int(r["period"][5:]),
            value=Decimal(r["value"]) if r["value"] else None,
            comparator=Decimal(r["comparator"]) if r["comparator"] else None,
            note=r["note"],
        )
        for r in stored_rows
    ]


def _stored_values(entry_rows):
    """The figures in the database now, for showing old -> new in a preview (one query)."""
    if not entry_rows:
        return {}
    keys = {(r.target.pk, r.year, r.month) for r in entry_rows}
    qs = ProgressEntry.objects.filter(
        target_id__in={k[0] for k in keys}, year__in={k[1] for k in keys}, month__in={k[2] for k in keys}
    ).values("target_id", "year", "month", "value", "comparator")
    return {(e["target_id"], e["year"], e["month"]): e for e in qs}


def _text(number):
    return "" if number is None else format(Decimal(number).normalize(), "f")
