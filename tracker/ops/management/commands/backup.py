from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracker.ops.backup import PG_DUMP, backup_kind, create_backup, default_archive_name, prune, summarize


class Command(BaseCommand):
    help = gettext_lazy(
        "Back up the whole database and the uploaded files (MEDIA_ROOT) into one .tar.gz archive that `restore` "
        "loads into an empty database: on PostgreSQL with pg_dump (restores into PostgreSQL), otherwise or with "
        "--portable as rows that load into SQLite or PostgreSQL alike."
    )

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--output", help=gettext_lazy("Archive file to write."))
        where.add_argument(
            "--output-dir", help=gettext_lazy("Folder for a time-stamped archive (default: backups/ in the project)."))
        parser.add_argument(
            "--keep", type=int, default=0,
            help=gettext_lazy("With --output-dir: keep only this many newest archives (0 keeps all)."))
        parser.add_argument(
            "--portable", action="store_true",
            help=gettext_lazy("On PostgreSQL too, write the rows themselves (JSON Lines) instead of a pg_dump: "
                              "slower, but it restores into SQLite as well."))

    def handle(self, *args, output=None, output_dir=None, keep=0, portable=False, **options):
        if keep < 0:
            raise CommandError(_("--keep must be zero or more."))
        if output:
            path = Path(output)
        else:
            path = Path(output_dir or Path(settings.BASE_DIR) / "backups") / default_archive_name()
        if path.exists():
            raise CommandError(_("%(path)s already exists; choose another name.") % {"path": path})
        kind = "pg_dump" if backup_kind(portable=portable) == PG_DUMP else _("portable")
        manifest = create_backup(path, portable=portable)
        self.stdout.write(_("Backup (%(kind)s) written to %(path)s: %(summary)s.") % {
            "kind": kind, "path": path, "summary": summarize(manifest)})
        if keep and not output:
            for old in prune(path.parent, keep):
                self.stdout.write(_("Removed old backup %(path)s.") % {"path": old})
