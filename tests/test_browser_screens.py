"""Every main screen, as each demo role, in headless Chromium (issue 16): no page is wider than the screen at 1366 or
390 px in Chinese or English, and axe-core (vendored, tests/vendor/axe-core) finds no serious or critical
accessibility violation on the login, entry, review, dashboard, report, completeness, target and import pages, nor
on the registers' pages (the leader's three lists, the scheduling screen, the firm and project lists, the register
import and its preview).

One data set (the 2022 plan and the demo data, as `make run` loads them) and one browser for the module; each test
walks many pages, so the module stays quick.
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tools.screenshots import PASSWORD, pages, sample_register_batch
from tracker.registers.industries import DIVISIONS
from tracker.registers.models import Industry
from tracker.targets.models import ProgressEntry, Target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.10.3"
PERIOD = "2022-05"
WIDTHS = (1366, 390)
LANGUAGES = ("zh-hans", "en")
BLOCKING = ("serious", "critical")


@pytest.fixture
def demo(transactional_db):
    # The industries are a migration's data: an earlier transactional test's flush took them away.
    Industry.objects.bulk_create([Industry(code=code, section=section, name=name) for section, code, name in DIVISIONS],
                                 ignore_conflicts=True)
    call_command("loaddata", "bozhou_2022", "demo", "registers_demo", verbosity=0)
    # The fixture's hashes are PBKDF2; the test settings hash with MD5 only (fast logins).
    for user in get_user_model().objects.all():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    entry = ProgressEntry.objects.filter(state=ProgressEntry.State.SUBMITTED).order_by("pk").first()
    target = Target.objects.filter(kind=Target.Kind.CUMULATIVE).order_by("code").first()
    return {"REVIEW": f"/admin/targets/progressentry/{entry.pk}/review/", "TARGET": f"/targets/{target.code}/",
            "REGISTER_BATCH": f"/imports/registers/{sample_register_batch()}/"}


@pytest.fixture
def context(browser, live_server):
    # bypass_csp: the site's Content-Security-Policy would refuse the injected axe script.
    ctx = browser.new_context(locale="zh-CN", bypass_csp=True)
    yield ctx
    ctx.close()


def log_in(context, base, username, language):
    context.clear_cookies()
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(20000)
    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{username} could not log in"
    return page


def paths(demo, role_pages):
    return [(name, demo.get(path, path)) for name, path in role_pages]


def overflow(page):
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def inner_overflow(page):
    """How far the widest admin list or entry table scrolls inside its frame (0 when everything shows)."""
    return page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll(
        '#changelist .results, .entry-table-frame, .table-frame')].map(e => e.scrollWidth - e.clientWidth))""")


def axe_violations(page):
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")


def test_no_main_page_is_wider_than_the_screen_at_1366_or_390_px_in_either_language(context, live_server, demo):
    wide = []
    for role, username, role_pages in pages(PERIOD):
        for language in LANGUAGES:
            page = log_in(context, live_server.url, username, language)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for _name, path in paths(demo, role_pages):
                    response = page.goto(live_server.url + path)
                    assert response.status == 200, (role, path, response.status)
                    if (px := overflow(page)) > 0:
                        wide.append(f"{role} {language} {width}px {path}: {px}px too wide")
                    if width == 1366 and (px := inner_overflow(page)) > 0:  # e.g. the entries list cut off
                        wide.append(f"{role} {language} {width}px {path}: a table scrolls by {px}px")
    assert wide == [], "\n".join(wide)


def test_axe_finds_no_serious_or_critical_violation_on_the_main_pages(context, live_server, demo):
    """Pages in Chinese at 1366 px and in English at 390 px; the login page before logging in."""
    assert f"axe v{AXE_VERSION}" in AXE.read_text(encoding="utf-8")[:200]
    checked = {
        "login": ("qiaocheng_clerk", None),
        "entry": ("bureau_clerk", f"/admin/targets/progressentry/entry/bozhou-jxj/{PERIOD}/"),
        "import": ("bureau_clerk", "/imports/"),
        "review": ("bureau_reviewer", demo["REVIEW"]),
        "dashboard": ("leader", f"/?period={PERIOD}"),
        "report": ("leader", f"/reports/{PERIOD}/"),
        "completeness": ("leader", f"/reports/{PERIOD}/completeness/"),
        "target": ("leader", demo["TARGET"]),
        "open-items": ("leader", f"/registers/open-items/?period={PERIOD}"),
        "behind": ("leader", f"/registers/behind/?period={PERIOD}"),
        "expected": ("leader", f"/registers/expected/?period={PERIOD}"),
        "registers": ("qiaocheng_clerk", "/registers/"),
        "schedule": ("qiaocheng_clerk", f"/registers/schedule/qiaocheng/{PERIOD}/"),
        "firms": ("qiaocheng_clerk", "/admin/registers/firm/"),
        "projects": ("qiaocheng_clerk", "/admin/registers/project/"),
        "register-import": ("admin", "/imports/registers/"),
        "register-preview": ("admin", demo["REGISTER_BATCH"]),
    }
    found = {}
    for language, width in (("zh-hans", 1366), ("en", 390)):
        for name, (username, path) in checked.items():
            if path is None:
                context.clear_cookies()
                context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
                page = context.pages[0] if context.pages else context.new_page()
                page.goto(live_server.url + "/admin/login/")
            else:
                page = log_in(context, live_server.url, username, language)
                page.goto(live_server.url + path)
            page.set_viewport_size({"width": width, "height": 900})
            blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
            if blocking:
                found[f"{name} {language} {width}px"] = blocking
    assert found == {}


def test_every_input_has_a_label_and_every_status_is_written_in_words(context, live_server, demo):
    page = log_in(context, live_server.url, "bureau_clerk", "zh-hans")
    page.goto(live_server.url + f"/admin/targets/progressentry/entry/bozhou-jxj/{PERIOD}/")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]):not([type=submit]):not([type=button]), textarea, select')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.getAttribute('aria-labelledby')).map(e => e.outerHTML)""")
    assert unlabelled == []
    words = page.locator(".row-status .status-word").all_inner_texts()
    assert words and all(w.strip() for w in words)
    page = log_in(context, live_server.url, "leader", "zh-hans")
    for path in (f"/reports/{PERIOD}/", f"/?period={PERIOD}"):
        page.goto(live_server.url + path)
        badges = page.locator("[class*='status-']").all_inner_texts()
        assert badges and not [b for b in badges if not re.sub(r"\s", "", b)], path
