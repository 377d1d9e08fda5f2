"""Importing a release table through the one write path for indicator values (`services.series.save_series`).

As for figure imports: the preview lists every cell as created / changed / unchanged / error with the version
of the stored value it compared with; confirming writes every cell or none, and refuses a value someone
changed after the preview (with their value); refreshing compares the kept cells with what is stored now.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from tracker.imports.parsing import ImportFileError
from tracker.releases.parsing import ReleaseProblem, parse_release
from tracker.services.series import SeriesRow, save_series, stored_values
from tracker.targets.models import Indicator, PeerGroup, Region
from tracker.targets.numbers import plain_number

SOURCE = "release import"


@dataclass
class ReleaseReport:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    file_problems: list = field(default_factory=list)
    written: bool = False

    @property
    def ok(self):
        return not self.problems


def run_release_import(user, data, year, month, dry_run=True, today=None):
    """Read the file and check (or write) its cells for (year, month). Never raises for bad input."""
    try:
        parsed = parse_release(data, year, month)
    except ImportFileError as exc:
        problem = ReleaseProblem(exc.line, "", str(exc))
        return ReleaseReport(problems=[problem], file_problems=[problem])
    rows = [SeriesRow(c.indicator, c.region, year, month, c.value, c.ranks, line=c.line, column=c.letter)
            for c in parsed.cells]
    report = import_cells(user, rows, dry_run=dry_run, today=today, problems=parsed.problems)
    report.file_problems = list(parsed.problems)
    return report


def import_cells(user, rows, dry_run=False, today=None, problems=()):
    report = ReleaseReport(problems=list(problems))
    before = stored_values(rows)
    result = save_series(user, rows, SOURCE, dry_run=dry_run or bool(report.problems), today=today)
    report.problems.extend(ReleaseProblem(e.line, e.column, e.message) for e in result.errors)
    report.problems.sort(key=lambda p: (p.line or 0, p.letter))
    report.written = report.ok and not dry_run
    created, changed = {id(r) for r in result.created}, {id(r) for r in result.changed}
    failed = {(p.line, p.letter) for p in report.problems}
    for row in rows:
        old = before.get((row.indicator.pk, row.region.pk, row.year, row.month))
        if (row.line, row.column) in failed or (row.line, "") in failed:
            outcome = "error"
        else:
            outcome = "created" if id(row) in created else "changed" if id(row) in changed else "unchanged"
        report.rows.append({
            "line": row.line, "letter": row.column, "region": row.region.pk, "region_name": str(row.region),
            "indicator": row.indicator.pk, "indicator_name": str(row.indicator), "year": row.year,
            "month": row.month, "value": plain_number(row.value) if isinstance(row.value, Decimal) else "",
            "ranks": {str(g.pk): rank for g, rank in row.ranks.items()},
            "rank_text": " ".join(f"{g}{rank}" for g, rank in row.ranks.items()),
            "old_value": plain_number(old.value) if old else "",
            "old_ranks": {str(k): v for k, v in (old.published if old else {}).items()},
            "version": old.version if old else 0, "outcome": outcome,
        })
    return report


def rows_from_batch(stored, check_versions=True):
    """SeriesRows from the dicts kept between preview and confirm (with the versions seen, unless refreshing)."""
    indicators = Indicator.objects.in_bulk({r["indicator"] for r in stored})
    regions = Region.objects.in_bulk({r["region"] for r in stored})
    groups = PeerGroup.objects.in_bulk({int(g) for r in stored for g in r["ranks"]})
    rows, missing = [], []
    for r in stored:
        indicator, region = indicators.get(r["indicator"]), regions.get(r["region"])
        if indicator is None or region is None or any(int(g) not in groups for g in r["ranks"]):
            missing.append(ReleaseProblem(r["line"], r["letter"], _(
                "The region, indicator or peer group of this cell was deleted after the preview.")))
            continue
        rows.append(SeriesRow(indicator, region, r["year"], r["month"],
                              Decimal(r["value"]) if r["value"] else None,
                              {groups[int(g)]: rank for g, rank in r["ranks"].items()},
                              base_version=r["version"] if check_versions else None, line=r["line"],
                              column=r["letter"]))
    return rows, missing
