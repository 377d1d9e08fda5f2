"""QA: garbage in admin URL parameters gives the admin's "bad lookup" redirect, never a 500."""

import pytest

from tests.factories import make_entry, make_plan, make_target, make_unit, make_user
from tracker.accounts.models import Membership

pytestmark = pytest.mark.django_db
URL = "/admin/targets/progressentry/"


@pytest.fixture
def admin_client(client):
    make_plan(2022)
    city = make_unit("city", name="市经信局")
    make_entry(make_target(lead_unit=city), 3, value=5)
    client.force_login(make_user("boss", unit=city, role=Membership.Role.ADMIN))
    return client


@pytest.mark.parametrize("query", ["year=abc", "year=1e30", "month=abc", "month=%C2%B2", "year=2022&month=x"])
def test_it_redirects_a_non_numeric_year_or_month_filter_to_the_error_flag(admin_client, query):
    response = admin_client.get(f"{URL}?{query}")
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?e=1"


def test_it_still_filters_entries_by_year_and_month(admin_client):
    assert admin_client.get(f"{URL}?year=2022&month=3").context["cl"].result_count == 1
    assert admin_client.get(f"{URL}?year=2022&month=4").context["cl"].result_count == 0
    assert admin_client.get(f"{URL}?year=99999999999999999999").context["cl"].result_count == 0
