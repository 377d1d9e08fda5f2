"""Roles: the four groups and their permissions, kept in step with people's unit memberships."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from tests.factories import make_target, make_unit, make_user
from tracker.accounts import scoping
from tracker.accounts.models import Membership
from tracker.accounts.roles import sync_role_groups
from tracker.services.entries import EntryRow, save_entries

pytestmark = pytest.mark.django_db
Role = Membership.Role


def perms(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_it_creates_the_four_role_groups_with_their_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= {"clerk", "reviewer", "leader", "administrator"}
    clerk = {"targets.add_progressentry", "targets.change_progressentry", "targets.view_progressentry",
             "targets.view_target", "targets.view_monthlyplanpoint", "audit.view_change"}
    # The registers of their units: added to and kept up to date, never deleted; the targets' sources only read.
    clerk |= {f"registers.{action}_{model}" for action in ("add", "change", "view")
              for model in ("firm", "listing", "firmupdate", "project", "projectupdate", "coordination")}
    clerk |= {"registers.view_industry", "registers.view_registerfigure", "registers.view_schedulemonth"}
    assert perms("clerk") == clerk
    assert perms("reviewer") == clerk | {"targets.review_progressentry"}
    leader = perms("leader")
    assert {"targets.view_target", "targets.view_progressentry", "targets.view_unit", "audit.view_change"} <= leader
    assert all(p.split(".")[1].startswith("view_") for p in leader)
    assert not {p for p in leader if p.startswith("axes.")}
    admin = perms("administrator")
    assert {"targets.delete_target", "targets.review_progressentry", "auth.add_user", "accounts.change_membership",
            "axes.view_accessattempt", "axes.delete_accessattempt"} <= admin
    assert not admin & {"axes.add_accessattempt", "axes.change_accessattempt"}
    assert not admin & {"audit.add_change", "audit.change_change", "audit.delete_change"}


def test_it_restores_the_groups_idempotently():
    Group.objects.filter(name="clerk").delete()
    sync_role_groups()
    sync_role_groups()
    assert Group.objects.filter(name="clerk").count() == 1 and "targets.view_target" in perms("clerk")


def test_it_keeps_groups_in_step_with_memberships():
    a, b = make_unit("a"), make_unit("b")
    user = make_user("li", unit=a, role=Role.CLERK)
    assert set(user.groups.values_list("name", flat=True)) == {"clerk"}
    membership = Membership.objects.create(user=user, unit=b, role=Role.REVIEWER)
    assert set(user.groups.values_list("name", flat=True)) == {"clerk", "reviewer"}
    membership.role = Role.LEADER
    membership.save()
    assert set(user.groups.values_list("name", flat=True)) == {"clerk", "leader"}
    user.memberships.all().delete()
    assert not user.groups.exists()


def test_it_leaves_other_groups_alone_and_deletes_a_user_with_memberships():
    user = make_user("wang", unit=make_unit("a"))
    extra = Group.objects.create(name="newsletter")
    user.groups.add(extra)
    Membership.objects.create(user=user, unit=make_unit("b"), role=Role.REVIEWER)
    assert set(user.groups.values_list("name", flat=True)) == {"clerk", "reviewer", "newsletter"}
    user.delete()
    assert not get_user_model().objects.filter(username="wang").exists()


def test_it_lets_leaders_read_everything_and_enter_nothing():
    unit = make_unit("a")
    leader = make_user("boss", unit=make_unit("city"), role=Role.LEADER)
    target = make_target(lead_unit=unit, code="A-1")
    assert scoping.visible_targets(leader).get() == target
    assert scoping.edit_unit_ids(leader) == set() and scoping.review_unit_ids(leader) == set()
    assert not leader.has_perm("targets.change_progressentry")
    with translation.override("en"):
        result = save_entries(leader, [EntryRow(target, 2022, 3, {"value": Decimal("1")})], "test",
                              today=datetime.date(2022, 4, 3))
    assert [e.message for e in result.errors] == ["You may not enter figures for A-1 (another unit's target)."]


def test_it_shuts_out_an_inactive_member():
    unit = make_unit("a")
    user = make_user("gone", unit=unit)
    make_target(lead_unit=unit)
    user.is_active = False
    assert scoping.unit_ids(user) == set() and not scoping.visible_targets(user).exists()


def test_it_lets_an_administrator_give_roles_in_the_user_admin_but_not_superuser_status(client):
    city = make_unit("city")
    county = make_unit("guoyang", parent=city)
    boss = make_user("boss", unit=city, role=Role.ADMIN)
    newcomer = make_user("newcomer", unit=city)
    client.force_login(boss)
    url = reverse("admin:auth_user_change", args=[newcomer.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "is_superuser" not in page.context["adminform"].form.fields
    data = {
        "username": "newcomer", "email": "n@example.com", "first_name": "", "last_name": "",
        "is_active": "on", "is_staff": "on", "is_superuser": "on", "groups": [],
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2022-01-01", "date_joined_1": "08:00:00",
        "profile-TOTAL_FORMS": "1", "profile-INITIAL_FORMS": "0", "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1", "profile-0-language": "zh-hans", "profile-0-phone": "",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000", "memberships-0-unit": str(county.pk), "memberships-0-role": "reviewer",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    newcomer.refresh_from_db()
    assert not newcomer.is_superuser
    assert set(newcomer.memberships.values_list("unit__code", "role")) == {("city", "clerk"), ("guoyang", "reviewer")}
    assert set(newcomer.groups.values_list("name", flat=True)) == {"clerk", "reviewer"}


def test_it_keeps_clerks_out_of_the_user_admin(client):
    clerk = make_user("clerk", unit=make_unit("a"))
    client.force_login(clerk)
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
