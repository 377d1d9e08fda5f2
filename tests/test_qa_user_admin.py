"""The user admin (administrators only) answers crafted input with a form error, never a 500."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import make_unit, make_user

pytestmark = pytest.mark.django_db


class FormFields(HTMLParser):
    """The named inputs of a page with their current values, as a browser would post them."""

    def __init__(self):
        super().__init__()
        self.data, self._select = {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            else:
                self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def test_it_refuses_a_non_numeric_unit_in_a_membership_row(client):
    admin = make_user("root", is_superuser=True)
    person = make_user("clerk", unit=make_unit("qiaocheng"))
    client.force_login(admin)
    url = reverse("admin:auth_user_change", args=[person.pk])
    parser = FormFields()
    parser.feed(client.get(url).content.decode())
    data = {k: v for k, v in parser.data.items() if k != "csrfmiddlewaretoken"}
    data["memberships-0-unit"] = "abc"
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][1].formset.errors[0]["unit"]
