"""API tokens in the admin: the key shown once, stored hashed; one's own tokens, or everyone's for administrators."""

import re

import pytest
from django.contrib.messages import constants, get_messages

from tests.api_helpers import client_for, token_for, two_units
from tests.factories import make_user
from tracker.api.models import ApiToken, hash_key

pytestmark = pytest.mark.django_db
URL = "/admin/api/apitoken/"


@pytest.fixture
def world():
    return two_units()


def test_it_shows_the_key_once_after_creation_and_stores_its_hash(client, world):
    client.force_login(world["clerk"])
    answer = client.post(URL + "add/", {"name": "大屏", "read_only": "on"}, follow=True)
    assert answer.status_code == 200
    (message,) = [str(m) for m in get_messages(answer.wsgi_request) if m.level == constants.WARNING]
    (key,) = re.findall(r"tt_[A-Za-z0-9_-]{40,}", message)
    token = ApiToken.objects.get()
    assert token.user == world["clerk"] and token.read_only and token.key_hash == hash_key(key)
    page = client.get(URL + f"{token.pk}/change/").content.decode()
    assert key not in page and token.prefix in page
    assert client_for(key).get("/api/targets/").status_code == 200


def test_it_lists_a_persons_own_tokens_and_everyones_to_administrators(client, world):
    own, _ = token_for(world["clerk"], name="mine")
    other, _ = token_for(world["other_clerk"], name="theirs")
    client.force_login(world["clerk"])
    page = client.get(URL).content.decode()
    assert "mine" in page and "theirs" not in page
    assert client.get(URL + f"{other.pk}/change/").status_code in (302, 403, 404)
    admin = make_user("api_admin", is_superuser=True)
    client.force_login(admin)
    page = client.get(URL).content.decode()
    assert "mine" in page and "theirs" in page


def test_it_revokes_tokens_from_the_list(client, world):
    token, key = token_for(world["clerk"])
    client.force_login(world["clerk"])
    client.post(URL, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client_for(key).get("/api/targets/").status_code == 401
