"""python manage.py monthly_report --period 2022-06 --format xlsx --output report.xlsx"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from tracker.reports import exports
from tracker.reports.completeness import completeness
from tracker.reports.report import build_rows, report_targets, summarise
from tracker.targets.models import Plan
from tracker.targets.period import Period


class Command(BaseCommand):
    help = "Write the monthly report for a period (all units) as JSON, CSV, XLSX, DOCX or HTML."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--format", default="json", choices=exports.FORMATS)
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument("--language", default="zh-hans", help="zh-hans (default) or en")

    def handle(self, *args, period, format, output, language, **options):
        with translation.override(language):
            try:
                parsed = Period.parse(period)
                year, month = parsed.year, parsed.month
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            if not Plan.objects.filter(year=year).exclude(status=Plan.Status.DRAFT).exists():
                raise CommandError(_("There is no plan for %(year)s.") % {"year": year})
            targets = report_targets(None, year)
            rows = build_rows(targets, year, month)
            done = completeness(targets, year, month) if format in ("docx", "html") else None
            data = exports.render(format, rows, year, month, summarise(rows), done)
        if output:
            try:
                with open(output, "wb") as fh:
                    fh.write(data)
            except OSError as exc:
                raise CommandError(str(exc)) from None
            self.stderr.write(f"{output}: {len(rows)} rows")
        elif format in ("xlsx", "docx"):
            if sys.stdout.isatty():
                raise CommandError(_("Binary output: give --output FILE."))
            sys.stdout.buffer.write(data)
        else:
            self.stdout.write(data.decode("utf-8"), ending="")
