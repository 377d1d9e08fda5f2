"""QA: 403, 404 and 500 pages speak the user's language instead of Django's bare English defaults."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def county():
    make_plan(2022)
    return make_unit("county", name="谯城区")


@pytest.fixture
def clerk_client(client, county):
    make_target(lead_unit=county, code="QC-1")
    client.force_login(make_user("clerk", unit=county, role=Membership.Role.CLERK))
    return client


def test_it_explains_a_forbidden_admin_page_in_chinese(clerk_client, county):
    # A clerk's target page links their unit, but only administrators may open units.
    response = clerk_client.get(f"/admin/targets/unit/{county.pk}/change/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "无权访问" in page and "请联系管理员" in page
    assert "403 Forbidden" not in page


def test_it_explains_a_missing_target_in_chinese_or_english(clerk_client):
    response = clerk_client.get("/targets/NOPE/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    clerk_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = clerk_client.get("/targets/NOPE/").content.decode()
    assert "Page not found" in page and "页面不存在" not in page


def test_it_renders_the_server_error_page_in_the_active_language():
    with translation.override("zh-hans"):
        page = server_error(RequestFactory().get("/")).content.decode()
    assert "服务器错误" in page and "请稍后重试" in page
    with translation.override("en"):
        assert "Server error" in server_error(RequestFactory().get("/")).content.decode()
