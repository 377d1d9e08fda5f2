"""Backup and restore: a backup restored into an empty database holds every row and file.

Portable backups (rows as JSON Lines) run on whichever database the suite runs on; pg_dump backups need
PostgreSQL (the `postgres` fixture)."""

import datetime
import io
import json
import subprocess
import tarfile
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.ops import backup, pgdump
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import MonthlyPlanPoint, Plan, ProgressEntry, ReportingPolicy, Section, Target, Unit

# Committed transactions: the restore runs migrate and its own transaction like in production.
pytestmark = pytest.mark.django_db(transaction=True)

TODAY = datetime.date(2022, 7, 5)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def rows(model):
    """Every column of every row, to compare before and after."""
    return list(model._base_manager.order_by("pk").values())


def populate():
    county = make_unit("qiaocheng", name="谯城区", kind=Unit.Kind.COUNTY)
    section = make_unit("yunxing", name="运行监测协调科", parent=county)
    growth = make_target(Target.Kind.GROWTH, lead_unit=section, combined_jan_feb=True)
    firms = make_target(Target.Kind.CUMULATIVE, lead_unit=county, description="新增规上工业企业80家左右")
    firms.responsible_units.add(section)
    sub = make_target(Target.Kind.CUMULATIVE, lead_unit=section, parent=firms, target_value=Decimal("20"))
    MonthlyPlanPoint.objects.create(target=firms, month=6, value=Decimal("40"))
    clerk = make_user("clerk-qc", unit=section)
    make_user("reviewer-qc", unit=county, role=Membership.Role.REVIEWER)
    result = save_entries(clerk, [
        EntryRow(growth, 2022, 2, {"value": Decimal("10.5"), "note": "1~2月 增长较快"}),
        EntryRow(growth, 2022, 6, {"value": Decimal("8.25")}),
        EntryRow(sub, 2022, 6, {"value": Decimal("7")}),
    ], "entry screen", today=TODAY)
    assert result.ok, result.errors
    entry = make_entry(firms, 6, Decimal("35"), problems="部分企业未达规模")
    entry.evidence.save("名单.xlsx", ContentFile(b"firm list \x00\x01 binary"), save=True)
    return entry


def rewrite(archive, target, change):
    """Copy `archive` to `target` with its manifest passed through `change` (a tampered backup)."""
    with tarfile.open(archive) as tar, tarfile.open(target, "w:gz") as out:
        for member in tar.getmembers():
            content = tar.extractfile(member) if member.isfile() else None
            if member.name == "manifest.json":
                raw = json.dumps(change(json.load(content))).encode()
                member.size, content = len(raw), io.BytesIO(raw)
            out.addfile(member, content)
    return target


def round_trip(media, tmp_path, portable):
    """Back up, empty the database and MEDIA_ROOT, restore: every row and file is back as it was."""
    evidence = populate()
    policy, _ = ReportingPolicy.objects.get_or_create(unit=None, target=None)
    policy.due_working_day = 7
    policy.save()
    evidence_name = evidence.evidence.name
    models = backup.backed_up_models()
    before = {model._meta.label_lower: rows(model) for model in models}
    assert len(before["targets.progressentry"]) == 4
    assert len(before["audit.change"]) >= 3
    archive = tmp_path / "backup.tar.gz"

    call_command("backup", output=str(archive), portable=portable)

    # An empty database (tables and what migrations seed: the default reporting policy) and an empty MEDIA_ROOT.
    call_command("flush", interactive=False, verbosity=0)
    ReportingPolicy.objects.create(due_working_day=3)
    (media / evidence_name).unlink()
    assert not ProgressEntry.objects.exists() and not get_user_model().objects.exists()

    call_command("restore", str(archive))

    for model in models:
        assert rows(model) == before[model._meta.label_lower], model._meta.label
    # The backup's policy replaced the seeded one.
    assert ReportingPolicy.objects.get().due_working_day == 7
    restored = ProgressEntry.objects.get(pk=evidence.pk)
    assert restored.evidence.name == evidence_name
    assert (media / evidence_name).read_bytes() == b"firm list \x00\x01 binary"
    clerk = get_user_model().objects.get(username="clerk-qc")
    assert clerk.check_password("pw-Secret-123")
    assert set(clerk.groups.values_list("name", flat=True)) == {"clerk"}
    assert clerk.has_perm("targets.change_progressentry")
    # New rows get fresh ids after a restore (sequences follow the loaded rows on PostgreSQL).
    new_unit = Unit.objects.create(code="new-unit", name="新单位")
    assert new_unit.pk > max(row["id"] for row in before["targets.unit"])
    Change.objects.create(model="x", object_id="1", object_repr="x", action="create", source="test")
    return archive


def test_it_restores_every_row_and_file_into_an_empty_database(media, tmp_path):
    archive = round_trip(media, tmp_path, portable=True)
    with tarfile.open(archive) as tar:
        assert json.load(tar.extractfile("manifest.json"))["format"] == "tracker-backup/1"


