"""Who may see, edit and review which rows. Every list, form, export and report goes through here.

A clerk or reviewer sees the targets led by their units and those units'
sub-units. A leader reads the plans issued by their units' trees (an
organisation: a bureau, a city government, a province holding its cities):
every target of those plans and everything their units' trees lead, and
nothing of another organisation. An administrator administers their own
organisation the same way (its plans, drafts included, their targets and
entries; the people, imports, reminders and history of their units' trees);
only a superuser sees and changes the whole installation. Seeing is not
editing: leaders edit nothing; only clerks, reviewers and administrators
enter figures, and only reviewers and administrators review them, each
within their units' trees. Inactive or anonymous users get nothing.

Shared reference data (regions, peer groups, indicators and their published
values) belongs to no organisation: every staff member reads it; it is changed
by superusers, by an administrator whose organisation is the whole
installation (their units' trees hold every unit), or by whoever was given
the model permission (`can_edit_shared`).

Plans: a draft is seen by its organisation's administrators (and superusers)
only (and is in no report, entry screen, import, reminder or API answer for
anyone else). "Which plans does
this user mean for this year" is answered here (`plans_for_year`,
`check_period`, `targets_by_code`), never by a caller's own `Plan` query.
"""

from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from tracker.accounts.models import Membership
from tracker.audit.models import Change
from tracker.targets.models import Plan, ProgressEntry, Target, Unit, validate_period

Role = Membership.Role
# An administrator reads their organisation as a leader does, and enters and reviews within their units' trees.
READ_ROLES = {Role.LEADER, Role.ADMIN}
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
    """Superusers and holders of the administrator role: every action, over the rows `unit_ids` gives them."""
    if not _usable(user):
        return False
    return user.is_superuser or any(role == Role.ADMIN for _, role in _memberships(user))


def sees_all(user):
    """Superusers only: the whole installation, every organisation's rows and the rows of no unit."""
    return _usable(user) and user.is_superuser


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


def _outside_leads(user, trees):
    """The units outside `trees` leading a target of a plan of their organisation (a bureau's counties).

    Asked of the few outside units when they are few (a province's reader holds nearly every unit: a semi-join
    from them, each stopping at its first target), else as a DISTINCT over the organisation's targets (a city's
    leader: the other cities' units would each scan all their targets of every year).
    """
    plans = _organisation_plans(user, trees)
    outside = set(_parents(user)) - trees
    if not outside:
        return set()
    if len(outside) <= len(trees):
        return set(Unit.objects.filter(pk__in=outside).filter(
            Exists(Target.objects.filter(lead_unit=OuterRef("pk"), plan__in=plans))).order_by()
            .values_list("pk", flat=True))
    # order_by(): without it DISTINCT runs over the default ordering's columns too, i.e. every target.
    return set(Target.objects.filter(plan__in=plans).exclude(lead_unit_id__in=trees).order_by()
               .values_list("lead_unit_id", flat=True).distinct())


def _reader_unit_ids(user):
    """A leader's units: their trees, and every unit leading a target of a plan of their organisation."""
    cache = user.__dict__.setdefault("_tracker_unit_ids", {})
    if "reader" not in cache:
        trees = _unit_ids_for(user, READ_ROLES)
        leads = _outside_leads(user, trees) if trees else set()
        # Units outside the trees are read only for their targets of the organisation's plans (below).
        cache["reader"] = trees | leads
    return set(cache["reader"])


def _outside_unit_ids(user):
    """Units seen only because they lead a target of a plan of the leader's organisation (a county outside
    the city's tree leading a part of the city's target): their rows of those plans only, nothing else."""
    if not _usable(user) or not any(r in READ_ROLES for _unit, r in _memberships(user)):
        return set()
    return _reader_unit_ids(user) - _unit_ids_for(user, set(Role)) - admin_unit_ids(user)


def _target_q(user, ids, prefix=""):
    """Q over targets (or rows with `prefix` pointing at a target) this user sees, given unit_ids(user)."""
    outside = _outside_unit_ids(user)
    inside = Q(**{f"{prefix}lead_unit_id__in": ids - outside})
    if not outside:
        return inside
    plans = _organisation_plans(user, _unit_ids_for(user, READ_ROLES)).values("pk")
    return inside | Q(**{f"{prefix}lead_unit_id__in": outside, f"{prefix}plan_id__in": plans})


def own_unit_ids(user):
    """The units whose own rows (people, registers) this person sees: `unit_ids` without the units seen only
    for their part of the person's organisation's plans. None means all."""
    ids = unit_ids(user)
    return None if ids is None else ids - _outside_unit_ids(user)


def unit_ids(user, role=None):
    """Ids of the units whose rows this user may SEE (with all sub-units); None means all units."""
    if sees_all(user):
        return None
    if not _usable(user):
        return set()
    if role is None:
        ids = _unit_ids_for(user, set(Role)) | admin_unit_ids(user)
        if any(r in READ_ROLES for _unit, r in _memberships(user)):
            ids |= _reader_unit_ids(user)
        return ids
    return _reader_unit_ids(user) if role in READ_ROLES else _unit_ids_for(user, {role})


