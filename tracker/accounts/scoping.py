"""Who may see which rows. Every list, form, export and report goes through here.

A clerk or reviewer sees the targets led by their units and those units'
sub-units; leaders, administrators and superusers see everything.
"""

from tracker.accounts.models import Membership
from tracker.targets.models import ProgressEntry, Target, Unit

WIDE_ROLES = {Membership.Role.LEADER, Membership.Role.ADMIN}


def _memberships(user):
    # Cached on the user object: one query per request, however often asked.
    if not hasattr(user, "_tracker_memberships"):
        user._tracker_memberships = list(user.memberships.values_list("unit_id", "role"))
    return user._tracker_memberships


def sees_all(user):
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(role in WIDE_ROLES for _, role in _memberships(user))


def roles(user):
    if not user.is_authenticated:
        return set()
    return {role for _, role in _memberships(user)}


def unit_ids(user, role=None):
    """Ids of the units this user works for (with all sub-units); None means all units."""
    if sees_all(user):
        return None
    own = {unit_id for unit_id, r in _memberships(user) if role is None or r == role}
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


def can_edit_unit(user, unit_id):
    ids = unit_ids(user)
    return ids is None or unit_id in ids
