"""Snapshot a row before a write and record what changed."""

import contextvars
import datetime
import json
from decimal import Decimal

from django.db import connection
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from tracker.audit.models import Change
from tracker.targets.numbers import plain_number

# Fields that change on every save and say nothing about the content.
IGNORED = {"updated_at", "version"}
# The API token of the request being served, (id, label), or None: every history row written meanwhile names it.
_token = contextvars.ContextVar("audit_token", default=None)


def set_token(token_id, label):
    """Until `unset(returned value)`, every history row written records that it came through this API token."""
    return _token.set((token_id, label[:130]))


def unset(reset):
    _token.reset(reset)


def _token_fields():
    current = _token.get()
    return {"token_id": current[0], "token": current[1]} if current else {}


def _plain(value):
    if isinstance(value, Decimal):
        return plain_number(value)  # 10.0000 -> "10" (not "1E+1"), 12.50 -> "12.5"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def snapshot(obj):
    """The audited field values of a model instance, as JSON-friendly values."""
    if obj is None or obj.pk is None:
        return {}
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in IGNORED or field.primary_key:
            continue
        data[field.attname] = _plain(getattr(obj, field.attname))
    return data


def diff(before, after):
    if not before:  # a new row (the common case of a bulk write): every field set
        return {k: [None, after[k]] for k in sorted(after) if after[k] is not None}
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def owner_unit_id(obj):
    """The unit that owns the row: a target's lead unit, or the lead unit of an entry's target.

    A model of a higher app names its owner unit with an `audit_unit_id` property (the registers' rows).
    """
    if hasattr(obj, "audit_unit_id"):
        return obj.audit_unit_id
    if hasattr(obj, "lead_unit_id"):
        return obj.lead_unit_id
    return getattr(getattr(obj, "target", None), "lead_unit_id", None)


def record(obj, user, source, before=None, action=None, reason="", changes=None):
    """Write one history row for `obj`; returns None when nothing changed."""
    after = snapshot(obj)
    if changes is None:
        changes = diff(before or {}, after)
    if action is None:
        action = Change.Action.UPDATE if before else Change.Action.CREATE
    if not changes and action == Change.Action.UPDATE:
        return None
    return Change.objects.create(
        model=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        unit_id=owner_unit_id(obj),
        action=action,
        user=user if getattr(user, "pk", None) else None,
        source=source,
        changes=changes,
        reason=reason,
        **_token_fields(),
    )


def record_many(rows):
    """Bulk variant: rows of (obj, user, source, before, action, reason). Returns how many rows were written.

    On PostgreSQL the rows go in with COPY (a 10,000-row register import writes 20,000 of them: building a model
    instance and binding each value through the ORM cost more than the import's own checks); elsewhere through
    bulk_create. Either way they are written in the caller's transaction, all or none.
    """
    token = _token_fields()
    now = timezone.now()
    found = []
    for obj, user, source, before, action, reason in rows:
        delta = diff(before or {}, snapshot(obj))
        action = action or (Change.Action.UPDATE if before else Change.Action.CREATE)
        if not delta and action == Change.Action.UPDATE:
            continue
        found.append({
            "model": obj._meta.label_lower, "object_id": str(obj.pk), "object_repr": str(obj)[:200],
            "unit_id": owner_unit_id(obj), "action": action, "user_id": user.pk if getattr(user, "pk", None) else None,
            "source": source, "changes": delta, "reason": reason, "token_id": None, "token": "", **token, "at": now,
        })
    if not found:
        return 0
    if connection.vendor == "postgresql":
        _copy(found)
    else:
        Change.objects.bulk_create([Change(**values) for values in found], batch_size=500)
    return len(found)


COPIED = ("model", "object_id", "object_repr", "unit_id", "action", "user_id", "source", "changes", "reason",
          "token_id", "token", "at")


def _copy(found):
    """Write history rows with PostgreSQL's COPY (the JSON as Django's JSONField would encode it)."""
    encode = Change._meta.get_field("changes").encoder
    columns = ", ".join(connection.ops.quote_name(Change._meta.get_field(name).column) for name in COPIED)
    table = connection.ops.quote_name(Change._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for values in found:
            values["changes"] = json.dumps(values["changes"], cls=encode)
            copy.write_row([values[name] for name in COPIED])
