"""The monthly entry screen: one unit, one month, every target of the unit, saved all at once."""

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db
Kind = Target.Kind
State = ProgressEntry.State


def screen_url(unit, period="2022-03"):
    return reverse("admin:targets_progressentry_entry", args=[unit.code, period])


def form_data(response, **changes):
    """What a browser would post back: every row's shown values, with `changes` applied.

    `changes` keys are "<code>__<field>", e.g. T1__value="12".
    """
    data = {}
    for _section, rows in response.context["sections"]:
        for row in rows:
            if row.form is None:
                continue
            for name in row.form.fields:
                bound = row.form[name]
                value = bound.value()
                if name == "is_done":
                    if value:
                        data[bound.html_name] = "on"
                    continue
                data[bound.html_name] = "" if value is None else str(value)
    for key, value in changes.items():
        code, name = key.split("__")
        form = next(r.form for _s, rows in response.context["sections"] for r in rows if r.target.code == code)
        if name == "is_done" and not value:
            data.pop(form[name].html_name, None)
        else:
            data[form[name].html_name] = value
    return data


@pytest.fixture
def world():
    plan = make_plan(2022)
    first = make_section(plan, 1, name="经济运行调度")
    second = make_section(plan, 2, name="项目调度")
    city = make_unit("city", name="市经信局")
    unit = make_unit("econ", name="经济运行科", parent=city)
    sub = make_unit("econ-sub", name="运行监测组", parent=unit)
    other = make_unit("other", name="投资科", parent=city)
    w = type("World", (), {})()
    w.plan, w.unit, w.sub, w.other = plan, unit, sub, other
    w.clerk = make_user("clerk", unit=unit)
    w.growth = make_target(Kind.GROWTH, code="G1", name="规上工业增加值增长", section=first, lead_unit=unit,
                           combined_jan_feb=True, target_value=Decimal("9.5"))
    w.margin = make_target(Kind.MARGIN, code="M1", name="工业投资高于全省", section=first, lead_unit=unit,
                           comparator_name="全省工业投资增速")
    w.count = make_target(Kind.CUMULATIVE, code="C1", name="新增规上工业企业", section=second, lead_unit=unit)
    w.milestone = make_target(Kind.MILESTONE, code="S1", name="出台实施方案", section=second, lead_unit=unit)
    w.foreign = make_target(Kind.CUMULATIVE, code="X1", name="别人的目标", section=first, lead_unit=other)
    w.inactive = make_target(Kind.CUMULATIVE, code="Z1", name="停用目标", section=first, lead_unit=unit,
                             is_active=False)
    return w


def test_it_lists_the_units_active_targets_by_section_with_last_months_figure(client, world):
    make_entry(world.count, 1, Decimal("3"))
    make_entry(world.count, 2, Decimal("7.5000"))
    make_entry(world.margin, 2, Decimal("6.1"), comparator=Decimal("5.0"))
    client.force_login(world.clerk)
    response = client.get(screen_url(world.unit, "2022-03"))
    assert response.status_code == 200
    sections = response.context["sections"]
    assert [(s.number, [r.target.code for r in rows]) for s, rows in sections] == [
        (1, ["G1", "M1"]), (2, ["C1", "S1"])]
    rows = {r.target.code: r for _s, rs in sections for r in rs}
    assert rows["C1"].previous.month == 2
    assert rows["C1"].previous_text == "7.5"
    html = response.content.decode()
    assert "经济运行调度" in html and "新增规上工业企业" in html and "1—2月" in html
    assert "别人的目标" not in html and "停用目标" not in html
    # Only the fields of each kind: comparator for margin, done for milestones.
    assert set(rows["M1"].form.fields) == {"version", "value", "comparator", "note", "problems", "confirm_warnings",
                                          "warning_note"}
    assert set(rows["S1"].form.fields) == {"version", "is_done", "note", "problems"}
    assert set(rows["C1"].form.fields) == {"version", "value", "note", "problems", "confirm_warnings", "warning_note"}


