"""The access matrix: each role × own unit / other unit × every admin URL, the entry screen, history,
autocomplete, dropdown choices, admin actions, reports, dashboard, exports and imports.

Rules checked everywhere:
- another unit's object, by its URL, gives 403 or 404 (never data, never a redirect to it);
- no page or file shown to a clerk or reviewer of unit A mentions anything of unit B ("BRAVO");
- own objects open when the role's permissions allow it, 403 otherwise;
- leaders and administrators see both units.
"""

import io
import re
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts import scoping
from tracker.accounts.models import Membership, Profile
from tracker.audit.models import Change
from tracker.imports.models import ImportBatch
from tracker.registers.models import Coordination, Firm, Listing, Project, RegisterFigure
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import Plan, ProgressEntry, RecordedResult, ReportingPolicy

pytestmark = pytest.mark.django_db
Role = Membership.Role
State = ProgressEntry.State
SECRET = "BRAVO"  # every name of unit B's rows carries it
ROLES = ["clerk", "reviewer", "leader", "administrator"]
NARROW = {"clerk", "reviewer"}


class World:
    pass


@pytest.fixture
def world():
    w = World()
    w.plan = make_plan(2022)
    w.section = make_section(w.plan, 1, name="经济运行")
    w.city = make_unit("city", name="市经信局")
    w.a = make_unit("alpha", name="谯城区ALPHA", parent=w.city)
    w.b = make_unit("bravo", name=f"涡阳县{SECRET}", parent=w.city)
    w.users = {
        "clerk": make_user("alpha_clerk", unit=w.a, role=Role.CLERK),
        "reviewer": make_user("alpha_reviewer", unit=w.a, role=Role.REVIEWER),
        "leader": make_user("leader", unit=w.city, role=Role.LEADER),
        "administrator": make_user("boss", unit=w.city, role=Role.ADMIN),
    }
    w.clerk_b = make_user(f"{SECRET.lower()}_clerk", unit=w.b, role=Role.CLERK, first_name=SECRET)
    w.ta = make_target(code="ALPHA-1", name="谯城区新增规上企业ALPHA", plan=w.plan, section=w.section, lead_unit=w.a)
    w.tb = make_target(code=f"{SECRET}-1", name=f"涡阳县新增规上企业{SECRET}", plan=w.plan, section=w.section,
                       lead_unit=w.b)
    today = __import__("datetime").date(2022, 4, 3)
    assert save_entries(w.users["clerk"], [EntryRow(w.ta, 2022, 3, {"value": Decimal("7"), "note": "ALPHA进展"})],
                        "entry_screen", today=today).ok
    assert save_entries(w.clerk_b, [EntryRow(w.tb, 2022, 3, {"value": Decimal("9"), "note": f"{SECRET}进展"})],
                        "entry_screen", today=today).ok
    w.ea, w.eb = ProgressEntry.objects.get(target=w.ta), ProgressEntry.objects.get(target=w.tb)
    ProgressEntry.objects.filter(pk__in=[w.ea.pk, w.eb.pk]).update(state=State.SUBMITTED)  # test set-up only
    w.ca, w.cb = Change.objects.get(object_id=str(w.ea.pk)), Change.objects.get(object_id=str(w.eb.pk))
    w.ma, w.mb = w.users["clerk"].memberships.get(), w.clerk_b.memberships.get()
    w.pa = Profile.objects.create(user=w.users["clerk"])
    w.pb = Profile.objects.create(user=w.clerk_b, phone=SECRET)
    w.ra = Reminder.objects.create(user=w.users["clerk"], kind="overdue", period="2022-03", day=today,
                                   subject="ALPHA reminder")
    w.rb = Reminder.objects.create(user=w.clerk_b, kind="overdue", period="2022-03", day=today,
                                   subject=f"{SECRET} reminder")
    w.wa = Webhook.objects.create(user=w.users["clerk"], kind="wecom", name="ALPHA群",
                                  url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=alpha")
    w.wb = Webhook.objects.create(user=w.clerk_b, kind="dingtalk", name=f"{SECRET}群", secret=f"SEC{SECRET}",
                                  url=f"https://oapi.dingtalk.com/robot/send?access_token={SECRET}")
    w.da = WebhookDelivery.objects.create(reminder=w.ra, webhook=w.wa, title="ALPHA reminder")
    w.db = WebhookDelivery.objects.create(reminder=w.rb, webhook=w.wb, title=f"{SECRET} reminder")
    w.policy_a = ReportingPolicy.objects.create(unit=w.a)
    w.policy_b = ReportingPolicy.objects.create(unit=w.b)
    w.ba = ImportBatch.objects.create(user=w.users["clerk"], file_name="alpha.csv", sha256="a" * 64, size=1)
    w.bb = ImportBatch.objects.create(user=w.clerk_b, file_name=f"{SECRET}.csv", sha256="b" * 64, size=1)
    w.result = RecordedResult.objects.create(plan=w.plan, code="R-1", name="2021年规上企业", value=1, year=2021)
    w.failure = AccessAttempt.objects.create(username="someone", ip_address="10.0.0.1", failures_since_start=1)
    # The registers: each unit's firm, list membership, project, coordination item and register-backed target.
    w.firm_a = Firm.objects.create(name="ALPHA酒业", credit_code="914403001922038216", unit=w.a)
    w.firm_b = Firm.objects.create(name=f"{SECRET}药业", credit_code="91440300708461136T", unit=w.b)
    w.list_a, w.list_b = (Listing.objects.create(firm=f, kind="cultivation", joined_on=today, expected_month="2022-09")
                          for f in (w.firm_a, w.firm_b))
    w.project_a = Project.objects.create(name="ALPHA项目", unit=w.a, firm=w.firm_a, kind="new", total_investment=2,
                                         signed_on=today)
    w.project_b = Project.objects.create(name=f"{SECRET}项目", unit=w.b, firm=w.firm_b, kind="new",
                                         total_investment=2, signed_on=today, planned_start="2022-03")
    w.coord_a = Coordination.objects.create(project=w.project_a, raised_on=today, request="ALPHA用地")
    w.coord_b = Coordination.objects.create(project=w.project_b, raised_on=today, request=f"{SECRET}用地",
                                            handler=SECRET)
    w.figure_a = RegisterFigure.objects.create(target=w.ta, aggregation="entered", unit=w.a)
    w.figure_b = RegisterFigure.objects.create(target=w.tb, aggregation="entered", unit=w.b)
    return w


def unit_bound(w):
    """(A's object, B's object, owner): objects of unit A and unit B. Reminders, their robots and robot messages,
    and import batches belong to a person (A's clerk), not to the unit: for other roles they are someone else's."""
    return [
        (w.a, w.b, None), (w.ta, w.tb, None), (w.ea, w.eb, None), (w.ca, w.cb, None), (w.ma, w.mb, None),
        (w.pa, w.pb, None), (w.users["clerk"], w.clerk_b, None), (w.policy_a, w.policy_b, None),
        (w.ra, w.rb, "clerk"), (w.ba, w.bb, "clerk"), (w.wa, w.wb, "clerk"), (w.da, w.db, "clerk"),
        (w.firm_a, w.firm_b, None), (w.list_a, w.list_b, None), (w.project_a, w.project_b, None),
        (w.coord_a, w.coord_b, None), (w.figure_a, w.figure_b, None),
    ]


def shared(w):
    return [w.plan, w.section, w.result, w.failure, Group.objects.get(name="clerk")]


def admin_url(obj, kind):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{kind}", args=[obj.pk])


def object_kinds(obj):
    kinds = ["change", "history", "delete"]
    if isinstance(obj, ProgressEntry):
        kinds.append("review")
    return kinds


def allowed(user, obj, kind):
    """Whether the role's permissions (not the unit) allow this page, as the admin decides it."""
    model_admin = admin.site._registry[type(obj)]
    request = RequestFactory().get("/")
    request.user = user
    if kind == "delete":
        return model_admin.has_delete_permission(request, obj)
    return model_admin.has_view_or_change_permission(request, obj)


def visible(user, obj):
    """Whether the object is in the admin's list for this user (reminders: administrators and the owner)."""
    request = RequestFactory().get("/")
    request.user = user
    return admin.site._registry[type(obj)].get_queryset(request).filter(pk=obj.pk).exists()


def leaks(response):
    if response.get("Content-Type", "").startswith("text/"):
        return SECRET in response.content.decode() or SECRET.lower() in response.content.decode()
    return False


def check_objects(client, w, role):
    user = w.users[role]
    problems = []
    for own, other, owner in unit_bound(w):
        for kind in object_kinds(own):
            try:
                own_url, other_url = admin_url(own, kind), admin_url(other, kind)
            except NoReverseMatch:
                continue
            if owner in (None, role):
                response = client.get(own_url, follow=True)
                want = 200 if allowed(user, own, kind) else 403
                if response.status_code != want:
                    problems.append(f"{role} own {own_url}: {response.status_code}, wanted {want}")
            response = client.get(other_url, follow=True)
            if role in NARROW or (owner and not visible(user, other)):
                # A redirect is only acceptable when it ends in 403/404 (the import pages do that).
                if response.status_code not in (403, 404):
                    problems.append(f"{role} other {other_url}: {response.status_code} via {response.redirect_chain}")
                if leaks(response):
                    problems.append(f"{role} other {other_url}: shows {SECRET}")
            else:
                want = {200 if allowed(user, other, kind) else 403} if visible(user, other) else {403, 404}
                if response.status_code not in want:
                    problems.append(f"{role} {other_url}: {response.status_code}, wanted {want}")
    for obj in shared(w):
        url = admin_url(obj, "change")
        response = client.get(url)
        want = 200 if allowed(user, obj, "change") else 403
        if response.status_code != want:
            problems.append(f"{role} shared {url}: {response.status_code}, wanted {want}")
    return problems


def check_lists(client, w, role):
    problems = []
    request = RequestFactory().get("/")
    request.user = w.users[role]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for kind in ("changelist", "add"):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{kind}")
            response = client.get(url)
            if kind == "changelist":
                want = 200 if model_admin.has_view_or_change_permission(request) or model_admin.has_module_permission(
                    request) and model_admin.has_view_permission(request) else 403
            else:
                want = 200 if model_admin.has_add_permission(request) else 403
            if response.status_code != want:
                problems.append(f"{role} {url}: {response.status_code}, wanted {want}")
            if role in NARROW and response.status_code == 200 and leaks(response):
                problems.append(f"{role} {url}: shows {SECRET}")
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_it_applies_the_matrix_to_every_admin_url(client, world, role):
    client.force_login(world.users[role])
    problems = check_objects(client, world, role) + check_lists(client, world, role)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_it_lists_only_the_roles_rows(client, world, role):
    client.force_login(world.users[role])
    wanted_codes = {"ALPHA-1"} if role in NARROW else {"ALPHA-1", f"{SECRET}-1"}
    targets = client.get(reverse("admin:targets_target_changelist"))
    assert {t.code for t in targets.context["cl"].result_list} == wanted_codes
    entries = client.get(reverse("admin:targets_progressentry_changelist"))
    assert {e.target.code for e in entries.context["cl"].result_list} == wanted_codes
    history = client.get(reverse("admin:audit_change_changelist"))
    units = {c.unit_id for c in history.context["cl"].result_list if c.unit_id}
    assert units == ({world.a.pk} if role in NARROW else {world.a.pk, world.b.pk})


@pytest.mark.parametrize("role", ["clerk", "reviewer"])
def test_it_offers_only_own_targets_in_dropdowns_autocomplete_and_filters(client, world, role):
    client.force_login(world.users[role])
    add = client.get(reverse("admin:targets_progressentry_add"))
    assert list(add.context["adminform"].form.fields["target"].queryset) == [world.ta]
    auto = client.get(reverse("admin:autocomplete"), {
        "app_label": "targets", "model_name": "progressentry", "field_name": "target", "term": ""})
    assert auto.status_code == 200
    assert [r["id"] for r in auto.json()["results"]] == [str(world.ta.pk)]
    searched = client.get(reverse("admin:autocomplete"), {
        "app_label": "targets", "model_name": "progressentry", "field_name": "target", "term": SECRET})
    assert searched.json()["results"] == []
    listing = client.get(reverse("admin:targets_progressentry_changelist"))
    assert not leaks(listing)


def test_it_gives_administrators_every_units_choices(client, world):
    client.force_login(world.users["administrator"])
    add = client.get(reverse("admin:targets_target_add"))
    assert set(add.context["adminform"].form.fields["lead_unit"].queryset) == {world.city, world.a, world.b}


@pytest.mark.parametrize("role,action", [
    ("clerk", "submit_selected"), ("clerk", "delete_selected"), ("reviewer", "approve_selected"),
    ("reviewer", "submit_selected"), ("leader", "approve_selected"), ("leader", "delete_selected"),
])
def test_it_lets_no_admin_action_touch_another_units_rows(client, world, role, action):
    client.force_login(world.users[role])
    client.post(reverse("admin:targets_progressentry_changelist"),
                {"action": action, "_selected_action": [world.eb.pk], "post": "yes"})
    world.eb.refresh_from_db()
    assert world.eb.state == State.SUBMITTED
    assert not Change.objects.filter(object_id=str(world.eb.pk), action__in=["transition", "delete"]).exists()


@pytest.mark.parametrize("role", ROLES)
def test_it_opens_the_entry_screen_only_for_the_roles_units(client, world, role):
    client.force_login(world.users[role])
    own = client.get(reverse("admin:targets_progressentry_entry", args=["alpha", "2022-03"]))
    other = client.get(reverse("admin:targets_progressentry_entry", args=["bravo", "2022-03"]))
    assert own.status_code == 200
    if role in NARROW:
        assert other.status_code in (403, 404) and not leaks(other)
    else:
        assert other.status_code == 200 and SECRET in other.content.decode()
    posted = client.post(reverse("admin:targets_progressentry_entry", args=["bravo", "2022-03"]),
                         {f"t{world.tb.pk}-value": "100", f"t{world.tb.pk}-version": str(world.eb.version)})
    world.eb.refresh_from_db()
    if role != "administrator":
        assert posted.status_code in (403, 404)
        assert world.eb.value == Decimal("9")


REPORT_URLS = [
    ("reports:dashboard", [], {"period": "2022-03"}),
    ("reports:index", [], {}),
    ("reports:report", ["2022", "03"], {}),
    ("reports:report", ["2022", "03"], {"_export": "csv"}),
    ("reports:report", ["2022", "03"], {"_export": "xlsx"}),
    ("reports:report", ["2022", "03"], {"_export": "docx"}),
    ("reports:completeness", ["2022", "03"], {}),
]


def file_text(response):
    """The readable text of a page or an exported file."""
    kind = response.get("Content-Type", "")
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data))
        return " ".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value)
    if "wordprocessingml" in kind:
        from docx import Document

        doc = Document(io.BytesIO(data))
        cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
        return " ".join([p.text for p in doc.paragraphs] + cells)
    return data.decode("utf-8-sig")


