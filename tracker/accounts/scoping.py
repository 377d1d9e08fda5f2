"""Who may see, edit and review which rows. Every list, form, export and report goes through here.

A clerk or reviewer sees the targets led by their units and those units'
sub-units. A leader reads the plans issued by their units' trees (an
organisation: a bureau, a city government, a province holding its cities):
every target of those plans and everything their units' trees lead, and
nothing of another organisation. Administrators and superusers see
everything. Seeing is not editing: leaders edit nothing; only clerks,
reviewers and administrators enter figures, and only reviewers and
administrators review them. Inactive or anonymous users get nothing.

Plans: a draft is seen by administrators only (and is in no report, entry
screen, import, reminder or API answer for anyone else). "Which plans does
this user mean for this year" is answered here (`plans_for_year`,
`check_period`, `targets_by_code`), never by a caller's own `Plan` query.
"""

from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.targets.models import Plan, ProgressEntry, Target, Unit, validate_period

Role = Membership.Role
WIDE_ROLES = {Role.ADMIN}
READ_ROLES = {Role.LEADER}
EDIT_ROLES = {Role.CLERK, Role.REVIEWER}
REVIEW_ROLES = {Role.REVIEWER}


def _memberships(user):
    # Cached on the user object: one query per request, however often asked.
    if not hasattr(user, "_tracker_memberships"):
        user._tracker_memberships = list(user.memberships.values_list("unit_id", "role"))
    return user._tracker_memberships


def _usable(user):
    return user is not None and user.is_authenticated and user.is_active


def is_admin(user):
    """Superusers and holders of the administrator role: every unit, every action."""
    if not _usable(user):
        return False
    return user.is_superuser or any(role == Role.ADMIN for _, role in _memberships(user))


def sees_all(user):
    if not _usable(user):
        return False
    return user.is_superuser or any(role in WIDE_ROLES for _, role in _memberships(user))


def roles(user):
    if not _usable(user):
        return set()
    return {role for _, role in _memberships(user)}


def _parents(user=None):
    """{unit id: parent id}, read once per request (cached on the user object)."""
    if user is None:
        return dict(Unit.objects.values_list("pk", "parent_id"))
    # In the user's own __dict__ like the other caches: request.user is a lazy object, whose attributes set
    # through it land on the wrapped user where `user.__dict__` does not look (the tree was read on every call).
    cache = user.__dict__
    if "_tracker_unit_parents" not in cache:
        cache["_tracker_unit_parents"] = dict(Unit.objects.values_list("pk", "parent_id"))
    return cache["_tracker_unit_parents"]


def _with_descendants(own, parents=None):
    if not own:
        return set()
    children = {}
    for pk, parent_id in (parents if parents is not None else _parents()).items():
        children.setdefault(parent_id, []).append(pk)
    result, stack = set(), list(own)
    while stack:
        pk = stack.pop()
        if pk not in result:
            result.add(pk)
            stack.extend(children.get(pk, []))
    return result


def _ancestors(ids, parents):
    result = set()
    for pk in ids:
        seen = set()
        while pk is not None and pk not in seen:
            seen.add(pk)
            result.add(pk)
            pk = parents.get(pk)
    return result


def _unit_ids_for(user, wanted_roles):
    if not _usable(user):
        return set()
    own = frozenset(unit_id for unit_id, r in _memberships(user) if r in wanted_roles)
    # Cached per request like the memberships: a page asks many times, the unit tree is read once.
    cache = user.__dict__.setdefault("_tracker_unit_ids", {})
    if own not in cache:
        cache[own] = _with_descendants(own, _parents(user)) if own else set()
    return set(cache[own])


def _organisation_plans(user, unit_ids):
    """Plans issued by these units or their sub-units (their organisation), and plans issued by no unit.

    Not the plans of the units above them: a city's leader reads a plan issued by the province only as far
    as the city's tree leads its targets (another city's targets in that plan are another organisation's).
    """
    issuers = _with_descendants(unit_ids, _parents(user))
    return Plan.objects.filter(Q(unit__isnull=True) | Q(unit_id__in=issuers))


def _reader_unit_ids(user):
    """A leader's units: their trees, and every unit leading a target of a plan of their organisation."""
    cache = user.__dict__.setdefault("_tracker_unit_ids", {})
    if "reader" not in cache:
        trees = _unit_ids_for(user, READ_ROLES)
        leads = set(Target.objects.filter(plan__in=_organisation_plans(user, trees))
                    .values_list("lead_unit_id", flat=True).distinct()) if trees else set()
        # Units outside the trees are read only for their targets of the organisation's plans (below).
        cache["reader"] = trees | leads
    return set(cache["reader"])