def test_it_restores_a_pg_dump_backup_with_pg_restore(postgres, media, tmp_path):
    archive = round_trip(media, tmp_path, portable=False)
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert "data.jsonl" not in tar.getnames()
        assert tar.extractfile("database.dump").read(5) == b"PGDMP"  # pg_dump's custom format
    assert manifest["format"] == "tracker-backup-pg_dump/1"
    assert manifest["pg_dump"].startswith("pg_dump (PostgreSQL)")


def test_it_writes_a_manifest_with_counts_and_migrations(media, tmp_path):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive), portable=True)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        lines = tar.extractfile("data.jsonl").read().decode().splitlines()
    assert {"manifest.json", "data.jsonl", "media"} <= set(names)
    assert manifest["format"] == "tracker-backup/1"
    assert manifest["counts"]["targets.progressentry"] == 4
    assert manifest["counts"]["targets.target"] == 3
    assert "contenttypes.contenttype" not in manifest["counts"]
    assert ["targets", "0001_initial"] in manifest["migrations"]
    models = {json.loads(line)["model"] for line in lines}
    assert "targets.progressentry" in models
    assert not models & {"contenttypes.contenttype", "auth.permission", "sessions.session"}


def test_it_writes_a_pg_dump_with_the_counts_of_the_same_snapshot(postgres, media, tmp_path):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive))
    with tarfile.open(archive) as tar:
        assert {"manifest.json", "database.dump", "media"} <= set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
        tar.extract("database.dump", tmp_path, filter="data")
    assert manifest["counts"]["targets.progressentry"] == 4
    assert ["targets", "0001_initial"] in manifest["migrations"]
    listing = subprocess.run(["pg_restore", "--list", str(tmp_path / "database.dump")],
                             capture_output=True, text=True, check=True).stdout
    assert "TABLE DATA public targets_progressentry" in listing
    assert "TABLE DATA public django_migrations" in listing


def test_it_inserts_the_rows_of_a_portable_backup_in_bounded_batches(media, tmp_path, monkeypatch):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive), portable=True)
    call_command("flush", interactive=False, verbosity=0)
    monkeypatch.setattr(backup, "BATCH", 3)
    inserted = []  # (table, rows) for every INSERT statement

    def spy(execute, sql, params, many, context):
        if sql.startswith("INSERT INTO"):
            columns = sql[sql.index("(") + 1:sql.index(")")].count(",") + 1
            rows = sum(len(row) for row in params) if many else len(params or ())
            inserted.append((sql.split()[2].strip('"'), rows // columns))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        call_command("restore", str(archive))

    # 4 entries: one statement of 3 rows and one of 1, never a statement per row nor one for the whole table.
    assert [n for table, n in inserted if table == ProgressEntry._meta.db_table] == [3, 1]
    changes = [n for table, n in inserted if table == Change._meta.db_table]
    assert sum(changes) == Change.objects.count() and max(changes) <= 3
    loaded = {model._meta.db_table for model in backup.backed_up_models()}
    assert max(n for table, n in inserted if table in loaded) <= 3
    assert ProgressEntry.objects.count() == 4


@pytest.mark.parametrize("portable", [True, False], ids=["portable", "pg_dump"])
def test_it_refuses_to_restore_over_a_database_in_use(portable, request, media, tmp_path, english):
    if not portable:
        request.getfixturevalue("postgres")
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive), portable=portable)
    before = rows(ProgressEntry)
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive))
    assert rows(ProgressEntry) == before


def test_it_rolls_back_when_the_archive_does_not_match_its_manifest(media, tmp_path, english):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive), portable=True)
    # Tamper: claim one more entry than the data holds.
    bad = rewrite(archive, tmp_path / "bad.tar.gz", lambda manifest: {
        **manifest, "counts": {**manifest["counts"], "targets.progressentry": 5}})
    call_command("flush", interactive=False, verbosity=0)

    with pytest.raises(CommandError, match="targets.progressentry: 4 != 5"):
        call_command("restore", str(bad))
    assert not Target.objects.exists() and not Plan.objects.exists() and not Section.objects.exists()


def test_it_empties_the_database_again_when_a_pg_dump_does_not_match_its_manifest(postgres, media, tmp_path,
                                                                                   english):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive))
    bad = rewrite(archive, tmp_path / "bad.tar.gz", lambda manifest: {
        **manifest, "counts": {**manifest["counts"], "targets.progressentry": 5}})
    call_command("flush", interactive=False, verbosity=0)
    try:
        with pytest.raises(CommandError, match="targets.progressentry: 4 != 5"):
            call_command("restore", str(bad))
        assert Target._meta.db_table not in connection.introspection.table_names()
    finally:
        if Target._meta.db_table not in connection.introspection.table_names():
            # The tables for the next tests: restoring the good backup is quicker than migrating from nothing.
            call_command("restore", str(archive))


