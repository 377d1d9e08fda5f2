"""The bulk history writer (audit.record_many) writes the same rows as the one-row writer, on every database (on
PostgreSQL it uses COPY): who, which path, the owner unit, the token, the JSON of old and new values, the time;
and inside the caller's transaction, so a failed import leaves no history behind."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from tests.factories import make_entry, make_target, make_unit, make_user
from tracker.audit import service as audit
from tracker.audit.models import Change
from tracker.registers.models import Firm

pytestmark = pytest.mark.django_db
FIELDS = (
    "model",
    "object_id",
    "object_repr",
    "unit_id",
    "action",
    "user_id",
    "source",
    "changes",
    "reason",
    "token_id",
    "token",
)


def row(change):
    return {name: getattr(change, name) for name in FIELDS}


def test_it_writes_the_same_history_in_bulk_as_one_row_at_a_time():
    unit = make_unit("guoyang", name="涡阳县")
    user = make_user("clerk", unit=unit)
    firm = Firm.objects.create(
        name="涡阳“示例”药业\\有限公司", credit_code="914403001922038216", unit=unit, contact_person="张三\t李四"
    )
    entry = make_entry(make_target(lead_unit=unit), 3, Decimal("12.50"))
    before = audit.snapshot(entry)
    entry.value, entry.done_on = Decimal("13"), datetime.date(2022, 3, 31)
    reset = audit.set_token(7, "robot (tt_abc)")
    try:
        one = [audit.record(firm, user, "import"), audit.record(entry, None, "api", before, reason="改正")]
        start = Change.objects.count()
        assert (
            audit.record_many(
                [
                    (firm, user, "import", None, None, ""),
                    (entry, None, "api", before, None, "改正"),
                    (entry, None, "api", audit.snapshot(entry), None, ""),
                ]
            )
            == 2
        )  # unchanged: none
    finally:
        audit.unset(reset)
    bulk = list(Change.objects.order_by("pk")[start:])
    assert [row(c) for c in bulk] == [row(c) for c in one]
    assert bulk[0].changes["name"] == [None, "涡阳“示例”药业\\有限公司"]
    assert bulk[1].changes == {"done_on": [None, "2022-03-31"], "value": ["12.5", "13"]}
    assert (bulk[1].token_id, bulk[1].token, bulk[0].user_id) == (7, "robot (tt_abc)", user.pk)
    assert all(c.at is not None and abs((c.at - one[0].at).total_seconds()) < 60 for c in bulk)


def test_it_writes_no_history_when_the_callers_transaction_fails():
    unit = make_unit("lixin")
    firm = Firm.objects.create(name="利辛企业", credit_code="91440300708461136T", unit=unit)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record_many([(firm, None, "import", None, None, "")])
        raise RuntimeError("the import failed after writing its history")
    assert not Change.objects.filter(object_id=str(firm.pk)).exists()
