"""Who may see, edit and review which rows. Every list, form, export and report goes through here.

A clerk or reviewer sees the targets led by their units and those units'
sub-units; leaders, administrators and superusers see everything. Seeing is
not editing: leaders read everything and edit nothing; only clerks,
reviewers and administrators enter figures, and only reviewers and
administrators review them. Inactive or anonymous users get nothing.
"""

from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.targets.models import ProgressEntry, Target, Unit

Role = Membership.Role
WIDE_ROLES = {Role.LEADER, Role.ADMIN}
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


def _with_descendants(own):
    if not own:
        return set()
    children = {}
    for pk, parent_id in Unit.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    result, stack = set(), list(own)
    while stack:
        pk = stack.pop()
        if pk not in result:
            result.add(pk)
            stack.extend(children.get(pk, []))
    return result


def _unit_ids_for(user, wanted_roles):
    if not _usable(user):
        return set()
    own = frozenset(unit_id for unit_id, r in _memberships(user) if r in wanted_roles)
    # Cached per request like the memberships: a page asks many times, the unit tree is read once.
    cache = user.__dict__.setdefault("_tracker_unit_ids", {})
    if own not in cache:
        cache[own] = _with_descendants(own)
    return set(cache[own])


def unit_ids(user, role=None):
    """Ids of the units whose rows this user may SEE (with all sub-units); None means all units."""
    if sees_all(user):
        return None
    return _unit_ids_for(user, set(Role) if role is None else {role})


def edit_unit_ids(user):
    """Ids of the units whose entries this user may enter or change; None means all units.

    Leaders see everything but edit nothing unless they also hold a clerk or
    reviewer membership somewhere.
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


def visible_targets(user, queryset=None):
    qs = Target.objects.all() if queryset is None else queryset
    ids = unit_ids(user)
    return qs if ids is None else qs.filter(lead_unit_id__in=ids)


def visible_entries(user, queryset=None):
    qs = ProgressEntry.objects.all() if queryset is None else queryset
    ids = unit_ids(user)
    return qs if ids is None else qs.filter(target__lead_unit_id__in=ids)


def visible_changes(user, queryset=None):
    """History rows of the units this user sees (rows with no unit only for those who see all)."""
    qs = Change.objects.all() if queryset is None else queryset
    ids = unit_ids(user)
    return qs if ids is None else qs.filter(unit_id__in=ids)


def can_see_unit(user, unit_id):
    ids = unit_ids(user)
    return ids is None or unit_id in ids


def can_edit_unit(user, unit_id):
    ids = edit_unit_ids(user)
    return ids is None or unit_id in ids


def can_review_unit(user, unit_id):
    ids = review_unit_ids(user)
    return ids is None or unit_id in ids
