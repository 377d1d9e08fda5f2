"""python manage.py monthly_report --period 2022-06 --format xlsx --output report.xlsx
[--organisation UNIT_CODE] [--plan PLAN_ID]

Without --organisation the report holds every organisation's published plans of the year; with it, what a
leader of that unit reads (the plans issued by its tree and the targets its tree leads in plans issued above
it); --plan keeps one plan (its id, as in the report page's ?plan=)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.reports import exports
from tracker.reports.completeness import completeness
from tracker.reports.report import build_rows, report_targets, summarise
from tracker.targets.models import Plan, Unit
from tracker.targets.period import Period


class Command(BaseCommand):
    help = ("Write the monthly report for a period (all units, or one organisation or plan) as JSON, CSV, XLSX, "
            "DOCX or HTML.")

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--format", default="json", choices=exports.FORMATS)
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument("--language", default="zh-hans", help="zh-hans (default) or en")
        parser.add_argument("--organisation", metavar="UNIT_CODE",
                            help="only this unit's organisation (the plans issued by its tree, its tree's targets)")
        parser.add_argument("--plan", type=int, metavar="PLAN_ID", help="only this plan (its id)")

    def _targets(self, year, organisation, plan_id):
        """The report's targets, or a CommandError naming what does not exist."""
        plans = Plan.objects.filter(year=year).exclude(status=Plan.Status.DRAFT)
        targets = report_targets(None, year)
        if organisation is not None:
            unit = Unit.objects.filter(code=organisation).first()
            if unit is None:
                raise CommandError(_("There is no unit with the code %(code)s.") % {"code": organisation})
            targets = scoping.organisation_targets(unit, targets)
            plans = plans.filter(pk__in=targets.values("plan_id"))
        if plan_id is not None:
            plan = Plan.objects.filter(pk=plan_id).exclude(status=Plan.Status.DRAFT).first()
            if plan is None:
                raise CommandError(_("There is no published plan with the id %(id)s.") % {"id": plan_id})
            if plan.year != year:
                raise CommandError(_("The plan %(plan)s is of %(plan_year)s, not of %(year)s.") % {
                    "plan": plan, "plan_year": plan.year, "year": year})
            targets, plans = targets.filter(plan=plan), plans.filter(pk=plan.pk)
        if not plans.exists():
            if organisation is not None:
                raise CommandError(_("The organisation of %(code)s has no plan for %(year)s.") % {
                    "code": organisation, "year": year})
            raise CommandError(_("There is no plan for %(year)s.") % {"year": year})
        return targets

    def handle(self, *args, period, format, output, language, organisation=None, plan=None, **options):
        with translation.override(language):
            try:
                parsed = Period.parse(period)
                year, month = parsed.year, parsed.month
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            targets = self._targets(year, organisation, plan)
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
