"""QA: garbage uploads (a PNG renamed .csv, an empty file, UTF-16, a fake .xlsx, limits, Shift-JIS) and a refused
confirm give a clear message in the user's language, with no raw keys, and write nothing."""

import base64
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import make_target, make_unit, make_user
from tracker.imports.models import ImportBatch
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture
def clerk_client(client):
    unit = make_unit("qiaocheng", name="谯城区")
    make_target(code="QC-1", lead_unit=unit)
    client.force_login(make_user("clerk", unit=unit))
    return client


def preview(client, name, data):
    response = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("name, data, message", [
    ("picture.csv", PNG, "这不是 CSV 或 XLSX 文件。"),
    ("u16.csv", "target,period,value\r\n".encode("utf-16"), "文件以 UTF-16 编码保存，不受支持。"),
    ("fake.xlsx", b"PK\x03\x04garbage", "整个文件"),
])
def test_it_names_the_whole_file_as_the_place_of_a_file_problem_in_chinese(clerk_client, name, data, message):
    page = preview(clerk_client, name, data)
    assert message in page
    assert "<td>整个文件</td>" in page
    assert "<td>file</td>" not in page
    assert not ImportBatch.objects.get().can_confirm
    assert not ProgressEntry.objects.exists()


def test_it_refuses_an_empty_file_on_the_form(clerk_client):
    response = clerk_client.post(reverse("imports:upload"), {"file": SimpleUploadedFile("empty.csv", b"")})
    assert response.status_code == 200
    assert "所提交的是空文件。" in response.content.decode()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("data", [b"target,period,value,comparator,note\r\n",
                                  b"target,period,value,comparator,note\r\nQC-1,2022-03,,,\r\n"])
def test_it_says_so_when_a_file_has_no_filled_in_rows(clerk_client, data):
    page = preview(clerk_client, "empty-rows.csv", data)
    assert "文件中没有已填写的数据行，没有可导入的内容。" in page
    assert "确认导入" not in page
    assert not ProgressEntry.objects.exists()


def test_it_does_not_say_there_are_no_rows_when_there_are(clerk_client):
    page = preview(clerk_client, "one.csv", b"target,period,value,comparator,note\r\nQC-1,2022-03,5,,\r\n")
    assert 'id="no-rows"' not in page
    assert "确认导入" in page


def test_a_refused_confirm_names_the_colleagues_figure_in_chinese(clerk_client):
    target = Target.objects.get(code="QC-1")
    entry = ProgressEntry.objects.create(target=target, year=2022, month=3, value=Decimal("5"))
    response = clerk_client.post(reverse("imports:upload"), {
        "file": SimpleUploadedFile("p.csv", b"target,period,value,comparator,note\r\nQC-1,2022-03,777,,\r\n")})
    batch = ImportBatch.objects.get()
    colleague = make_user("colleague", unit=target.lead_unit)
    row = EntryRow(target, 2022, 3, {"value": Decimal("888")}, entry.version, confirmed=True)
    assert save_entries(colleague, [row], "x").ok
    page = clerk_client.post(reverse("imports:confirm", args=[batch.pk]), follow=True).content.decode()
    assert response.status_code == 302
    assert "未写入任何数据：在您预览之后，有 1 个数据已被他人修改（见问题列表）。" in page
    assert "QC-1 已被 colleague 修改（现为 888）；请刷新后重试。" in page
    assert 'value="刷新预览"' in page
    assert ProgressEntry.objects.get().value == Decimal("888")


@pytest.mark.parametrize("data, message", [
    (b"target,period,value,comparator,note" + b",x" * 60 + b"\r\n", "表头超过 50 列。请删除导入不需要的列。"),
    (b'target,period,value,comparator,note\r\nQC-1,2022-03,1,,"open\r\n',
     "第 2 行（文件第 2 行）：引号（&quot;）不成对"),
    ("target,period,value,comparator,note\r\nQC-1,2022-03,1,,今月の進捗は計画どおりです\r\n".encode("cp932"),
     "该文件看起来是 Shift-JIS 编码的文本，而不是简体中文（GB18030）"),
])
def test_limits_and_encodings_are_explained_in_chinese(clerk_client, data, message):
    page = preview(clerk_client, "bad.csv", data)
    assert message in page
    assert not ProgressEntry.objects.exists()
