"""Shared fixtures. Real-service tests skip when a service is absent, unless
TRACKER_REQUIRE_SERVICES=1 (set by .ci/run), which turns the skip into a failure."""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection

REQUIRE_SERVICES = os.environ.get("TRACKER_REQUIRE_SERVICES", "") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request made in English by an earlier test leaves English
    active in this thread (the middleware activates per request), which would change what later tests render."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


def unavailable(reason):
    """Skip on a newcomer's machine; fail in CI where the service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _port_open(url, default_port):
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres():
    """Use in tests that prove database behaviour (locking, concurrency)."""
    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL: run with DATABASE_URL=postgres://... (see README)")
    return connection


@pytest.fixture
def redis_url():
    if not _port_open(REDIS_URL, 6379):
        unavailable(f"needs a Redis server at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture(scope="session")
def chromium_path():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        unavailable(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser(chromium_path):
    """A headless Chromium driven by Playwright; no browser download, no network."""
    # Playwright's sync API refuses to run inside an asyncio loop; Django's
    # live server runs in a thread, so this is fine.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