def edit_unit_ids(user):
    """Ids of the units whose entries this user may enter or change; None means all units.

    Leaders read their organisation but edit nothing unless they also hold a
    clerk or reviewer membership somewhere.
    """
    if sees_all(user):
        return None
    return _unit_ids_for(user, EDIT_ROLES) | admin_unit_ids(user)


def review_unit_ids(user):
    """Ids of the units whose entries this user may approve, return and reopen; None means all."""
    if sees_all(user):
        return None
    return _unit_ids_for(user, REVIEW_ROLES) | admin_unit_ids(user)


def visible_units(user):
    ids = unit_ids(user)
    return Unit.objects.all() if ids is None else Unit.objects.filter(pk__in=ids)


def admin_unit_ids(user):
    """The units this person administers; None means all. An administrator's memberships' trees, and the units
    outside every such tree that report only to the plans those trees issued (a bureau's counties, top units of
    their own leading parts of the bureau's plan and of no other organisation's), with their sub-units."""
    if sees_all(user):
        return None
    trees = _unit_ids_for(user, {Role.ADMIN})
    if not trees:
        return set()
    cache = user.__dict__.setdefault("_tracker_unit_ids", {})
    if "admin" not in cache:
        plans = Plan.objects.filter(unit_id__in=trees).values("pk")
        parts = set(Target.objects.filter(plan__in=plans).exclude(lead_unit_id__in=trees).order_by()
                    .values_list("lead_unit_id", flat=True).distinct())
        if parts:
            parts -= set(Target.objects.filter(lead_unit_id__in=parts).exclude(plan__in=plans).order_by()
                         .values_list("lead_unit_id", flat=True).distinct())
        cache["admin"] = trees | _with_descendants(parts, _parents(user))
    return set(cache["admin"])


def administered_units(user):
    """The units this person may set up and give roles in (administrators: their trees; superusers: all)."""
    ids = admin_unit_ids(user)
    return Unit.objects.all() if ids is None else Unit.objects.filter(pk__in=ids)


def can_administer_unit(user, unit_id):
    ids = admin_unit_ids(user)
    return ids is None or unit_id in ids


def administered_plans(user, queryset=None):
    """The plans this person may change, publish, close, reopen or copy: those issued by the units they
    administer; a plan issued by no unit is the whole installation's (see `administers_everything`)."""
    qs = Plan.objects.all() if queryset is None else queryset
    ids = admin_unit_ids(user)
    if ids is None:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(Q(unit_id__in=ids) | Q(unit__isnull=True)) if administers_everything(user) else qs.filter(
        unit_id__in=ids)


def can_administer_plan(user, plan):
    if plan is None:
        return False
    if plan.unit_id is None:
        return administers_everything(user)
    return can_administer_unit(user, plan.unit_id)


def administers_everything(user):
    """A superuser, or an administrator of the whole installation in effect: every unit that issues a plan or
    leads a target is in their units' trees or leads a part of the plans those trees issued (a bureau whose
    counties lead parts of its plan; a province's department holding every city)."""
    ids = admin_unit_ids(user)
    if ids is None:
        return True
    if not ids:
        return False
    cache = user.__dict__.setdefault("_tracker_unit_ids", {})
    if "everything" not in cache:
        # order_by(): DISTINCT over the lead units only, not the default ordering's columns (every target).
        leads = set(Target.objects.filter(plan__unit_id__in=ids).order_by()
                    .values_list("lead_unit_id", flat=True).distinct())
        used = set(Target.objects.order_by().values_list("lead_unit_id", flat=True).distinct())
        used |= set(Plan.objects.filter(unit__isnull=False).order_by().values_list("unit_id", flat=True).distinct())
        cache["everything"] = used <= ids | leads
    return cache["everything"]


def _without_drafts(user, qs, prefix=""):
    """`qs` (plans, or rows whose plan is at `prefix`) without the drafts this person may not see: a draft is
    seen by the administrators of its organisation (the plans issued by their units' trees) and superusers."""
    if sees_all(user):
        return qs
    drafts = Q(**{f"{prefix}status": Plan.Status.DRAFT})
    admin_ids = admin_unit_ids(user)
    if admin_ids:
        drafts &= ~Q(**{f"{prefix}pk__in": _organisation_plans(user, admin_ids).values("pk")})
    return qs.exclude(drafts)


def visible_plans(user, queryset=None):
    """The plans this user may see: those issued by their units' trees or holding a target they see."""
    qs = Plan.objects.all() if queryset is None else queryset
    if not _usable(user):
        return qs.none()
    qs = _without_drafts(user, qs)
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
    if sees_all(user):
        return plans
    return plans.filter(pk__in=_organisation_plans(user, _unit_ids_for(user, set(Role))).values("pk"))


def check_period(user, year, month, today=None):
    """(plans, error message): the year's plans this user sees, or why the period cannot be entered."""
    plans = list(plans_for_year(user, year))
    if not plans:
        return [], _("There is no plan for %(year)s.") % {"year": year}
    return plans, validate_period(year, year, month, today)


