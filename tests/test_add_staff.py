import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import translation

from tests.factories import make_unit
from tracker.accounts import scoping
from tracker.accounts.models import Membership
from tracker.targets.models import Unit

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def run(*args, **kw):
    call_command("add_staff", *args, **kw)


def test_it_creates_a_staff_clerk_with_unit_group_and_password():
    unit = make_unit("qiaocheng", name="谯城区")
    run("zhang", "--email", "zhang@example.com", "--unit", "qiaocheng", "--role", "clerk",
        "--password", "Bozhou-Clerk-2022")
    user = User.objects.get(username="zhang")
    assert user.is_staff and user.is_active and not user.is_superuser
    assert user.email == "zhang@example.com"
    assert user.check_password("Bozhou-Clerk-2022")
    assert list(user.memberships.values_list("unit__code", "role")) == [("qiaocheng", "clerk")]
    assert list(user.groups.values_list("name", flat=True)) == ["clerk"]
    assert user.has_perm("targets.change_progressentry")
    assert not user.has_perm("targets.review_progressentry")
    assert scoping.edit_unit_ids(user) == {unit.pk}


def test_it_updates_an_existing_account_and_replaces_its_role_in_that_unit():
    make_unit("qiaocheng")
    make_unit("guoyang")
    run("li", "--email", "li@example.com", "--unit", "qiaocheng", "--role", "clerk", "--password", "Bozhou-Clerk-2022")
    run("li", "--email", "li2@example.com", "--unit", "guoyang", "--role", "clerk")
    run("li", "--email", "li2@example.com", "--unit", "qiaocheng", "--role", "reviewer")
    user = User.objects.get(username="li")
    assert user.email == "li2@example.com"
    assert user.check_password("Bozhou-Clerk-2022")  # untouched without --password
    assert sorted(user.memberships.values_list("unit__code", "role")) == [
        ("guoyang", "clerk"), ("qiaocheng", "reviewer")]
    assert sorted(user.groups.values_list("name", flat=True)) == ["clerk", "reviewer"]
    assert user.has_perm("targets.review_progressentry")


def test_it_refuses_a_new_account_without_password_when_not_interactive():
    make_unit("qiaocheng")
    with pytest.raises(CommandError, match="No password given for the new account 'wang'"):
        run("wang", "--email", "wang@example.com", "--unit", "qiaocheng", "--role", "clerk", "--no-input")
    assert not User.objects.filter(username="wang").exists()


def test_it_refuses_an_unknown_unit_and_writes_nothing():
    make_unit("qiaocheng")
    with pytest.raises(CommandError, match="Unknown unit 'nowhere'. Known unit codes: qiaocheng"):
        run("wang", "--email", "wang@example.com", "--unit", "nowhere", "--role", "clerk", "--password", "Xy-9876-abcd")
    assert not User.objects.exists()


def test_it_refuses_an_unknown_role_and_writes_nothing():
    make_unit("qiaocheng")
    with pytest.raises(CommandError, match="Unknown role 'boss'. Use one of: clerk, reviewer, leader, admin"):
        run("wang", "--email", "wang@example.com", "--unit", "qiaocheng", "--role", "boss",
            "--password", "Xy-9876-abcd")
    assert not User.objects.exists() and not Membership.objects.exists()


def test_it_refuses_a_weak_password_and_a_bad_email():
    make_unit("qiaocheng")
    with pytest.raises(CommandError, match="Password refused: .*too short"):
        run("wang", "--email", "wang@example.com", "--unit", "qiaocheng", "--role", "clerk", "--password", "abc")
    with pytest.raises(CommandError, match="'not-an-email' is not a valid email address"):
        run("wang", "--email", "not-an-email", "--unit", "qiaocheng", "--role", "clerk", "--password", "Xy-9876-abcd")
    assert not User.objects.exists()


def test_it_asks_for_the_password_in_a_terminal(monkeypatch):
    make_unit("qiaocheng")
    answers = iter(["Typed-Secret-77", "Typed-Secret-77"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    run("zhao", "--email", "zhao@example.com", "--unit", "qiaocheng", "--role", "leader")
    user = User.objects.get(username="zhao")
    assert user.check_password("Typed-Secret-77")
    # A leader reads their organisation (here the unit itself) and enters nothing.
    assert Unit.objects.get(code="qiaocheng").pk in scoping.unit_ids(user) and scoping.edit_unit_ids(user) == set()


def test_it_gives_the_admin_role_the_units_tree_and_no_other_organisation():
    bureau = make_unit("bureau")
    county = make_unit("guoyang", parent=bureau)
    other = make_unit("fuyang")
    run("admin1", "--email", "a@example.com", "--unit", "bureau", "--role", "admin", "--password", "Xy-9876-abcd")
    user = User.objects.get(username="admin1")
    assert scoping.review_unit_ids(user) == {bureau.pk, county.pk} and scoping.can_edit_unit(user, county.pk)
    assert not scoping.can_edit_unit(user, other.pk) and not scoping.can_review_unit(user, other.pk)
    assert user.has_perm("targets.delete_target") and user.has_perm("auth.add_user")
    assert not user.has_perm("audit.change_change")
