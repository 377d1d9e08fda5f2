"""Evidence files: uploaded through the admin entry form, served only to those who may see the entry."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.targets.models import ProgressEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def change_url(entry):
    return reverse("admin:targets_progressentry_change", args=[entry.pk])


def post_with_file(client, entry, upload):
    return client.post(change_url(entry), {
        "value": "12", "comparator": "", "note": "附佐证材料", "problems": "", "done_on": "",
        "base_version": entry.version, "evidence": upload,
    })


def test_it_stores_an_uploaded_evidence_file_and_serves_it_to_the_unit(client):
    unit = make_unit()
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("10"))
    clerk = make_user(unit=unit)
    client.force_login(clerk)
    response = post_with_file(client, entry, SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4 demo", "application/pdf"))
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = ProgressEntry.objects.get()
    assert entry.value == 12 and entry.evidence.name.startswith("evidence/")
    download = client.get(entry.evidence.url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 demo"


def test_it_hides_evidence_from_another_unit_and_from_anonymous_users(client):
    unit = make_unit()
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("10"))
    client.force_login(make_user(unit=unit))
    post_with_file(client, entry, SimpleUploadedFile("a.pdf", b"secret", "application/pdf"))
    url = ProgressEntry.objects.get().evidence.url
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(make_user(unit=make_unit()))
    assert client.get(url).status_code == 404


def test_it_refuses_an_unaccepted_file_type_and_saves_nothing(client):
    unit = make_unit()
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("10"))
    client.force_login(make_user(unit=unit))
    response = post_with_file(client, entry, SimpleUploadedFile("run.exe", b"MZ", "application/octet-stream"))
    assert response.status_code == 200
    assert "不接受“exe”类型的文件" in response.content.decode()
    entry.refresh_from_db()
    assert entry.value == 10 and not entry.evidence


def test_it_stores_one_copy_of_an_upload(client, settings):
    unit = make_unit()
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("10"))
    client.force_login(make_user(unit=unit))
    post_with_file(client, entry, SimpleUploadedFile("纪要.pdf", b"%PDF", "application/pdf"))
    stored = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert len(stored) == 1


def test_it_stores_one_copy_of_an_upload_with_a_new_entry(client, settings):
    unit = make_unit()
    target = make_target(lead_unit=unit)
    client.force_login(make_user(unit=unit))
    response = client.post(reverse("admin:targets_progressentry_add"), {
        "target": target.pk, "year": 2022, "month": 4, "value": "3", "comparator": "", "note": "", "problems": "",
        "done_on": "", "evidence": SimpleUploadedFile("照片.jpg", b"JPEG", "image/jpeg"),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ProgressEntry.objects.get(month=4).evidence.name.endswith(".jpg")
    assert len([p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]) == 1