@pytest.mark.parametrize("role", ROLES)
def test_it_limits_reports_dashboard_and_exports_to_the_roles_units(client, world, role):
    client.force_login(world.users[role])
    for name, args, params in REPORT_URLS:
        response = client.get(reverse(name, args=args), params, follow=True)
        assert response.status_code == 200, (name, params)
        text = file_text(response)
        if name == "reports:index":
            continue
        assert "ALPHA" in text, (name, params)
        assert (SECRET in text) == (role not in NARROW), (name, params)
    own = client.get(reverse("reports:target", args=["ALPHA-1"]))
    other = client.get(reverse("reports:target", args=[f"{SECRET}-1"]))
    assert own.status_code == 200
    assert other.status_code == (404 if role in NARROW else 200)


def test_it_sends_anonymous_visitors_to_the_login_page(client, world):
    for url in [reverse("admin:targets_target_changelist"), admin_url(world.ea, "change"),
                admin_url(world.ea, "review"), reverse("reports:dashboard"),
                reverse("reports:report", args=["2022", "03"]) + "?_export=csv", reverse("imports:upload")]:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url


@pytest.mark.parametrize("role", ROLES)
def test_it_keeps_imports_to_the_roles_units(client, world, role):
    client.force_login(world.users[role])
    assert client.get(reverse("imports:upload")).status_code == 200
    template = client.get(reverse("imports:template"), {"unit": world.b.pk, "period": "2022-03"})
    if role in NARROW:
        assert template.status_code == 200 and "html" in template["Content-Type"]  # the form again, no file
        assert not leaks(template)
    other_batch = client.get(reverse("imports:batch", args=[world.bb.pk]))
    confirm = client.post(reverse("imports:confirm", args=[world.bb.pk]))
    if role in NARROW:
        assert other_batch.status_code == 404 and confirm.status_code == 404
    else:
        assert other_batch.status_code == 200


