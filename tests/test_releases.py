"""The provincial release in one go: the indicator grid and the release table import (CSV/XLSX, GB18030 or
UTF-8, names as printed), with the figure import's preview, all-or-nothing, version check and history."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from tests.factories import make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.releases.models import ReleaseBatch
from tracker.releases.service import run_release_import
from tracker.services.series import SeriesRow, save_series
from tracker.targets.models import Indicator, PublishedRank, Region, SeriesValue, Unit

pytestmark = pytest.mark.django_db
Role = Membership.Role
TODAY = datetime.date(2022, 10, 25)

RELEASE = [
    "2022年1-9月全省各市主要工业指标",
    "地区,规上工业增加值增速(%),位次,工业投资增速(%),位次,皖北位次",
    "全省,5.8,,0.2,,",
    "亳州市,6.2,,1.8,9,",
    "宿州,7.1,2,3.0,3,1",
]


@pytest.fixture
def world():
    call_command("loaddata", "bozhou_2022", verbosity=0)
    SeriesValue.objects.filter(year=2022, month=9).delete()  # the release itself brings them in these tests
    w = type("World", (), {})()
    top = Unit.objects.get(code="bozhou-jxj")  # the bureau issuing the plan its counties lead parts of
    w.admin = make_user("boss", unit=top, role=Role.ADMIN)
    w.reviewer = make_user("rev", unit=top, role=Role.REVIEWER)
    return w


def csv_bytes(lines, encoding="utf-8"):
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def values():
    return {(v.region.code, v.indicator.code): v.value for v in SeriesValue.objects.filter(year=2022, month=9)
            .select_related("region", "indicator")}


def ranks():
    return {(r.value.region.code, r.value.indicator.code, r.group.code): r.rank
            for r in PublishedRank.objects.filter(value__year=2022, value__month=9).select_related(
                "value__region", "value__indicator", "group")}


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-8-sig"])
def test_it_imports_the_release_as_published_with_both_spellings_of_a_name(world, encoding):
    report = run_release_import(world.admin, csv_bytes(RELEASE, encoding), 2022, 9, dry_run=False, today=TODAY)
    assert report.ok, report.problems
    assert values() == {("anhui", "gyzjz"): D("5.8"), ("anhui", "gytz"): D("0.2"), ("bozhou", "gyzjz"): D("6.2"),
                        ("bozhou", "gytz"): D("1.8"), ("suzhou-ah", "gyzjz"): D("7.1"),
                        ("suzhou-ah", "gytz"): D("3.0")}
    assert ranks() == {("bozhou", "gytz", "anhui-cities"): 9, ("suzhou-ah", "gyzjz", "anhui-cities"): 2,
                       ("suzhou-ah", "gytz", "anhui-cities"): 3, ("suzhou-ah", "gytz", "wanbei"): 1}
    assert Change.objects.filter(model="targets.seriesvalue", source="release import").count() == 6
    again = run_release_import(world.admin, csv_bytes(RELEASE, encoding), 2022, 9, dry_run=False, today=TODAY)
    assert {r["outcome"] for r in again.rows} == {"unchanged"}
    assert Change.objects.filter(model="targets.seriesvalue").count() == 6


def test_it_reads_a_two_row_heading_in_xlsx():
    call_command("loaddata", "bozhou_2022", verbosity=0)
    SeriesValue.objects.filter(year=2022, month=9).delete()
    admin = make_user("boss", unit=Unit.objects.get(code="bozhou-jxj"), role=Role.ADMIN)
    book = Workbook()
    sheet = book.active
    sheet.append(["2022年1—9月各市技改投资"])
    sheet.append(["地区", "技改投资", None, "制造业投资", None])
    sheet.append([None, "增速", "位次", "增速", "位次"])
    sheet.append(["亳州", 14.8, "第3位", 11.0, 2])
    sheet.append(["安徽省", -8.9, None, None, None])
    out = io.BytesIO()
    book.save(out)
    report = run_release_import(admin, out.getvalue(), 2022, 9, dry_run=False, today=TODAY)
    assert report.ok, report.problems
    assert values() == {("bozhou", "jgtz"): D("14.8"), ("bozhou", "zzytz"): D("11.0"), ("anhui", "jgtz"): D("-8.9")}
    assert ranks() == {("bozhou", "jgtz", "anhui-cities"): 3, ("bozhou", "zzytz", "anhui-cities"): 2}


def test_a_bad_file_writes_nothing_and_names_each_problem(world):
    lines = RELEASE[:3] + ["亳州市,6.2,,abc,9,", "香港,1,,1,,", "宿州,7.1,20,3.0,3,1"]
    report = run_release_import(world.admin, csv_bytes(lines), 2022, 9, dry_run=False, today=TODAY)
    assert not report.ok and values() == {}
    messages = {(p.line, p.letter): p.message for p in report.problems}
    assert "abc" in messages[(4, "D")]
    assert "香港" in messages[(5, "A")]
    assert "20" in messages[(6, "B")]  # 20th of 16 cities
    wrong_month = run_release_import(world.admin, csv_bytes(RELEASE), 2022, 6, today=TODAY)
    assert "2022-09" in wrong_month.problems[0].message
    no_heading = run_release_import(world.admin, csv_bytes(["a,b", "1,2"]), 2022, 9, today=TODAY)
    assert "地区" in no_heading.problems[0].message
    utf16 = run_release_import(world.admin, "\n".join(RELEASE).encode("utf-16"), 2022, 9, today=TODAY)
    assert "UTF-16" in utf16.problems[0].message
    unknown = run_release_import(world.admin, csv_bytes(["地区,不存在的指标", "亳州,1"]), 2022, 9, today=TODAY)
    assert "不存在的指标" in unknown.problems[0].message


def upload(client, data, name="release.csv", period="2022-09"):
    return client.post(reverse("releases:upload"), {"period": period, "file": SimpleUploadedFile(name, data)})


def test_preview_confirm_and_a_value_changed_meanwhile(client, world, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    client.force_login(world.admin)
    response = upload(client, csv_bytes(RELEASE))
    batch = ReleaseBatch.objects.get()
    assert response["Location"] == reverse("releases:batch", args=[batch.pk])
    assert values() == {}  # a preview writes nothing
    page = client.get(response["Location"]).content.decode()
    assert "亳州市" in page and 'class="outcome-created">新增' in page, ReleaseBatch.objects.get().problems
    # Someone types the province's 工业投资 into the grid after the preview: the confirm refuses the whole file.
    anhui, investment = Region.objects.get(code="anhui"), Indicator.objects.get(code="gytz")
    assert save_series(world.reviewer if False else world.admin, [SeriesRow(investment, anhui, 2022, 9, D("0.3"))],
                       "test", today=TODAY).ok
    client.post(reverse("releases:confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "previewed" and batch.problems
    assert values() == {("anhui", "gytz"): D("0.3")}
    client.post(reverse("releases:refresh", args=[batch.pk]))
    client.post(reverse("releases:confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "applied"
    assert values()[("anhui", "gytz")] == D("0.2") and len(values()) == 6


def test_only_those_allowed_write_while_every_staff_member_reads_the_grid(client, world):
    call_command("loaddata", "bozhou_2022", verbosity=0)  # the 1–9月 figures again
    clerk = make_user("clerk", unit=make_unit("low", parent=Unit.objects.get(code="bozhou-jxj")), role=Role.CLERK)
    client.force_login(clerk)
    grid = reverse("releases:grid", args=[2022, 9])
    page = client.get(grid)
    assert page.status_code == 200 and "1.8" in page.content.decode() and "<input class=\"value\"" not in (
        page.content.decode())
    assert client.post(grid, {}).status_code == 403
    assert client.get(reverse("releases:upload")).status_code == 403
    client.force_login(world.admin)
    assert client.get(reverse("releases:upload")).status_code == 200
    other = ReleaseBatch.objects.create(user=world.admin, file_name="x.csv", sha256="0" * 64, size=1, year=2022,
                                        month=9)
    client.force_login(world.reviewer)
    assert client.get(reverse("releases:batch", args=[other.pk])).status_code == 404
    assert client.get(reverse("releases:grid", args=[2022, 13])).status_code == 400
    client.logout()
    assert client.get(grid).status_code == 302


def test_the_grid_saves_all_cells_or_none_and_refuses_a_stale_version(client, world, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    client.force_login(world.admin)
    anhui, bozhou = Region.objects.get(code="anhui"), Region.objects.get(code="bozhou")
    investment = Indicator.objects.get(code="gytz")
    grid = reverse("releases:grid", args=[2022, 9])
    key, city_key = f"{investment.pk}_{anhui.pk}", f"{investment.pk}_{bozhou.pk}"
    page = client.get(grid).content.decode()
    assert f'name="v_{key}"' in page and f'name="r_{city_key}_' in page
    group_id = PublishedRank._meta.get_field("group").related_model.objects.get(code="anhui-cities").pk
    form = {f"v_{key}": "0.2", f"shown_{key}": "", f"ver_{key}": "0",
            f"v_{city_key}": "1.8", f"shown_{city_key}": "", f"ver_{city_key}": "0",
            f"r_{city_key}_{group_id}": "9", f"shown_r_{city_key}_{group_id}": ""}
    assert client.post(grid, form).status_code == 302
    assert values() == {("anhui", "gytz"): D("0.2"), ("bozhou", "gytz"): D("1.8")}
    assert ranks() == {("bozhou", "gytz", "anhui-cities"): 9}
    # A second form opened before that save (version 0) is refused as a whole, with the other person named.
    stale = {**form, f"v_{key}": "0.5", f"v_{city_key}": "bad"}
    response = client.post(grid, stale)
    assert response.status_code == 200 and "不是数字" in response.content.decode()
    stale[f"v_{city_key}"] = "1.9"
    response = client.post(grid, stale)
    assert response.status_code == 200 and "boss" in response.content.decode()
    assert values() == {("anhui", "gytz"): D("0.2"), ("bozhou", "gytz"): D("1.8")}


def test_the_grid_runs_the_same_queries_for_a_few_or_many_cells(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tracker.targets.models import PeerGroup

    admin = make_user("boss", unit=make_unit("top"), role=Role.ADMIN)
    client.force_login(admin)
    group = PeerGroup.objects.create(code="all", name="全省")

    def add(regions, indicators):
        start = Region.objects.count()
        made = [Region.objects.create(code=f"r{start + n}", name=f"地区{start + n}") for n in range(regions)]
        group.members.add(*made)
        for _n in range(indicators):
            Indicator.objects.create(code=f"i{Indicator.objects.count()}", name=f"指标{Indicator.objects.count()}")
        for indicator in Indicator.objects.all():
            for region in Region.objects.all():
                SeriesValue.objects.get_or_create(indicator=indicator, region=region, year=2022, month=9,
                                                  defaults={"value": D(region.pk % 7)})

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("releases:grid", args=[2022, 9])).status_code == 200
        return len(ctx.captured_queries)

    add(2, 2)
    few = count()
    add(14, 20)
    assert count() == few