def organisation_targets(unit, queryset):
    """The targets of `queryset` a leader of `unit` reads (for a report made without a person: the monthly_report
    command's --organisation): every target of the plans issued by the unit's tree (or by no unit), and the
    targets its tree leads in plans issued above it."""
    tree = _with_descendants({unit.pk})
    issued = Plan.objects.filter(Q(unit__isnull=True) | Q(unit_id__in=tree)).values("pk")
    return queryset.filter(Q(plan_id__in=issued) | Q(lead_unit_id__in=tree))


def visible_targets(user, queryset=None):
    qs = _without_drafts(user, Target.objects.all() if queryset is None else queryset, "plan__")
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
    if user is not None:
        qs = _without_drafts(user, qs, "plan__")
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


def target_for_code(user, code, year, plan_id=None, queryset=None):
    """(target, candidates) for a target page asked for by code (codes are unique within a plan only).

    `?plan=` names one; otherwise the one target of that code this person sees, else the one of their own
    organisation's plans of `year` (the period asked for, or the year being reported), else the one of `year`
    among all they see. Where that still leaves several (or none of `year`), the target is None and
    `candidates` lists them all (plan, year, issuing unit), for the person to choose: never another
    organisation's target by a guess."""
    qs = visible_targets(user, Target.objects.all() if queryset is None else queryset).filter(code=code)
    if plan_id is not None:
        qs = qs.filter(plan_id=plan_id)
    candidates = list(qs.select_related("plan__unit").order_by("-plan__year", "plan_id"))
    if len(candidates) <= 1:
        return (candidates[0] if candidates else None), candidates
    own = set(_organisation_plans(user, _unit_ids_for(user, set(Role))).filter(
        pk__in=[t.plan_id for t in candidates]).values_list("pk", flat=True)) if not sees_all(user) else set()
    for pool in ([t for t in candidates if t.plan_id in own], candidates):
        in_year = [t for t in pool if t.plan.year == year]
        if len(in_year) == 1:
            return in_year[0], candidates
        if in_year:
            break
    return None, candidates


def visible_entries(user, queryset=None):
    qs = _without_drafts(user, ProgressEntry.objects.all() if queryset is None else queryset, "target__plan__")
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
        people = Membership.objects.filter(unit_id__in=own_unit_ids(user)).values("user_id")
        return queryset.filter(own | Q(**{f"{field}__in": people}))
    return queryset.filter(own)


def administered_people(user, queryset, field="user"):
    """Rows owned by a person (reminders, robots, API tokens, import batches) that this person manages: a
    superuser everyone's; an administrator their own and those of the people of the units they administer;
    anyone else their own."""
    if sees_all(user):
        return queryset
    if not _usable(user):
        return queryset.none()
    mine = Q(**{field: user.pk})
    ids = admin_unit_ids(user)
    if ids:
        mine |= Q(**{f"{field}__in": Membership.objects.filter(unit_id__in=ids).values("user_id")})
    return queryset.filter(mine)


def administered_users(user, active_only=True):
    """The people whose accounts and roles this person manages: a superuser everyone; an administrator the
    people all of whose roles are in the units they administer (never a superuser, never a person who also
    works for another organisation); anyone else nobody."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.all()
    if active_only:
        users = users.filter(is_active=True)
    ids = admin_unit_ids(user)
    if ids is None:
        return users
    if not ids:
        return users.none()
    elsewhere = Membership.objects.exclude(unit_id__in=ids).values("user_id")
    inside = Membership.objects.filter(unit_id__in=ids).values("user_id")
    return users.filter(pk__in=inside, is_superuser=False).exclude(pk__in=elsewhere)


def visible_policies(user, queryset):
    """Reporting policies: the default one; those of the person's own units (not of a unit seen only for its part
    of their plans); those of the targets they see."""
    ids = own_unit_ids(user)
    if ids is None:
        return queryset
    return queryset.filter(Q(unit__isnull=True, target__isnull=True) | Q(unit_id__in=ids)
                           | Q(target__in=visible_targets(user)))


def administers_policy(user, policy):
    """A unit's policy by its administrators, a target's by its plan's; the default binds every organisation."""
    if policy.target_id:
        return can_administer_plan(user, policy.target.plan)
    if policy.unit_id:
        return can_administer_unit(user, policy.unit_id)
    return administers_everything(user)


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


def can_edit_shared(user, perm):
    """Shared reference data (regions, peer groups, indicators, their published values) binds every
    organisation: changed by a superuser, an administrator of the whole installation, or whoever was given
    the model permission `perm` ("targets.change_region"; the role groups do not carry it)."""
    if not _usable(user):
        return False
    return administers_everything(user) or user.has_perm(perm)


def can_edit_series(user):
    """Indicator values (the province's and other regions' published figures): read by every staff member,
    typed as `can_edit_shared` says."""
    return can_edit_shared(user, "targets.change_seriesvalue")
