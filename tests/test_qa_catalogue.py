"""QA: the project's strings live in ONE Chinese catalogue, tracker/locale (LOCALE_PATHS), complete and compiled.

Per-app catalogues let Django pick whichever app comes first in INSTALLED_APPS for a msgid translated
differently in two apps, so a screen could show another app's wording; one catalogue translates each term once.
"""

import ast
import contextlib
import gettext
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "tracker" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def read_po(path):
    """The entries of a .po file: {(msgctxt, msgid): {"flags": set, "msgstr": [forms], "obsolete": bool}}.

    Enough of the format for catalogues written by makemessages (no header entry, no comments kept).
    """
    entries = {}
    entry, field = None, None

    def finish():
        if entry is not None and entry.get("msgid"):
            entries[(entry.get("msgctxt"), entry["msgid"])] = entry

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line or (line.startswith("#") and entry is not None and "msgid" in entry):
            finish()
            entry, field = None, None
            if not line:
                continue
        if entry is None:
            entry = {"flags": set(), "msgstr": [], "obsolete": False}
        entry["obsolete"] |= obsolete
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field == "msgstr":
                entry["msgstr"][-1] += value
            else:
                entry[field] += value
        else:
            keyword, value = line.split(" ", 1)
            field = "msgstr" if keyword.startswith("msgstr") else keyword
            if field == "msgstr":
                entry["msgstr"].append(ast.literal_eval(value))
            elif field == "msgctxt" and "msgid" in entry:  # a new entry without a comment line before it
                finish()
                entry = {"flags": set(), "msgstr": [], "obsolete": obsolete, field: ast.literal_eval(value)}
            else:
                entry[field] = ast.literal_eval(value)
    return entries


def untranslated(entries):
    return sorted(
        (ctx or "", msgid) for (ctx, msgid), e in entries.items()
        if "fuzzy" in e["flags"] or not e["msgstr"] or not all(e["msgstr"])
    )


def test_the_catalogue_has_no_empty_fuzzy_or_obsolete_entry():
    entries = read_po(CATALOGUE)
    assert len(entries) > 600  # the parser read the whole file
    assert untranslated(entries) == []
    assert [key for key, e in entries.items() if e["obsolete"]] == []


def test_the_project_has_one_catalogue():
    # A second catalogue (an app's locale/ folder) would again compete with this one for the same msgids.
    found = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tracker").rglob("*") if p.suffix in (".po", ".mo"))
    # djangojs (the admin's JavaScript strings Django's own catalogue lacks) is another domain: it competes with
    # nothing, and holds only what test_the_javascript_catalogue_translates_the_admins_time_zone_note checks.
    assert found == ["tracker/locale/zh_Hans/LC_MESSAGES/django.mo", "tracker/locale/zh_Hans/LC_MESSAGES/django.po",
                     "tracker/locale/zh_Hans/LC_MESSAGES/djangojs.mo", "tracker/locale/zh_Hans/LC_MESSAGES/djangojs.po"]


@pytest.mark.django_db
def test_the_javascript_catalogue_translates_the_admins_time_zone_note(client):
    """Django 6.1's note under the admin's date and time fields ("You are 8 hours behind") was English on Chinese
    screens (issue 16): the admin's JavaScript catalogue now serves it in Chinese."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("js-admin", "js@example.com", "pw-Js-12345")
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    js = client.get("/admin/jsi18n/").content.decode()
    start = js.index("const newcatalog = ") + len("const newcatalog = ")
    catalogue = json.loads(js[start:js.index("};", start) + 1])
    behind = catalogue["Note: Enter times in the %(timezone)s timezone. (You are %(offset)s hour behind.)"]
    assert behind == ["注意：请按 %(timezone)s 时区填写时间（您的时间比它晚 %(offset)s 小时）。"]
    assert catalogue["server"] == "服务器"


def test_the_compiled_catalogue_matches_the_po_file(tmp_path):
    # msgfmt drops fuzzy and empty entries, so this compares the translations Django really serves.
    if not shutil.which("msgfmt"):
        unavailable("needs GNU gettext (msgfmt): apt-get install gettext")
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(CATALOGUE)], check=True)
    with fresh.open("rb") as f:
        expected = gettext.GNUTranslations(f)._catalog
    with CATALOGUE.with_suffix(".mo").open("rb") as f:
        committed = gettext.GNUTranslations(f)._catalog
    assert committed == expected, "the .mo is stale: run `make messages` (or compilemessages) and commit it"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogue `make messages` would write now, built from a copy of tracker/ (the tree is not touched)."""
    if not (shutil.which("xgettext") and shutil.which("msgmerge")):
        unavailable("needs GNU gettext (xgettext, msgmerge): apt-get install gettext")
    copy = tmp_path_factory.mktemp("messages") / "tracker"
    shutil.copytree(ROOT / "tracker", copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
    with contextlib.chdir(copy), override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    return read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")


def test_every_string_in_the_code_has_a_chinese_translation(extracted):
    # A new gettext string comes out of makemessages empty (or fuzzy, guessed from a similar one).
    assert untranslated(extracted) == [], "translate these in tracker/locale (make messages, then edit the .po)"


def test_the_catalogue_holds_no_string_the_code_no_longer_uses(extracted):
    stale = sorted((ctx or "", msgid) for ctx, msgid in set(read_po(CATALOGUE)) - set(extracted))
    assert stale == [], "run `make messages` to drop them"
