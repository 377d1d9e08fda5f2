"""Back up and restore everything: the database rows and the uploaded files.

A backup is one .tar.gz (tracker-backup-YYYYmmdd-HHMMSS.tar.gz) of one of two kinds:

- pg_dump (the default on PostgreSQL; format "tracker-backup-pg_dump/1"):
  `manifest.json`, `database.dump` (`pg_dump --format=custom` of the whole
  database, taken from the same snapshot as the manifest's row counts) and
  `media/`. Restored with `pg_restore` into PostgreSQL.
- portable (SQLite, or `backup --portable`; format "tracker-backup/1"):
  `manifest.json`, `data.jsonl` (Django's JSON Lines serialization, as
  `dumpdata` writes it, so it loads into SQLite or PostgreSQL alike; times
  kept to the microsecond) and `media/`.

`manifest.json` holds the format, the time, the applied migrations and the row
count of every backed-up table; `media/` is a copy of MEDIA_ROOT (the evidence
files).

In a portable backup rows keep their ids, except the ones `migrate` makes
itself with ids of its own (content types, permissions, groups): those are
written and matched by natural key. Its restore streams: it reads data.jsonl
line by line and inserts rows as they were (no save() hooks, no signals, no
auto_now) in batches of at most BATCH rows per INSERT, so memory holds one
batch, never the dataset; all in one transaction, then it checks the foreign
keys and the row counts and resets PostgreSQL's sequences.
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
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.ops import pgdump

PORTABLE, PG_DUMP = "portable", "pg_dump"
FORMAT = "tracker-backup/1"  # portable; older archives are all of this format
PG_DUMP_FORMAT = "tracker-backup-pg_dump/1"
MANIFEST = "manifest.json"
DATA = "data.jsonl"
DUMP = "database.dump"
MEDIA = "media"
# What each format holds besides the manifest and media/.
CONTENT = {FORMAT: DATA, PG_DUMP_FORMAT: DUMP}
# Rebuilt by `migrate` (content types, permissions) or worthless after a restore (sessions). The data stamps stay
# as they are: a restore adds to them (its writes are stamped), so no summary kept before it can be shown after.
EXCLUDED = ["contenttypes", "auth.permission", "sessions", "targets.datastamp"]
ARCHIVE_PATTERN = "tracker-backup-*.tar.gz"
# Made by `migrate` with ids of their own: referred to (and groups matched) by natural key.
NATURAL_KEY_MODELS = (ContentType, Permission, Group)
# Rows read, held and inserted at a time by the portable restore (and read at a time by its backup).
BATCH = 1000


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

    def end_object(self, obj):
        # The same line as Django's json.dump() to the stream, written at once: json.dumps() uses the C
        # encoder, json.dump() the pure-Python one (most of the backup's time).
        self.stream.write(json.dumps(self.get_dump_object(obj), **self.json_kwargs) + "\n")
        self._current = None


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


def _insert_rows(model, fields, rows, using):
    """INSERT `rows` (lists of database values, one per field) into the model's table: one statement, run by
    the driver for every row (executemany), with no save(), signals or auto_now: the rows go in as they were.

    Measured against one multi-row INSERT per batch: about 20% more CPU on SQLite, but half as much on
    PostgreSQL, where binding the long statement's parameters client-side costs more."""
    connection = connections[using]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields)))
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_batch(batch, using):
    """Insert a batch of deserialized objects of one model and their many-to-many links; returns the models."""
    connection = connections[using]
    model = type(batch[0].object)
    fields = model._meta.local_concrete_fields
    _insert_rows(model, fields, [
        [field.get_db_prep_save(getattr(item.object, field.attname), connection) for field in fields]
        for item in batch
    ], using)
    inserted = {model}
    for name in sorted({name for item in batch for name in item.m2m_data}):
        field = model._meta.get_field(name)
        through = field.remote_field.through
        source = through._meta.get_field(field.m2m_field_name())
        target = through._meta.get_field(field.m2m_reverse_field_name())
        # Link rows get new ids of their own, like Django's add().
        links = [
            [source.get_db_prep_save(item.object.pk, connection), target.get_db_prep_save(pk, connection)]
            for item in batch for pk in item.m2m_data.get(name, [])
        ]
        for start in range(0, len(links), BATCH):
            _insert_rows(through, [source, target], links[start:start + BATCH], using)
        inserted.add(through)
    return inserted


