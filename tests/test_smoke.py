from decimal import Decimal

import pytest

from tests.factories import make_target, make_unit, make_user
from tracker.services.entries import EntryRow, save_entries
from tracker.targets.models import ProgressEntry, Target

pytestmark = pytest.mark.django_db


def test_it_saves_a_row_and_records_history():
    unit = make_unit()
    target = make_target(Target.Kind.CUMULATIVE, lead_unit=unit)
    clerk = make_user(unit=unit)
    result = save_entries(clerk, [EntryRow(target, 2022, 3, {"value": Decimal("12")})], "test",
                          today=__import__("datetime").date(2022, 4, 5))
    assert result.ok, result.errors
    entry = ProgressEntry.objects.get()
    assert entry.value == 12
    from tracker.audit.models import Change
    assert Change.objects.get().changes["value"] == [None, "12"]


def test_it_refuses_another_units_target():
    target = make_target(Target.Kind.CUMULATIVE)
    clerk = make_user(unit=make_unit())
    result = save_entries(clerk, [EntryRow(target, 2022, 3, {"value": Decimal("1")})], "test",
                          today=__import__("datetime").date(2022, 4, 5))
    assert not result.ok
    assert ProgressEntry.objects.count() == 0


def test_it_captures_mail_in_tests(mailoutbox):
    from django.core import mail
    mail.send_mail("s", "b", "a@example.com", ["b@example.com"])
    assert len(mailoutbox) == 1


def test_it_keeps_a_zero_figure():
    import datetime
    unit = make_unit()
    target = make_target(Target.Kind.CUMULATIVE, lead_unit=unit)
    clerk = make_user(unit=unit)
    today = datetime.date(2022, 4, 5)
    assert save_entries(clerk, [EntryRow(target, 2022, 3, {"value": Decimal("0")})], "t", today=today).created
    entry = ProgressEntry.objects.get()
    assert entry.value == 0
    result = save_entries(clerk, [EntryRow(target, 2022, 3, {"value": None})], "t", today=today)
    assert result.changed and ProgressEntry.objects.get().value is None
