"""ENTRY_TEXT_MAX_CHARS: an overlong progress note or problems text is refused on every write path
(save_entries, hence the admin form and the entry screen, as a form error), and nothing is written.
Imports: tests/test_import_limits.py."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.audit.models import Change
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def short_limit(settings):
    settings.ENTRY_TEXT_MAX_CHARS = 10


@pytest.fixture
def unit():
    return make_unit("econ", name="经济运行科")


@pytest.fixture
def target(unit):
    return make_target(Target.Kind.CUMULATIVE, code="E-1", lead_unit=unit)


@pytest.fixture
def clerk(unit):
    return make_user("clerk", unit=unit)


def test_save_entries_refuses_a_note_or_problems_text_over_the_limit(target, clerk):
    with translation.override("en"):
        result = save_entries(clerk, [EntryRow(target, 2022, 3, {"value": Decimal("1"), "note": "x" * 11,
                                                                  "problems": "y" * 12})], "test")
    assert {(e.field, e.message) for e in result.errors} == {
        ("note", "This text has 11 characters; at most 10 are allowed."),
        ("problems", "This text has 12 characters; at most 10 are allowed."),
    }
    assert not ProgressEntry.objects.exists() and not Change.objects.exists()


def test_save_entries_accepts_a_text_of_exactly_the_limit(target, clerk):
    result = save_entries(clerk, [EntryRow(target, 2022, 3, {"value": Decimal("1"), "note": "进" * 10})], "test")
    assert result.ok
    assert ProgressEntry.objects.get().note == "进" * 10


def test_the_admin_form_shows_the_limit_as_a_field_error(client, target, clerk):
    client.force_login(clerk)
    response = client.post(reverse("admin:targets_progressentry_add"), {
        "target": target.pk, "year": "2022", "month": "3", "value": "12", "note": "长" * 11})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["note"] == ["该文本有 11 个字符，最多允许 10 个。"]
    assert not ProgressEntry.objects.exists()


def test_the_entry_screen_shows_the_limit_on_the_row_and_saves_nothing(client, unit, target, clerk):
    entry = make_entry(target, 3, Decimal("5"))
    client.force_login(clerk)
    url = reverse("admin:targets_progressentry_entry", args=[unit.code, "2022-03"])
    page = client.get(url)
    form = next(r.form for _s, rows in page.context["sections"] for r in rows if r.target == target)
    response = client.post(url, {form["version"].html_name: str(entry.version), form["value"].html_name: "6",
                                 form["note"].html_name: "问" * 11, form["problems"].html_name: ""})
    assert response.status_code == 200
    posted = next(r.form for _s, rows in response.context["sections"] for r in rows if r.target == target)
    assert posted.errors["note"] == ["该文本有 11 个字符，最多允许 10 个。"]
    entry.refresh_from_db()
    assert (entry.value, entry.note) == (Decimal("5"), "")

