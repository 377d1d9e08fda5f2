"""Plans over the years: owned by an issuing unit, several a year, the lifecycle, and copying 2022 into 2023."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts import scoping
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.services import plans as lifecycle
from tracker.services import review
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import MonthlyPlanPoint, Plan, ProgressEntry, ReportingPolicy, SeriesValue, Target

pytestmark = pytest.mark.django_db
Role = Membership.Role
AFTER_2022 = datetime.date(2023, 2, 1)


@pytest.fixture
def bozhou():
    call_command("loaddata", "bozhou_2022", verbosity=0)
    return Plan.objects.get(year=2022)


@pytest.fixture
def admin_user(bozhou):
    return make_user("plan_admin", unit=bozhou.unit, role=Role.ADMIN)


def enter(user, code, year, month, today=AFTER_2022, **values):
    target = Target.objects.get(code=code)
    result = save_entries(user, [EntryRow(target, year, month, values, confirmed=True)], "test", today=today)
    assert result.ok, result.errors


def snapshot_of(plan):
    targets = Target.objects.filter(plan=plan).order_by("pk")
    return (list(targets.values()), list(plan.sections.order_by("pk").values()),
            list(MonthlyPlanPoint.objects.filter(target__plan=plan).order_by("pk").values()),
            list(ProgressEntry.objects.filter(target__plan=plan).order_by("pk").values()))


# --- point 1: owned and many --------------------------------------------------------------------------------

def test_it_gives_the_fixture_plan_its_issuing_unit_and_keeps_it_published(bozhou):
    assert bozhou.unit.code == "bozhou-jxj"
    assert bozhou.status == Plan.Status.PUBLISHED


def test_it_lets_several_plans_share_a_year_and_reuse_codes_in_each(bozhou):
    special = Plan.objects.create(year=2022, title="2022年专项行动方案", unit=bozhou.unit)
    section = make_section(special, 1)
    make_target(plan=special, section=section, code="BZ22-1-04", lead_unit=bozhou.unit)
    assert Target.objects.filter(code="BZ22-1-04").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        make_target(plan=special, section=section, code="BZ22-1-04", lead_unit=bozhou.unit)


def test_it_resolves_a_code_by_the_year_of_its_plan():
    unit = make_unit("bureau")
    old, new = make_plan(2022, unit=unit), make_plan(2023, unit=unit)
    t22 = make_target(plan=old, code="T01", lead_unit=unit)
    t23 = make_target(plan=new, code="T01", lead_unit=unit)
    found = scoping.targets_by_code(None, {("T01", 2022), ("T01", 2023)})
    assert found == {("T01", 2022): [t22], ("T01", 2023): [t23]}


# --- point 2: lifecycle --------------------------------------------------------------------------------------

def test_it_hides_a_draft_from_clerks_reports_and_the_entry_screen(client):
    unit = make_unit("bureau")
    draft = make_plan(2023, unit=unit, status=Plan.Status.DRAFT)
    target = make_target(plan=draft, section=make_section(draft), lead_unit=unit, code="D-1")
    clerk = make_user("clerk", unit=unit, role=Role.CLERK)
    boss = make_user("boss", unit=unit, role=Role.ADMIN)
    assert not scoping.visible_targets(clerk).exists() and not scoping.visible_plans(clerk).exists()
    assert list(scoping.visible_targets(boss)) == [target]
    client.force_login(clerk)
    assert "D-1" not in client.get(reverse("reports:report", args=["2023", "01"])).content.decode()
    screen = client.get(reverse("admin:targets_progressentry_entry", args=["bureau", "2023-01"]))
    assert "D-1" not in screen.content.decode()
    assert client.get(reverse("reports:target", args=["D-1"])).status_code == 404
    result = save_entries(boss, [EntryRow(target, 2023, 1, {"value": Decimal("1")})], "test",
                          today=datetime.date(2023, 2, 1))
    assert not result.ok and result.errors[0].field == "target"


def test_it_closes_only_after_the_last_deadline_and_then_refuses_figures(bozhou, admin_user):
    enter(admin_user, "BZ22-1-05", 2022, 11, value=Decimal("70"))
    with pytest.raises(lifecycle.PlanError, match="2023-01"):
        lifecycle.close(admin_user, bozhou, today=datetime.date(2022, 12, 30))
    lifecycle.close(admin_user, bozhou, today=AFTER_2022)
    bozhou.refresh_from_db()
    assert bozhou.status == Plan.Status.CLOSED
    target = Target.objects.get(code="BZ22-1-05")
    result = save_entries(admin_user, [EntryRow(target, 2022, 12, {"value": Decimal("81")})], "test",
                          today=AFTER_2022)
    assert not result.ok and result.errors[0].field == "target"
    entry = ProgressEntry.objects.get(target=target, month=11)
    assert review.refusal(admin_user, entry, "submit") == result.errors[0].message


def test_it_reopens_a_closed_plan_only_with_a_reason_kept_in_history(bozhou, admin_user):
    lifecycle.close(admin_user, bozhou, today=AFTER_2022)
    with pytest.raises(lifecycle.PlanError):
        lifecycle.reopen(admin_user, bozhou, "  ")
    lifecycle.reopen(admin_user, bozhou, "统计局修订12月数据")
    bozhou.refresh_from_db()
    assert bozhou.status == Plan.Status.PUBLISHED
    change = Change.objects.filter(model="targets.plan", object_id=str(bozhou.pk)).first()
    assert change.reason == "统计局修订12月数据" and change.changes["status"] == ["closed", "published"]
    enter(admin_user, "BZ22-1-05", 2022, 12, value=Decimal("82"))


def test_it_runs_each_step_from_the_command_line(bozhou, admin_user):
    out = io.StringIO()
    call_command("close_plan", "2022", "--user", "plan_admin", stdout=out)
    assert Plan.objects.get(pk=bozhou.pk).status == Plan.Status.CLOSED
    with pytest.raises(CommandError, match="理由"):
        call_command("reopen_plan", "2022", "--reason", " ", stdout=out)
    call_command("reopen_plan", "2022", "--reason", "更正", stdout=out)
    assert Plan.objects.get(pk=bozhou.pk).status == Plan.Status.PUBLISHED
    with pytest.raises(CommandError, match="已发布"):
        call_command("publish_plan", "2022", stdout=out)


def test_it_asks_which_plan_when_several_share_the_year(bozhou):
    Plan.objects.create(year=2022, title="专项行动", unit=bozhou.unit)
    with pytest.raises(CommandError, match="--plan-id"):
        call_command("copy_plan", "2022", "2023", "--dry-run", stdout=io.StringIO())


def test_it_publishes_closes_and_reopens_from_the_admin(client, bozhou, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:targets_plan_changelist")
    Plan.objects.filter(pk=bozhou.pk).update(status=Plan.Status.DRAFT)
    client.post(url, {"action": "publish_plans", ACTION_CHECKBOX_NAME: [bozhou.pk], "index": 0})
    assert Plan.objects.get(pk=bozhou.pk).status == Plan.Status.PUBLISHED
    Plan.objects.filter(pk=bozhou.pk).update(status=Plan.Status.CLOSED)
    page = client.post(url, {"action": "reopen_plans", ACTION_CHECKBOX_NAME: [bozhou.pk], "index": 0})
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assert Plan.objects.get(pk=bozhou.pk).status == Plan.Status.CLOSED
    client.post(url, {"action": "reopen_plans", ACTION_CHECKBOX_NAME: [bozhou.pk], "confirm": "1", "reason": "补录"})
    assert Plan.objects.get(pk=bozhou.pk).status == Plan.Status.PUBLISHED


def test_it_starts_a_plan_made_in_the_admin_as_a_draft(client, bozhou, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:targets_plan_add"), {
        "year": 2024, "title": "2024年工作要点", "unit": bozhou.unit.pk, "ratio_at_risk": "0.9",
        "ratio_off_track": "0.7", "points_at_risk": "0", "points_off_track": "2", "growth_jump_points": "10",
        "sections-TOTAL_FORMS": 0, "sections-INITIAL_FORMS": 0})
    assert response.status_code == 302
    assert Plan.objects.get(year=2024).status == Plan.Status.DRAFT


# --- point 3: copy 2022 → 2023 on the real fixture ----------------------------------------------------------

def test_it_renumbers_codes_by_the_documented_rule():
    assert lifecycle.renumber("BZ22-1-04", 2022, 2023) == "BZ23-1-04"
    assert lifecycle.renumber("2022-T01", 2022, 2023) == "2023-T01"
    assert lifecycle.renumber("DEMO-1-05-QC", 2022, 2023) == "DEMO-1-05-QC"
    assert lifecycle.renumber("BZ21-1-01", 2022, 2023) == "BZ21-1-01"


def test_it_copies_2022_into_a_2023_draft_with_baselines_codes_and_links(bozhou, admin_user):
    MonthlyPlanPoint.objects.create(target=Target.objects.get(code="BZ22-1-05"), month=6, value=Decimal("30"))
    ReportingPolicy.objects.create(target=Target.objects.get(code="BZ22-1-05"), due_working_day=8)
    # BZ22-1-04 follows the indicator series: the province's figures are kept there, not on the entries.
    province = Target.objects.get(code="BZ22-1-04").comparator_region
    for month, value in ((11, "7.5"), (12, "7.6")):
        SeriesValue.objects.create(indicator=Target.objects.get(code="BZ22-1-04").series_indicator, region=province,
                                   year=2022, month=month, value=Decimal(value))
    enter(admin_user, "BZ22-1-04", 2022, 11, value=Decimal("8.2"))
    enter(admin_user, "BZ22-1-04", 2022, 12, value=Decimal("8.4"))
    enter(admin_user, "BZ22-2-03", 2022, 9, value=Decimal("1.8"))  # no December figure: the latest stands
    before = snapshot_of(bozhou)
    lifecycle.close(admin_user, bozhou, today=AFTER_2022)

    new = lifecycle.CopyPlan(Plan.objects.get(pk=bozhou.pk), 2023).write(admin_user)

    assert (new.year, new.status, new.unit_id) == (2023, Plan.Status.DRAFT, bozhou.unit_id)
    assert new.title == "亳州市经济和信息化局2023年工作要点"
    assert new.sections.count() == bozhou.sections.count() == 5
    assert new.targets.count() == bozhou.targets.filter(is_active=True).count()
    t = Target.objects.get(plan=new, code="BZ23-1-04")
    assert t.continues.code == "BZ22-1-04"
    assert (t.baseline_value, t.baseline_period) == (Decimal("8.4"), "2022年1—12月")  # was 9.6 (2021年1~11月)
    latest = Target.objects.get(plan=new, code="BZ23-2-03")
    assert (latest.baseline_value, latest.baseline_period) == (Decimal("1.8"), "2022年1—9月")
    untouched = Target.objects.get(plan=new, code="BZ23-2-04")  # no 2022 figure entered
    assert latest.section.plan_id == new.pk and untouched.baseline_value is None
    firms = Target.objects.get(plan=new, code="BZ23-1-05")
    assert list(firms.plan_points.values_list("month", "value")) == [(6, Decimal("30"))]
    assert firms.reporting_policy.due_working_day == 8
    milestone = Target.objects.filter(plan=new, kind=Target.Kind.MILESTONE).first()
    assert milestone.deadline == milestone.continues.deadline.replace(year=2023)
    assert not ProgressEntry.objects.filter(target__plan=new).exists()
    # The source is untouched (its status aside, which the close changed).
    assert snapshot_of(bozhou) == before
    assert Plan.objects.get(pk=bozhou.pk).status == Plan.Status.CLOSED


def test_it_previews_a_copy_without_writing_anything(bozhou):
    counts = (Plan.objects.count(), Target.objects.count(), Change.objects.count())
    out = io.StringIO()
    call_command("copy_plan", "2022", "2023", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "BZ22-1-04 -> BZ23-1-04" in text and "dry run: nothing written" in text
    assert (Plan.objects.count(), Target.objects.count(), Change.objects.count()) == counts
    call_command("copy_plan", "2022", "2023", stdout=io.StringIO())
    assert Plan.objects.filter(year=2023, status=Plan.Status.DRAFT).count() == 1
    with pytest.raises(CommandError, match="已有计划"):
        call_command("copy_plan", "2022", "2023", stdout=io.StringIO())


def test_it_copies_from_the_admin_only_after_the_preview_is_confirmed(client, bozhou, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:targets_plan_changelist")
    form = {"action": "copy_to_next_year", ACTION_CHECKBOX_NAME: [bozhou.pk]}
    preview = client.post(url, {**form, "index": 0})
    assert preview.status_code == 200
    assert "BZ23-1-04" in preview.content.decode() and not Plan.objects.filter(year=2023).exists()
    again = client.post(url, {**form, "confirm": "1", "refresh": "1", "to_year": "2024"})
    assert "BZ24-1-04" in again.content.decode() and not Plan.objects.filter(year=2024).exists()
    done = client.post(url, {**form, "confirm": "1", "to_year": "2023"})
    new = Plan.objects.get(year=2023)
    assert done.status_code == 302 and done["Location"] == reverse("admin:targets_plan_change", args=[new.pk])
    assert new.targets.filter(code="BZ23-1-04", continues__code="BZ22-1-04").exists()


# --- point 4: year over year ---------------------------------------------------------------------------------

@pytest.fixture
def two_years(bozhou, admin_user):
    enter(admin_user, "BZ22-2-03", 2022, 5, value=Decimal("6.8"))
    enter(admin_user, "BZ22-2-03", 2022, 12, value=Decimal("7.9"))
    lifecycle.close(admin_user, bozhou, today=AFTER_2022)
    new = lifecycle.CopyPlan(Plan.objects.get(pk=bozhou.pk)).write(admin_user)
    lifecycle.publish(admin_user, new)
    enter(admin_user, "BZ23-2-03", 2023, 5, today=datetime.date(2023, 6, 20), value=Decimal("8.1"))
    return new


def test_it_shows_last_years_figure_for_the_same_months_in_rows_json_and_api(client, two_years, admin_user):
    from tracker.reports.exports import to_json
    from tracker.reports.report import build_rows, report_targets

    rows = {r["code"]: r for r in build_rows(report_targets(admin_user, 2023), 2023, 5,
                                             today=datetime.date(2023, 6, 20))}
    assert (rows["BZ23-2-03"]["last_year"], rows["BZ23-2-03"]["last_year_period"]) == (Decimal("6.8"), "2022年1—5月")
    assert rows["BZ23-2-04"]["last_year"] is None  # continues a target with no 2022 figure
    data = {r["code"]: r for r in __import__("json").loads(to_json(list(rows.values()), 2023, 5))}
    assert data["BZ23-2-03"]["last_year"] == 6.8 and data["BZ23-2-03"]["last_year_period"] == "2022年1—5月"
    from tests.api_helpers import client_for, token_for
    _, key = token_for(admin_user)
    api = client_for(key).get("/api/reports/?period=2023-05").json()
    found = [r for r in api["results"] if r["code"] == "BZ23-2-03"][0]
    assert Decimal(found["last_year"]) == Decimal("6.8") and found["last_year_period"] == "2022年1—5月"


def test_last_years_figure_in_correction_shows_as_last_approved_and_a_returned_one_not_at_all(two_years, admin_user):
    from django.utils import timezone

    from tracker.reports.report import build_rows, report_targets

    def last_year():
        rows = build_rows(report_targets(admin_user, 2023), 2023, 5, today=datetime.date(2023, 6, 20))
        return next(r for r in rows if r["code"] == "BZ23-2-03")["last_year"]

    old = ProgressEntry.objects.filter(target__code="BZ22-2-03", year=2022, month=5)
    # Reopened for correction: the new figure is a draft; the one approved before still counts.
    old.update(state=ProgressEntry.State.DRAFT, value=Decimal("9.9"), approved_value=Decimal("6.8"),
               approved_at=timezone.now())
    assert last_year() == Decimal("6.8")
    # Returned and never approved: judged wrong, so not shown as last year's figure.
    old.update(state=ProgressEntry.State.RETURNED, approved_at=None)
    assert last_year() is None


def test_it_hides_the_last_year_column_until_asked_and_exports_it_then(client, two_years, admin_user):
    client.force_login(admin_user)
    url = reverse("reports:report", args=["2023", "05"])
    hidden = client.get(url).content.decode()
    assert "sort=last_year" not in hidden and "显示去年同期数据" in hidden  # the column's header links to its sort
    shown = client.get(url, {"yoy": "1"}).content.decode()
    assert "sort=last_year" in shown and "6.8" in shown and "隐藏去年同期数据" in shown
    plain_csv = client.get(url, {"_export": "csv"}).content.decode("utf-8-sig")
    yoy_csv = client.get(url, {"_export": "csv", "yoy": "1"}).content.decode("utf-8-sig")
    plain_rows, yoy_rows = list(csv.reader(io.StringIO(plain_csv))), list(csv.reader(io.StringIO(yoy_csv)))
    assert len(yoy_rows[0]) == len(plain_rows[0]) + 1
    column = [i for i, header in enumerate(yoy_rows[0]) if header not in plain_rows[0]][0]
    row = [r for r in yoy_rows if r[0] == "BZ23-2-03"][0]
    assert row[column] == "6.8"


def test_it_draws_last_year_on_the_target_page(client, two_years, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("reports:target", args=["BZ23-2-03"]), {"period": "2023-05"}).content.decode()
    assert "last-year" in page  # the chart's second line
    assert "BZ22-2-03" in page and "6.8" in page and "8.1" in page
    old_plan = Plan.objects.get(year=2022)
    old = client.get(reverse("reports:target", args=["BZ22-2-03"]), {"plan": str(old_plan.pk), "period": "2022-12"})
    assert old.status_code == 200 and "7.9" in old.content.decode()
    wrong = client.get(reverse("reports:target", args=["BZ22-2-03"]), {"plan": str(two_years.pk)})
    assert wrong.status_code == 404


def test_it_shows_a_closed_plans_entry_screen_read_only(client, bozhou, admin_user):
    enter(admin_user, "BZ22-1-05", 2022, 11, value=Decimal("70"))
    client.force_login(admin_user)
    url = reverse("admin:targets_progressentry_entry", args=["bozhou-jxj", "2022-11"])
    assert 'name="' in client.get(url).content.decode() and "BZ22-1-05" in client.get(url).content.decode()
    open_inputs = client.get(url).content.decode().count("<input")
    lifecycle.close(admin_user, bozhou, today=AFTER_2022)
    page = client.get(url)
    assert page.status_code == 200 and "BZ22-1-05" in page.content.decode()
    assert page.content.decode().count("<input") < open_inputs
    assert client.post(url, {}).status_code == 403


def test_it_sends_no_reminder_and_serves_no_api_row_for_a_draft(client):
    from tests.api_helpers import client_for, token_for
    from tracker.reminders.planning import plan_emails

    unit = make_unit("bureau", email="bureau@example.com")
    draft = make_plan(2022, unit=unit, status=Plan.Status.DRAFT)
    make_target(plan=draft, section=make_section(draft), lead_unit=unit, code="D-1")
    clerk = make_user("clerk", unit=unit, role=Role.CLERK)
    assert [p for p in plan_emails(datetime.date(2022, 4, 12)) if "D-1" in p.targets] == []
    _, key = token_for(clerk)
    api = client_for(key)
    assert api.get("/api/targets/").json()["results"] == []
    assert api.get("/api/plans/").json()["results"] == []
    Plan.objects.filter(pk=draft.pk).update(status=Plan.Status.PUBLISHED)
    assert [p for p in plan_emails(datetime.date(2022, 4, 12)) if "D-1" in p.targets]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_existing_plan_the_top_unit_of_its_targets():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("targets", "0008_soft_checks_warnings_and_growth_jump")]
    after = [("targets", "0009_plans_owned_and_many")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Unit, Plan = old.get_model("targets", "Unit"), old.get_model("targets", "Plan")
    Section, Target = old.get_model("targets", "Section"), old.get_model("targets", "Target")
    bureau = Unit.objects.create(code="bureau", name="局")
    section_unit = Unit.objects.create(code="sec", name="科", parent=bureau)
    county = Unit.objects.create(code="county", name="县")
    plan = Plan.objects.create(year=2022, title="2022年工作要点")
    empty = Plan.objects.create(year=2021, title="2021年工作要点")
    section = Section.objects.create(plan=plan, number=1, name="一")
    for code, unit in (("A", bureau), ("B", section_unit), ("C", county)):
        Target.objects.create(plan=plan, section=section, code=code, name=code, kind="qualitative", lead_unit=unit)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("targets", "Plan")
    assert new.objects.get(pk=plan.pk).unit_id == bureau.pk  # two of three targets are the bureau's tree
    assert new.objects.get(pk=empty.pk).unit_id == bureau.pk  # no targets: the first top-level unit
    assert {p.status for p in new.objects.all()} == {"published"}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_it_refuses_an_import_of_a_drafts_target_as_unknown():
    from tracker.imports.service import run_import

    unit = make_unit("bureau")
    draft = make_plan(2022, unit=unit, status=Plan.Status.DRAFT)
    make_target(plan=draft, section=make_section(draft), lead_unit=unit, code="D-1")
    clerk = make_user("clerk", unit=unit, role=Role.CLERK)
    report = run_import(clerk, b"target,period,value,comparator,note\nD-1,2022-03,5,,\n",
                        today=datetime.date(2022, 4, 5))
    assert not report.ok and [p.column for p in report.problems] == ["target"]
    assert not ProgressEntry.objects.exists()