def _outside_unit_ids(user):
    """Units seen only because they lead a target of a plan of the leader's organisation (a county outside
    the city's tree leading a part of the city's target): their rows of those plans only, nothing else."""
    if not _usable(user) or not any(r in READ_ROLES for _unit, r in _memberships(user)):
        return set()
    return _reader_unit_ids(user) - _unit_ids_for(user, set(Role))


def _target_q(user, ids, prefix=""):
    """Q over targets (or rows with `prefix` pointing at a target) this user sees, given unit_ids(user)."""
    outside = _outside_unit_ids(user)
    inside = Q(**{f"{prefix}lead_unit_id__in": ids - outside})
    if not outside:
        return inside
    plans = _organisation_plans(user, _unit_ids_for(user, READ_ROLES)).values("pk")
    return inside | Q(**{f"{prefix}lead_unit_id__in": outside, f"{prefix}plan_id__in": plans})


def unit_ids(user, role=None):
    """Ids of the units whose rows this user may SEE (with all sub-units); None means all units."""
    if sees_all(user):
        return None
    if not _usable(user):
        return set()
    if role is None:
        ids = _unit_ids_for(user, set(Role))
        if any(r in READ_ROLES for _unit, r in _memberships(user)):
            ids |= _reader_unit_ids(user)
        return ids
    return _reader_unit_ids(user) if role in READ_ROLES else _unit_ids_for(user, {role})


def edit_unit_ids(user):
    """Ids of the units whose entries this user may enter or change; None means all units.

    Leaders read their organisation but edit nothing unless they also hold a
    clerk or reviewer membership somewhere.
    """
    if is_admin(user):
        return None
    return _unit_ids_for(user, EDIT_ROLES)


def review_unit_ids(user):
    """Ids of the units whose entries this user may approve, return and reopen; None means all."""
    if is_admin(user):
        return None
    return _unit_ids_for(user, REVIEW_ROLES)


def visible_units(user):
    ids = unit_ids(user)
    return Unit.objects.all() if ids is None else Unit.objects.filter(pk__in=ids)


def sees_drafts(user):
    """Draft plans are for administrators (and superusers) only."""
    return is_admin(user)


def visible_plans(user, queryset=None):
    """The plans this user may see: those issued by their units' trees or holding a target they see."""
    qs = Plan.objects.all() if queryset is None else queryset
    if not _usable(user):
        return qs.none()
    if not sees_drafts(user):
        qs = qs.exclude(status=Plan.Status.DRAFT)
    ids = unit_ids(user)
    if ids is None:
        return qs
    own = _unit_ids_for(user, set(Role))
    leading = Target.objects.filter(_target_q(user, ids)).values("plan_id")
    issuers = _ancestors(own, _parents(user)) | (ids - _outside_unit_ids(user))
    # A plan issued by no unit is the whole installation's (one organisation, as before plans had owners).
    return qs.filter(Q(unit__isnull=True) | Q(unit_id__in=issuers) | Q(pk__in=leading))


def plans_for_year(user, year):
    """The plans of `year` this user means on any page, export or import (several may share a year)."""
    return visible_plans(user).filter(year=year).select_related("unit").order_by("pk")


def own_plans(user, year):
    """The plans of `year` issued by this user's own organisation: those whose bulletin they may write.
    A plan issued above them (the province's) is read, never written, by a city's staff."""
    plans = plans_for_year(user, year)
    if is_admin(user):
        return plans
    return plans.filter(pk__in=_organisation_plans(user, _unit_ids_for(user, set(Role))).values("pk"))


def check_period(user, year, month, today=None):
    """(plans, error message): the year's plans this user sees, or why the period cannot be entered."""
    plans = list(plans_for_year(user, year))
    if not plans:
        return [], _("There is no plan for %(year)s.") % {"year": year}
    return plans, validate_period(year, year, month, today)


def visible_targets(user, queryset=None):
    qs = Target.objects.all() if queryset is None else queryset
    if not sees_drafts(user):
        qs = qs.exclude(plan__status=Plan.Status.DRAFT)
    ids = unit_ids(user)
    return qs if ids is None else qs.filter(_target_q(user, ids))


