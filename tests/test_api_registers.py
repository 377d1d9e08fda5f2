"""The registers over the API: firms with their lists, projects with their latest month, open coordination items;
scoped like the registers' admin, filtered, read-only, and read in a constant number of queries."""

import datetime

import pytest

from tests.api_helpers import add_firm, add_project, client_for, token_for, two_units
from tracker.registers.models import Listing, Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = two_units()
    for unit in (world["own"], world["other"]):
        world[f"firm_{unit.code}"] = add_firm(unit, f"{unit.code}企业")
        world[f"project_{unit.code}"] = add_project(unit, f"{unit.code}项目")
    return world


def clerk(world):
    return client_for(token_for(world["clerk"])[1])


def test_it_shows_a_clerk_only_their_countys_firms_projects_and_items(world):
    client = clerk(world)
    for path in ("/api/firms/", "/api/projects/", "/api/coordination-items/"):
        rows = client.get(path).json()["results"]
        assert rows and {r["unit"] for r in rows} == {"own-unit"}, path


def test_it_answers_404_for_another_countys_firm_project_or_item(world):
    client = clerk(world)
    other = world["project_other-unit"]
    for path in (f"/api/firms/{world['firm_other-unit'].pk}/", f"/api/projects/{other.pk}/",
                 f"/api/coordination-items/{other.coordinations.first().pk}/"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/api/firms/{world['firm_own-unit'].pk}/").status_code == 200


def test_it_shows_a_leader_every_unit_of_their_organisation(world):
    client = client_for(token_for(world["leader"])[1])
    assert {r["unit"] for r in client.get("/api/firms/").json()["results"]} == {"own-unit", "other-unit"}


def test_it_serves_a_firm_with_its_lists(world):
    firm = world["firm_own-unit"]
    body = clerk(world).get(f"/api/firms/{firm.pk}/").json()
    assert body["credit_code"] == firm.credit_code
    assert [(m["kind"], m["state"], m["expected_month"]) for m in body["listings"]] == [
        ("cultivation", "active", "2022-09")]


def test_it_serves_a_project_with_its_stage_and_latest_month(world):
    body = clerk(world).get(f"/api/projects/{world['project_own-unit'].pk}/").json()
    assert body["stage"] == "started" and body["above_100m"] is True
    assert body["latest_update"]["period"] == "2022-02"
    assert body["latest_update"]["completed_ytd"] == "2.0000"
    bare = add_project(world["own"], "无月报", months=())
    assert clerk(world).get(f"/api/projects/{bare.pk}/").json()["latest_update"] is None


def test_it_lists_only_open_coordination_items(world):
    rows = clerk(world).get("/api/coordination-items/").json()["results"]
    assert [(r["request"], r["solved_on"]) for r in rows] == [("用地指标落实", None)]
    assert rows[0]["project_name"] == "own-unit项目"


def test_it_filters_by_unit_list_stage_and_year(world):
    own = world["own"]
    add_firm(own, "专精特新企业", kind=Listing.Kind.MONITORED)
    add_project(own, "停建项目", stage=Project.Stage.STARTED, signed_on=datetime.date(2021, 5, 1))
    client = client_for(token_for(world["leader"])[1])

    def names(path):
        response = client.get(path)
        assert response.status_code == 200, response.content
        return sorted(r.get("name") or r["project_name"] for r in response.json()["results"])

    assert names("/api/firms/?unit=other-unit") == ["other-unit企业"]
    assert names("/api/firms/?list=monitored") == ["专精特新企业"]
    assert names("/api/projects/?year=2021") == ["停建项目"]
    assert names("/api/projects/?stage=started&unit=own-unit&year=2022") == ["own-unit项目"]
    assert names("/api/projects/?stage=producing") == []
    assert names("/api/coordination-items/?unit=own-unit&year=2021") == []
    assert client.get("/api/firms/?list=nonsense").status_code == 400
    assert client.get("/api/projects/?year=abc").status_code == 400


def test_it_refuses_writes_to_the_registers(world):
    client = clerk(world)
    firm = world["firm_own-unit"]
    assert client.post("/api/firms/", {"name": "x"}, format="json").status_code == 405
    assert client.patch(f"/api/firms/{firm.pk}/", {"name": "x"}, format="json").status_code == 405
    assert client.delete(f"/api/projects/{world['project_own-unit'].pk}/").status_code == 405
    firm.refresh_from_db()
    assert firm.name == "own-unit企业"


@pytest.mark.parametrize("n", [3, 40])
@pytest.mark.parametrize("path", ["/api/firms/", "/api/projects/", "/api/coordination-items/"])
def test_it_reads_the_registers_in_a_constant_number_of_queries(world, django_assert_max_num_queries, n, path):
    for i in range(n):
        unit = world["own"] if i % 2 else world["other"]
        add_firm(unit, f"企业{i}", kind=Listing.Kind.MONITORED)
        add_project(unit, f"项目{i}")
    client = client_for(token_for(world["leader"])[1])
    client.get(path)  # the token's last_used_at is written once a minute: not part of the count
    # 7 whatever n: the token, the leader's scope (2), the count, the page and its prefetch (lists, months).
    with django_assert_max_num_queries(7):
        response = client.get(f"{path}?page_size=100")
        assert response.status_code == 200
    body = response.json()
    assert body["count"] >= n and len(body["results"]) == body["count"]  # every row on the page counted