def test_it_checks_a_pg_dump_before_dropping_anything(postgres, media, tmp_path, english):
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive))
    with tarfile.open(archive) as tar:
        manifest = tar.extractfile("manifest.json").read()
    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(broken, "w:gz") as tar:
        for name, content in (("manifest.json", manifest), ("database.dump", b"PGDMP cut short")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    policy = ReportingPolicy.objects.get_or_create(unit=None, target=None)[0]

    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("restore", str(broken))
    assert ReportingPolicy.objects.filter(pk=policy.pk).exists()


def test_it_restores_a_pg_dump_backup_into_postgresql_only(media, tmp_path, english):
    if connection.vendor == "postgresql":
        pytest.skip("this suite runs on PostgreSQL, where a pg_dump backup restores (tested above)")
    archive = tmp_path / "pg.tar.gz"
    manifest = {"format": "tracker-backup-pg_dump/1", "created": "2022-07-05T02:30:00+08:00",
                "migrations": [], "counts": {}}
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in (("manifest.json", json.dumps(manifest).encode()), ("database.dump", b"PGDMP")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    with pytest.raises(CommandError, match="restores into PostgreSQL only"):
        call_command("restore", str(archive))


def test_it_refuses_a_backup_made_by_a_newer_version(media, tmp_path, english):
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive), portable=True)
    newer = rewrite(archive, tmp_path / "newer.tar.gz", lambda manifest: {
        **manifest, "migrations": [*manifest["migrations"], ["targets", "9999_from_the_future"]]})
    call_command("flush", interactive=False, verbosity=0)
    with pytest.raises(CommandError, match="newer version.*targets.9999_from_the_future"):
        call_command("restore", str(newer))


def test_it_says_clearly_when_the_postgresql_programs_are_missing(tmp_path, monkeypatch, english):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(CommandError, match="pg_dump was not found.*postgresql-client"):
        pgdump.dump(tmp_path / "x.dump", {"NAME": "tracker"})
    with pytest.raises(CommandError, match="pg_restore was not found"):
        pgdump.restore(tmp_path / "x.dump", {"NAME": "tracker"})


def test_it_gives_pg_dump_the_django_connection_settings_and_the_password_in_the_environment(monkeypatch):
    calls = []

    def run(command, env, **kwargs):
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(pgdump.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(pgdump.subprocess, "run", run)
    settings_dict = {"NAME": "tracker", "USER": "tracker", "PASSWORD": "s3cret pass", "HOST": "db.internal",
                     "PORT": 6432, "OPTIONS": {"sslmode": "verify-full"}}

    pgdump.dump("/tmp/x.dump", settings_dict, snapshot="00000003-0000001B-1")
    pgdump.restore("/tmp/x.dump", settings_dict)

    (dump, dump_env), (restore, restore_env) = calls
    assert dump == ["/usr/bin/pg_dump", "--format=custom", "--compress=0", "--no-password", "--file=/tmp/x.dump",
                    "--snapshot=00000003-0000001B-1", "--dbname=tracker"]
    assert restore[0] == "/usr/bin/pg_restore" and restore[-2:] == ["--dbname=tracker", "/tmp/x.dump"]
    assert {"--single-transaction", "--exit-on-error", "--no-owner"} <= set(restore)
    for env in (dump_env, restore_env):
        assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGSSLMODE"]) == (
            "db.internal", "6432", "tracker", "s3cret pass", "verify-full")
    assert not any("s3cret" in argument for argument in dump + restore)


def test_it_refuses_files_that_are_not_backups(media, tmp_path, english):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file")
    with pytest.raises(CommandError, match="not a readable"):
        call_command("restore", str(junk))
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "missing.tar.gz"))


def test_it_refuses_archives_with_paths_outside_the_backup_layout(media, tmp_path, english):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        for name, content in (("manifest.json", json.dumps({"format": "tracker-backup/1"}).encode()),
                              ("../../etc/cron.d/x", b"boom")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    with pytest.raises(CommandError, match="Unexpected file"):
        call_command("restore", str(evil))


def test_it_keeps_only_the_newest_archives(media, tmp_path):
    out = tmp_path / "backups"
    out.mkdir()
    for stamp in ("20220101-020000", "20220102-020000", "20220103-020000"):
        (out / f"tracker-backup-{stamp}.tar.gz").write_bytes(b"old")
    call_command("backup", output_dir=str(out), keep=2)
    left = sorted(p.name for p in out.iterdir())
    assert len(left) == 2
    assert left[0] == "tracker-backup-20220103-020000.tar.gz"
    assert tarfile.is_tarfile(out / left[1])


def test_it_explains_errors_in_chinese_by_default_and_in_english(media, tmp_path):
    translation.deactivate()  # as in a fresh manage.py process, whatever an earlier test left active
    missing = tmp_path / "missing.tar.gz"
    with pytest.raises(CommandError, match=f"^{missing} 处没有备份文件。$"):
        call_command("restore", str(missing))
    with translation.override("en"), pytest.raises(CommandError, match=f"^No backup file at {missing}.$"):
        call_command("restore", str(missing))