def test_it_names_no_other_units_rows_in_the_history_list_for_a_clerk(client, world):
    client.force_login(world.users["clerk"])
    page = client.get(reverse("admin:audit_change_changelist"))
    assert not leaks(page)
    assert re.search(r"ALPHA-1 2022", page.content.decode())


# --- two organisations in one installation -------------------------------------------------------------------
# Two cities' bureaus issue their own 2022 plans (both use the code "T-1"), under a province whose reader sees
# both. Nothing of the second organisation ("FOXTROT") reaches the first one's clerk, reviewer or leader, in any
# list, page, export, import, API answer or history; the province's leader sees both, with counts per organisation.
OTHER = "FOXTROT"
ORG_ROLES = ["clerk", "reviewer", "leader", "administrator"]


@pytest.fixture
def orgs():
    w = World()
    w.province = make_unit("province", name="安徽省经信厅")
    w.x = make_unit("xcity", name="亳州市经信局", parent=w.province)
    w.y = make_unit("ycity", name=f"阜阳市经信局{OTHER}", parent=w.province)
    w.y_county = make_unit("ycounty", name=f"临泉县{OTHER}")  # a county outside Y's tree, leading Y's sub-target
    w.px = make_plan(2022, unit=w.x, title="亳州2022年工作要点")
    from tracker.targets.models import Plan

    w.py = Plan.objects.create(year=2022, unit=w.y, title=f"阜阳2022年工作要点{OTHER}")
    w.tx = make_target(code="T-1", name="亳州新增规上企业", plan=w.px, section=make_section(w.px, 1), lead_unit=w.x)
    sy = make_section(w.py, 1, name=f"经济运行{OTHER}")
    w.ty = make_target(code="T-1", name=f"阜阳新增规上企业{OTHER}", plan=w.py, section=sy, lead_unit=w.y)
    w.ty_county = make_target(code="T-1-LQ", name=f"临泉新增规上企业{OTHER}", plan=w.py, section=sy,
                              lead_unit=w.y_county, parent=w.ty)
    w.users = {
        "clerk": make_user("x_clerk", unit=w.x, role=Role.CLERK),
        "reviewer": make_user("x_reviewer", unit=w.x, role=Role.REVIEWER),
        "leader": make_user("x_leader", unit=w.x, role=Role.LEADER),
        "administrator": make_user("x_admin", unit=w.x, role=Role.ADMIN),
    }
    w.y_clerk = make_user("y_clerk", unit=w.y, role=Role.CLERK, first_name=OTHER)
    w.y_admin = make_user("y_admin", unit=w.y, role=Role.ADMIN, first_name=OTHER)
    w.province_leader = make_user("province_leader", unit=w.province, role=Role.LEADER)
    today = __import__("datetime").date(2022, 4, 3)
    assert save_entries(w.users["clerk"], [EntryRow(w.tx, 2022, 3, {"value": Decimal("7"), "note": "亳州进展"})],
                        "entry_screen", today=today).ok
    assert save_entries(w.y_clerk, [EntryRow(w.ty, 2022, 3, {"value": Decimal("9"), "note": f"{OTHER}进展"})],
                        "entry_screen", today=today).ok
    w.ey = ProgressEntry.objects.get(target=w.ty)
    ReportingPolicy.objects.create(target=w.ty, due_working_day=7)
    RecordedResult.objects.create(plan=w.py, code="R-1", name=f"2021年{OTHER}", value=1, year=2021)
    w.y_batch = ImportBatch.objects.create(user=w.y_clerk, file_name=f"{OTHER}.csv", sha256="c" * 64, size=1)
    # What only an administrator would see of the other organisation: its draft plan, its people's reminders and
    # robots, its unit's robot and reporting policy, its memberships and profiles.
    w.y_draft = Plan.objects.create(year=2023, unit=w.y, title=f"阜阳2023年工作要点{OTHER}", status=Plan.Status.DRAFT)
    w.x_draft = Plan.objects.create(year=2023, unit=w.x, title="亳州2023年工作要点（草稿）", status=Plan.Status.DRAFT)
    w.y_reminder = Reminder.objects.create(user=w.y_clerk, kind="overdue", period="2022-03", day=today,
                                           subject=f"{OTHER} reminder")
    w.y_robot = Webhook.objects.create(unit=w.y, kind="wecom", name=f"{OTHER}群",
                                       url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=y")
    w.y_delivery = WebhookDelivery.objects.create(reminder=w.y_reminder, webhook=w.y_robot, title=f"{OTHER} robot")
    w.y_policy = ReportingPolicy.objects.create(unit=w.y, due_working_day=9)
    w.y_profile = Profile.objects.create(user=w.y_clerk, phone=OTHER)
    return w


def shows_other(response):
    return OTHER in file_text(response) if response.status_code == 200 else False


ORG_PAGES = REPORT_URLS + [
    ("reports:organisations", [], {"period": "2022-03"}),
    ("reports:report", ["2022", "03"], {"_export": "csv", "yoy": "1"}),
]


ORG_API = ["/api/plans/", "/api/sections/", "/api/targets/", "/api/entries/", "/api/units/",
           "/api/reports/?period=2022-03", "/api/completeness/?period=2022-03", "/api/indicators/", "/api/regions/",
           "/api/peer-groups/", "/api/series/?year=2022"]


def other_in_lists(client, who):
    problems = []
    for model in admin.site._registry:
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if shows_other(response):
            problems.append(f"{who} sees {OTHER} in the {opts.label} list")
    return problems


def other_in_api_and_objects(client, who, paths, objects):
    problems = []
    for path in paths:
        response = client.get(path)
        if response.status_code == 200 and OTHER in response.content.decode():
            problems.append(f"{who} sees {OTHER} at {path}")
    for obj in objects:
        for kind in ("change", "history"):
            response = client.get(admin_url(obj, kind), follow=True)
            if response.status_code not in (403, 404) or shows_other(response):
                problems.append(f"{who} opens {admin_url(obj, kind)}: {response.status_code}")
    return problems


@pytest.mark.parametrize("role", ORG_ROLES)
def test_it_keeps_each_organisations_lists_pages_and_exports_apart(client, orgs, role):
    user = orgs.users[role]
    client.force_login(user)
    problems = other_in_lists(client, role)
    for name, args, params in ORG_PAGES:
        response = client.get(reverse(name, args=args), params, follow=True)
        assert response.status_code == 200, (name, params)
        if OTHER in file_text(response):
            problems.append(f"{role} sees {OTHER} on {name} {params}")
    problems += other_in_api_and_objects(client, role, ORG_API, (
        orgs.py, orgs.ty, orgs.ey, orgs.y, orgs.y_draft, orgs.y_clerk, orgs.y_admin, orgs.y_clerk.memberships.get(),
        orgs.y_reminder, orgs.y_robot, orgs.y_delivery, orgs.y_policy, orgs.y_profile))
    entry_screen = client.get(reverse("admin:targets_progressentry_entry", args=["ycity", "2022-03"]))
    if entry_screen.status_code not in (403, 404):
        problems.append(f"{role} opens the other organisation's entry screen")
    assert not problems, "\n".join(problems)
    # Both plans use the code T-1: each organisation's page is its own target.
    page = client.get(reverse("reports:target", args=["T-1"]))
    assert page.status_code == 200 and "亳州新增规上企业" in page.content.decode()
    assert client.get(reverse("reports:target", args=["T-1"]), {"plan": orgs.py.pk}).status_code == 404


def test_an_organisations_administrator_administers_only_their_organisation(client, orgs):
    """An administrator's role covers their own unit's tree: its plans (drafts too), targets, people, reminders and
    robots, and nothing of the other organisation, whose rows are neither listed, offered, opened nor written."""
    from tracker.setup.admin.people import StaffUserAdmin

    admin_x = orgs.users["administrator"]
    client.force_login(admin_x)
    plans = client.get(reverse("admin:targets_plan_changelist")).context["cl"].result_list
    assert set(plans) == {orgs.px, orgs.x_draft}
    # Dropdowns of every form: only X's plans, units and people.
    target_form = client.get(reverse("admin:targets_target_add")).context["adminform"].form
    assert set(target_form.fields["plan"].queryset) == {orgs.px, orgs.x_draft}
    assert OTHER not in " ".join(str(u) for u in target_form.fields["lead_unit"].queryset)
    membership_form = client.get(reverse("admin:accounts_membership_add")).context["adminform"].form
    assert set(membership_form.fields["unit"].queryset) == {orgs.x}
    assert orgs.y_clerk not in membership_form.fields["user"].queryset
    unit_form = client.get(reverse("admin:targets_unit_add")).context["adminform"].form
    assert set(unit_form.fields["parent"].queryset) == {orgs.x} and unit_form.fields["parent"].required
    plan_form = client.get(reverse("admin:targets_plan_add")).context["adminform"].form
    assert set(plan_form.fields["unit"].queryset) == {orgs.x} and plan_form.fields["unit"].required
    for model, field in [("progressentry", "target"), ("registerfigure", "target")]:
        app = "registers" if model == "registerfigure" else "targets"
        found = client.get(reverse("admin:autocomplete"), {
            "app_label": app, "model_name": model, "field_name": field, "term": OTHER})
        assert found.status_code == 200 and found.json()["results"] == [], model
    # The people: X's staff, never Y's nor a superuser, in the list and in the user admin's own queryset.
    root = make_user("root", is_superuser=True)
    request = RequestFactory().get("/")
    request.user = admin_x
    people = set(StaffUserAdmin(type(admin_x), admin.site).get_queryset(request).values_list("username", flat=True))
    assert people == {"x_clerk", "x_reviewer", "x_leader", "x_admin"}
    assert client.get(admin_url(root, "change")).status_code == 404
    assert client.get(reverse("admin:auth_user_password_change", args=[orgs.y_clerk.pk])).status_code == 404
    # Writing into the other organisation: a target in Y's plan, a role in Y's unit, publishing Y's draft.
    posted = client.post(reverse("admin:accounts_membership_add"),
                         {"user": orgs.users["clerk"].pk, "unit": orgs.y.pk, "role": "admin"})
    assert posted.status_code == 200 and not Membership.objects.filter(unit=orgs.y, role="admin",
                                                                       user=orgs.users["clerk"]).exists()
    client.post(reverse("admin:targets_plan_changelist"),
                {"action": "publish_plans", "_selected_action": [orgs.y_draft.pk, orgs.x_draft.pk]})
    orgs.y_draft.refresh_from_db()
    orgs.x_draft.refresh_from_db()
    assert orgs.y_draft.status == "draft" and orgs.x_draft.status == "published"
    # Y's administrator, in turn, sees nothing of X's draft and administers Y's people only.
    assert not scoping.visible_plans(orgs.y_admin).filter(pk=orgs.x_draft.pk).exists()
    assert set(scoping.administered_users(orgs.y_admin).values_list("username", flat=True)) == {"y_clerk",
                                                                                               "y_admin"}


def test_a_province_plans_rows_are_read_not_changed_by_a_citys_administrator(client, province_plan):
    from tracker.targets.models import Plan

    w = province_plan
    client.force_login(w.users["administrator"])
    page = client.get(admin_url(w.pt_x, "change"))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert client.post(admin_url(w.pt_x, "change"), {"code": "HIJACKED"}).status_code == 403
    assert client.get(admin_url(w.pp, "change")).context["has_change_permission"] is False
    client.post(reverse("admin:targets_target_changelist"),
                {"action": "delete_selected", "_selected_action": [w.pt_x.pk], "post": "yes"})
    client.post(reverse("admin:targets_plan_changelist"), {"action": "close_plans", "_selected_action": [w.pp.pk]})
    client.post(reverse("admin:targets_plan_changelist"), {
        "action": "copy_to_next_year", "_selected_action": [w.pp.pk], "confirm": "1", "to_year": "2023"})
    w.pt_x.refresh_from_db()
    w.pp.refresh_from_db()
    assert w.pt_x.code == "P-1-BZ" and w.pp.status == "published"
    assert not Plan.objects.filter(year=2023, unit=w.province).exists()


@pytest.mark.parametrize("who", ["city_admin", "whole_admin", "superuser", "granted"])
def test_shared_reference_data_is_changed_by_the_installation_not_one_organisation(client, orgs, who):
    """Regions, peer groups, indicators and the published values bind every organisation: a city's administrator
    reads them; a superuser, an administrator whose tree holds every unit, or one given the permission changes them."""
    from django.contrib.auth.models import Permission

    from tracker.targets.models import Region

    region = Region.objects.create(code="fy", name="阜阳", kind="city")
    user = {
        "city_admin": orgs.users["administrator"],
        "whole_admin": orgs.users["administrator"],
        "superuser": make_user("root", is_superuser=True),
        "granted": orgs.users["administrator"],
    }[who]
    if who == "whole_admin":
        orgs.y_county.parent = orgs.province
        orgs.y_county.save()
        Membership.objects.create(user=user, unit=orgs.province, role=Role.ADMIN)
    if who == "granted":
        user.user_permissions.add(Permission.objects.get(codename="change_region"))
    client.force_login(user)
    page = client.get(admin_url(region, "change"))
    assert page.status_code == 200
    writes = who != "city_admin"
    assert page.context["has_change_permission"] is writes
    assert scoping.can_edit_series(type(user).objects.get(pk=user.pk)) is (who != "granted" and writes)
    grid = client.post(reverse("releases:grid", args=[2022, 3]), {})
    assert grid.status_code in ((302, 200) if who in ("whole_admin", "superuser") else (403,))


def test_it_resolves_a_code_used_by_both_organisations_to_ones_own_on_import(orgs):
    from tracker.imports.service import run_import

    data = b"target,period,value,comparator,note\nT-1,2022-03,8,,\n"
    report = run_import(orgs.users["clerk"], data, today=__import__("datetime").date(2022, 4, 5))
    assert report.ok and report.written, report.problems
    assert ProgressEntry.objects.get(target=orgs.tx).value == Decimal("8")
    assert ProgressEntry.objects.get(target=orgs.ty).value == Decimal("9")


def test_it_shows_a_province_reader_both_organisations_side_by_side(client, orgs):
    client.force_login(orgs.province_leader)
    for name, args, params in ORG_PAGES:
        response = client.get(reverse(name, args=args), params, follow=True)
        assert response.status_code == 200, (name, params)
        if name != "reports:index":
            text = file_text(response)
            mine = "亳州市经信局" if name == "reports:organisations" else "亳州新增规上企业"
            assert mine in text and OTHER in text, (name, params)
    page = client.get(reverse("reports:organisations"), {"period": "2022-03"}).content.decode()
    rows = re.findall(r'<tr data-organisation="(\w+)">.*?</tr>', page, re.S)
    assert rows == ["xcity", "ycity"]
    ycity = re.search(r'<tr data-organisation="ycity">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', ycity)[-1] == "1"  # T-1 with its county part under it
    report = client.get(reverse("reports:report", args=["2022", "03"])).content.decode()
    for plan in (orgs.px, orgs.py):  # both plans' T-1, each linked to its own target page
        assert f'href="/targets/T-1/?period=2022-03&amp;plan={plan.pk}"' in report
    dashboard = client.get(reverse("reports:dashboard"), {"period": "2022-03"}).content.decode()
    assert reverse("reports:organisations") in dashboard
    assert {p["unit"] for p in client.get("/api/plans/").json()["results"]} == {"xcity", "ycity"}


def test_it_sends_each_organisations_leader_only_their_digest(orgs):
    from tracker.reminders.planning import plan_emails

    digests = [p for p in plan_emails(__import__("datetime").date(2022, 4, 12)) if p.kind == "digest"]
    plans_by_leader = {}
    for planned in digests:
        plans_by_leader.setdefault(planned.user.username, set()).update(p.pk for p in planned.context["plans"])
    assert plans_by_leader["x_leader"] == {orgs.px.pk}
    assert plans_by_leader["province_leader"] == {orgs.px.pk, orgs.py.pk}
    # One email a month for the province reader, not one per city (the claim key is person, kind, month, day).
    assert [p.user.username for p in digests].count("province_leader") == 1


@pytest.mark.parametrize("role", ROLES)
def test_indicator_values_are_read_by_everyone_and_written_by_administrators(client, world, role):
    """Published statistics belong to no unit: every staff member reads the grid; only administrators write the
    grid or import a release, and a release import is seen only by the person who uploaded it (or those who see
    everything)."""
    from tracker.releases.models import ReleaseBatch

    user = world.users[role]
    client.force_login(user)
    grid = reverse("releases:grid", args=[2022, 3])
    writes = role == "administrator"
    assert client.get(grid).status_code == 200
    assert client.post(grid, {}).status_code in ((302, 200) if writes else (403,))
    assert client.get(reverse("releases:upload")).status_code == (200 if writes else 403)
    theirs = ReleaseBatch.objects.create(user=world.clerk_b, file_name=f"{SECRET}.csv", sha256="c" * 64, size=1,
                                         year=2022, month=3)
    response = client.get(reverse("releases:batch", args=[theirs.pk]))
    # The uploader is of a unit the administrator administers: their batch is the administrator's to read.
    assert response.status_code == (200 if role == "administrator" else 404)
    assert client.post(reverse("releases:confirm", args=[theirs.pk])).status_code in (403, 404)

@pytest.mark.parametrize("role", ["clerk", "reviewer"])
def test_it_offers_only_own_firms_projects_and_units_in_the_registers(client, world, role):
    client.force_login(world.users[role])
    add = client.get(reverse("admin:registers_project_add"))
    form = add.context["adminform"].form
    assert list(form.fields["firm"].queryset) == [world.firm_a]
    assert list(form.fields["unit"].queryset) == [world.a]
    for model, field in [("project", "firm"), ("coordination", "project"), ("listing", "firm")]:
        found = client.get(reverse("admin:autocomplete"), {
            "app_label": "registers", "model_name": model, "field_name": field, "term": SECRET})
        assert found.status_code == 200 and found.json()["results"] == [], model
    posted = client.post(reverse("admin:registers_project_add"), {
        "name": "x", "unit": world.b.pk, "kind": "new", "total_investment": "1", "stage": "signed",
        "signed_on": "2022-04-01", "updates-TOTAL_FORMS": "0", "updates-INITIAL_FORMS": "0",
        "coordinations-TOTAL_FORMS": "0", "coordinations-INITIAL_FORMS": "0"})
    assert posted.status_code == 200 and not Project.objects.filter(name="x").exists()


@pytest.mark.parametrize("role", ROLES)
def test_it_keeps_the_registers_pages_to_the_roles_units(client, world, role):
    client.force_login(world.users[role])
    own = client.get(reverse("registers:schedule", args=["alpha", "2022-03"]))
    other = client.get(reverse("registers:schedule", args=["bravo", "2022-03"]))
    assert own.status_code == 200 and "ALPHA项目" in own.content.decode()
    if role in NARROW:
        assert other.status_code in (403, 404) and not leaks(other)
    else:
        assert other.status_code == 200 and SECRET in other.content.decode()
    posted = client.post(reverse("registers:schedule", args=["bravo", "2022-03"]), {
        f"p{world.project_b.pk}-stage": "signed", f"p{world.project_b.pk}-version": "0",
        f"p{world.project_b.pk}-project_version": "1", f"p{world.project_b.pk}-completed_ytd": "1"})
    if role != "administrator":
        assert posted.status_code in (403, 404)
        assert not world.project_b.updates.exists()
    for name in ("registers:home", "registers:open_items", "registers:behind", "registers:expected"):
        for params in ({"period": "2022-12"}, {"period": "2022-12", "_export": "csv"},
                       {"period": "2022-12", "_export": "xlsx"}):
            response = client.get(reverse(name), params)
            assert response.status_code == 200, name
            assert (SECRET in file_text(response)) == (role not in NARROW), (name, params)
    own_rows = client.get(reverse("registers:figure_rows", args=[world.ta.pk, "2022-03"]))
    other_rows = client.get(reverse("registers:figure_rows", args=[world.tb.pk, "2022-03"]))
    assert own_rows.status_code == 200
    assert other_rows.status_code == (404 if role in NARROW else 200)
    # The registers' API: the same rows, and another unit's by id answers 404 to a clerk or reviewer.
    for path in ("/api/firms/", "/api/projects/", "/api/coordination-items/"):
        response = client.get(path)
        assert response.status_code == 200 and "ALPHA" in response.content.decode(), path
        assert (SECRET in response.content.decode()) == (role not in NARROW), path
    for path in (f"/api/firms/{world.firm_b.pk}/", f"/api/projects/{world.project_b.pk}/",
                 f"/api/coordination-items/{world.coord_b.pk}/"):
        assert client.get(path).status_code == (404 if role in NARROW else 200), path


# --- a plan issued by the province, with targets led by two cities -------------------------------------------
# Each city's leader reads the province's plan only as far as their city leads it: their own city's targets, not
# the other city's (nor the province's own rows over them); the province's leader reads both cities' targets.
PROVINCE_PAGES = ORG_PAGES + [("reports:report", ["2022", "03"], {"_export": "xlsx", "yoy": "1"})]


@pytest.fixture
def province_plan(orgs):
    from tracker.targets.models import Plan

    w = orgs
    w.pp = Plan.objects.create(year=2022, unit=w.province, title="安徽省2022年工作要点")
    section = make_section(w.pp, 1, name="全省经济运行")
    w.pt_x = make_target(code="P-1-BZ", name="亳州市技改投资PROVX", plan=w.pp, section=section, lead_unit=w.x)
    w.pt_y = make_target(code="P-1-FY", name=f"阜阳市技改投资{OTHER}", plan=w.pp, section=section, lead_unit=w.y)
    # The county outside Y's tree leads a part of Y's own plan: Y's leader reads that part, not this one.
    w.pt_lq = make_target(code="P-1-LQ", name=f"临泉县技改投资{OTHER}", plan=w.pp, section=section,
                          lead_unit=w.y_county)
    w.y_leader = make_user("y_leader", unit=w.y, role=Role.LEADER)
    for clerk, target, value in ((w.users["clerk"], w.pt_x, 3), (w.y_clerk, w.pt_y, 4)):
        row = EntryRow(target, 2022, 3, {"value": Decimal(value), "note": f"{target.name}进展"})
        assert save_entries(clerk, [row], "entry_screen", today=__import__("datetime").date(2022, 4, 3)).ok
    w.ept_y = ProgressEntry.objects.get(target=w.pt_y)
    return w


def test_it_shows_a_city_leader_only_their_citys_targets_of_a_province_plan(client, province_plan):
    w = province_plan
    client.force_login(w.users["leader"])
    problems = []
    for name, args, params in PROVINCE_PAGES:
        response = client.get(reverse(name, args=args), params, follow=True)
        assert response.status_code == 200, (name, params)
        text = file_text(response)
        if OTHER in text:
            problems.append(f"the city leader sees {OTHER} on {name} {params}")
        if name == "reports:report" and "PROVX" not in text:
            problems.append(f"the city leader misses their own target of the province plan on {name} {params}")
    problems += other_in_lists(client, "the city leader")
    problems += other_in_api_and_objects(client, "the city leader", ORG_API[2:], (w.pt_y, w.ept_y, w.ty, w.ey))
    for code in ("P-1-FY", "T-1-LQ"):
        if client.get(reverse("reports:target", args=[code])).status_code != 404:
            problems.append(f"the city leader opens the target page of {code}")
    assert not problems, "\n".join(problems)
    assert client.get(reverse("reports:target", args=["P-1-BZ"])).status_code == 200
    assert "P-1-BZ" in {t["code"] for t in client.get("/api/targets/").json()["results"]}


def test_it_shows_each_city_leader_their_own_and_the_province_leader_both(client, province_plan):
    from tracker.accounts import scoping

    w = province_plan
    expected = {
        w.users["leader"]: {"P-1-BZ", "T-1"},
        w.y_leader: {"P-1-FY", "T-1", "T-1-LQ"},  # Y's own plan (with the county's part of it) and Y's row
        w.province_leader: {"P-1-BZ", "P-1-FY", "P-1-LQ", "T-1", "T-1-LQ"},
    }
    for user, codes in expected.items():
        seen = scoping.visible_targets(user)
        assert set(seen.values_list("code", flat=True)) == codes, user.username
        assert {t.plan_id for t in seen if t.code == "T-1"} == (
            {w.px.pk} if user == w.users["leader"] else {w.py.pk} if user == w.y_leader else {w.px.pk, w.py.pk})
    client.force_login(w.y_leader)
    report = file_text(client.get(reverse("reports:report", args=["2022", "03"]), {"_export": "csv"}))
    assert "阜阳市技改投资" in report and "PROVX" not in report and "亳州" not in report
    client.force_login(w.province_leader)
    report = file_text(client.get(reverse("reports:report", args=["2022", "03"]), {"_export": "csv"}))
    assert "PROVX" in report and "阜阳市技改投资" in report
    entries = client.get(reverse("admin:targets_progressentry_changelist")).content.decode()
    assert "P-1-BZ" in entries and "P-1-FY" in entries


@pytest.mark.parametrize("role", ROLES)
def test_it_lets_the_roles_chase_only_the_units_they_see(client, world, role, django_capture_on_commit_callbacks):
    """催报 (issue 16): clerks may not chase; a reviewer chases their own unit only; leaders and administrators all."""
    from tracker.celery import app

    client.force_login(world.users[role])
    url = reverse("reminders:chase", args=["2022", "04"])  # March's figures are in; April's are missing
    # The units' targets take their figure from the register: the refresh has written April's as drafts, which
    # the clerks have not submitted (with no entry at all there would be nothing of theirs to chase).
    for target in (world.ta, world.tb):
        make_entry(target, 4, Decimal("1"))
    eager, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"unit": ["alpha", "bravo"]})
    finally:
        app.conf.task_always_eager = eager
    if role == "clerk":
        assert response.status_code == 403 and not Reminder.objects.filter(kind="chase").exists()
        return
    assert response.status_code == 302
    chased = set(Reminder.objects.filter(kind="chase").values_list("user__username", flat=True))
    assert (f"{SECRET.lower()}_clerk" in chased) == (role not in NARROW)
    assert "alpha_clerk" in chased
    page = client.get(response["Location"]).content.decode()
    assert not (SECRET in page and role in NARROW)
    client.logout()
    assert client.post(url, {"unit": ["alpha"]})["Location"].startswith(reverse("admin:login"))


