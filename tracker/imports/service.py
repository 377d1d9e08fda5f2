"""Importing parsed progress rows through the one entry write path.

`run_import` reads a file, resolves target codes and hands every row to
`save_entries`, which checks rights, locks and values and writes all rows or
none. Problems from the file and from the entry rules come back together,
each with its row and column, so a person can fix the whole file at once.

A preview records each row's version of the stored entry (0 when there is
none); confirming passes it on as `base_version`, so a figure someone changed
after the preview is refused with their value, never overwritten.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.imports.parsing import ImportFileError, ParsedRow, Problem, parse
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry
from tracker.targets.numbers import plain_number

SOURCE = "import"
# Stored rows from before versions were recorded: never match, so such a preview must be refreshed.
UNKNOWN_VERSION = -1
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
    file_problems: list = field(default_factory=list)  # the part of `problems` found reading the file
    conflicts: list = field(default_factory=list)  # lines of rows changed by someone else since the preview
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
        problem = Problem(exc.line, "file", str(exc))
        return ImportReport(problems=[problem], file_problems=[problem])
    report = import_rows(user, parsed.rows, dry_run=dry_run, today=today, source=source, problems=parsed.problems,
                         letters=parsed.letters, confirm_warnings=confirm_warnings, warning_note=warning_note)
    report.skipped = parsed.skipped
    return report


def import_rows(user, rows, dry_run=False, today=None, source=SOURCE, problems=(), letters=None,
                confirm_warnings=False, warning_note=""):
    """Save ParsedRows (all or none); with earlier `problems` it only checks the rows.

    Rows with a `base_version` are refused if their entry has changed since (see rows_from_report).
    `confirm_warnings` confirms the figures the soft checks question; `warning_note` explains them
    (kept with each such figure, and it confirms them too).
    """
    report = ImportReport(problems=list(problems), file_problems=list(problems))
    letters = letters or {}
    found = scoping.targets_by_code(user, {(r.code, r.year) for r in rows})
    targets = {key: matches[0] for key, matches in found.items() if len(matches) == 1}
    entry_rows = []
    for row in rows:
        target = targets.get((row.code, row.year))
        if target is None:
            if len(found.get((row.code, row.year), ())) > 1:
                message = _("Target code '%(code)s' is in several plans of %(year)s; import each plan's "
                            "figures as the plan's own people.") % {"code": row.code, "year": row.year}
            else:
                message = _("Unknown target code '%(code)s'.") % {"code": row.code}
            report.problems.append(Problem(row.line, "target", message, letters.get("target", "")))
            continue
        values = {"value": row.value, "comparator": row.comparator, "note": row.note}
        # An empty cell leaves the stored figure alone: a file never blanks what is there.
        values = {k: v for k, v in values.items() if v not in (None, "")}
        if (warning_note or "").strip():
            values["warning_note"] = warning_note.strip()
        entry_rows.append(EntryRow(target, row.year, row.month, values, base_version=row.base_version,
                                   line=row.line, confirmed=confirm_warnings))
    with transaction.atomic():
        # Rows from a preview lock their entries from this read on: a colleague's save either
        # committed before (and shows as a newer version) or waits until this import is done.
        previous = _stored_values(entry_rows, lock=any(r.base_version is not None for r in entry_rows))
        _check_versions(entry_rows, previous, report, letters)
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
        target = targets.get((row.code, row.year))
        key = (target.pk, row.year, row.month) if target else None
        old = previous.get(key, {})
        report.rows.append({
            "line": row.line,
            "code": row.code,
            "name": target.name if target else "",
            "period": row.period,
            "value": plain_number(row.value),
            "comparator": plain_number(row.comparator),
            "note": row.note,
            "old_value": plain_number(old.get("value")),
            "old_comparator": plain_number(old.get("comparator")),
            "version": old.get("version", 0),  # what a confirm of this preview expects to find
            "outcome": Outcome.ERROR if row.line in failed else outcome.get(key, Outcome.UNCHANGED),
            "warnings": warned.get(row.line, []),
        })
    return report


def _check_versions(entry_rows, previous, report, letters):
    """Note rows whose entry changed since their preview; save_entries refuses those still there."""
    for row in entry_rows:
        stored = previous.get((row.target.pk, row.year, row.month))
        if row.base_version is None or row.base_version == (stored["version"] if stored else 0):
            continue
        report.conflicts.append(row.line)
        # A changed entry is refused by save_entries with the other person's value; these two it cannot tell.
        if row.base_version == UNKNOWN_VERSION:
            message = _("This preview was made before figures were checked for changes; refresh the preview.")
        elif stored is None:
            message = _("The entry for %(code)s %(period)s was deleted after the preview; refresh the preview.") % {
                "code": row.target.code, "period": f"{row.year}-{row.month:02d}"}
        else:
            continue
        report.problems.append(Problem(row.line, "target", message, letters.get("target", "")))


def rows_from_report(stored_rows, check_versions=True):
    """Rebuild ParsedRows from the dicts kept between preview and confirm.

    With `check_versions` each row carries the version its preview saw, so a
    confirm refuses rows changed since; without, the rows are checked afresh
    (refreshing a preview).
    """
    return [
        ParsedRow(
            line=r["line"], code=r["code"], year=int(r["period"][:4]), month=int(r["period"][5:]),
            value=Decimal(r["value"]) if r["value"] else None,
            comparator=Decimal(r["comparator"]) if r["comparator"] else None,
            note=r["note"],
            base_version=r.get("version", UNKNOWN_VERSION) if check_versions else None,
        )
        for r in stored_rows
    ]


def _stored_values(entry_rows, lock=False):
    """The figures and versions in the database now, for old -> new in a preview and the version check."""
    if not entry_rows:
        return {}
    keys = {(r.target.pk, r.year, r.month) for r in entry_rows}
    qs = ProgressEntry.objects.select_for_update().order_by("pk") if lock else ProgressEntry.objects
    qs = qs.filter(
        target_id__in={k[0] for k in keys}, year__in={k[1] for k in keys}, month__in={k[2] for k in keys}
    ).values("target_id", "year", "month", "value", "comparator", "version")
    return {(e["target_id"], e["year"], e["month"]): e for e in qs}

