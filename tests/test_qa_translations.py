"""QA: the Chinese admin shows no English captions of ours (app names, Django 6.1 strings its catalogue lacks)."""

import pytest
from django.apps import apps
from django.utils import translation

from tests.factories import make_plan, make_unit, make_user
from tracker.accounts.models import Membership

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
