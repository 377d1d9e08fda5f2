"""QA: the history list speaks the user's language: sources and kinds of rows in words, not raw keys."""

from decimal import Decimal

import pytest

from tests.factories import make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.services.entries import EntryRow, save_entries

pytestmark = pytest.mark.django_db
URL = "/admin/audit/change/"


@pytest.fixture
def admin_client(client):
    make_plan(2022)
    city = make_unit("city", name="市经信局")
    target = make_target(lead_unit=city, code="BZ-1")
    boss = make_user("boss", unit=city, role=Membership.Role.ADMIN)
    assert save_entries(boss, [EntryRow(target, 2022, 3, {"value": Decimal("5")}, 0)], "entry_screen").ok
    client.force_login(boss)
    return client


def test_it_shows_sources_and_row_kinds_in_chinese(admin_client):
    response = admin_client.get(URL)
    page = response.content.decode()
    # The filters and the rows use words: 月度填报页面 / 月度数据, never entry_screen / targets.progressentry.
    assert "月度填报页面" in page and "导入" in page
    assert '<td class="field-shown_model">月度数据</td>' in page
    assert "entry_screen" not in page.replace("?source=entry_screen", "")
    assert ">targets.progressentry<" not in page


def test_it_filters_by_source_and_by_kind_of_row(admin_client):
    assert admin_client.get(URL, {"source": "entry_screen"}).context["cl"].result_count == 1
    assert admin_client.get(URL, {"source": "import"}).context["cl"].result_count == 0
    assert admin_client.get(URL, {"model": "targets.progressentry"}).context["cl"].result_count == 1
    assert admin_client.get(URL, {"model": "targets.target"}).context["cl"].result_count == 0
    assert Change.objects.count() == 1


def test_it_offers_the_kinds_of_rows_that_keep_history(admin_client):
    page = admin_client.get(URL).content.decode()
    for name in ("?model=targets.progressentry", "?model=targets.target", "?model=targets.monthlyplanpoint"):
        assert name in page
    assert "?model=audit.change" not in page
