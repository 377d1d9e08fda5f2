"""The admin: Chinese by default with an English switch, scoped lists, forms and URLs, history on every write."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.targets.models import MonthlyPlanPoint, ProgressEntry, Target

pytestmark = pytest.mark.django_db
Kind = Target.Kind
State = ProgressEntry.State


def admin_form_data(response, **changes):
    """The change form as a browser would post it back (main form and inlines), with `changes` applied."""
    data = {}

    def put(form):
        for name in form.fields:
            bound = form[name]
            if form.fields[name].disabled:
                continue
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, (list, tuple)):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = "" if value is None else str(value)

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        put(inline.formset.management_form)
        for form in inline.formset.forms:
            put(form)
    data.update(changes)
    return data


@pytest.fixture
def world():
    plan = make_plan(2022)
    section = make_section(plan, 1, name="经济运行调度")
    city = make_unit("city", name="市经信局")
    econ = make_unit("econ", name="经济运行科", name_en="Economic Operation", parent=city)
    invest = make_unit("invest", name="投资科", parent=city)
    w = type("World", (), {})()
    w.plan, w.section, w.city, w.econ, w.invest = plan, section, city, econ, invest
    w.clerk = make_user("clerk", unit=econ)
    w.leader = make_user("leader", unit=city, role=Membership.Role.LEADER)
    w.admin = make_user("boss", unit=city, role=Membership.Role.ADMIN)
    w.own = make_target(Kind.CUMULATIVE, code="E-1", name="新增规上企业", name_en="New above-scale firms",
                        section=section, lead_unit=econ)
    w.growth = make_target(Kind.GROWTH, code="E-2", name="工业增加值增速", section=section, lead_unit=econ)
    w.foreign = make_target(Kind.CUMULATIVE, code="I-1", name="工业投资项目", section=section, lead_unit=invest)
    w.foreign_entry = make_entry(w.foreign, 3, Decimal("4"))
    return w


def test_it_speaks_chinese_by_default_and_switches_to_english(client, world):
    client.force_login(world.clerk)
    html = client.get(reverse("admin:index")).content.decode()
    assert "亳州市经信局目标任务跟踪" in html
    assert 'action="/i18n/setlang/"' in html and ">简体中文</button>" in html and ">English</button>" in html
    assert "月度数据" in html and "目标任务" in html  # model and app names in Chinese
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("admin:index")})
    assert response.status_code == 302 and response.url == reverse("admin:index")
    html = client.get(reverse("admin:index")).content.decode()
    assert "<title>Targets, figures and reports | Target tracker</title>" in html
    assert "Progress entries" in html and "Open the monthly entry screen" in html


def test_the_login_page_has_the_language_switcher(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert "亳州市经信局目标任务跟踪" in html and 'id="language-switcher"' in html


def test_a_clerk_sees_only_their_units_targets(client, world):
    client.force_login(world.clerk)
    response = client.get(reverse("admin:targets_target_changelist"))
    assert response.status_code == 200
    codes = [t.code for t in response.context["cl"].result_list]
    assert codes == ["E-1", "E-2"]
    # The lead-unit filter offers only the clerk's unit, not the other units' names.
    assert "投资科" not in response.content.decode()
    found = client.get(reverse("admin:targets_target_changelist"), {"q": "above-scale"})
    assert [t.code for t in found.context["cl"].result_list] == ["E-1"]
    assert client.get(reverse("admin:targets_target_changelist"), {"q": "I-1"}).context["cl"].result_count == 0


def test_a_guessed_id_of_another_units_row_is_not_found(client, world):
    client.force_login(world.clerk)
    for url in [
        reverse("admin:targets_target_change", args=[world.foreign.pk]),
        reverse("admin:targets_target_history", args=[world.foreign.pk]),
        reverse("admin:targets_progressentry_change", args=[world.foreign_entry.pk]),
        reverse("admin:targets_progressentry_delete", args=[world.foreign_entry.pk]),
        reverse("admin:targets_progressentry_change", args=[999999]),
    ]:
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert "工业投资项目" not in response.content.decode()
    response = client.post(reverse("admin:targets_progressentry_change", args=[world.foreign_entry.pk]),
                           {"value": "99"})
    assert response.status_code == 404
    world.foreign_entry.refresh_from_db()
    assert world.foreign_entry.value == Decimal("4")


def test_the_entry_forms_target_dropdown_offers_only_the_clerks_targets(client, world):
    client.force_login(world.clerk)
    form = client.get(reverse("admin:targets_progressentry_add")).context["adminform"].form
    assert [t.code for t in form.fields["target"].queryset] == ["E-1", "E-2"]
    response = client.post(reverse("admin:targets_progressentry_add"),
                           {"target": world.foreign.pk, "year": "2022", "month": "4", "value": "1"})
    assert response.status_code == 200
    assert "target" in response.context["adminform"].form.errors
    assert ProgressEntry.objects.count() == 1


def test_it_adds_an_entry_through_the_entry_service_with_history(client, world):
    client.force_login(world.clerk)
    response = client.post(reverse("admin:targets_progressentry_add"), {
        "target": world.own.pk, "year": "2022", "month": "3", "value": "12", "note": "新增12家"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = ProgressEntry.objects.get(target=world.own)
    assert (entry.value, entry.note, entry.entered_by, entry.state) == (Decimal("12"), "新增12家", world.clerk,
                                                                        State.DRAFT)
    change = Change.objects.get(model="targets.progressentry", object_id=str(entry.pk))
    assert (change.source, change.action, change.user) == ("admin", "create", world.clerk)
    assert change.changes["value"] == [None, "12"]


def test_it_changes_an_entry_with_history_and_refuses_a_stale_form(client, world):
    entry = make_entry(world.own, 3, Decimal("5"))
    client.force_login(world.clerk)
    url = reverse("admin:targets_progressentry_change", args=[entry.pk])
    page = client.get(url)
    assert client.post(url, admin_form_data(page, value="6")).status_code == 302
    entry.refresh_from_db()
    assert (entry.value, entry.version) == (Decimal("6"), 2)
    assert Change.objects.get(object_id=str(entry.pk), action="update").changes["value"] == ["5", "6"]
    # The same (now stale) form again: a conflict, not an overwrite.
    response = client.post(url, admin_form_data(page, value="7"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["value"] == ["E-1 已被 clerk 修改（现为 6）；请刷新后重试。"]
    entry.refresh_from_db()
    assert entry.value == Decimal("6")


def test_an_approved_entry_is_read_only_in_the_admin(client, world):
    entry = make_entry(world.own, 3, Decimal("5"), state=State.APPROVED)
    client.force_login(world.clerk)
    url = reverse("admin:targets_progressentry_change", args=[entry.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.post(url, {"value": "9"}).status_code == 403
    assert client.post(reverse("admin:targets_progressentry_delete", args=[entry.pk]), {"post": "yes"}).status_code \
        == 403
    entry.refresh_from_db()
    assert entry.value == Decimal("5")


def test_a_leader_reads_entries_but_cannot_change_them(client, world):
    client.force_login(world.leader)
    url = reverse("admin:targets_progressentry_change", args=[world.foreign_entry.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"value": "9"}).status_code == 403
    assert client.get(reverse("admin:targets_progressentry_add")).status_code == 403


def test_the_entries_list_filters_and_searches(client, world):
    make_entry(world.own, 2, Decimal("3"), state=State.SUBMITTED)
    make_entry(world.growth, 3, Decimal("8.5"))
    client.force_login(world.admin)
    url = reverse("admin:targets_progressentry_changelist")

    def listed(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return sorted((e.target.code, e.month) for e in response.context["cl"].result_list)

    assert listed() == [("E-1", 2), ("E-2", 3), ("I-1", 3)]
    assert listed(state="submitted") == [("E-1", 2)]
    assert listed(month=3) == [("E-2", 3), ("I-1", 3)]
    assert listed(year=2022, target__lead_unit__id__exact=world.invest.pk) == [("I-1", 3)]
    assert listed(q="增速") == [("E-2", 3)]


def test_target_admin_saves_with_history_including_the_monthly_plan(client, world):
    client.force_login(world.admin)
    url = reverse("admin:targets_target_change", args=[world.own.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = admin_form_data(page, target_value="90", responsible_units=[str(world.invest.pk)])
    prefix = next(i.formset.prefix for i in page.context["inline_admin_formsets"]
                  if i.formset.model is MonthlyPlanPoint)
    data.update({f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-0-month": "6", f"{prefix}-0-value": "40"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.own.refresh_from_db()
    assert world.own.target_value == Decimal("90")
    assert list(world.own.responsible_units.all()) == [world.invest]
    assert world.own.plan_points.get().value == Decimal("40")
    target_change = Change.objects.get(model="targets.target", object_id=str(world.own.pk))
    assert (target_change.source, target_change.changes["target_value"]) == ("admin", ["80", "90"])
    assert Change.objects.filter(model="targets.monthlyplanpoint", action="create", source="admin").count() == 1


def test_deleting_through_the_admin_leaves_history(client, world):
    entry = make_entry(world.own, 3, Decimal("5"))
    client.force_login(world.admin)
    response = client.post(reverse("admin:targets_progressentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not ProgressEntry.objects.filter(pk=entry.pk).exists()
    change = Change.objects.get(object_id=str(entry.pk), action="delete")
    assert change.changes["value"] == ["5", None] and change.source == "admin"


def test_history_is_read_only_and_scoped(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("admin:targets_progressentry_change", args=[world.foreign_entry.pk]))
    client.post(reverse("admin:targets_progressentry_change", args=[world.foreign_entry.pk]),
                admin_form_data(page, value="6"))
    foreign_change = Change.objects.get()
    client.force_login(world.clerk)
    assert client.get(reverse("admin:audit_change_changelist")).context["cl"].result_count == 0
    assert client.get(reverse("admin:audit_change_change", args=[foreign_change.pk])).status_code == 404
    client.force_login(world.admin)
    assert client.get(reverse("admin:audit_change_change", args=[foreign_change.pk])).status_code == 200
    assert client.post(reverse("admin:audit_change_delete", args=[foreign_change.pk]), {"post": "yes"}).status_code \
        == 403


def test_the_membership_admin_is_for_administrators(client, world):
    client.force_login(world.clerk)
    assert client.get(reverse("admin:accounts_membership_changelist")).status_code == 403
    client.force_login(world.admin)
    response = client.get(reverse("admin:accounts_membership_changelist"))
    assert response.context["cl"].result_count == 3


@pytest.mark.parametrize("n", [5, 60])
def test_admin_lists_use_the_same_number_of_queries_for_few_or_many_rows(client, world,
                                                                         django_assert_max_num_queries, n):
    section = make_section(world.plan, 2)
    for i in range(n):
        target = make_target(Kind.CUMULATIVE, code=f"N{i:03d}", section=section, lead_unit=world.econ,
                             responsible_person=world.clerk)
        make_entry(target, 3, Decimal(i), entered_by=world.clerk)
    client.force_login(world.clerk)
    for url in [reverse("admin:targets_target_changelist"), reverse("admin:targets_progressentry_changelist"),
                reverse("admin:audit_change_changelist")]:
        with django_assert_max_num_queries(20):
            assert client.get(url).status_code == 200
    client.force_login(world.admin)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("admin:targets_target_changelist")).status_code == 200


def test_a_superuser_sees_every_unit(client, world):
    boss = get_user_model().objects.create_superuser("root", "root@example.com", "pw-Secret-123")
    client.force_login(boss)
    response = client.get(reverse("admin:targets_target_changelist"))
    assert response.context["cl"].result_count == 3


def test_the_bulk_delete_action_honours_the_lock_and_leaves_history(client, world):
    draft = make_entry(world.own, 3, Decimal("5"))
    approved = make_entry(world.own, 2, Decimal("4"), state=State.APPROVED)
    client.force_login(world.admin)
    url = reverse("admin:targets_progressentry_changelist")
    response = client.post(url, {"action": "delete_selected", "_selected_action": [draft.pk, approved.pk],
                                 "post": "yes"})
    assert response.status_code == 403
    assert ProgressEntry.objects.filter(target=world.own).count() == 2
    response = client.post(url, {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"})
    assert response.status_code == 302
    assert list(ProgressEntry.objects.filter(target=world.own)) == [approved]
    assert Change.objects.get(action="delete").object_id == str(draft.pk)