def load(path, using=DEFAULT_DB_ALIAS):
    """Stream data.jsonl into the (empty) tables, BATCH rows at a time; returns the models loaded.

    Call inside a transaction. Memory holds one batch of rows, whatever the size of the file.
    """
    connection = connections[using]
    # Rows that migrations seed (defaults, settings rows) give way to the backup's own.
    for model in backed_up_models(using):
        if not issubclass(model, NATURAL_KEY_MODELS):
            model._base_manager.using(using).all().delete()
    loaded, batch = set(), []
    with connection.constraint_checks_disabled(), open(path, encoding="utf-8") as stream:
        # Django's JSON Lines deserializer reads the file a line at a time.
        for item in serializers.deserialize("jsonl", stream, using=using):
            model = type(item.object)
            if batch and (len(batch) >= BATCH or type(batch[0].object) is not model):
                loaded |= _insert_batch(batch, using)
                batch = []
            if isinstance(item.object, NATURAL_KEY_MODELS) or item.object.pk is None:
                # Maybe already made by migrate (matched by natural key): the ordinary save updates or inserts.
                item.save(using=using)
                loaded.add(model)
            else:
                batch.append(item)
        if batch:
            loaded |= _insert_batch(batch, using)
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


def _refuse_a_database_in_use(using):
    tables = set(connections[using].introspection.table_names())
    used = [
        model._meta.verbose_name_plural for model in in_use_models()
        if model._meta.db_table in tables and model._base_manager.using(using).exists()
    ]
    if used:
        raise CommandError(_(
            "The database is not empty (it has %(what)s). Restore into a new, empty database."
        ) % {"what": ", ".join(str(name) for name in used)})


def _refuse_newer_migrations(manifest):
    """A backup made by a newer version of the code (migrations this one lacks) cannot be restored by it."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(tuple(key) for key in manifest["migrations"] if tuple(key) not in known)
    if unknown:
        raise CommandError(_(
            "The backup was made by a newer version of the application (unknown migrations: %(names)s). "
            "Install that version first."
        ) % {"names": ", ".join(f"{app}.{name}" for app, name in unknown[:5])})


def _check_counts(manifest, using):
    wrong = []
    for label, expected in manifest["counts"].items():
        found = apps.get_model(label)._base_manager.using(using).count()
        if found != expected:
            wrong.append(f"{label}: {found} != {expected}")
    if wrong:
        raise CommandError(_("The restored rows do not match the backup: %(details)s.")
                           % {"details": "; ".join(wrong)})


def _consistent_snapshot(using):
    """On PostgreSQL, read every table from one snapshot while the site keeps writing."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def default_archive_name(now=None):
    now = timezone.localtime(now or timezone.now())
    return f"tracker-backup-{now:%Y%m%d-%H%M%S}.tar.gz"


def backup_kind(using=DEFAULT_DB_ALIAS, portable=False):
    """pg_dump on PostgreSQL unless a portable backup is asked for; always portable on SQLite."""
    return PG_DUMP if connections[using].vendor == "postgresql" and not portable else PORTABLE


def create_backup(path, using=DEFAULT_DB_ALIAS, portable=False):
    """Write the archive to `path` (through a temporary name, so a failed run leaves no half file)."""
    connection = connections[using]
    kind = backup_kind(using, portable)
    if kind == PG_DUMP:
        pgdump.program("pg_dump")  # a missing program is said before any work
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-backup-") as tmp:
        content = Path(tmp) / (DUMP if kind == PG_DUMP else DATA)
        with transaction.atomic(using=using):
            _consistent_snapshot(using)
            if kind == PG_DUMP:
                with connection.cursor() as cursor:
                    # pg_dump reads this transaction's snapshot: the dump holds exactly the rows counted here.
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
                pgdump.dump(content, connection.settings_dict, snapshot=snapshot)
            else:
                with open(content, "w", encoding="utf-8") as stream:
                    dump(stream, using)
            counts = {m._meta.label_lower: m._base_manager.using(using).count() for m in backed_up_models(using)}
            migrations = sorted(MigrationRecorder(connection).applied_migrations())
        manifest = {
            "format": PG_DUMP_FORMAT if kind == PG_DUMP else FORMAT,
            "created": timezone.now().isoformat(),
            "database_vendor": connection.vendor,
            "migrations": [list(key) for key in migrations],
            "counts": counts,
        }
        if kind == PG_DUMP:
            manifest["pg_dump"] = pgdump.version("pg_dump")
        partial = path.with_name(path.name + ".part")
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            raw = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(raw), int(timezone.now().timestamp())
            tar.addfile(info, io.BytesIO(raw))
            tar.add(content, arcname=content.name)
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
    except (KeyError, ValueError, tarfile.TarError):
        raise CommandError(_("This file is not a target tracker backup (no readable manifest).")) from None
    if not isinstance(manifest, dict) or manifest.get("format") not in CONTENT:
        raise CommandError(_("Unsupported backup format: %(format)s.") % {
            "format": manifest.get("format") if isinstance(manifest, dict) else None})
    return manifest


