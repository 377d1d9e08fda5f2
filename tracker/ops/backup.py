"""Back up and restore everything: the database rows and the uploaded files.

One .tar.gz holds `manifest.json` (format, time, applied migrations, row
counts), `data.jsonl` (Django's JSON Lines serialization, as `dumpdata` writes
it, so it loads into SQLite or PostgreSQL alike; times kept to the
microsecond) and `media/` (a copy of MEDIA_ROOT: the evidence files).

Rows keep their ids, except the ones `migrate` makes itself with ids of its
own (content types, permissions, groups): those are written and matched by
natural key. Restoring inserts rows in batches, as they were (no save()
hooks, no signals), then checks the foreign keys and the row counts.
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
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.jsonl import Serializer as JSONLSerializer
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
# Made by `migrate` with ids of their own: referred to (and groups matched) by natural key.
NATURAL_KEY_MODELS = (ContentType, Permission, Group)
BATCH = 2000


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


class BackupSerializer(JSONLSerializer):
    """JSON Lines with natural keys only for NATURAL_KEY_MODELS; everything else by id.

    Ids keep the file exact and quick to write and read: a natural key costs a
    query per row on both sides.
    """

    def handle_fk_field(self, obj, field):
        self.use_natural_foreign_keys = field.related_model in NATURAL_KEY_MODELS
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj, field):
        self.use_natural_foreign_keys = field.related_model in NATURAL_KEY_MODELS
        super().handle_m2m_field(obj, field)

    def get_dump_object(self, obj):
        self.use_natural_primary_keys = isinstance(obj, NATURAL_KEY_MODELS)
        return super().get_dump_object(obj)


def dump(stream, using=DEFAULT_DB_ALIAS):
    """Every backed-up row as JSON Lines, models in dependency order (like dumpdata)."""
    by_app = {}
    for model in backed_up_models(using):
        by_app.setdefault(apps.get_app_config(model._meta.app_label), []).append(model)
    ordered = serializers.sort_dependencies(by_app.items(), allow_cycles=True)

    def objects():
        for model in ordered:
            many = [f.name for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created]
            rows = model._base_manager.using(using).order_by(model._meta.pk.name).prefetch_related(*many)
            yield from rows.iterator(chunk_size=BATCH)

    BackupSerializer().serialize(objects(), stream=stream, cls=ExactJSONEncoder)


def _insert_raw(model, objects, using):
    """INSERT the objects as they are, in batches (like loaddata's raw save, without a query per row)."""
    connection = connections[using]
    with_ids = objects[0].pk is not None  # rows keep their ids; link-table rows get new ones
    fields = [f for f in model._meta.local_concrete_fields if with_ids or not f.primary_key]
    size = max(connection.ops.bulk_batch_size(fields, objects), 1)
    for start in range(0, len(objects), size):
        model._base_manager._insert(objects[start:start + size], fields=fields, using=using, raw=True)


def _insert_batch(batch, using):
    model = type(batch[0].object)
    _insert_raw(model, [item.object for item in batch], using)
    for name in {name for item in batch for name in item.m2m_data}:
        field = model._meta.get_field(name)
        through = field.remote_field.through
        source = through._meta.get_field(field.m2m_field_name()).attname
        target = through._meta.get_field(field.m2m_reverse_field_name()).attname
        links = [through(**{source: item.object.pk, target: pk})
                 for item in batch for pk in item.m2m_data.get(name, [])]
        if links:
            _insert_raw(through, links, using)


def load(path, using=DEFAULT_DB_ALIAS):
    """Load data.jsonl into the (empty) tables; returns the models loaded. Call inside a transaction."""
    connection = connections[using]
    # Rows that migrations seed (defaults, settings rows) give way to the backup's own.
    for model in backed_up_models(using):
        if not issubclass(model, NATURAL_KEY_MODELS):
            model._base_manager.using(using).all().delete()
    loaded, batch = set(), []
    with connection.constraint_checks_disabled(), open(path, encoding="utf-8") as stream:
        for item in serializers.deserialize("jsonl", stream, using=using):
            model = type(item.object)
            loaded.add(model)
            if batch and (len(batch) >= BATCH or type(batch[0].object) is not model):
                _insert_batch(batch, using)
                batch = []
            if isinstance(item.object, NATURAL_KEY_MODELS):
                # Maybe already made by migrate (matched by natural key): the ordinary save updates or inserts.
                item.save(using=using)
            else:
                batch.append(item)
        if batch:
            _insert_batch(batch, using)
    connection.check_constraints(table_names=[m._meta.db_table for m in loaded])
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(loaded)):
            cursor.execute(sql)
    return loaded


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
            load(Path(tmp) / DATA, using)
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
