from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.ops.backup import created_at, restore_backup, summarize


class Command(BaseCommand):
    help = gettext_lazy(
        "Restore a backup made by `backup` into an empty database and copy its uploaded files into MEDIA_ROOT: "
        "a pg_dump backup with pg_restore (PostgreSQL only), a portable one by loading its rows (the database is "
        "migrated first). Then the row counts are checked against the backup's."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help=gettext_lazy("The .tar.gz file written by `backup`."))

    def handle(self, *args, archive, **options):
        manifest = restore_backup(archive)
        self.stdout.write(_("Restored the backup of %(when)s: %(summary)s.") % {
            "when": timezone.localtime(created_at(manifest)).strftime("%Y-%m-%d %H:%M"),
            "summary": summarize(manifest)})
