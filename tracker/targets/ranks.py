"""Places among peers, as bulletins write them ("居全省第9位"): ties share a place, the next skips (1, 2, 2, 4).

A published rank is a figure as printed and is never replaced; a rank is computed only where every member of
the peer group has a value, and shown beside the published one when they differ.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def competition_ranks(values, higher_is_better=True):
    """{key: place} for {key: value}; a key whose value is None gets no place."""
    present = [(key, value) for key, value in values.items() if value is not None]
    present.sort(key=lambda item: item[1], reverse=higher_is_better)
    places, previous, place = {}, object(), 0
    for index, (key, value) in enumerate(present, start=1):
        if value != previous:
            place, previous = index, value
        places[key] = place
    return places


@dataclass(frozen=True)
class Place:
    """A region's place in a peer group for one indicator and month: published (as printed) and computed."""

    group_id: int
    group: str  # the group as a bulletin names it (全省, 皖北)
    published: int | None
    computed: int | None  # None unless every member of the group has a value
    size: int

    @property
    def shown(self):
        return self.published if self.published is not None else self.computed

    @property
    def differs(self):
        return None not in (self.published, self.computed) and self.published != self.computed

    def text(self):
        """全省第9位; a computed place that differs follows in brackets; a computed one alone says so."""
        if self.shown is None:
            return ""
        values = {"group": self.group, "rank": self.shown}
        if self.published is None:
            return _("%(group)s: no. %(rank)s (computed)") % values
        text = _("%(group)s: no. %(rank)s") % values
        if self.differs:
            text += _(" (computed: no. %(rank)s)") % {"rank": self.computed}
        return text


def places_text(places):
    return pgettext("list separator", "; ").join(t for t in (p.text() for p in places) if t)


@dataclass
class RankTable:
    """Places of regions among their peer groups, for indicators and months of a year, loaded at once."""

    values: dict = field(default_factory=dict)  # (indicator id, region id, month) -> value
    published: dict = field(default_factory=dict)  # (indicator id, region id, month, group id) -> rank
    groups: list = field(default_factory=list)  # [(group id, name, [member region ids])]
    higher: dict = field(default_factory=dict)  # indicator id -> higher is better
    computed: dict = field(default_factory=dict)  # (indicator id, month, group id) -> {region id: place}

    def places(self, indicator_id, region_id, month):
        """[Place] in every group the region belongs to (in the groups' order)."""
        found = []
        for group_id, name, members in self.groups:
            if region_id not in members:
                continue
            computed = self._computed(indicator_id, month, group_id, members)
            found.append(Place(group_id, name, self.published.get((indicator_id, region_id, month, group_id)),
                               computed.get(region_id), len(members)))
        return found

    def _computed(self, indicator_id, month, group_id, members):
        key = (indicator_id, month, group_id)
        if key not in self.computed:
            values = {region: self.values.get((indicator_id, region, month)) for region in members}
            complete = bool(values) and None not in values.values()
            self.computed[key] = competition_ranks(values, self.higher.get(indicator_id, True)) if complete else {}
        return self.computed[key]

    def value(self, indicator_id, region_id, month):
        return self.values.get((indicator_id, region_id, month))


def rank_table(indicator_ids, year, months=None, region_ids=None):
    """The values of every region of the peer groups (and `region_ids`) for the indicators and the year's months,
    the published ranks and the groups: five queries, however many regions, indicators and months."""
    from tracker.targets.models import Indicator, PeerGroup, PublishedRank, SeriesValue

    table = RankTable()
    indicator_ids = set(indicator_ids)
    if not indicator_ids:
        return table
    members = {}
    for group_id, region_id in PeerGroup.members.through.objects.values_list("peergroup_id", "region_id"):
        members.setdefault(group_id, set()).add(region_id)
    table.groups = [(pk, str(group), frozenset(members.get(pk, ()))) for pk, group in
                    ((g.pk, g) for g in PeerGroup.objects.all())]
    wanted = set(region_ids or ()) | {r for ids in members.values() for r in ids}
    # No default ordering: it would join the indicators and regions only to sort thousands of rows read into dicts.
    values = SeriesValue.objects.filter(year=year, indicator_id__in=indicator_ids, region_id__in=wanted).order_by()
    ranks = PublishedRank.objects.filter(value__year=year, value__indicator_id__in=indicator_ids).order_by()
    if months is not None:
        values, ranks = values.filter(month__in=list(months)), ranks.filter(value__month__in=list(months))
    for indicator_id, region_id, month, value in values.values_list("indicator_id", "region_id", "month", "value"):
        if value is not None:
            table.values[(indicator_id, region_id, month)] = value
    for indicator_id, region_id, month, group_id, rank in ranks.values_list(
            "value__indicator_id", "value__region_id", "value__month", "group_id", "rank"):
        table.published[(indicator_id, region_id, month, group_id)] = rank
    table.higher = dict(Indicator.objects.filter(pk__in=indicator_ids).values_list("pk", "higher_is_better"))
    return table
