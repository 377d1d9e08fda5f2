from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tracker.imports.parsing import ImportFileError, check_size
from tracker.imports.service import run_import


class Command(BaseCommand):
    @property
    def help(self):  # a property: argparse needs a plain string, in the language active when it runs
        return _("Import monthly progress figures from a CSV or XLSX file "
                 "(header: target,period,value,comparator,note).")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("CSV (UTF-8 or GB18030) or XLSX file, or a filled-in template"))
        parser.add_argument("--dry-run", action="store_true", help=_("check every row and write nothing"))
        parser.add_argument("--confirm-warnings", action="store_true",
                            help=_("write figures the checks question (after you have checked them)"))
        parser.add_argument("--explain", default="", metavar="TEXT",
                            help=_("explanation kept with each figure the checks question (confirms them too)"))
        parser.add_argument(
            "--user", help=_(
                "import as this person: only their units' targets, and history names them; "
                "without it the import covers all units and history shows no user"
            ),
        )

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user named '%(name)s'.") % {"name": options["user"]})
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        try:
            check_size(path.stat().st_size)  # refuse a large file before reading it
        except ImportFileError as exc:
            raise CommandError(str(exc))
        report = run_import(user, path.read_bytes(), dry_run=options["dry_run"],
                            confirm_warnings=options["confirm_warnings"], warning_note=options["explain"])
        for warning in report.warnings:
            self.stderr.write(str(warning))
        if report.problems:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(ngettext(
                "%(count)d problem; nothing was written.", "%(count)d problems; nothing was written.",
                len(report.problems)) % {"count": len(report.problems)})
        if report.warnings and not options["dry_run"]:
            raise CommandError(ngettext(
                "%(count)d warning; nothing was written. Check the figures, then run again with "
                "--confirm-warnings or --explain.",
                "%(count)d warnings; nothing was written. Check the figures, then run again with "
                "--confirm-warnings or --explain.",
                len(report.warnings)) % {"count": len(report.warnings)})
        counts = {"created": report.created, "changed": report.changed, "unchanged": report.unchanged,
                  "skipped": report.skipped}
        if options["dry_run"]:
            message = _("Dry run, nothing written: %(created)d to create, %(changed)d to change, "
                        "%(unchanged)d unchanged, %(skipped)d empty rows left out.")
        else:
            message = _("Imported: %(created)d created, %(changed)d changed, %(unchanged)d unchanged, "
                        "%(skipped)d empty rows left out.")
        self.stdout.write(message % counts)
