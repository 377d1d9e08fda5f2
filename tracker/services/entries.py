"""Writing monthly entries: the one path every screen, import and command uses.

`save_entries` validates all rows first and writes all of them or none,
checks unit rights, refuses locked (approved) entries, detects concurrent
edits through `ProgressEntry.version`, and records history for each change.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.targets.models import ProgressEntry, validate_entry_text, validate_entry_values
from tracker.targets.numbers import plain_number

# Fields an entry row may set; anything else in a row is ignored.
EDITABLE = ("value", "comparator", "note", "problems", "is_done", "done_on", "evidence")


@dataclass
class EntryRow:
    target: object
    year: int
    month: int
    values: dict
    # The version the user started editing from; None skips the conflict check
    # (imports and commands, which do not start from a displayed value).
    base_version: int | None = None
    line: int | None = None


@dataclass
class RowError:
    line: int | None
    field: str
    message: str
    target_code: str = ""

    def __str__(self):
        where = _("row %(line)s") % {"line": self.line} if self.line is not None else self.target_code
        return f"{where} {self.field}: {self.message}"


@dataclass
class SaveResult:
    created: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


class SaveFailed(Exception):
    def __init__(self, result):
        super().__init__("; ".join(str(e) for e in result.errors))
        self.result = result


def _normalise(values):
    out = {}
    for key in EDITABLE:
        if key in values:
            v = values[key]
            if key in ("note", "problems") and v is None:
                v = ""
            if isinstance(v, (int, float)) and key in ("value", "comparator") and not isinstance(v, bool):
                v = Decimal(str(v))
            out[key] = v
    return out


def _is_blank(value):
    # Explicit: Decimal("0") and False-y numbers are real figures, not blanks.
    return value is None or value == "" or value is False


def _same(entry, values):
    for key, new in values.items():
        old = getattr(entry, key)
        if key == "evidence":
            # A new upload always counts as a change; so does clearing a stored file.
            if new or (new == "" and old):
                return False
            continue
        if _is_blank(old) and _is_blank(new):
            continue
        if isinstance(old, Decimal) and isinstance(new, Decimal):
            if old.compare(new) != 0:
                return False
        elif old != new:
            return False
    return True


def save_entries(user, rows, source, dry_run=False, today=None):
    """Validate and save entry rows all at once. Returns a SaveResult; writes nothing if it has errors."""
    result = SaveResult()
    try:
        with transaction.atomic():
            _save(user, rows, source, result, today, dry_run)
            if result.errors or dry_run:
                raise _Rollback()
    except _Rollback:
        pass
    except IntegrityError:
        # Someone created one of our new entries between our read and our
        # insert (PostgreSQL waits for their commit, then refuses the duplicate).
        result = SaveResult(errors=_created_meanwhile(rows, result.created))
    return result


def _conflict_message(code, entry):
    who = entry.entered_by.get_username() if entry.entered_by_id else "?"
    return _("%(code)s was changed by %(who)s meanwhile (now %(value)s); reload and try again.") % {
        "code": code, "who": who, "value": plain_number(entry.value) or "—"}


def _created_meanwhile(rows, attempted):
    keys = {(e.target_id, e.year, e.month) for e in attempted}
    found = ProgressEntry.objects.select_related("entered_by").filter(
        target_id__in={k[0] for k in keys}, year__in={k[1] for k in keys}, month__in={k[2] for k in keys})
    found = {(e.target_id, e.year, e.month): e for e in found}
    errors = [RowError(r.line, "value", _conflict_message(r.target.code, found[k]), r.target.code)
              for r in rows if (k := (r.target.pk, r.year, r.month)) in keys and k in found]
    return errors or [RowError(None, "target", _("Someone saved the same entries meanwhile; reload and try again."))]


class _Rollback(Exception):
    pass


def _save(user, rows, source, result, today, dry_run):
    keys = {(r.target.pk, r.year, r.month) for r in rows}
    target_ids = {k[0] for k in keys}
    existing = {}
    if keys:
        qs = ProgressEntry.objects.select_for_update().filter(target_id__in=target_ids)
        for entry in qs.filter(year__in={k[1] for k in keys}, month__in={k[2] for k in keys}):
            existing[(entry.target_id, entry.year, entry.month)] = entry
    # Leaders see every unit but enter figures for none (unless also a clerk somewhere).
    allowed = scoping.edit_unit_ids(user) if user is not None else None
    seen = set()
    now = timezone.now()
    to_create, to_update, history = [], [], []
    for row in rows:
        target = row.target
        code = target.code
        key = (target.pk, row.year, row.month)

        def err(field_name, message, row=row, code=code):
            result.errors.append(RowError(row.line, field_name, str(message), code))

        if key in seen:
            err("target", _("%(code)s appears twice for %(period)s.") % {
                "code": code, "period": f"{row.year}-{row.month:02d}"})
            continue
        seen.add(key)
        if allowed is not None and target.lead_unit_id not in allowed:
            err("target", _("You may not enter figures for %(code)s (another unit's target).") % {"code": code})
            continue
        values = _normalise(row.values)
        if dry_run and values.get("evidence"):
            # A dry run's rollback cannot take a stored file back: carry only the name.
            values["evidence"] = values["evidence"].name
        problems = validate_entry_values(
            target, row.year, row.month, values.get("value"), values.get("comparator"), today
        )
        problems.update(validate_entry_text(values))
        if problems:
            for f, msg in problems.items():
                err(f, msg)
            continue
        entry = existing.get(key)
        if entry is None:
            if all(_is_blank(v) for v in values.values()):
                continue  # an empty row on the entry screen: nothing to create
            entry = ProgressEntry(target=target, year=row.year, month=row.month, entered_by=user, entered_at=now)
            for k, v in values.items():
                setattr(entry, k, v)
            to_create.append(entry)
            result.created.append(entry)
            continue
        entry.target = target
        if row.base_version is not None and entry.version != row.base_version:
            err("value", _conflict_message(code, entry))
            continue
        if _same(entry, values):
            result.unchanged.append(entry)
            continue
        if entry.is_locked:
            err("value", _("%(code)s %(period)s is approved and locked; a reviewer must reopen it first.") % {
                "code": code, "period": f"{row.year}-{row.month:02d}"})
            continue
        before = audit.snapshot(entry)
        for k, v in values.items():
            setattr(entry, k, v)
        entry.entered_by = user
        entry.entered_at = now
        entry.version += 1
        if entry.state == ProgressEntry.State.RETURNED:
            entry.state = ProgressEntry.State.DRAFT
        to_update.append(entry)
        history.append((entry, before))
        result.changed.append(entry)
    if result.errors:
        return
    # Bulk writes keep the query count flat however many rows a form or file holds.
    ProgressEntry.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        evidence = ProgressEntry._meta.get_field("evidence")
        for entry in to_update:
            entry.updated_at = now
            # bulk_update skips FileField.pre_save, which is what stores a new upload.
            evidence.pre_save(entry, add=False)
        # bulk_update's cost grows with rows x fields, so it gets only the fields rows set
        # (a 10,000-row import stays fast); the bookkeeping, alike for every row, is one UPDATE per batch.
        touched = sorted({key for row in rows for key in _normalise(row.values)})
        ProgressEntry.objects.bulk_update(to_update, touched, batch_size=500)
        pks = [entry.pk for entry in to_update]
        for start in range(0, len(pks), 500):
            ProgressEntry.objects.filter(pk__in=pks[start:start + 500]).update(
                entered_by=user, entered_at=now, updated_at=now, version=F("version") + 1,
                state=Case(When(state=ProgressEntry.State.RETURNED, then=Value(ProgressEntry.State.DRAFT)),
                           default=F("state")),
            )
    audit.record_many(
        [(e, user, source, None, None, "") for e in to_create]
        + [(e, user, source, before, None, "") for e, before in history]
    )
