"""Builders for the API tests: units, targets, people and their tokens, register rows."""

import datetime
from decimal import Decimal
from itertools import count

from rest_framework.test import APIClient

from tests.factories import make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.api.models import ApiToken
from tracker.registers.demo import credit_code
from tracker.registers.models import Coordination, Firm, Listing, Project, ProjectUpdate
from tracker.targets.models import Indicator, PeerGroup, PublishedRank, Region, SeriesValue


def token_for(user, read_only=False, **kw):
    token = ApiToken(user=user, name=kw.pop("name", "test"), read_only=read_only, **kw)
    key = token.set_new_key()
    token.save()
    return token, key


def client_for(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def two_units(targets_each=2):
    """Two units with a clerk each, a leader, and `targets_each` targets per unit."""
    section = make_section()
    own, other = make_unit("own-unit"), make_unit("other-unit")
    targets = {
        unit.code: [make_target(section=section, lead_unit=unit) for _ in range(targets_each)] for unit in (own, other)
    }
    clerk = make_user("api_clerk", unit=own, role=Membership.Role.CLERK)
    leader = make_user("api_leader", unit=own, role=Membership.Role.LEADER)
    other_clerk = make_user("api_other_clerk", unit=other, role=Membership.Role.CLERK)
    return {"own": own, "other": other, "targets": targets, "clerk": clerk, "leader": leader,
            "other_clerk": other_clerk}


def with_series(target, year=2022, month=3):
    """Three cities in a peer group with the province, an indicator's values and a published rank; `target`
    (a growth rate) follows the first city's series, so that its report row has a gap and places."""
    province = Region.objects.create(code="api-province", name="全省", kind=Region.Kind.PROVINCE)
    cities = [Region.objects.create(code=f"api-city-{n}", name=f"城市{n}") for n in range(3)]
    group = PeerGroup.objects.create(code="api-all", name="全省", province=province)
    group.members.set(cities)
    indicator = Indicator.objects.create(code="api-growth", name="工业投资增速")
    for region, value in zip([province, *cities], ["2", "5", "3", "4"], strict=True):
        stored = SeriesValue.objects.create(indicator=indicator, region=region, year=year, month=month, value=value)
        if region == cities[0]:
            PublishedRank.objects.create(value=stored, group=group, rank=2)
    target.kind, target.series_indicator, target.series_region, target.comparator_region = (
        "growth", indicator, cities[0], province)
    target.save()
    return indicator


DAY = datetime.date(2022, 3, 1)
_serial = count(1)


def add_firm(unit, name="企业", kind=Listing.Kind.CULTIVATION):
    """A firm of `unit` in one list (joined in March 2022)."""
    firm = Firm.objects.create(name=name, credit_code=credit_code("341600", next(_serial)), unit=unit)
    Listing.objects.create(firm=firm, kind=kind, joined_on=DAY, expected_month="2022-09")
    return firm


def add_project(unit, name="项目", stage=Project.Stage.STARTED, signed_on=DAY, months=(1, 2)):
    """A project of `unit` with a monthly update per month of 2022 in `months`, one open and one solved item."""
    project = Project.objects.create(name=name, unit=unit, kind=Project.Kind.NEW, total_investment=Decimal("2"),
                                     stage=stage, signed_on=signed_on, started_on=DAY)
    for month in months:
        ProjectUpdate.objects.create(project=project, year=2022, month=month, stage=stage,
                                     completed_ytd=Decimal(month), progress=f"第{month}月")
    Coordination.objects.create(project=project, raised_on=DAY, request="用地指标落实")
    Coordination.objects.create(project=project, raised_on=DAY, request="已解决", solved_on=DAY)
    return project