def targets_by_code(user, pairs):
    """{(code, year): [targets]} for the (target code, year) pairs: codes are unique within a plan only.

    Looks among every non-draft target (so a code of another unit is refused as such, by the write path,
    rather than called unknown); where a code names several targets that year, those this user sees win.
    A list of more than one target is ambiguous: the caller refuses it. A code of no plan of that year but of
    exactly one plan of another year is that target (the write path then says the period is outside its year).
    """
    pairs = set(pairs)
    if not pairs:
        return {}
    qs = Target.objects.filter(code__in={c for c, _y in pairs})
    if not sees_drafts(user):
        qs = qs.exclude(plan__status=Plan.Status.DRAFT)
    by_code = {}
    for target in qs.select_related("plan").order_by("plan_id"):
        by_code.setdefault(target.code, []).append(target)
    found = {}
    for code, year in pairs:
        candidates = by_code.get(code, [])
        same_year = [t for t in candidates if t.plan.year == year]
        if same_year or len(candidates) == 1:
            found[(code, year)] = same_year or candidates
    ids = unit_ids(user) if user is not None else None
    for key, targets in found.items():
        if len(targets) > 1 and ids is not None:
            mine = [t for t in targets if t.lead_unit_id in ids]
            found[key] = mine or targets
    return found


def visible_entries(user, queryset=None):
    qs = ProgressEntry.objects.all() if queryset is None else queryset
    if not sees_drafts(user):
        qs = qs.exclude(target__plan__status=Plan.Status.DRAFT)
    ids = unit_ids(user)
    return qs if ids is None else qs.filter(_target_q(user, ids, "target__"))


def visible_by_unit(user, queryset, field="unit_id"):
    """Rows of a higher app's model owned by a unit through `field` (e.g. a register's firms)."""
    ids = unit_ids(user)
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


def editable_by_unit(user, queryset, field="unit_id"):
    """The same rows limited to the units this user may edit (leaders: none, unless also a clerk)."""
    ids = edit_unit_ids(user)
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


def visible_changes(user, queryset=None):
    """History rows of the units this user sees (rows with no unit only for those who see all).

    A unit a leader sees only for its part of their organisation's plans (a county outside the city's tree):
    the history of those targets and their entries only, not of the unit's other rows.
    """
    qs = Change.objects.all() if queryset is None else queryset
    ids = unit_ids(user)
    if ids is None:
        return qs
    outside = _outside_unit_ids(user)
    if not outside:
        return qs.filter(unit_id__in=ids)
    targets = visible_targets(user).filter(lead_unit_id__in=outside)
    entries = visible_entries(user).filter(target__lead_unit_id__in=outside)
    as_text = {"key": Cast("pk", CharField())}
    return qs.filter(
        Q(unit_id__in=ids - outside)
        | Q(unit_id__in=outside, model=Target._meta.label_lower,
            object_id__in=targets.annotate(**as_text).values("key"))
        | Q(unit_id__in=outside, model=ProgressEntry._meta.label_lower,
            object_id__in=entries.annotate(**as_text).values("key"))
    )


def visible_people(user, queryset, field="user"):
    """Rows owned by a person (import batches): one's own; a leader's, also those of their organisation's people."""
    if sees_all(user):
        return queryset
    if not _usable(user):
        return queryset.none()
    own = Q(**{field: user})
    if any(r in READ_ROLES for _unit, r in _memberships(user)):
        # Not the people of a unit seen only for its part of the plans: their imports may be of other plans.
        people = Membership.objects.filter(
            unit_id__in=_reader_unit_ids(user) - _outside_unit_ids(user)).values("user_id")
        return queryset.filter(own | Q(**{f"{field}__in": people}))
    return queryset.filter(own)


def can_see_unit(user, unit_id):
    ids = unit_ids(user)
    return ids is None or unit_id in ids


def can_edit_unit(user, unit_id):
    ids = edit_unit_ids(user)
    return ids is None or unit_id in ids


def can_review_unit(user, unit_id):
    ids = review_unit_ids(user)
    return ids is None or unit_id in ids


def can_read_series(user):
    """Indicator values, regions and peer groups are read by every staff member (as on the indicator grid)."""
    return _usable(user) and user.is_staff


def can_edit_series(user):
    """Indicator values (the province's and other regions' published figures) are typed by administrators, or
    by whoever holds the permission to change them; every staff member reads them."""
    if not _usable(user):
        return False
    return is_admin(user) or user.has_perm("targets.change_seriesvalue")
