"""The UI speaks Simplified Chinese by default, English when chosen, whatever the browser says."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_speaks_chinese_to_an_english_browser(client):
    response = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"
    assert "用户名" in response.content.decode()


def test_it_speaks_english_once_chosen(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.headers["Content-Language"] == "en"
    assert "Username" in response.content.decode()


def test_it_ignores_an_unknown_language_cookie(client):
    client.cookies["django_language"] = "xx"
    assert client.get(reverse("admin:login")).headers["Content-Language"] == "zh-hans"
