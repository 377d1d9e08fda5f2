"""Backup and restore: a backup restored into an empty database holds every row and file."""

import datetime
import io
import json
import tarfile
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.ops import backup
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


def test_it_restores_every_row_and_file_into_an_empty_database(media, tmp_path):
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

    call_command("backup", output=str(archive))

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


def test_it_writes_a_manifest_with_counts_and_migrations(media, tmp_path):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive))
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


def test_it_refuses_to_restore_over_a_database_in_use(media, tmp_path, english):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive))
    before = ProgressEntry.objects.count()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive))
    assert ProgressEntry.objects.count() == before


def test_it_rolls_back_when_the_archive_does_not_match_its_manifest(media, tmp_path, english):
    populate()
    archive = tmp_path / "b.tar.gz"
    call_command("backup", output=str(archive))
    # Tamper: claim one more entry than the data holds.
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        data = tar.extractfile("data.jsonl").read()
    manifest["counts"]["targets.progressentry"] += 1
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        for name, content in (("manifest.json", json.dumps(manifest).encode()), ("data.jsonl", data)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    call_command("flush", interactive=False, verbosity=0)

    with pytest.raises(CommandError, match="targets.progressentry: 4 != 5"):
        call_command("restore", str(bad))
    assert not Target.objects.exists() and not Plan.objects.exists() and not Section.objects.exists()


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
    missing = tmp_path / "missing.tar.gz"
    with pytest.raises(CommandError, match=f"^{missing} 处没有备份文件。$"):
        call_command("restore", str(missing))
    with translation.override("en"), pytest.raises(CommandError, match=f"^No backup file at {missing}.$"):
        call_command("restore", str(missing))
