"""A driver's journeys on the phone (and the membership one on a desktop too), each also in
elderly mode: sign in, declare the membership, switch the badge on and off, file an appeal
with a photo, answer an emergency call. Every page visited is checked with axe-core, the
phone frame and, in elderly mode, the elderly metrics (ui.Ui.check)."""

import re

import pytest
from django.urls import reverse

from redwheel.appeals.models import Case
from redwheel.browser_tests import data
from redwheel.browser_tests.ui import DESKTOP, PHONE, PHONE_ELDERLY, T, label
from redwheel.drivers import services as drivers
from redwheel.drivers.models import Membership
from redwheel.mobilization.models import Response

pytestmark = pytest.mark.browser


def _start(open_ui, variant, the_driver, *, elderly_via="header"):
    ui = open_ui(variant)
    ui.login(the_driver.user, data.DRIVER_PASSWORD)
    assert ui.path == reverse("me:home"), f"a driver lands on the driver home, not {ui.path}"
    if variant.elderly:
        ui.elderly_on(via=elderly_via)
        the_driver.user.refresh_from_db()
        assert the_driver.user.elderly_mode, "the switch is remembered on the account"
        if ui.path != reverse("me:home"):
            ui.goto(reverse("me:home"))
    return ui


@pytest.mark.parametrize("variant", [PHONE, PHONE_ELDERLY, DESKTOP], ids=lambda v: v.id)
def test_driver_declares_membership_and_switches_the_badge(city, open_ui, variant):
    driver = data.driver(city, "赵师傅")
    # Elderly mode through the settings page here (the bottom bar's "me" tab); the other
    # journeys use the switch on the page.
    ui = _start(open_ui, variant, driver, elderly_via="settings")
    home_key = {PHONE: "driver-home-phone", PHONE_ELDERLY: "driver-home-elderly"}.get(variant)
    ui.check("home", key=home_key)

    ui.goto(reverse("me:membership"))
    ui.check("membership")
    page = ui.page
    page.get_by_label(label("Category")).select_option("full")
    page.get_by_label(label("Branch")).select_option(str(city.branch_a.pk))
    ui.submit(page.get_by_role("button", name=T("Declare"), exact=True))
    ui.check("declared")
    assert T("Thank you. Your branch will check your declaration.") in page.content()
    driver.refresh_from_db()
    assert driver.membership.state == Membership.State.DECLARED
    assert driver.membership.branch_id == city.branch_a.pk

    ui.goto(reverse("me:badge"))
    ui.check("badge not yet")
    assert page.locator("#badge-state").inner_text().strip() == T("Off")
    assert page.get_by_role("button", name=T("Switch the badge on")).count() == 0, (
        "an unverified declaration cannot switch the badge on"
    )

    # The branch verifies (the staff journey does it in the browser).
    drivers.membership_verify(actor=city.admin, membership=driver.membership)
    ui.goto(reverse("me:badge"))
    ui.submit(page.get_by_role("button", name=T("Switch the badge on"), exact=True))
    ui.check("badge on")
    assert page.locator("#badge-state").inner_text().strip() == T("On")
    driver.refresh_from_db()
    assert driver.badge_consent is True

    ui.submit(page.get_by_role("button", name=T("Switch the badge off"), exact=True))
    ui.check("badge off")
    assert page.locator("#badge-state").inner_text().strip() == T("Off")
    driver.refresh_from_db()
    assert driver.badge_consent is False
    ui.finish()


@pytest.mark.parametrize("variant", [PHONE, PHONE_ELDERLY], ids=lambda v: v.id)
def test_driver_files_an_appeal_with_a_photo(city, open_ui, variant):
    driver = data.driver(city, "钱师傅")
    ui = _start(open_ui, variant, driver)
    ui.goto(reverse("appeals:my_file"))
    ui.check("appeal form", key="appeal-form" if variant == PHONE else None)
    page = ui.page
    page.get_by_label(label("What is it about?")).select_option("penalty")
    page.get_by_label(label("In one line")).fill("平台误判取消订单扣分")
    page.get_by_label(label("What happened")).fill(
        "乘客主动取消订单，平台却判定为司机责任并扣分，请复核。"
    )
    page.get_by_label(label("Photos or files (JPEG, PNG, PDF; up to 10 MB)")).set_input_files(
        {"name": "行程截图.png", "mimeType": "image/png", "buffer": data.png()}
    )
    ui.submit(page.get_by_role("button", name=T("Send"), exact=True))
    ui.check("appeal filed")

    case = Case.objects.get(driver=driver)
    assert re.search(rf"/appeals/{case.pk}/$", ui.path), ui.path
    assert case.title == "平台误判取消订单扣分"
    assert case.attachments.count() == 1
    attachment = case.attachments.get()
    assert page.locator(f"a[href='{reverse('appeals:attachment', args=[attachment.pk])}']").count()
    assert case.number in page.locator("main").inner_text()

    ui.goto(reverse("appeals:my_list"))
    ui.check("my appeals")
    assert case.title in page.locator("main").inner_text()
    ui.finish()


@pytest.mark.parametrize("variant", [PHONE, PHONE_ELDERLY], ids=lambda v: v.id)
def test_driver_answers_an_emergency_call(city, open_ui, variant):
    driver = data.member(city, "孙师傅")
    mobilization = data.open_call(city, driver)
    call_url = reverse("mobilization:my_call", args=[mobilization.pk])
    ui = _start(open_ui, variant, driver)
    ui.check("home with the call", key="driver-home-call" if variant == PHONE else None)
    page = ui.page

    # The driver home shows the open call first, with a link to answer it (attention cards).
    card_link = page.locator(f"main a[href='{call_url}']")
    if card_link.count():
        ui.submit(card_link.first)
    else:
        ui.problems.append(f"[{reverse('me:home')}] no card links to the open call {call_url}")
        ui.goto(call_url)
    ui.check("call")
    assert ui.path == call_url
    assert page.locator("#my-answer").inner_text().strip() == T("none yet")

    ui.submit(page.get_by_role("button", name=T("On my way"), exact=True))
    ui.check("answered")
    assert page.locator("#my-answer").inner_text().strip() == T("On my way")
    response = Response.objects.get(mobilization=mobilization, driver=driver)
    assert response.status == "on_my_way"

    ui.submit(page.get_by_role("button", name=T("Arrived"), exact=True))
    assert page.locator("#my-answer").inner_text().strip() == T("Arrived")
    response.refresh_from_db()
    assert response.status == "arrived"

    ui.goto(reverse("mobilization:my_home"))
    ui.check("mobilisation home")
    ui.finish()
