"""Bad input gets a clear message in the user's language (Chinese or English), never a 500, and writes nothing.

The entry screen and the admin's entry form share validate_entry_values, so
they give the same message for the same mistake.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_entry, make_plan, make_section, make_target, make_unit, make_user
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db
Kind = Target.Kind
ADD = "admin:targets_progressentry_add"


@pytest.fixture
def world():
    plan = make_plan(2022)
    section = make_section(plan, 1)
    unit = make_unit("econ", name="经济运行科")
    w = type("World", (), {})()
    w.plan, w.section, w.unit = plan, section, unit
    w.clerk = make_user("clerk", unit=unit)
    w.count = make_target(Kind.CUMULATIVE, code="C1", section=section, lead_unit=unit)
    w.growth = make_target(Kind.GROWTH, code="G1", section=section, lead_unit=unit, combined_jan_feb=True)
    w.margin = make_target(Kind.MARGIN, code="M1", section=section, lead_unit=unit, comparator_name="全省增速")
    w.events = make_target(Kind.RECURRING, code="R1", section=section, lead_unit=unit)
    return w


def use_language(client, language):
    client.cookies["django_language"] = language


def screen_post(client, world, period, **values):
    """Post the entry screen with `values` as {"C1": {"value": "3"}, ...}; other rows stay empty."""
    url = reverse("admin:targets_progressentry_entry", args=[world.unit.code, period])
    data = {}
    for target in (world.count, world.growth, world.margin, world.events):
        data[f"t{target.pk}-version"] = "0"
        for name, value in values.get(target.code, {}).items():
            data[f"t{target.pk}-{name}"] = value
    return client.post(url, data)


def screen_errors(response):
    return {r.target.code: r.form.errors for _s, rows in response.context["sections"] for r in rows
            if r.form is not None and r.form.errors}


def admin_add(client, target, **fields):
    return client.post(reverse(ADD), {"target": target.pk, "year": "2022", "month": "3", **fields})


def admin_errors(response):
    return response.context["adminform"].form.errors


# The same mistake, the same message, on both screens, in both languages.
CASES = [
    ("count", {"value": "-3"}, "value", "数量或金额不能为负数。", "A count or amount cannot be negative."),
    ("growth", {"value": "5000"}, "value", "增速 5000% 不合理（允许范围 -100 至 1000）。",
     "A growth rate of 5000% is not plausible (allowed -100 to 1000)."),
    ("margin", {"value": "7.5"}, "comparator", "请填写同期的对比值（全省增速）。",
     "Enter the comparator (全省增速) for the same months."),
    ("events", {"value": "2.5"}, "value", "开展次数必须是整数。", "The number of events held must be a whole number."),
]


@pytest.mark.parametrize("attr, values, field, zh, en", CASES)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_entry_screen_and_the_admin_give_the_same_clear_message(client, world, attr, values, field, zh, en,
                                                                    language):
    client.force_login(world.clerk)
    use_language(client, language)
    expected = zh if language == "zh-hans" else en
    target = getattr(world, attr)
    response = screen_post(client, world, "2022-03", **{target.code: values})
    assert response.status_code == 200
    assert screen_errors(response)[target.code][field] == [expected]
    response = admin_add(client, target, **values)
    assert response.status_code == 200
    assert admin_errors(response)[field] == [expected]
    assert ProgressEntry.objects.count() == 0


@pytest.mark.parametrize("language, message", [
    ("zh-hans", "C1 在 2022-03 已有数据；请打开该条数据进行修改。"),
    ("en", "C1 already has an entry for 2022-03; open that entry to change it."),
])
def test_a_duplicate_entry_in_the_admin_gets_a_friendly_message(client, world, language, message):
    make_entry(world.count, 3, Decimal("5"))
    client.force_login(world.clerk)
    use_language(client, language)
    response = admin_add(client, world.count, value="6")
    assert response.status_code == 200
    assert admin_errors(response) == {"month": [message]}
    assert ProgressEntry.objects.get().value == Decimal("5")


def test_a_period_outside_the_plans_year_or_in_the_future_is_refused(client, world):
    client.force_login(world.clerk)
    response = admin_add(client, world.count, value="1", year="2021")
    assert admin_errors(response)["month"] == ["期间 2021-03 不在计划年度 2022 年内。"]
    future = timezone.localdate().year + 1
    later = make_target(Kind.CUMULATIVE, code="F1", plan=make_plan(future),
                        section=make_section(make_plan(future), 1), lead_unit=world.unit)
    use_language(client, "en")
    response = admin_add(client, later, value="1", year=str(future), month="6")
    assert admin_errors(response)["month"] == [f"The period {future}-06 is in the future."]
    response = client.get(reverse("admin:targets_progressentry_entry", args=["econ", f"{future}-06"]))
    assert f"The period {future}-06 is in the future." in response.content.decode()
    assert ProgressEntry.objects.count() == 0


def test_january_of_a_combined_target_is_refused_in_the_admin(client, world):
    client.force_login(world.clerk)
    response = admin_add(client, world.growth, value="5", month="1")
    assert admin_errors(response)["month"] == ["G1 1—2月合并报送；请填在2月（1—2月）。"]


def test_an_empty_admin_entry_is_refused(client, world):
    client.force_login(world.clerk)
    response = admin_add(client, world.count)
    assert admin_errors(response)["__all__"] == ["请填写数值、进展情况，或标记为已完成。"]
    assert ProgressEntry.objects.count() == 0


GARBAGE = ["abc", "12,5.3", "1e500", "NaN", "Infinity", "9" * 40, "1.123456789", "--1", " ", "１２"]


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_numbers_never_give_a_500_and_write_nothing(client, world, garbage):
    client.force_login(world.clerk)
    response = screen_post(client, world, "2022-03", C1={"value": "5"}, M1={"value": garbage, "comparator": garbage})
    if garbage.strip() == "" or garbage == "１２":
        # Blank is "no figure"; full-width digits are read as the number they show.
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 200
        assert screen_errors(response)["M1"]["value"]
        assert ProgressEntry.objects.count() == 0
    before = ProgressEntry.objects.count()
    response = admin_add(client, world.margin, value=garbage, comparator=garbage)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert ProgressEntry.objects.count() == before


def test_huge_numbers_are_explained(client, world):
    client.force_login(world.clerk)
    response = screen_post(client, world, "2022-03", C1={"value": "9" * 20})
    assert screen_errors(response)["C1"]["value"] == ["确认总共不超过 16 个数字."]  # Django's own wording
    use_language(client, "en")
    response = admin_add(client, world.count, value="9" * 20)
    assert admin_errors(response)["value"] == ["Ensure that there are no more than 16 digits in total."]


@pytest.mark.parametrize("fields", [
    {"year": "abc"}, {"year": ""}, {"month": "13"}, {"month": "0"}, {"month": "-1"}, {"month": "x"},
    {"year": "99999999999"}, {"target": "999999"}, {"target": "abc"}, {"done_on": "2022-02-30"},
])
def test_garbage_in_the_admin_form_never_gives_a_500(client, world, fields):
    client.force_login(world.clerk)
    response = client.post(reverse(ADD), {"target": world.count.pk, "year": "2022", "month": "3", "value": "1",
                                          **fields})
    assert response.status_code == 200
    assert admin_errors(response)
    assert ProgressEntry.objects.count() == 0


@pytest.mark.parametrize("params", [
    {"unit": "nope", "period": "2022-03"}, {"unit": "econ", "period": "2022-13"}, {"unit": "econ", "period": "abc"},
    {"unit": "econ", "period": ""}, {"unit": "", "period": ""}, {"unit": "econ", "period": "2022-03-01"},
    {"unit": "econ", "period": "-2022-3"}, {"unit": "econ", "period": "0-1"},
])
def test_the_chooser_never_gives_a_500(client, world, params):
    client.force_login(world.clerk)
    response = client.get(reverse("admin:targets_progressentry_entry_chooser"), params)
    assert response.status_code == 200
    assert response.context["form"].errors


def test_a_rejected_screen_writes_no_history(client, world):
    client.force_login(world.clerk)
    screen_post(client, world, "2022-03", C1={"value": "5"}, G1={"value": "abc"})
    assert Change.objects.count() == 0 and ProgressEntry.objects.count() == 0


def test_a_clerk_cannot_post_into_another_units_screen_even_with_a_valid_form(client, world):
    other = make_unit("other")
    foreign = make_target(Kind.CUMULATIVE, code="X1", section=world.section, lead_unit=other)
    make_user("other-clerk", unit=other)
    client.force_login(world.clerk)
    url = reverse("admin:targets_progressentry_entry", args=["other", "2022-03"])
    assert client.post(url, {f"t{foreign.pk}-version": "0", f"t{foreign.pk}-value": "3"}).status_code == 403
    assert ProgressEntry.objects.count() == 0
