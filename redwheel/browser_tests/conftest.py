"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server, at phone size (390 × 844) and desktop size (1366 × 900).

- Without /usr/bin/chromium the tests skip with the reason, unless REDWHEEL_REQUIRE_BROWSER=1
  (.ci/run sets it, after installing chromium with apt): then they fail.
- One Chromium per test module, not per session: Playwright's sync API keeps an asyncio loop
  running in the worker's main thread while it is started, and that loop would break every
  later non-browser test of the same pytest-xdist worker (Django's async-unsafe check,
  async_to_sync). A module's tests run one after another on a worker, so the browser is
  started once for them and stopped before any other test runs.
- The tests' own ORM calls (set-up through the services, assertions, the database flush after
  each test) run while that loop is running, so DJANGO_ALLOW_ASYNC_UNSAFE is set by the same
  module fixture, for the browser tests only, and restored when the browser stops.
- `transactional_db`: the live server's thread must see what the test wrote, on SQLite and on
  PostgreSQL alike.
"""

import os
from pathlib import Path

import pytest

from redwheel import testing
from redwheel.browser_tests.ui import Ui

CHROMIUM = Path(os.environ.get("REDWHEEL_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("REDWHEEL_REQUIRE_BROWSER") == "1"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason}, and REDWHEEL_REQUIRE_BROWSER=1 asks for the browser tests")
    pytest.skip(f"{reason}: install Debian's chromium (apt-get install chromium) to run them")


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency, pinned in requirements.lock
        _unavailable("the playwright package is not installed")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def live(chromium, transactional_db, live_server, settings, tmp_path):
    """The live server's URL, with uploads kept in the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return live_server.url


@pytest.fixture
def city(live):
    return testing.city()


@pytest.fixture
def open_ui(chromium, live, request):
    """`open_ui(variant, audience="driver")`: a fresh browser context (no cookies) in zh-Hans
    and Asia/Shanghai, sized for the variant, with one page; closed after the test."""
    contexts = []

    def make(variant, audience: str = "driver", suffix: str = "") -> Ui:
        context = chromium.new_context(
            base_url=live,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            **variant.context_options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        name = request.node.name.replace("[", "-").rstrip("]").replace("test_", "", 1)
        return Ui(context.new_page(), variant, name + suffix, audience)

    yield make
    for context in contexts:
        context.close()