def test_a_leader_reads_an_outside_units_history_only_for_its_part_of_their_plans(client, province_plan):
    from tracker.accounts import scoping

    w = province_plan
    county_clerk = make_user("lq_clerk", unit=w.y_county, role=Role.CLERK)
    today = __import__("datetime").date(2022, 4, 3)
    for target in (w.ty_county, w.pt_lq):
        row = EntryRow(target, 2022, 3, {"value": Decimal("2"), "note": f"{target.code}进展"})
        assert save_entries(county_clerk, [row], "entry_screen", today=today).ok
    ImportBatch.objects.create(user=county_clerk, file_name="lq.csv", sha256="d" * 64, size=1)
    own_part = str(ProgressEntry.objects.get(target=w.ty_county).pk)
    province_part = str(ProgressEntry.objects.get(target=w.pt_lq).pk)

    seen = set(scoping.visible_changes(w.y_leader).filter(model="targets.progressentry")
               .values_list("object_id", flat=True))
    assert own_part in seen and province_part not in seen
    everything = set(scoping.visible_changes(w.province_leader).filter(model="targets.progressentry")
                     .values_list("object_id", flat=True))
    assert {own_part, province_part} <= everything
    # The county's clerk imports for several plans: Y's leader does not list their batches.
    assert not scoping.visible_people(w.y_leader, ImportBatch.objects.all()).filter(user=county_clerk).exists()
    assert scoping.visible_people(w.y_leader, ImportBatch.objects.all()).filter(user=w.y_clerk).exists()


