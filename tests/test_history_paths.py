"""Every write path to targets and entries leaves a history row (who, when, old -> new),
and no code writes audited rows behind the history's back."""

import ast
import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from tests.factories import make_entry, make_target, make_unit, make_user
from tests.import_helpers import csv_bytes
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.imports.service import run_import
from tracker.services import review
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry

ROOT = Path(__file__).resolve().parent.parent
Role = Membership.Role
State = ProgressEntry.State


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def world(db):
    unit = make_unit("qiaocheng", parent=make_unit("city"))
    w = type("World", (), {})()
    w.unit = unit
    w.clerk = make_user("clerk_q", unit=unit, role=Role.CLERK)
    w.reviewer = make_user("reviewer_q", unit=unit, role=Role.REVIEWER)
    w.target = make_target(lead_unit=unit, code="Q-1")
    return w


def history(obj):
    return list(Change.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).order_by("pk"))


def test_it_records_the_entry_service_with_old_and_new_values(world):
    entry = make_entry(world.target, 3, Decimal("5"))
    result = save_entries(world.clerk, [EntryRow(world.target, 2022, 3, {"value": Decimal("7.5")})], "entry screen",
                          today=datetime.date(2022, 4, 3))
    assert result.ok
    (change,) = history(entry)
    assert (change.action, change.user, change.source) == (Change.Action.UPDATE, world.clerk, "entry screen")
    assert change.changes["value"] == ["5", "7.5"]
    assert change.unit_id == world.unit.pk and change.at is not None


def test_it_records_an_import_from_a_file(world):
    report = run_import(world.clerk, csv_bytes([["Q-1", "2022-03", "9", "", "导入"]]),
                        today=datetime.date(2022, 4, 3))
    assert report.ok, report.problems
    entry = ProgressEntry.objects.get()
    (change,) = history(entry)
    assert (change.action, change.user, change.source) == (Change.Action.CREATE, world.clerk, "import")
    assert change.changes["value"] == [None, "9"] and change.changes["note"] == [None, "导入"]


def test_it_records_the_import_command(world, tmp_path):
    make_entry(world.target, 3, Decimal("1"))
    path = tmp_path / "progress.csv"
    path.write_bytes(csv_bytes([["Q-1", "2022-03", "4", "", ""]]))
    call_command("import_progress", str(path), "--user", "clerk_q", stdout=io.StringIO())
    (change,) = history(ProgressEntry.objects.get())
    assert (change.user, change.source, change.changes["value"]) == (world.clerk, "import", ["1", "4"])


def test_it_records_every_review_transition_with_the_reason(world):
    entry = make_entry(world.target, 3, Decimal("5"))
    review.submit(world.clerk, entry)
    review.transition(world.reviewer, entry, "return", "请补充说明")
    review.submit(world.clerk, entry)
    review.approve(world.reviewer, entry, "同意")
    review.reopen(world.reviewer, entry, "数据修订")
    rows = [(c.action, c.user.username, c.changes["state"], c.reason) for c in history(entry)]
    assert rows == [
        ("transition", "clerk_q", ["draft", "submitted"], ""),
        ("transition", "reviewer_q", ["submitted", "returned"], "请补充说明"),
        ("transition", "clerk_q", ["returned", "submitted"], ""),
        ("transition", "reviewer_q", ["submitted", "approved"], "同意"),
        ("transition", "reviewer_q", ["approved", "returned"], "数据修订"),
    ]


# --- no write behind the history's back ----------------------------------------------------------

AUDITED = re.compile(r"\b(ProgressEntry|Target|MonthlyPlanPoint)\b|\b(entries|targets|plan_points)\b")
BULK = {"bulk_update", "bulk_create", "delete"}
RECORDERS = {"record", "record_many"}


