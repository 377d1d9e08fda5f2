"""Group robots in the admin: a person adds their own, the signing secret is stored encrypted and never shown
again; robot messages needing attention are filtered and resent like the emails."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import make_unit, make_user
from tracker.accounts.models import Membership
from tracker.reminders.models import Reminder, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
URL = "/admin/reminders/webhook/"
MESSAGES = "/admin/reminders/webhookdelivery/"
SECRET = "SEC9f8e7d6c5b4a39281706f5e4d3c2b1a0"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=abc123"


@pytest.fixture
def people():
    unit = make_unit("office")
    return {"clerk": make_user("robot_clerk", unit, Membership.Role.CLERK),
            "other": make_user("robot_other", unit, Membership.Role.CLERK),
            "leader": make_user("robot_leader", unit, Membership.Role.LEADER),
            "admin": make_user("robot_admin", unit, Membership.Role.ADMIN), "unit": unit}


def test_a_clerk_adds_their_own_dingtalk_robot_and_never_sees_the_secret_again(client, people):
    client.force_login(people["clerk"])
    answer = client.post(URL + "add/", {"name": "科室群", "kind": "dingtalk", "url": DINGTALK,
                                        "new_secret": SECRET, "active": "on"})
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    robot = Webhook.objects.get()
    assert robot.user == people["clerk"] and robot.unit is None
    assert SECRET not in robot.secret and robot.plain_secret() == SECRET
    page = client.get(URL + f"{robot.pk}/change/").content.decode()
    assert SECRET not in page and robot.secret not in page and "abc123" in page  # the owner may edit the address
    listing = client.get(URL).content.decode()
    assert "科室群" in listing and "abc123" not in listing  # the list shows the address without its token


def test_saving_without_a_new_secret_keeps_it_and_the_box_removes_it(client, people):
    robot = Webhook.objects.create(user=people["clerk"], kind="dingtalk", url=DINGTALK, secret=SECRET)
    client.force_login(people["clerk"])
    form = {"name": "改名", "kind": "dingtalk", "url": DINGTALK, "active": "on"}
    assert client.post(URL + f"{robot.pk}/change/", form).status_code == 302
    robot.refresh_from_db()
    assert robot.name == "改名" and robot.plain_secret() == SECRET
    assert client.post(URL + f"{robot.pk}/change/", {**form, "clear_secret": "on"}).status_code == 302
    robot.refresh_from_db()
    assert robot.secret == ""


def test_it_refuses_a_secret_for_a_wecom_robot(client, people):
    client.force_login(people["clerk"])
    answer = client.post(URL + "add/", {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=k",
                                        "new_secret": SECRET})
    assert answer.status_code == 200 and "new_secret" in answer.context["adminform"].form.errors
    assert not Webhook.objects.exists()


def test_people_see_only_their_own_robots_and_administrators_every_one(client, people):
    own = Webhook.objects.create(user=people["clerk"], kind="wecom", name="mine", url="https://qyapi.weixin.qq.com/x?key=1")
    theirs = Webhook.objects.create(user=people["other"], kind="wecom", name="theirs", url="https://h/x?key=2")
    unit_robot = Webhook.objects.create(unit=people["unit"], kind="wecom", name="unit", url="https://h/x?key=3")
    for who in ("clerk", "leader"):
        client.force_login(people[who])
        page = client.get(URL).content.decode()
        assert "theirs" not in page and ">unit<" not in page
        assert client.get(URL + f"{theirs.pk}/change/").status_code in (302, 403, 404)
        assert client.post(URL + f"{theirs.pk}/delete/", {"post": "yes"}).status_code in (302, 403, 404)
        assert Webhook.objects.filter(pk=theirs.pk).exists()
    client.force_login(people["clerk"])
    assert "mine" in client.get(URL).content.decode()
    # A person cannot hand a robot to someone else or to a unit by posting the fields.
    client.post(URL + f"{own.pk}/change/", {"name": "mine", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=1",
                                            "user": people["other"].pk, "unit": people["unit"].pk, "active": "on"})
    own.refresh_from_db()
    assert own.user == people["clerk"] and own.unit is None
    client.force_login(people["admin"])
    page = client.get(URL).content.decode()
    assert "mine" in page and "theirs" in page and unit_robot.get_kind_display() in page


def test_an_administrator_chooses_a_unit_or_a_person(client, people):
    client.force_login(people["admin"])
    robot = {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=1", "active": "on"}
    both = client.post(URL + "add/", {**robot, "user": people["clerk"].pk, "unit": people["unit"].pk})
    assert both.status_code == 200 and not Webhook.objects.exists()
    unit = client.post(URL + "add/", {**robot, "unit": people["unit"].pk})
    assert unit.status_code == 302 and Webhook.objects.get().unit == people["unit"]


def _message(people, **fields):
    robot = Webhook.objects.create(user=people["clerk"], kind="wecom", url="https://qyapi.weixin.qq.com/x?key=1")
    reminder = Reminder.objects.create(user=people["clerk"], kind="overdue", period="2022-05",
                                       day=datetime.date(2022, 6, 9 + Reminder.objects.count()), subject="s")
    return WebhookDelivery.objects.create(reminder=reminder, webhook=robot, title="s", **fields)


def test_it_filters_robot_messages_needing_attention_and_resends_them(client, people):
    now = timezone.now()
    stuck = _message(people, status="sending", attempts=1, lease_until=now - datetime.timedelta(minutes=1))
    failed = _message(people, status="failed", attempts=5, error="errcode 93000: invalid webhook url")
    fine = _message(people, status="sent", attempts=1)
    client.force_login(people["admin"])
    page = client.get(MESSAGES + "?attention=any").content.decode()
    assert f"{MESSAGES}{stuck.pk}/change/" in page and f"{MESSAGES}{failed.pk}/change/" in page
    assert f"{MESSAGES}{fine.pk}/change/" not in page
    client.post(MESSAGES, {"action": "retry_now", "_selected_action": [stuck.pk, failed.pk, fine.pk]})
    statuses = dict(WebhookDelivery.objects.values_list("pk", "status"))
    assert statuses == {stuck.pk: "retry", failed.pk: "retry", fine.pk: "sent"}


def test_people_see_only_the_messages_to_their_robots(client, people):
    mine = _message(people)
    theirs = _message(people)
    Webhook.objects.filter(pk=theirs.webhook_id).update(user=people["other"])
    Reminder.objects.filter(pk=theirs.reminder_id).update(user=people["other"])
    client.force_login(people["clerk"])
    page = client.get(MESSAGES).content.decode()
    assert f"{MESSAGES}{mine.pk}/change/" in page and f"{MESSAGES}{theirs.pk}/change/" not in page
    assert client.get(f"{MESSAGES}{theirs.pk}/change/").status_code in (302, 403, 404)


def test_every_signed_in_person_finds_their_robots_from_every_admin_page(client, people):
    client.force_login(people["clerk"])
    page = client.get("/admin/").content.decode()
    assert f'href="{URL}"' in page and 'href="/admin/api/apitoken/"' in page