def test_the_monthly_report_command_writes_one_organisations_or_one_plans_report(orgs):
    import json

    from django.core.management import CommandError, call_command

    def codes(*args):
        out = io.StringIO()
        call_command("monthly_report", "--period", "2022-03", "--format", "json", *args, stdout=out)
        return sorted((row["code"], row["name"]) for row in json.loads(out.getvalue()))

    every = codes()
    assert {name for _code, name in every} == {
        "亳州新增规上企业", f"阜阳新增规上企业{OTHER}", f"临泉新增规上企业{OTHER}"}
    assert codes("--organisation", "xcity") == [("T-1", "亳州新增规上企业")]
    # Y's organisation: its plan with the outside county's part of it.
    assert [name for _code, name in codes("--organisation", "ycity")] == [
        f"阜阳新增规上企业{OTHER}", f"临泉新增规上企业{OTHER}"]
    assert codes("--plan", str(orgs.px.pk)) == [("T-1", "亳州新增规上企业")]
    assert codes("--organisation", "province") == every
    with pytest.raises(CommandError, match="nosuch"):
        call_command("monthly_report", "--period", "2022-03", "--organisation", "nosuch")
    with pytest.raises(CommandError, match=str(orgs.y_draft.pk)):
        call_command("monthly_report", "--period", "2022-03", "--plan", str(orgs.y_draft.pk))
    with pytest.raises(CommandError, match="2021"):
        call_command("monthly_report", "--period", "2021-03", "--organisation", "xcity")
    with pytest.raises(CommandError, match="2023"):
        call_command("monthly_report", "--period", "2023-03", "--plan", str(orgs.px.pk))