def test_it_saves_every_row_at_once_with_history(client, world):
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    data = form_data(page, G1__value="9.8", M1__value="7.2", M1__comparator="6.5", C1__value="12",
                     C1__note="新增12家", S1__is_done="on", S1__problems="资金未到位")
    response = client.post(screen_url(world.unit), data)
    assert response.status_code == 302
    saved = {e.target.code: e for e in ProgressEntry.objects.select_related("target")}
    assert set(saved) == {"G1", "M1", "C1", "S1"}
    assert saved["G1"].value == Decimal("9.8") and saved["M1"].comparator == Decimal("6.5")
    assert saved["C1"].note == "新增12家" and saved["S1"].is_done and saved["S1"].problems == "资金未到位"
    assert all(e.entered_by == world.clerk and e.state == State.DRAFT and (e.year, e.month) == (2022, 3)
               for e in saved.values())
    assert Change.objects.filter(source="entry_screen", action="create").count() == 4
    follow = client.get(screen_url(world.unit))
    assert "已保存：新增 4 条，修改 0 条。" in follow.content.decode()


def test_it_writes_nothing_when_one_row_is_wrong_and_says_why_next_to_it(client, world):
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    data = form_data(page, G1__value="9.8", C1__value="-3", M1__value="7.2")
    response = client.post(screen_url(world.unit), data)
    assert response.status_code == 200
    assert ProgressEntry.objects.count() == 0
    rows = {r.target.code: r for _s, rs in response.context["sections"] for r in rs}
    assert rows["C1"].form.errors == {"value": ["数量或金额不能为负数。"]}
    assert rows["M1"].form.errors == {"comparator": ["请填写同期的对比值（全省工业投资增速）。"]}
    assert not rows["G1"].form.errors
    html = response.content.decode()
    assert "未保存任何内容：请改正标出的行。" in html
    # The user's figures stay in the form so they can correct and resend.
    assert 'value="9.8"' in html


def test_it_keeps_untouched_rows_out_of_the_save(client, world):
    entry = make_entry(world.count, 3, Decimal("5.5000"), note="进展顺利", entered_by=world.clerk)
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    assert 'value="5.5"' in page.content.decode()
    # Saved again meanwhile with the same figures: not a conflict for a row this user did not touch.
    ProgressEntry.objects.filter(pk=entry.pk).update(version=2)
    response = client.post(screen_url(world.unit), form_data(page, G1__value="9"))
    assert response.status_code == 302
    assert Change.objects.filter(source="entry_screen").count() == 1


def test_it_reports_a_concurrent_change_with_the_other_persons_value(client, world):
    entry = make_entry(world.count, 3, Decimal("5"))
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    # Meanwhile a colleague changes the figure.
    colleague = make_user("colleague", unit=world.unit)
    entry.value, entry.version, entry.entered_by = Decimal("6"), entry.version + 1, colleague
    entry.save()
    response = client.post(screen_url(world.unit), form_data(page, C1__value="8", G1__value="9"))
    assert response.status_code == 200
    rows = {r.target.code: r for _s, rs in response.context["sections"] for r in rs}
    assert rows["C1"].form.errors["value"] == ["C1 已被 colleague 修改（现为 6）；请刷新后重试。"]
    entry.refresh_from_db()
    assert entry.value == Decimal("6")
    assert not ProgressEntry.objects.filter(target=world.growth).exists()


def test_it_reports_an_entry_created_meanwhile_instead_of_overwriting_it(client, world):
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    make_entry(world.count, 3, Decimal("4"), entered_by=make_user("colleague", unit=world.unit))
    response = client.post(screen_url(world.unit), form_data(page, C1__value="8"))
    assert response.status_code == 200
    assert ProgressEntry.objects.get(target=world.count).value == Decimal("4")
    assert "colleague" in response.content.decode()


