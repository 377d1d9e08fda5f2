"""Writing monthly entries: the one path every screen, import and command uses.

`save_entries` validates all rows first and writes all of them or none,
checks unit rights, refuses locked (approved) entries, detects concurrent
edits through `ProgressEntry.version`, and records history for each change.

Soft checks (tracker.targets.checks) run on every row it is about to write. A
row whose figures raise a warning is written only when the row confirms it
(`EntryRow.confirmed`, the "confirm" tick) or explains it (a `warning_note`
different from the one stored); otherwise nothing is written and the
warnings come back as RowWarnings, apart from the errors. A warning already
confirmed on the stored entry needs no new confirmation while the figures
stay as they are. The warnings and the explanation are kept on the entry
(`warnings`, `warning_note`) and so in its history.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.targets import checks
from tracker.targets.models import ProgressEntry, SeriesValue, Target, validate_entry_text, validate_entry_values
from tracker.targets.numbers import plain_number

# Fields an entry row may set; anything else in a row is ignored.
EDITABLE = ("value", "comparator", "note", "problems", "is_done", "done_on", "evidence", "warning_note")
# Written by the soft checks, not by the row.
CHECKED = ("warnings", "warning_note")
# The figure fields: on a computed target (e.g. one backed by a register) only its own source writes them.
FIGURE = ("value", "comparator")

# Higher layers that compute figures register here a callable taking target ids and returning
# {target id: (source, label)} for those whose figure they compute (one query per batch; the ids may be a
# queryset of ids, used as a subquery). A row from
# any other source that would change such a target's figure is refused (no silent overwrite by the
# next computation); its notes stay the row's to write.
COMPUTED_FIGURES = []


def computed_targets(target_ids):
    """{target id: (source, label)} of the targets among `target_ids` (ids, or a queryset of ids) whose figure
    is computed, not typed."""
    found = {}
    for lookup in COMPUTED_FIGURES:
        found.update(lookup(target_ids))
    return found


@dataclass(frozen=True)
class AwaitingComputation:
    """The months of computed targets that have no entry yet: `(target id, year, month) in awaiting`.

    Such a month is not a clerk's missing figure (only the computation writes it: the entry screen shows the
    row read-only), so the entry screen, the completeness page and the reminders do not chase anyone for it;
    it is not reported either, and the report judges it as any month without a figure (no data).
    """

    targets: frozenset = frozenset()
    stored: frozenset = frozenset()

    def __contains__(self, key):
        return key[0] in self.targets and key not in self.stored


def awaiting_computation(target_ids, years=None):
    """The AwaitingComputation of `target_ids` (two queries; none when no figure is computed here)."""
    computed = frozenset(computed_targets(target_ids))
    if not computed:
        return AwaitingComputation()
    entries = ProgressEntry.objects.filter(target_id__in=computed)
    if years is not None:
        entries = entries.filter(year__in=years)
    return AwaitingComputation(computed, frozenset(entries.values_list("target_id", "year", "month")))


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
    # The person confirmed the figures despite the soft checks' warnings (the "confirm" tick).
    confirmed: bool = False


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
class RowWarning:
    """A soft check the row's figures failed and the row neither confirmed nor explained."""

    line: int | None
    code: str
    message: str
    target_code: str = ""

    def __str__(self):
        where = _("row %(line)s") % {"line": self.line} if self.line is not None else self.target_code
        return f"{where}: {self.message}"


@dataclass
class SaveResult:
    created: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # RowWarnings: nothing is written while there are any

    @property
    def ok(self):
        return not self.errors and not self.warnings


class SaveFailed(Exception):
    def __init__(self, result):
        super().__init__("; ".join(str(e) for e in result.errors + result.warnings))
        self.result = result


def _normalise(values):
    out = {}
    for key in EDITABLE:
        if key in values:
            v = values[key]
            if key in ("note", "problems", "warning_note") and v is None:
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
    """Validate, check and save entry rows all at once.

    Returns a SaveResult; writes nothing if it has errors or unconfirmed warnings.
    """
    result = SaveResult()
    try:
        with transaction.atomic():
            _save(user, rows, source, result, today, dry_run)
            if not result.ok or dry_run:
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


class _Earlier:
    """The latest earlier figure of a target's year, as the soft checks read it."""

    __slots__ = ("value", "month")

    def __init__(self, value, month):
        self.value, self.month = value, month