def audited_writes():
    """(file:line, function, receiver, method) for each write on an audited queryset in the app code."""
    found = []
    for path in sorted((ROOT / "tracker").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            calls = [n for n in ast.walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
            records = any(c.func.attr in RECORDERS for c in calls)
            for call in calls:
                receiver = ast.unparse(call.func.value)
                if call.func.attr in BULK | {"update"} and AUDITED.search(receiver):
                    where = f"{path.relative_to(ROOT)}:{call.lineno}"
                    found.append((where, func.name, receiver, call.func.attr, records))
    return found


def test_it_finds_no_bare_update_on_audited_models():
    # The one exception: the entry service's per-batch bookkeeping UPDATE, whose rows it records itself.
    bare = [w for w in audited_writes() if w[3] == "update"
            and not (w[0].startswith("tracker/services/entries.py") and w[1] == "_save" and w[4])]
    assert bare == [], "QuerySet.update() skips the history; save through the service instead"


def test_it_records_history_wherever_audited_rows_are_written_in_bulk():
    writes = audited_writes()
    assert any(w[1] == "_save" for w in writes)  # the scan does see the entry service
    assert [w for w in writes if not w[4]] == []


# --- every path through the web, seen on the history pages ---------------------------------------

def test_it_shows_every_write_path_on_the_entry_and_target_history_pages(client, world):
    from django.urls import reverse

    from tests.test_admin import admin_form_data

    boss = make_user("boss", unit=world.unit.parent, role=Role.ADMIN)
    # Admin form: an administrator renames the target.
    client.force_login(boss)
    target_url = reverse("admin:targets_target_change", args=[world.target.pk])
    response = client.post(target_url, admin_form_data(client.get(target_url), name="新增规上工业企业"))
    assert response.status_code == 302
    # Admin form: the clerk adds March's entry.
    client.force_login(world.clerk)
    response = client.post(reverse("admin:targets_progressentry_add"),
                           {"target": world.target.pk, "year": "2022", "month": "3", "value": "5"})
    assert response.status_code == 302
    entry = ProgressEntry.objects.get()
    # Monthly entry screen: the clerk corrects it and submits.
    screen = reverse("admin:targets_progressentry_entry", args=["qiaocheng", "2022-03"])
    response = client.post(screen, {f"t{world.target.pk}-value": "6", f"t{world.target.pk}-version": entry.version,
                                    "_submit": "1"})
    assert response.status_code == 302
    # Admin action: the reviewer approves from the list; review page: reopens with a reason.
    client.force_login(world.reviewer)
    client.post(reverse("admin:targets_progressentry_changelist"),
                {"action": "approve_selected", "_selected_action": [entry.pk]})
    client.post(reverse("admin:targets_progressentry_review", args=[entry.pk]),
                {"action": "reopen", "comment": "统计局修订"})
    # Import: the clerk uploads a corrected figure (the import command is tested above).
    assert run_import(world.clerk, csv_bytes([["Q-1", "2022-03", "7", "", ""]]),
                      today=datetime.date(2022, 4, 3)).ok

    client.force_login(world.clerk)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:targets_progressentry_history", args=[entry.pk]))
    rows = [(c.source, c.action, c.user.username, c.reason) for c in reversed(page.context["action_list"])]
    assert rows == [
        ("admin", "create", "clerk_q", ""),
        ("entry_screen", "update", "clerk_q", ""),
        ("entry_screen", "transition", "clerk_q", ""),
        ("admin action", "transition", "reviewer_q", ""),
        ("admin", "transition", "reviewer_q", "统计局修订"),
        ("import", "update", "clerk_q", ""),
    ]
    html = page.content.decode()
    assert "Year-to-date value: 5 → 6" in html and "Year-to-date value: 6 → 7" in html
    assert "monthly entry screen" in html and "admin list action" in html

    client.force_login(boss)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:targets_target_history", args=[world.target.pk]))
    (change,) = [c for c in page.context["action_list"] if c.action == "update"]
    assert change.user == boss and change.changes["name"][1] == "新增规上工业企业"


def test_it_records_the_entries_deleted_with_their_target(client, world):
    from django.urls import reverse

    boss = make_user("boss", unit=world.unit.parent, role=Role.ADMIN)
    entries = [make_entry(world.target, m, Decimal(m)) for m in (2, 3)]
    client.force_login(boss)
    response = client.post(reverse("admin:targets_target_delete", args=[world.target.pk]), {"post": "yes"})
    assert response.status_code == 302
    deleted = Change.objects.filter(action=Change.Action.DELETE)
    assert {(c.model, c.object_id) for c in deleted} == {("targets.target", str(world.target.pk))} | {
        ("targets.progressentry", str(e.pk)) for e in entries}
    assert all(c.user == boss and c.unit_id == world.unit.pk for c in deleted)


@pytest.mark.parametrize("n", [2, 30])
def test_it_shows_the_history_list_in_a_fixed_number_of_queries(client, world, django_assert_max_num_queries, n):
    from django.urls import reverse

    for month in range(1, n + 1):
        save_entries(world.clerk, [EntryRow(world.target, 2022, 1 + month % 12, {"note": f"第{month}次"})],
                     "entry_screen", today=datetime.date(2022, 12, 31))
    client.force_login(world.clerk)
    with django_assert_max_num_queries(15):
        client.cookies["django_language"] = "en"
        page = client.get(reverse("admin:audit_change_changelist"))
    assert page.context["cl"].result_count == n
    assert "Progress (进展情况): — → 第1次" in page.content.decode()
