"""Importing the registers from the bureaus' lists: encodings, their column names, all or nothing, row errors,
duplicates by credit code, versions, history, template."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tests.factories import make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.imports import registers as service
from tracker.imports.models import RegisterImport
from tracker.registers.creditcode import check_character
from tracker.registers.models import Firm, Listing, Project

pytestmark = pytest.mark.django_db
Role = Membership.Role


def code(n):
    first = f"91341621MA2{n:06d}"[:17]
    return first + check_character(first)


HEADER = ("企业名称,统一社会信用代码,所属县区,行业代码,企业规模,联系人,联系电话,入规培育库,预计入规月份,入规月份,"
          "专精特新,认定年份\n")


def firm_csv(*rows, header=HEADER):
    return (header + "".join(",".join(r) + "\n" for r in rows))


@pytest.fixture
def world():
    w = type("World", (), {})()
    w.city = make_unit("city", name="亳州市经信局")
    w.county = make_unit("guoyang", name="涡阳县", parent=w.city, kind="county")
    w.other = make_unit("lixin", name="利辛县", parent=w.city, kind="county")
    w.clerk = make_user("gy_clerk", unit=w.county, role=Role.CLERK)
    return w


def test_it_imports_firms_from_a_gb18030_list_with_the_bureaus_column_names(world):
    data = firm_csv(
        ["涡阳示例酒业有限公司", code(1), "涡阳县", "C15", "小型", "张三", "0558-1", "培育中", "2022年9月", "", "", ""],
        ["涡阳示例药业有限公司", code(2).lower(), "guoyang", "医药制造业", "中型", "", "", "已入规", "", "2022-03",
         "省级", "2021"]).encode("gb18030")
    report, _rows = service.run_import(world.clerk, data, "firms", dry_run=False)
    assert report.ok, report.problems
    assert report.created == 2
    firm = Firm.objects.get(credit_code=code(2))
    assert firm.industry.code == "27" and firm.size == "medium" and firm.unit == world.county
    assert Listing.objects.get(firm=firm, kind="cultivation").entered_month == "2022-03"
    assert Listing.objects.get(firm=firm, kind="specialised").level == "province"
    assert Listing.objects.get(firm__credit_code=code(1)).expected_month == "2022-09"
    assert Change.objects.filter(source="import", unit_id=world.county.pk).count() == 5


def test_it_writes_nothing_when_one_row_is_wrong_and_says_which_and_why(world):
    bad = code(3)[:17] + ("0" if code(3)[17] != "0" else "1")
    data = firm_csv(["好企业", code(1), "涡阳县", "", "", "", "", "", "", "", "", ""],
                    ["坏代码", bad, "涡阳县", "", "", "", "", "", "", "", "", ""],
                    ["别县", code(4), "利辛县", "", "", "", "", "", "", "", "", ""],
                    ["重复", code(1), "涡阳县", "", "", "", "", "", "", "", "", ""],
                    ["已入规无月份", code(5), "涡阳县", "", "", "", "", "已入规", "", "", "", ""]).encode("utf-8-sig")
    report, _rows = service.run_import(world.clerk, data, "firms", dry_run=False)
    assert not report.ok and not Firm.objects.exists()
    lines = {p.line for p in report.problems}
    assert lines == {3, 4, 5, 6}
    messages = " ".join(p.message for p in report.problems)
    assert "check character" in messages or "校验" in messages


def test_it_matches_firms_by_credit_code_and_refuses_a_row_changed_since_the_preview(client, world):
    Firm.objects.create(name="旧名", credit_code=code(1), unit=world.county)
    client.force_login(world.clerk)
    upload = io.BytesIO(firm_csv(["新名", code(1), "涡阳县", "", "", "", "", "", "", "", "", ""]).encode())
    upload.name = "firms.csv"
    response = client.post(reverse("imports:register_upload"), {"kind": "firms", "file": upload})
    batch = RegisterImport.objects.get()
    assert response.status_code == 302 and batch.rows[0]["outcome"] == "changed"
    Firm.objects.filter(credit_code=code(1)).update(name="同事改的", version=2)
    client.post(reverse("imports:register_confirm", args=[batch.pk]))
    assert Firm.objects.get().name == "同事改的"
    client.post(reverse("imports:register_refresh", args=[batch.pk]))
    client.post(reverse("imports:register_confirm", args=[batch.pk]))
    firm = Firm.objects.get()
    assert firm.name == "新名" and firm.version == 3
    assert RegisterImport.objects.get().status == "applied"


def test_it_imports_projects_from_xlsx_with_dates_and_stages(world):
    Firm.objects.create(name="业主", credit_code=code(9), unit=world.county)
    book = Workbook()
    sheet = book.active
    sheet.append(["项目名称", "所属县区", "项目单位统一社会信用代码", "建设性质", "总投资（亿元）", "省技改项目库",
                  "项目阶段", "签约时间", "开工时间", "计划投产时间"])

    sheet.append(["示例技改项目", "涡阳县", code(9), "技改", 2.5, "是", "开工", datetime.datetime(2022, 2, 1),
                  "2022/3/5", "2022年10月"])
    sheet.append(["示例新建项目", "涡阳县", "", "新建", "0.8", "否", "签约", "2022-04-01", "", ""])
    out = io.BytesIO()
    book.save(out)
    report, _rows = service.run_import(world.clerk, out.getvalue(), "projects", dry_run=False)
    assert report.ok, report.problems
    project = Project.objects.get(name="示例技改项目")
    assert project.kind == "renovation" and project.in_province_list and project.stage == "started"
    assert project.started_on == datetime.date(2022, 3, 5) and project.planned_production == "2022-10"
    again, _rows = service.run_import(world.clerk, out.getvalue(), "projects", dry_run=False)
    assert again.unchanged == 2 and again.created == 0


def test_it_refuses_a_file_in_another_encoding_or_without_the_columns(world):
    report, _rows = service.run_import(world.clerk, "企业名称,代码\n甲,1\n".encode(), "firms")
    assert not report.ok and report.problems[0].line == 1
    assert "credit code" in report.problems[0].message or "统一社会信用代码" in report.problems[0].message
    report, _rows = service.run_import(world.clerk, HEADER.encode("utf-16"), "firms")
    assert not report.ok and report.problems[0].line is None


def test_it_offers_a_template_whose_header_imports(client, world):
    client.force_login(world.clerk)
    for kind in ("firms", "projects"):
        response = client.get(reverse("imports:register_template"), {"kind": kind})
        assert response.status_code == 200
        header = [c.value for c in next(load_workbook(io.BytesIO(response.content)).active.iter_rows())]
        rows = service.read_rows(response.content, kind)
        assert rows == [] and len(header) == len(service.COLUMNS[kind])


def test_it_keeps_another_clerks_batches_out_of_reach(client, world):
    other = make_user("lx_clerk", unit=world.other, role=Role.CLERK)
    batch = RegisterImport.objects.create(user=other, kind="firms", file_name="x.csv", sha256="0" * 64)
    client.force_login(world.clerk)
    assert client.get(reverse("imports:register_batch", args=[batch.pk])).status_code == 404
    assert client.post(reverse("imports:register_confirm", args=[batch.pk])).status_code == 404