class _CheckContext:
    """What the soft checks need for a batch of rows, in at most two queries whatever the number of rows.

    Earlier figures of the year and other targets' comparators of the same series and month come from
    the database, overlaid with the batch's own rows (an import may hold 1—6月 and 1—7月 together).
    Returned figures do not count: the reviewer judged them wrong.
    """

    def __init__(self, rows, existing):
        self.rows, self.existing = rows, existing
        self.loaded = False
        self.earlier = {}  # (target id, year) -> {month: value}
        self.series = {}  # (comparator series, year, month) -> {target id: (code, comparator)}
        self.by_value = {}  # the same, grouped: (series, year, month) -> {comparator: {target id: code}}
        self.province = {}  # (indicator id, region id, year, month) -> value, for targets following a series

    def _load(self):
        """Loaded when a row first needs it: a batch of unchanged rows costs no query."""
        self.loaded = True
        rows, existing = self.rows, self.existing
        checked = [r for r in rows if checks.is_checked(r.target)]
        if not checked:
            return
        returned = ProgressEntry.State.RETURNED
        last = max(r.month for r in checked)
        earlier = ProgressEntry.objects.filter(
            target_id__in={r.target.pk for r in checked}, year__in={r.year for r in checked}, month__lt=last,
            value__isnull=False,
        ).exclude(state=returned)
        for target_id, year, month, value in earlier.values_list("target_id", "year", "month", "value"):
            self.earlier.setdefault((target_id, year), {})[month] = value
        linked = [r for r in checked if r.target.kind == Target.Kind.MARGIN and r.target.comparator_from_series]
        if linked:
            found = SeriesValue.objects.filter(
                indicator_id__in={r.target.series_indicator_id for r in linked},
                region_id__in={r.target.comparator_region_id for r in linked},
                year__in={r.year for r in linked}, value__isnull=False)
            for indicator_id, region_id, year, month, value in found.values_list(
                    "indicator_id", "region_id", "year", "month", "value"):
                self.province[(indicator_id, region_id, year, month)] = value
        margins = [r for r in checked if r.target.kind == Target.Kind.MARGIN and r.target.comparator_name
                   and not r.target.comparator_from_series]
        if margins:
            names = {r.target.comparator_name for r in margins}
            same_series = ProgressEntry.objects.filter(
                target__kind=Target.Kind.MARGIN, target__comparator_name__in=names,
                year__in={r.year for r in margins}, month__in={r.month for r in margins}, comparator__isnull=False,
            ).exclude(state=returned)
            for target_id, code, name, year, month, comparator in same_series.values_list(
                "target_id", "target__code", "target__comparator_name", "year", "month", "comparator"
            ):
                self.series.setdefault((name, year, month), {})[target_id] = (code, comparator)
        for row in checked:
            values = _normalise(row.values)
            target = row.target
            entry = existing.get((target.pk, row.year, row.month))
            value = values["value"] if "value" in values else getattr(entry, "value", None)
            months = self.earlier.setdefault((target.pk, row.year), {})
            if value is None:
                months.pop(row.month, None)
            else:
                months[row.month] = value
            if target.kind == Target.Kind.MARGIN and target.comparator_name and not target.comparator_from_series:
                comparator = values["comparator"] if "comparator" in values else getattr(entry, "comparator", None)
                same = self.series.setdefault((target.comparator_name, row.year, row.month), {})
                if comparator is None:
                    same.pop(target.pk, None)
                else:
                    same[target.pk] = (target.code, comparator)
        # Grouped by value: a row's differing comparators are found without walking the whole series
        # (a plan may have hundreds of targets above the same provincial figure).
        for key, same in self.series.items():
            grouped = self.by_value.setdefault(key, {})
            for target_id, (code, comparator) in same.items():
                grouped.setdefault(comparator, {})[target_id] = code

    def previous(self, row):
        if not self.loaded:
            self._load()
        months = self.earlier.get((row.target.pk, row.year), {})
        before = [m for m in months if m < row.month]
        return _Earlier(months[max(before)], max(before)) if before else None

    def series_comparator(self, row):
        """The province's figure of the row's month, for a margin target following a series (None if missing)."""
        if not self.loaded:
            self._load()
        t = row.target
        return self.province.get((t.series_indicator_id, t.comparator_region_id, row.year, row.month))

    def others(self, row, comparator):
        """(code, comparator) of the other targets of the row's series and month whose comparator differs."""
        if not self.loaded:
            self._load()
        grouped = self.by_value.get((row.target.comparator_name, row.year, row.month), {})
        return [(code, value) for value, codes in grouped.items() if value != comparator
                for target_id, code in codes.items() if target_id != row.target.pk]


