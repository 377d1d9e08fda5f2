"""Roles map to Django groups, and groups carry the model permissions.

Which rows a person may touch is decided by their unit memberships (see
`scoping`); which kinds of rows and actions, by these groups. A person's
groups follow their memberships automatically (see `signals`).
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from tracker.accounts.models import Membership
from tracker.targets.models import ProgressEntry

Role = Membership.Role

ROLE_GROUPS = {
    Role.CLERK: "clerk",
    Role.REVIEWER: "reviewer",
    Role.LEADER: "leader",
    Role.ADMIN: "administrator",
}

REVIEW_CODENAME = "review_progressentry"
REVIEW_PERMISSION = f"targets.{REVIEW_CODENAME}"

CLERK_PERMISSIONS = {
    "targets.add_progressentry",
    "targets.change_progressentry",
    "targets.view_progressentry",
    "targets.view_target",
    "targets.view_monthlyplanpoint",
    "audit.view_change",
    # The registers (企业库、项目库) of their units: kept up to date by the units' clerks, never deleted by them.
    *(f"registers.{action}_{model}" for model in ("firm", "listing", "firmupdate", "project", "projectupdate",
                                                           "coordination")
      for action in ("add", "change", "view")),
    "registers.view_industry",
    "registers.view_registerfigure",
    "registers.view_schedulemonth",  # the months' review state; steps are taken on the scheduling screen
}
REVIEWER_PERMISSIONS = CLERK_PERMISSIONS | {REVIEW_PERMISSION}
# Failed logins (django-axes' rows, outside the tracker apps) are for administrators only:
# they read them and delete one to unlock a username+address early; nobody adds or edits them.
LOCKOUT_PERMISSIONS = {"axes.view_accessattempt", "axes.delete_accessattempt"}
# History is written by the code, never by hand; permission rows belong to Django.
NOBODY = {f"{label}.{action}_{model}" for label, model in (("audit", "change"), ("auth", "permission"))
          for action in ("add", "change", "delete")}
# Shared by every organisation of the installation: the administrator role reads them; superusers (or an
# administrator of the whole installation, see scoping.can_edit_shared) change them, or whoever a superuser gives
# the model permission (e.g. through a group of their own). Groups carry permissions, so they are a superuser's.
SHARED_MODELS = (("targets", "region"), ("targets", "peergroup"), ("targets", "indicator"),
                 ("targets", "seriesvalue"), ("targets", "publishedrank"), ("registers", "industry"),
                 ("auth", "group"))
SHARED_WRITES = {f"{label}.{action}_{model}" for label, model in SHARED_MODELS
                 for action in ("add", "change", "delete")}


def tracker_app_labels():
    return {cfg.label for cfg in global_apps.get_app_configs() if cfg.name.startswith("tracker.")}


def ensure_review_permission():
    content_type = ContentType.objects.get_for_model(ProgressEntry)
    perm, _ = Permission.objects.get_or_create(
        codename=REVIEW_CODENAME, content_type=content_type,
        defaults={"name": "Can review (approve, return, reopen) progress entry"},
    )
    return perm


def _label(perm):
    return f"{perm.content_type.app_label}.{perm.codename}"


def permissions_for(role):
    """The Permission rows a role's group should hold."""
    ensure_review_permission()
    tracker = tracker_app_labels()
    every = list(Permission.objects.select_related("content_type"))
    if role == Role.ADMIN:
        return [p for p in every if p.content_type.app_label in tracker | {"auth"}
                and _label(p) not in NOBODY | SHARED_WRITES or _label(p) in LOCKOUT_PERMISSIONS]
    if role == Role.LEADER:
        return [p for p in every if p.content_type.app_label in tracker and p.codename.startswith("view_")]
    wanted = REVIEWER_PERMISSIONS if role == Role.REVIEWER else CLERK_PERMISSIONS
    return [p for p in every if _label(p) in wanted]


def sync_role_groups(sender=None, **kwargs):
    """Create the role groups if missing and set their permissions. Idempotent.

    Connected to post_migrate, which fires once per app; only the last app's
    signal acts, when auth has created the permissions of every model.
    """
    if sender is not None:
        with_models = [cfg for cfg in global_apps.get_app_configs() if cfg.models_module is not None]
        if with_models and sender.label != with_models[-1].label:
            return
    for role, name in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions_for(role))


def sync_user_groups(user):
    """Put the user in exactly the role groups of their memberships; other groups are left alone."""
    wanted = {ROLE_GROUPS[role] for role in user.memberships.values_list("role", flat=True)}
    role_groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_GROUPS.values())}
    current = set(user.groups.filter(name__in=ROLE_GROUPS.values()).values_list("name", flat=True))
    missing = [role_groups[n] for n in wanted - current if n in role_groups]
    stale = [role_groups[n] for n in current - wanted]
    if missing:
        user.groups.add(*missing)
    if stale:
        user.groups.remove(*stale)
    # Django caches permissions on the instance; drop the cache so checks see the change.
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_tracker_memberships",
                 "_tracker_unit_ids", "_tracker_unit_parents"):
        user.__dict__.pop(attr, None)