def other_in_forms(client, who):
    """The other organisation's names in any admin add form, list filter or autocomplete answer, or in the
    report's, entry screen's and import's dropdowns."""
    problems = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        if shows_other(response):
            problems.append(f"{who} sees {OTHER} in the {opts.label} add form")
        for field in getattr(model_admin, "autocomplete_fields", ()):
            found = client.get(reverse("admin:autocomplete"), {
                "app_label": opts.app_label, "model_name": opts.model_name, "field_name": field, "term": ""})
            if found.status_code == 200 and OTHER in found.content.decode():
                problems.append(f"{who} is offered {OTHER} by the {opts.label}.{field} autocomplete")
    for name, args in [("reports:report", ["2022", "03"]), ("imports:upload", []), ("registers:home", []),
                       ("reports:completeness", ["2022", "03"])]:
        if shows_other(client.get(reverse(name, args=args), follow=True)):
            problems.append(f"{who} sees {OTHER} on {name}")
    return problems


@pytest.mark.parametrize("role", ORG_ROLES)
def test_it_offers_no_other_organisations_units_in_any_dropdown(client, province_plan, role):
    client.force_login(province_plan.users[role])
    problems = other_in_forms(client, role)
    assert not problems, "\n".join(problems)


def test_a_target_code_in_several_plans_opens_ones_own_or_asks_which(client, orgs):
    """/targets/T-1/: one's own organisation's target of the period's year; where that leaves several, a page
    listing them (plan, year, issuing unit) with links; never the other organisation's by a guess."""
    from tracker.targets.models import Plan

    url = reverse("reports:target", args=["T-1"])
    # The province's reader sees both cities' T-1 of 2022: neither is theirs more than the other.
    client.force_login(orgs.province_leader)
    page = client.get(url, {"period": "2022-03"})
    assert page.status_code == 200 and page.templates[0].name == "reports/target_choices.html"
    text = page.content.decode()
    rows = re.findall(r'<tr data-plan="(\d+)">', text)
    assert rows == [str(orgs.px.pk), str(orgs.py.pk)]
    assert f"?period=2022-03&amp;plan={orgs.py.pk}" in text and "亳州2022年工作要点" in text and "阜阳市经信局" in text
    chosen = client.get(url, {"period": "2022-03", "plan": orgs.py.pk})
    assert chosen.status_code == 200 and f"阜阳新增规上企业{OTHER}" in chosen.content.decode()
    # X's own 2023 plan continues T-1: X's people get the plan of the year asked for, without a choice.
    px23 = Plan.objects.create(year=2023, unit=orgs.x, title="亳州2023年工作要点")
    make_target(code="T-1", name="亳州2023新增规上企业", plan=px23, section=make_section(px23, 1), lead_unit=orgs.x)
    client.force_login(orgs.users["leader"])
    assert "亳州2023新增规上企业" in client.get(url, {"period": "2023-03"}).content.decode()
    assert "亳州新增规上企业" in client.get(url, {"period": "2022-06"}).content.decode()
    # A year of neither plan: which one is not guessed.
    asked = client.get(url, {"period": "2024-01"})
    assert asked.templates[0].name == "reports/target_choices.html"
    assert re.findall(r'<tr data-plan="(\d+)">', asked.content.decode()) == [str(px23.pk), str(orgs.px.pk)]
    # The province's reader, for 2023, has one T-1 that year (X's): it opens.
    client.force_login(orgs.province_leader)
    assert "亳州2023新增规上企业" in client.get(url, {"period": "2023-03"}).content.decode()
    assert client.get(url, {"period": "2022-13"}).status_code == 400