def _types_figure(entry, values):
    """The row would set a figure other than the stored one (a blank row over no entry sets none)."""
    typed = {k: v for k, v in values.items() if k in FIGURE}
    if entry is None:
        return any(not _is_blank(v) for v in typed.values())
    return not _same(entry, typed)


def _unchanged(entry, values):
    if not _same(entry, {k: v for k, v in values.items() if k != "warning_note"}):
        return False
    # An explanation counts only where the entry has warnings to explain.
    return not entry.warnings or "warning_note" not in values or _same(entry, {"warning_note": values["warning_note"]})


def _soft_checks(row, entry, values, context, result):
    """The warnings and explanation to store for the row; unconfirmed warnings go to result.warnings."""
    target = row.target
    value = values["value"] if "value" in values else getattr(entry, "value", None)
    comparator = values["comparator"] if "comparator" in values else getattr(entry, "comparator", None)
    found = []
    if checks.is_checked(target):
        if target.kind == Target.Kind.MARGIN and target.comparator_from_series:
            # One province figure for every target of the series: only how far the rate is from the aim.
            found = checks.check_entry(target, value, context.series_comparator(row), context.previous(row), ())
        else:
            others = (context.others(row, comparator) if target.kind == Target.Kind.MARGIN and comparator is not None
                      else ())
            found = checks.check_entry(target, value, comparator, context.previous(row), others)
    if not found:
        return {"warnings": [], "warning_note": ""}
    stored_note = (getattr(entry, "warning_note", "") or "").strip()
    note = (values.get("warning_note", stored_note) or "").strip()
    # Confirmed before, for these very figures: the stored warnings hold while the figures stay.
    kept = entry is not None and _same(entry, {"value": value, "comparator": comparator})
    confirmed_before = {w.get("code") for w in (entry.warnings or []) if isinstance(w, dict)} if kept else set()
    pending = [w for w in found if w.code not in confirmed_before]
    explained = "warning_note" in values and note and note != stored_note
    if pending and not (row.confirmed or explained):
        result.warnings.extend(RowWarning(row.line, w.code, w.message, target.code) for w in pending)
    return {"warnings": [w.as_dict() for w in found], "warning_note": note}


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
    context = _CheckContext(rows, existing)
    computed = computed_targets(target_ids) if target_ids else {}
    checked_changed = []  # updated entries whose warnings or explanation change: few, written apart
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
        if key[0] in computed and computed[key[0]][0] != source and _types_figure(entry, values):
            err("value", _("The figure of %(code)s is computed automatically from %(register)s; it cannot be "
                           "entered by hand (notes may still be).") % {"code": code, "register": computed[key[0]][1]})
            continue
        if entry is None:
            if all(_is_blank(v) for k, v in values.items() if k != "warning_note"):
                continue  # an empty row on the entry screen: nothing to create
        else:
            entry.target = target
            if row.base_version is not None and entry.version != row.base_version:
                err("value", _conflict_message(code, entry))
                continue
            if _unchanged(entry, values):
                result.unchanged.append(entry)
                continue
            if entry.is_locked:
                err("value", _("%(code)s %(period)s is approved and locked; a reviewer must reopen it first.") % {
                    "code": code, "period": f"{row.year}-{row.month:02d}"})
                continue
        # A row with unconfirmed warnings is still sorted into created or changed (a preview shows what
        # it would do), but nothing is written.
        values.update(_soft_checks(row, entry, values, context, result))
        if entry is None:
            entry = ProgressEntry(target=target, year=row.year, month=row.month, entered_by=user, entered_at=now)
            for k, v in values.items():
                setattr(entry, k, v)
            to_create.append(entry)
            result.created.append(entry)
            continue
        before = audit.snapshot(entry)
        if any(before.get(name) != values[name] for name in CHECKED):
            checked_changed.append(entry)
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
    if not result.ok:
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
        touched = sorted({key for row in rows for key in _normalise(row.values)} - set(CHECKED))
        if touched:
            ProgressEntry.objects.bulk_update(to_update, touched, batch_size=500)
        if checked_changed:
            ProgressEntry.objects.bulk_update(checked_changed, CHECKED, batch_size=500)
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
