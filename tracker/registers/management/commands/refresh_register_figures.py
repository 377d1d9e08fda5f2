from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from tracker.registers import figures


class Command(BaseCommand):
    help = _("Write the register-backed targets' figures into their entries (approved months stay as they are).")

    def handle(self, *args, **options):
        result = figures.refresh()
        if result is None:
            self.stdout.write(_("No target takes its figure from a register."))
            return
        self.stdout.write(_("%(created)s figures created, %(changed)s changed, %(unchanged)s unchanged.") % {
            "created": len(result.created), "changed": len(result.changed), "unchanged": len(result.unchanged)})
        for problem in result.errors + result.warnings:
            self.stderr.write(str(problem))
