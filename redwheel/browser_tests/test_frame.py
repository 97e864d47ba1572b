"""The page frame on a 390 × 844 phone: the header takes one line, the bottom tab bar is on
screen (also scrolled to the end of a long page), in the standard and the elderly version;
and with the service worker installed, a page opened offline shows the offline page."""

import re

import pytest
from django.urls import reverse

from redwheel.accounts import services as accounts
from redwheel.browser_tests import checks, data
from redwheel.browser_tests.ui import PHONE, PHONE_ELDERLY

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("variant", [PHONE, PHONE_ELDERLY], ids=lambda v: v.id)
def test_phone_header_is_one_line_and_the_tab_bar_is_in_view(city, open_ui, variant):
    driver = data.driver(city, "吴师傅")
    if variant.elderly:
        accounts.user_preferences_set(actor=driver.user, user=driver.user, elderly_mode=True)
    ui = open_ui(variant)
    ui.login(driver.user, data.DRIVER_PASSWORD)
    page = ui.page
    limit = checks.MAX_HEADER_PX_ELDERLY if variant.elderly else checks.MAX_HEADER_PX
    for path in (reverse("me:home"), reverse("accounts:services")):
        ui.goto(path)
        ui.check(f"frame {path}")
        problems = checks.phone_frame(page, elderly_on=variant.elderly)
        assert not problems, f"{path} at 390 × 844:\n" + "\n".join(problems)
        assert page.locator("header.topbar").bounding_box()["height"] <= limit
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        problems = checks.phone_frame(page, elderly_on=variant.elderly)
        assert not [p for p in problems if "tab bar" in p], (
            f"{path} scrolled to the end:\n" + "\n".join(problems)
        )
        ui.shot(f"frame {path} scrolled")
    ui.finish()


def test_offline_page_when_the_network_is_gone(city, open_ui):
    driver = data.driver(city, "郑师傅")
    ui = open_ui(PHONE)
    ui.login(driver.user, data.DRIVER_PASSWORD)
    page = ui.page
    registered = page.evaluate(
        """async () => {
            if (!('serviceWorker' in navigator)) return 'no service worker support';
            const timeout = new Promise(resolve => setTimeout(() => resolve('timeout'), 10000));
            const ready = navigator.serviceWorker.ready.then(r => r.active ? 'active' : 'none');
            return await Promise.race([ready, timeout]);
        }"""
    )
    assert registered == "active", f"the service worker did not install: {registered}"
    page.reload()  # the service worker controls the pages loaded after it is active
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    offline_html = page.request.get(
        reverse("pwa:offline"), headers={"Accept-Language": "zh-CN"}
    ).text()
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", offline_html, re.S)
    assert heading, "the offline page has a heading"
    expected = re.sub(r"<[^>]+>", "", heading.group(1)).strip()

    page.context.set_offline(True)
    try:
        page.goto(reverse("me:membership"))
        ui.check("offline", key="offline-phone", frame=False)  # a page without a session
        assert page.locator("h1").first.inner_text().strip() == expected
    finally:
        page.context.set_offline(False)
    ui.goto(reverse("me:membership"))
    assert page.locator("h1").first.inner_text().strip() != expected, "back online, the page"
    ui.finish()
