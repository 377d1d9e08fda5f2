"""Builders for the API tests: units, targets, people and their tokens."""

from rest_framework.test import APIClient

from tests.factories import make_section, make_target, make_unit, make_user
from tracker.accounts.models import Membership
from tracker.api.models import ApiToken


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