def _check_members(tar, manifest):
    content = CONTENT[manifest["format"]]
    names = tar.getnames()
    for name in names:
        if not (name in (MANIFEST, content, MEDIA) or name.startswith(MEDIA + "/")):
            raise CommandError(_("Unexpected file in the backup: %(name)s.") % {"name": name})
    if content not in names:
        raise CommandError(_("The backup is incomplete: it has no %(name)s.") % {"name": content})
    if not (isinstance(manifest.get("migrations"), list) and isinstance(manifest.get("counts"), dict)
            and isinstance(manifest.get("created"), str)):
        raise CommandError(_("The backup's manifest is incomplete (migrations, counts or time missing)."))


def _copy_media(tmp):
    media = Path(tmp) / MEDIA
    if media.is_dir():
        shutil.copytree(media, settings.MEDIA_ROOT, dirs_exist_ok=True)


def _drop_tables(using):
    """Drop this application's tables (and Django's migration records) so that pg_restore can create them."""
    connection = connections[using]
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    if MigrationRecorder(connection).has_table():
        tables.append(MigrationRecorder.Migration._meta.db_table)
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {quote(table)} CASCADE")


def _restore_portable(tmp, manifest, using):
    call_command("migrate", interactive=False, database=using, verbosity=0)
    with transaction.atomic(using=using):
        load(Path(tmp) / DATA, using)
        _check_counts(manifest, using)
        _copy_media(tmp)


def _require_pg_restore(using):
    connection = connections[using]
    if connection.vendor != "postgresql":
        raise CommandError(_(
            "This backup was made with pg_dump and restores into PostgreSQL only. "
            "To move to another database, make a portable backup (backup --portable)."
        ))
    if connection.in_atomic_block:
        raise RuntimeError("pg_restore runs in its own connection: call restore_backup() outside a transaction.")
    pgdump.program("pg_restore")


def _restore_pg_dump(tmp, manifest, using):
    connection = connections[using]
    dump = Path(tmp) / DUMP
    pgdump.check(dump)  # before anything is dropped
    # The tables that are there hold no data (checked before): pg_restore makes them again as they were.
    _drop_tables(using)
    pgdump.restore(dump, connection.settings_dict)
    ContentType.objects.clear_cache()  # ids are the backup's now
    try:
        _check_counts(manifest, using)
        # A backup from an older version is brought up to this one.
        call_command("migrate", interactive=False, database=using, verbosity=0)
        _copy_media(tmp)
    except BaseException:
        # All or nothing: leave the database as empty as it was.
        _drop_tables(using)
        raise


def restore_backup(path, using=DEFAULT_DB_ALIAS):
    """Restore an archive into an empty database and copy its files into MEDIA_ROOT.

    All or nothing for the database: a portable backup is loaded and counted in
    one transaction, rolled back if any count differs from the manifest; a
    pg_dump backup is restored by pg_restore in one transaction, and its tables
    are dropped again if the counts differ or a later step fails.
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
        _check_members(tar, manifest)
        if manifest["format"] == PG_DUMP_FORMAT:
            _require_pg_restore(using)
        _refuse_newer_migrations(manifest)
        _refuse_a_database_in_use(using)
        # The "data" filter refuses absolute paths, links leaving the folder and device files.
        tar.extractall(tmp, filter="data")
        if manifest["format"] == PG_DUMP_FORMAT:
            _restore_pg_dump(tmp, manifest, using)
        else:
            _restore_portable(tmp, manifest, using)
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
