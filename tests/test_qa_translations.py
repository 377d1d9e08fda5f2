"""QA: the Chinese admin shows no English captions of ours (app names, Django 6.1 strings its catalogue lacks)."""

import pytest
from django.apps import apps
from django.utils import translation

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.targets.period import Period

pytestmark = pytest.mark.django_db


# Apps with models are the admin index's captions.
@pytest.mark.parametrize(
    "config", [c for c in apps.get_app_configs() if c.name.startswith("tracker.") and list(c.get_models())],
    ids=lambda c: c.label,
)
def test_it_names_every_tracker_app_in_chinese(config):
    with translation.override("zh-hans"):
        name = str(config.verbose_name)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in name), name


@pytest.fixture
def admin_client(client):
    make_plan(2022)
    city = make_unit("city", name="市经信局")
    client.force_login(make_user("boss", unit=city, role=Membership.Role.ADMIN))
    return client


def test_it_shows_the_reminders_app_in_chinese_on_the_admin_index(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "提醒" in page
    assert ">Reminders<" not in page and "REMINDERS" not in page


@pytest.mark.parametrize("url", ["/admin/audit/change/", "/admin/reminders/reminder/"])
def test_it_translates_the_date_hierarchy_label(admin_client, url):
    page = admin_client.get(url).content.decode()
    assert 'id="date-hierarchy-label">按' in page
    assert "Filter by" not in page


def test_it_words_periods_in_the_active_language():
    with translation.override("zh-hans"):
        assert [Period(2022, m).label for m in (1, 2, 6)] == ["2022年1月", "2022年1—2月", "2022年1—6月"]
    with translation.override("en"):
        assert [Period(2022, m).label for m in (1, 2, 6)] == ["Jan 2022", "Jan–Feb 2022", "Jan–Jun 2022"]


def test_the_english_entry_screen_shows_no_chinese_period(client):
    make_plan(2022)
    city = make_unit("city", name="市经信局", name_en="City bureau")
    make_target(lead_unit=city, code="BZ-1")
    client.force_login(make_user("clerk", unit=city, role=Membership.Role.CLERK))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/admin/targets/progressentry/entry/city/2022-05/").content.decode()
    assert "Monthly entry: City bureau, Jan–May 2022" in page
    assert "年1~" not in page


def test_a_plan_is_named_in_the_active_language():
    plan = make_plan(2022, title_en="2022 work priorities")
    with translation.override("zh-hans"):
        assert str(plan) == "2022年工作要点"
    with translation.override("en"):
        assert str(plan) == "2022 work priorities"
        plan.title_en = ""
        assert str(plan) == "2022年工作要点"