def test_it_shows_approved_rows_read_only_and_ignores_posted_values_for_them(client, world):
    make_entry(world.count, 3, Decimal("5"), state=State.APPROVED, note="已审核")
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    rows = {r.target.code: r for _s, rs in page.context["sections"] for r in rs}
    assert rows["C1"].form is None and rows["C1"].locked
    assert "已审核通过：锁定" in page.content.decode()
    data = form_data(page, G1__value="9")
    data[f"t{world.count.pk}-value"] = "99"
    assert client.post(screen_url(world.unit), data).status_code == 302
    assert ProgressEntry.objects.get(target=world.count).value == Decimal("5")


def test_it_shows_january_as_combined_with_february_for_such_targets(client, world):
    client.force_login(world.clerk)
    response = client.get(screen_url(world.unit, "2022-01"))
    rows = {r.target.code: r for _s, rs in response.context["sections"] for r in rs}
    assert rows["G1"].form is None and not rows["G1"].expected
    assert rows["C1"].form is not None
    assert "1—2月合并报送" in response.content.decode()
    # Posting a January figure for it anyway changes nothing.
    data = form_data(response, C1__value="2")
    data[f"t{world.growth.pk}-value"] = "8"
    client.post(screen_url(world.unit, "2022-01"), data)
    assert list(ProgressEntry.objects.values_list("target__code", flat=True)) == ["C1"]


def test_it_submits_the_saved_entries(client, world):
    make_entry(world.milestone, 3, None, note="推进中")
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    data = form_data(page, C1__value="12", G1__value="9.1")
    data["_submit"] = "1"
    response = client.post(screen_url(world.unit), data, follow=True)
    entries = {e.target.code: e for e in ProgressEntry.objects.select_related("target")}
    assert {c: e.state for c, e in entries.items()} == {"C1": State.SUBMITTED, "G1": State.SUBMITTED,
                                                         "S1": State.SUBMITTED}
    assert all(e.submitted_by == world.clerk and e.submitted_at for e in entries.values())
    assert Change.objects.filter(source="entry_screen", action="transition").count() == 3
    html = response.content.decode()
    assert "已提交 3 条待审核。" in html
    # What is still missing is named, with a link to its row (not a bare list of codes).
    assert "1 项目标本月仍无数据，已列在表格上方。" in html
    missing = html[html.index('id="entry-missing"'):html.index("</div>", html.index('id="entry-missing"'))]
    assert '<a href="#row-M1">M1 工业投资高于全省</a>' in missing
    assert "C1" not in missing and "G1" not in missing


def test_it_lets_a_clerk_open_a_sub_units_screen_but_not_another_units(client, world):
    make_target(Kind.CUMULATIVE, code="SUB1", lead_unit=world.sub, section=make_section(world.plan, 1))
    client.force_login(world.clerk)
    assert client.get(screen_url(world.sub)).status_code == 200
    assert client.get(screen_url(world.other)).status_code == 403
    response = client.post(screen_url(world.other), {f"t{world.foreign.pk}-value": "5"})
    assert response.status_code == 403
    assert not ProgressEntry.objects.exists()


@pytest.mark.parametrize("unit_code, period", [("nope", "2022-03"), ("econ", "2022-13"), ("econ", "abc"),
                                                ("econ", "2022-00"), ("econ", "99999-01")])
def test_it_answers_404_for_an_unknown_unit_or_a_malformed_period(client, world, unit_code, period):
    client.force_login(world.clerk)
    url = reverse("admin:targets_progressentry_entry", args=[unit_code, period])
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404


def test_it_explains_a_period_without_plan_or_in_the_future(client, world):
    from django.utils import timezone

    client.force_login(world.clerk)
    response = client.get(screen_url(world.unit, "2019-05"))
    assert response.status_code == 200
    assert "没有 2019 年的计划。" in response.content.decode()
    next_year = timezone.localdate().year + 1
    make_plan(next_year)
    response = client.get(screen_url(world.unit, f"{next_year}-05"))
    assert f"期间 {next_year}-05 尚未到来。" in response.content.decode()
    assert client.post(screen_url(world.unit, f"{next_year}-05"), {}).status_code == 200
    assert not ProgressEntry.objects.exists()


