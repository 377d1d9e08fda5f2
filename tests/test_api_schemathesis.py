"""Schemathesis, from its own reading of the live OpenAPI schema, calls every operation as a clerk and as a leader.

Checks: no server error, every response matches the schema (status codes it documents, content type), and no
response holds a row of a unit the token's owner does not see; no write lands outside the owner's units.
Deterministic (derandomised) and bounded (MAX_EXAMPLES per operation).
"""

import json
from decimal import Decimal

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, Phase
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.api_helpers import add_firm, add_project, token_for, two_units, with_series
from tests.factories import make_entry
from tracker.accounts import scoping
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry, Unit

pytestmark = pytest.mark.django_db(transaction=False)
MAX_EXAMPLES = 20
UNIT_KEYS = ("unit", "lead_unit", "unit_code")


def _unit_codes(body):
    """Every unit code a response names for a row (an entry, a target, a report or completeness row)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key in UNIT_KEYS and isinstance(value, str):
                yield value
            else:
                yield from _unit_codes(value)
    elif isinstance(body, list):
        for item in body:
            yield from _unit_codes(item)


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _check(case, response, visible_codes):
    case.validate_response(response, checks=CHECKS)
    if response.headers.get("Content-Type", [""])[0].startswith("application/json") and response.content:
        leaked = set(_unit_codes(json.loads(response.content))) - visible_codes
        assert not leaked, f"{case.method} {case.formatted_path} showed rows of {leaked}"


def _run(schema, key, visible_codes):
    headers = {"Authorization": f"Token {key}"}
    seen = []

    def check_case(case):
        response = case.call(headers=headers)
        _check(case, response, visible_codes)
        seen.append(response.status_code)

    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                             phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck))
        @hypothesis.given(case=operation.as_strategy())
        def test(case):
            check_case(case)

        test()
    return seen


@pytest.fixture
def api_schema(settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # Called as a WSGI app (not through Django's test client), each request would end by closing the database
    # connection, and with it the test's transaction on PostgreSQL: keep it open, as the test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world():
    world = two_units(targets_each=3)
    for unit_targets in world["targets"].values():
        make_entry(unit_targets[0], 3, Decimal("5"))
    with_series(world["targets"]["own-unit"][0])  # indicators, regions, series values with ranks, a report gap
    for unit in (world["own"], world["other"]):  # register rows on both sides, for the cross-unit check
        add_firm(unit, f"{unit.code}企业")
        add_project(unit, f"{unit.code}项目")
    return world


@override_settings(API_RATE_LIMIT="")
@pytest.mark.parametrize("who", ["clerk", "leader"])
def test_it_passes_schemathesis_without_errors_or_cross_unit_rows(api_schema, world, who):
    user = world[who]
    _, key = token_for(user)
    visible = set(scoping.visible_units(user).values_list("code", flat=True))
    statuses = _run(api_schema, key, visible)
    assert len(statuses) >= MAX_EXAMPLES * 5 and 500 not in statuses
    # Writes: only ever to the owner's own units' targets, and never by a leader (who edits nothing).
    editable = scoping.edit_unit_ids(user)
    written = set(ProgressEntry.objects.filter(entered_by=user).values_list("target__lead_unit_id", flat=True))
    assert written <= (editable if editable is not None else set(Unit.objects.values_list("pk", flat=True)))
    if who == "leader":
        assert not Change.objects.filter(user=user).exists()
    else:
        assert not Change.objects.filter(user=user).exclude(unit_id__in=editable).exists()


@override_settings(API_RATE_LIMIT="")
@pytest.mark.parametrize("who", ["clerk", "leader"])
def test_it_passes_schemathesis_stateful_sequences(api_schema, world, who):
    """Sequences along the links Schemathesis infers (a list, then an item it named, then a change to it)."""
    user = world[who]
    _, key = token_for(user)
    visible = set(scoping.visible_units(user).values_list("code", flat=True))
    statuses = []

    class Machine(api_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {key}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            _check(case, response, visible)
            statuses.append(response.status_code)

    Machine.run(settings=hypothesis.settings(max_examples=8, stateful_step_count=4, deadline=None,
                                             derandomize=True, database=None,
                                             suppress_health_check=list(HealthCheck)))
    assert statuses and 500 not in statuses
    if who == "leader":
        assert not Change.objects.filter(user=user).exists()
    else:
        assert not Change.objects.filter(user=user).exclude(unit_id__in=scoping.edit_unit_ids(user)).exists()