def test_a_leader_reads_an_outside_units_reporting_policies_only_for_its_part_of_their_plans(client, province_plan):
    """The county outside Y's tree leads a part of Y's plan: Y's leader reads that target's policy, not the
    county's own policy (for every plan it reports to) nor that of its part of the province's plan."""
    w = province_plan
    county_policy = ReportingPolicy.objects.create(unit=w.y_county, due_working_day=4)
    own_part = ReportingPolicy.objects.create(target=w.ty_county, due_working_day=6)
    province_part = ReportingPolicy.objects.create(target=w.pt_lq, due_working_day=8)
    client.force_login(w.y_leader)
    listed = set(client.get(reverse("admin:targets_reportingpolicy_changelist")).context["cl"].result_list)
    assert own_part in listed and w.y_policy in listed
    assert county_policy not in listed and province_part not in listed
    assert client.get(admin_url(county_policy, "change")).status_code in (403, 404)
    client.force_login(w.province_leader)
    listed = set(client.get(reverse("admin:targets_reportingpolicy_changelist")).context["cl"].result_list)
    assert {own_part, province_part} <= listed


def test_an_administrator_administers_the_top_units_reporting_only_to_their_plans(client, province_plan):
    """As in the 2022 fixture, where the counties are top units of their own leading parts of the bureau's plan:
    the bureau's administrator administers them (people, figures, reviews). A county that also reports to another
    organisation's plan (临泉, for Y's plan and the province's) is administered by the organisation holding all
    its plans (the province), not by Y's."""
    w = province_plan
    bureau = make_unit("bureau", name="某市经信局")
    county = make_unit("county", name="某县")
    plan = Plan.objects.create(year=2022, unit=bureau, title="某市2022年工作要点")
    part = make_target(code="B-1-C", name="某县新增企业", plan=plan, section=make_section(plan, 1), lead_unit=county)
    county_clerk = make_user("county_clerk", unit=county, role=Role.CLERK)
    boss = make_user("bureau_admin", unit=bureau, role=Role.ADMIN)
    assert scoping.admin_unit_ids(boss) == {bureau.pk, county.pk}
    assert scoping.can_edit_unit(boss, county.pk) and scoping.can_review_unit(boss, county.pk)
    assert county_clerk in scoping.administered_users(boss)
    assert list(scoping.visible_targets(boss)) == [part]
    assert w.y_county.pk not in scoping.admin_unit_ids(w.y_admin)
    assert not scoping.can_edit_unit(w.y_admin, w.y_county.pk)
    province_admin = make_user("province_admin", unit=w.province, role=Role.ADMIN)
    assert w.y_county.pk in scoping.admin_unit_ids(province_admin) and county.pk not in scoping.admin_unit_ids(
        province_admin)
    client.force_login(boss)
    assert client.get(admin_url(county_clerk, "change")).status_code == 200
    assert client.get(admin_url(w.y_clerk, "change")).status_code == 404
