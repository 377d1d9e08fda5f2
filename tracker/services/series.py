"""Writing indicator values (the series): the one path the grid screen and the release import use.

`save_series` checks every row first and writes all of them or none: the writer may change the series, each
value is a plausible figure for a month that has begun, each published rank fits its peer group, and a value
someone changed since the writer saw it (its `version` moved on) is refused with their value, never
overwritten. Every change goes into the history, ranks included.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.accounts import scoping
from tracker.audit import service as audit
from tracker.targets.models import GROWTH_MAX, GROWTH_MIN, PublishedRank, SeriesValue
from tracker.targets.numbers import plain_number
from tracker.targets.period import Period

SOURCE_GRID, SOURCE_IMPORT = "indicator grid", "release import"
# A cleared cell: the stored value (and its ranks) removed. An empty cell of an import leaves them alone.
CLEAR = object()


@dataclass
class SeriesRow:
    indicator: object
    region: object
    year: int
    month: int
    value: object = None  # Decimal, None (leave as it is) or CLEAR
    ranks: dict = field(default_factory=dict)  # PeerGroup -> published rank (None: remove it)
    base_version: int | None = None  # the version the writer saw (0: none stored); None skips the check
    line: int | None = None
    column: str = ""


@dataclass
class SeriesError:
    line: int | None
    column: str
    message: str


@dataclass
class SeriesResult:
    errors: list = field(default_factory=list)
    created: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    stored: dict = field(default_factory=dict)  # (indicator id, region id, month) -> (value, version, ranks)

    @property
    def ok(self):
        return not self.errors


def _ranks_of(values):
    found = {}
    for value_id, group_id, rank in PublishedRank.objects.filter(value__in=values).values_list(
            "value_id", "group_id", "rank"):
        found.setdefault(value_id, {})[group_id] = rank
    return found


def stored_values(rows, lock=False):
    """{(indicator id, region id, year, month): SeriesValue with `.published` {group id: rank}} for the rows."""
    if not rows:
        return {}
    # `of`: the row itself is locked, not the (nullable) person who last changed it.
    qs = SeriesValue.objects.select_for_update(of=("self",)).order_by("pk") if lock else SeriesValue.objects
    qs = qs.select_related("updated_by").filter(
        indicator_id__in={r.indicator.pk for r in rows}, region_id__in={r.region.pk for r in rows},
        year__in={r.year for r in rows}, month__in={r.month for r in rows})
    found = {(v.indicator_id, v.region_id, v.year, v.month): v for v in qs}
    ranks = _ranks_of(list(found.values()))
    for value in found.values():
        value.published = ranks.get(value.pk, {})
    return found


def _check(row, today, sizes):
    errors = []
    if Period(row.year, row.month) > Period.of(today):
        errors.append((row.column, _("The period %(period)s is in the future.") % {
            "period": f"{row.year}-{row.month:02d}"}))
    value = row.value
    if value not in (None, CLEAR) and row.indicator.is_rate and not GROWTH_MIN <= value <= GROWTH_MAX:
        errors.append((row.column, _("A growth rate of %(value)s%% is not plausible (allowed %(min)s to %(max)s).")
                       % {"value": plain_number(value), "min": GROWTH_MIN, "max": GROWTH_MAX}))
    for group, rank in row.ranks.items():
        if rank is None:
            continue
        if row.region.pk not in sizes.get(group.pk, ()):
            errors.append((row.column, _("%(region)s is not in the peer group %(group)s.") % {
                "region": row.region, "group": group}))
        elif not 1 <= rank <= len(sizes[group.pk]):
            errors.append((row.column, _("A rank of %(rank)s does not fit %(group)s, which has %(size)s members.") % {
                "rank": rank, "group": group, "size": len(sizes[group.pk])}))
    return errors


def _members(rows):
    from tracker.targets.models import PeerGroup

    groups = {group.pk for row in rows for group in row.ranks}
    sizes = {}
    for group_id, region_id in PeerGroup.members.through.objects.filter(peergroup_id__in=groups).values_list(
            "peergroup_id", "region_id"):
        sizes.setdefault(group_id, set()).add(region_id)
    return sizes


def save_series(user, rows, source, dry_run=False, today=None):
    """Check and write SeriesRows (all or none); returns a SeriesResult. Never raises for bad input."""
    today = today or timezone.localdate()
    result = SeriesResult()
    if not scoping.can_edit_series(user):
        result.errors.append(SeriesError(None, "", _("You may not change indicator values.")))
        return result
    seen = {}
    sizes = _members(rows)
    for row in rows:
        key = (row.indicator.pk, row.region.pk, row.year, row.month)
        if key in seen:
            result.errors.append(SeriesError(row.line, row.column, _(
                "%(region)s %(indicator)s appears twice (also on line %(line)s).") % {
                "region": row.region, "indicator": row.indicator, "line": seen[key]}))
            continue
        seen[key] = row.line
        result.errors.extend(SeriesError(row.line, column, message) for column, message in _check(row, today, sizes))
    with transaction.atomic():
        stored = stored_values(rows, lock=not dry_run)
        for row in rows:
            current = stored.get((row.indicator.pk, row.region.pk, row.year, row.month))
            version = current.version if current else 0
            if row.base_version is not None and row.base_version != version:
                if current is None:
                    message = _("The value was deleted after you opened it; reload and check it.")
                else:
                    message = _("%(who)s changed this value to %(value)s after you opened it; reload and check "
                                "it.") % {"who": current.updated_by or _("someone"),
                                          "value": plain_number(current.value) or "—"}
                result.errors.append(SeriesError(row.line, row.column, message))
        if result.errors:
            return result
        history = []
        for row in rows:
            current = stored.get((row.indicator.pk, row.region.pk, row.year, row.month))
            old_value = current.value if current else None
            old_ranks = dict(current.published) if current else {}
            new_value = None if row.value is CLEAR else (old_value if row.value is None else row.value)
            new_ranks = {} if row.value is CLEAR else dict(old_ranks)
            for group, rank in row.ranks.items():
                if rank is None:
                    new_ranks.pop(group.pk, None)
                else:
                    new_ranks[group.pk] = rank
            same_value = (old_value is None and new_value is None) or (
                None not in (old_value, new_value) and old_value.compare(new_value) == 0)
            if same_value and new_ranks == old_ranks:
                if current:
                    result.unchanged.append(current)
                continue
            (result.changed if current else result.created).append(row)
            if dry_run:
                continue
            before = audit.snapshot(current) if current else None
            value = current or SeriesValue(indicator=row.indicator, region=row.region, year=row.year,
                                           month=row.month)
            value.value, value.updated_by = new_value, user if getattr(user, "pk", None) else None
            if current:
                value.version += 1
            value.save()
            PublishedRank.objects.filter(value=value).exclude(group_id__in=list(new_ranks)).delete()
            for group_id, rank in new_ranks.items():
                PublishedRank.objects.update_or_create(value=value, group_id=group_id, defaults={"rank": rank})
            changes = audit.diff(before or {}, audit.snapshot(value))
            if new_ranks != old_ranks:
                changes["ranks"] = [{str(k): v for k, v in old_ranks.items()} or None,
                                    {str(k): v for k, v in new_ranks.items()} or None]
            history.append((value, changes, bool(before)))
        for value, changes, updated in history:
            audit.record(value, user, source, action="update" if updated else "create", changes=changes)
    return result