def test_it_shows_a_leader_the_figures_without_inputs(client, world):
    make_entry(world.count, 3, Decimal("5"))
    leader = make_user("leader", unit=world.unit.parent, role=Membership.Role.LEADER)
    client.force_login(leader)
    response = client.get(screen_url(world.unit))
    assert response.status_code == 200
    assert not response.context["has_inputs"]
    assert "<textarea" not in response.content.decode()
    assert client.post(screen_url(world.unit), {}).status_code == 403


def test_the_chooser_redirects_to_the_screen_and_rejects_bad_periods(client, world):
    client.force_login(world.clerk)
    chooser = reverse("admin:targets_progressentry_entry_chooser")
    page = client.get(chooser)
    assert page.status_code == 200
    assert [u.code for u, _url in page.context["links"]] == ["econ"]
    response = client.get(chooser, {"unit": "econ", "period": "2022-4"})
    assert response.status_code == 302 and response.url == screen_url(world.unit, "2022-04")
    for period, message in [("2022-13", "“2022-13”不是 YYYY-MM 格式的期间。"),
                            ("abc", "“abc”不是 YYYY-MM 格式的期间。"), ("2019-01", "没有 2019 年的计划。")]:
        response = client.get(chooser, {"unit": "econ", "period": period})
        assert response.status_code == 200
        assert response.context["form"].errors["period"] == [message]
    response = client.get(chooser, {"unit": "other", "period": "2022-03"})
    assert "unit" in response.context["form"].errors


def test_it_is_linked_from_the_admin_index_and_the_entries_list(client, world):
    client.force_login(world.clerk)
    chooser = reverse("admin:targets_progressentry_entry_chooser")
    assert chooser in client.get(reverse("admin:index")).content.decode()
    assert chooser in client.get(reverse("admin:targets_progressentry_changelist")).content.decode()


def test_it_speaks_english_when_chosen(client, world):
    client.force_login(world.clerk)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(screen_url(world.unit))
    assert "Reported with February" not in page.content.decode()  # March: every row is expected
    response = client.post(screen_url(world.unit), form_data(page, C1__value="-1"))
    assert response.context["sections"][1][1][0].form.errors == {"value": ["A count or amount cannot be negative."]}
    assert "Nothing was saved: correct the marked rows." in response.content.decode()


def _many_targets(world, n):
    section = make_section(world.plan, 3)
    for i in range(n):
        target = make_target(Kind.MARGIN if i % 2 else Kind.CUMULATIVE, code=f"N{i:03d}", section=section,
                             lead_unit=world.unit)
        make_entry(target, 2, Decimal(i))
        make_entry(target, 3, Decimal(i + 1), comparator=Decimal("1") if i % 2 else None)


@pytest.mark.parametrize("n", [5, 60])
def test_it_uses_the_same_number_of_queries_for_few_or_many_targets(client, world, django_assert_max_num_queries, n):
    _many_targets(world, n)
    client.force_login(world.clerk)
    page = client.get(screen_url(world.unit))
    assert page.status_code == 200
    changes = {f"N{i:03d}__value": str(i + 10) for i in range(n)}
    changes.update({f"N{i:03d}__comparator": "2" for i in range(1, n, 2)})
    # The rates are far from their targets (soft checks' warnings): confirmed, they save like the rest.
    changes.update({f"N{i:03d}__confirm_warnings": "on" for i in range(n)})
    data = form_data(page, C1__value="3", **changes)
    with django_assert_max_num_queries(25):
        assert client.get(screen_url(world.unit)).status_code == 200
    with django_assert_max_num_queries(25):
        response = client.post(screen_url(world.unit), data)
    assert response.status_code == 302
    assert ProgressEntry.objects.filter(year=2022, month=3, value__gte=10).count() == n
    # Submitting (through tracker.services.review, judging lateness per entry) is bounded too.
    data["_submit"] = "1"
    with django_assert_max_num_queries(30):
        assert client.post(screen_url(world.unit), data).status_code == 302
    assert ProgressEntry.objects.filter(month=3, state=State.SUBMITTED).count() == n + 1
