"""Back up and restore everything: the database rows and the uploaded files.

One .tar.gz holds `manifest.json` (format, time, applied migrations, row
counts), `data.jsonl` (Django's serialization as `dumpdata` writes it, natural
keys for users, groups, permissions and content types, so it loads into SQLite
or PostgreSQL alike; times kept to the microsecond)
and `media/` (a copy of MEDIA_ROOT: the evidence files).
"""

import datetime
import io
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = "tracker-backup/1"
MANIFEST = "manifest.json"
DATA = "data.jsonl"
MEDIA = "media"
# Rebuilt by `migrate` (content types, permissions) or worthless after a restore (sessions).
EXCLUDED = ["contenttypes", "auth.permission", "sessions"]
ARCHIVE_PATTERN = "tracker-backup-*.tar.gz"


def backed_up_models(using=DEFAULT_DB_ALIAS):
    excluded_apps = {label for label in EXCLUDED if "." not in label}
    excluded_models = {label for label in EXCLUDED if "." in label}
    return [
        model for model in apps.get_models()
        if model._meta.app_label not in excluded_apps
        and model._meta.label_lower not in excluded_models
        and not model._meta.proxy and model._meta.managed
        and router.allow_migrate_model(using, model)
    ]


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; a backup keeps them exact."""

    def default(self, o):
        if isinstance(o, (datetime.datetime, datetime.time)):
            return o.isoformat()
        return super().default(o)


def dump(stream, using=DEFAULT_DB_ALIAS):
    """Every backed-up row as JSON Lines, models in dependency order (like dumpdata)."""
    by_app = {}
    for model in backed_up_models(using):
        by_app.setdefault(apps.get_app_config(model._meta.app_label), []).append(model)
    ordered = serializers.sort_dependencies(by_app.items(), allow_cycles=True)

    def objects():
        for model in ordered:
            yield from model._base_manager.using(using).order_by(model._meta.pk.name).iterator(chunk_size=2000)

    serializers.serialize("jsonl", objects(), stream=stream, cls=ExactJSONEncoder,
                          use_natural_foreign_keys=True, use_natural_primary_keys=True)


def in_use_models():
    """Rows that show a database is already in use: restoring over them would mix two installations."""
    from tracker.audit.models import Change
    from tracker.targets.models import Plan, ProgressEntry, Target, Unit

    return [get_user_model(), Unit, Plan, Target, ProgressEntry, Change]


def _consistent_snapshot(using):
    """On PostgreSQL, read every table from one snapshot while the site keeps writing."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def default_archive_name(now=None):
    now = timezone.localtime(now or timezone.now())
    return f"tracker-backup-{now:%Y%m%d-%H%M%S}.tar.gz"


def create_backup(path, using=DEFAULT_DB_ALIAS):
    """Write the archive to `path` (through a temporary name, so a failed run leaves no half file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-backup-") as tmp:
        data = Path(tmp) / DATA
        with transaction.atomic(using=using):
            _consistent_snapshot(using)
            with open(data, "w", encoding="utf-8") as stream:
                dump(stream, using)
            counts = {m._meta.label_lower: m._base_manager.using(using).count() for m in backed_up_models(using)}
            migrations = sorted(MigrationRecorder(connections[using]).applied_migrations())
        manifest = {
            "format": FORMAT,
            "created": timezone.now().isoformat(),
            "database_vendor": connections[using].vendor,
            "migrations": [list(key) for key in migrations],
            "counts": counts,
        }
        partial = path.with_name(path.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            raw = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(raw), int(timezone.now().timestamp())
            tar.addfile(info, io.BytesIO(raw))
            tar.add(data, arcname=DATA)
            media_root = Path(settings.MEDIA_ROOT)
            if media_root.is_dir():
                tar.add(media_root, arcname=MEDIA)
        partial.replace(path)
    return manifest


def prune(directory, keep):
    """Delete all but the newest `keep` archives in `directory`; returns the deleted paths."""
    archives = sorted(Path(directory).glob(ARCHIVE_PATTERN))
    doomed = archives[:-keep] if keep > 0 else []
    for old in doomed:
        old.unlink()
    return doomed


def _read_manifest(tar):
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.load(tar.extractfile(member))
    except (KeyError, ValueError):
        raise CommandError(_("This file is not a target tracker backup (no readable manifest).")) from None
    if manifest.get("format") != FORMAT:
        raise CommandError(_("Unsupported backup format: %(format)s.") % {"format": manifest.get("format")})
    return manifest


def _check_members(tar):
    for member in tar.getmembers():
        name = member.name
        if not (name in (MANIFEST, DATA, MEDIA) or name.startswith(MEDIA + "/")):
            raise CommandError(_("Unexpected file in the backup: %(name)s.") % {"name": name})


def restore_backup(path, using=DEFAULT_DB_ALIAS):
    """Load an archive into an empty database (migrated first) and copy its files into MEDIA_ROOT.

    All or nothing for the database: rows are loaded and counted in one
    transaction, which is rolled back if any count differs from the manifest.
    """
    path = Path(path)
    if not path.is_file():
        raise CommandError(_("No backup file at %(path)s.") % {"path": path})
    try:
        tar = tarfile.open(path, "r:gz")
    except (tarfile.TarError, OSError):
        raise CommandError(_("%(path)s is not a readable .tar.gz backup.") % {"path": path}) from None
    with tar, tempfile.TemporaryDirectory(prefix="tracker-restore-") as tmp:
        manifest = _read_manifest(tar)
        _check_members(tar)
        # The "data" filter refuses absolute paths, links leaving the folder and device files.
        tar.extractall(tmp, filter="data")

        call_command("migrate", interactive=False, database=using, verbosity=0)
        known = {tuple(key) for key in MigrationRecorder(connections[using]).applied_migrations()}
        unknown = sorted(tuple(key) for key in manifest["migrations"] if tuple(key) not in known)
        if unknown:
            raise CommandError(_(
                "The backup was made by a newer version of the application (unknown migrations: %(names)s). "
                "Install that version first."
            ) % {"names": ", ".join(f"{app}.{name}" for app, name in unknown[:5])})
        used = [m._meta.verbose_name_plural for m in in_use_models() if m._base_manager.using(using).exists()]
        if used:
            raise CommandError(_(
                "The database is not empty (it has %(what)s). Restore into a new, empty database."
            ) % {"what": ", ".join(str(name) for name in used)})

        with transaction.atomic(using=using):
            call_command("loaddata", str(Path(tmp) / DATA), database=using, verbosity=0)
            wrong = []
            for label, expected in manifest["counts"].items():
                model = apps.get_model(label)
                found = model._base_manager.using(using).count()
                if found != expected:
                    wrong.append(f"{label}: {found} != {expected}")
            if wrong:
                raise CommandError(_("The restored rows do not match the backup: %(details)s.")
                                   % {"details": "; ".join(wrong)})
            media = Path(tmp) / MEDIA
            if media.is_dir():
                shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)
    return manifest


def summarize(manifest):
    """A short human line: how many targets, entries and history rows."""
    counts = manifest["counts"]
    return _("%(targets)s targets, %(entries)s entries, %(changes)s history rows, %(users)s users") % {
        "targets": counts.get("targets.target", 0),
        "entries": counts.get("targets.progressentry", 0),
        "changes": counts.get("audit.change", 0),
        "users": counts.get(get_user_model()._meta.label_lower, 0),
    }


def created_at(manifest):
    return datetime.datetime.fromisoformat(manifest["created"])
