"""The page frame (issue 15, docs/frontend.md): elderly mode and text size remembered per
account, the "长辈版" switch, the driver's tab bar and services page, the staff menus grouped
by task, and what makes the app installable (manifest, service worker, offline page)."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.accounts import services
from redwheel.accounts.models import User
from redwheel.core import menus, pwa
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.models import AuditEntry

PASSWORD = "pw-Secret-2026"
BODY = re.compile(r"<body[^>]*\bdata-elderly=\"(on|off)\"")
TEXT_SCALE = re.compile(r"<html[^>]*\bdata-text-scale=\"(\d+)\"")
TABBAR = re.compile(r'<nav class="tabbar"[^>]*>(.*?)</nav>', re.S)
MAINNAV = re.compile(r'<nav class="mainnav"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture
def driver_user(city):
    return city.driver("长辈").user


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _elderly(response) -> str:
    return BODY.search(response.content.decode()).group(1)


# Preferences: the service ---------------------------------------------------------------------


def test_a_user_sets_their_own_preferences_with_an_audit_entry(driver_user):
    services.user_preferences_set(
        actor=driver_user, user=driver_user, elderly_mode=True, text_scale=150
    )
    driver_user.refresh_from_db()
    assert (driver_user.elderly_mode, driver_user.text_scale) == (True, 150)
    entry = AuditEntry.objects.get(action="user.preferences")
    assert entry.actor == driver_user
    assert entry.data == {"elderly_mode": True, "text_scale": 150}


def test_setting_nothing_new_writes_no_audit_entry(driver_user):
    services.user_preferences_set(actor=driver_user, user=driver_user, elderly_mode=False)
    services.user_preferences_set(actor=driver_user, user=driver_user)
    assert not AuditEntry.objects.filter(action="user.preferences").exists()


def test_nobody_else_sets_a_users_preferences(city, driver_user):
    other = city.driver("别人").user
    committee = testing.staff(city.root, "staff")
    for actor in (other, committee):
        with pytest.raises(NotFound):
            services.user_preferences_set(actor=actor, user=driver_user, elderly_mode=True)
    driver_user.refresh_from_db()
    assert driver_user.elderly_mode is False
    services.user_preferences_set(actor=city.admin, user=driver_user, elderly_mode=True)
    driver_user.refresh_from_db()
    assert driver_user.elderly_mode is True


@pytest.mark.parametrize("scale", [99, 201, 0, "150", True])
def test_a_text_size_outside_100_to_200_percent_is_refused(driver_user, scale):
    with pytest.raises(ValidationFailed):
        services.user_preferences_set(actor=driver_user, user=driver_user, text_scale=scale)
    driver_user.refresh_from_db()
    assert driver_user.text_scale == 100


# The settings page ("me" tab) -----------------------------------------------------------------


def test_the_settings_page_saves_elderly_mode_and_text_size_for_the_account(driver_user):
    client = _client(driver_user)
    page = client.get(reverse("accounts:settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="elderly_mode"' in html and 'name="text_scale"' in html
    assert reverse("accounts:password_change") in html
    assert reverse("accounts:logout") in html and reverse("set_language") in html

    response = client.post(
        reverse("accounts:settings"), {"elderly_mode": "on", "text_scale": "175"}
    )
    assert response.status_code == 302
    driver_user.refresh_from_db()
    assert (driver_user.elderly_mode, driver_user.text_scale) == (True, 175)
    page = client.get(reverse("me:home"))
    assert _elderly(page) == "on"
    assert TEXT_SCALE.search(page.content.decode()).group(1) == "175"

    client.post(reverse("accounts:settings"), {"text_scale": "100"})  # box unticked
    driver_user.refresh_from_db()
    assert (driver_user.elderly_mode, driver_user.text_scale) == (False, 100)


def test_the_settings_page_refuses_a_text_size_it_does_not_offer(driver_user):
    response = _client(driver_user).post(
        reverse("accounts:settings"), {"elderly_mode": "on", "text_scale": "160"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["text_scale"]
    driver_user.refresh_from_db()
    assert (driver_user.elderly_mode, driver_user.text_scale) == (False, 100)


def test_the_setting_survives_logout_and_login(driver_user):
    driver_user.set_password(PASSWORD)
    driver_user.save()
    client = _client(driver_user)
    client.post(reverse("accounts:settings"), {"elderly_mode": "on", "text_scale": "150"})
    client.post(reverse("accounts:logout"))
    assert _elderly(client.get(reverse("accounts:login"))) == "off"

    fresh = Client()  # another device: the mode is the account's, not the browser's
    response = fresh.post(
        reverse("accounts:login"), {"username": driver_user.phone, "password": PASSWORD}
    )
    assert response.status_code == 302
    page = fresh.get(reverse("me:home"))
    assert _elderly(page) == "on"
    assert TEXT_SCALE.search(page.content.decode()).group(1) == "150"


def test_settings_and_services_are_driver_pages(city):
    staff = _client(testing.staff(city.root, "staff"))
    assert staff.get(reverse("accounts:settings")).status_code == 404
    assert staff.get(reverse("accounts:services")).status_code == 404
    signed_out = Client().get(reverse("accounts:settings"))
    assert signed_out.status_code == 302 and reverse("accounts:login") in signed_out["Location"]


# The "长辈版" switch ----------------------------------------------------------------------------


def test_the_switch_works_without_javascript_and_goes_back(driver_user):
    client = _client(driver_user)
    page = client.get(reverse("me:badge"))
    html = page.content.decode()
    assert _elderly(page) == "off"
    assert "data-elderly-toggle" in html and 'aria-pressed="false"' in html
    back = reverse("me:badge") + "?x=1"
    response = client.post(reverse("accounts:elderly_toggle"), {"elderly_mode": "on", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    driver_user.refresh_from_db()
    assert driver_user.elderly_mode is True
    page = client.get(back)
    assert _elderly(page) == "on" and 'aria-pressed="true"' in page.content.decode()
    assert "Elderly mode is on." in page.content.decode()  # the message stays on the page

    client.post(reverse("accounts:elderly_toggle"), {"elderly_mode": "off", "next": back})
    driver_user.refresh_from_db()
    assert driver_user.elderly_mode is False


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/me/", "javascript:alert(1)", ""]
)
def test_the_switch_refuses_an_off_site_next(driver_user, target):
    response = _client(driver_user).post(
        reverse("accounts:elderly_toggle"), {"elderly_mode": "on", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    driver_user.refresh_from_db()
    assert driver_user.elderly_mode is True


def test_the_switch_needs_a_signed_in_post(driver_user):
    assert _client(driver_user).get(reverse("accounts:elderly_toggle")).status_code == 405
    response = Client().post(reverse("accounts:elderly_toggle"), {"elderly_mode": "on"})
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    response = _client(driver_user).post(
        reverse("accounts:elderly_toggle"), {"elderly_mode": "maybe", "next": "/me/"}
    )
    driver_user.refresh_from_db()
    assert response["Location"] == "/me/" and driver_user.elderly_mode is False


def test_the_switch_is_on_every_driver_page(driver_user):
    client = _client(driver_user)
    for entry in menus.entries(menus.DRIVER):
        page = client.get(entry.url)
        assert page.status_code == 200, entry.url
        assert "data-elderly-toggle" in page.content.decode(), entry.url


def test_driver_pages_render_elderly_mode_for_a_user_with_it_on(city, driver_user):
    services.user_preferences_set(actor=driver_user, user=driver_user, elderly_mode=True)
    client = _client(driver_user)
    for url in (reverse("me:home"), reverse("accounts:services"), reverse("core:inbox")):
        assert _elderly(client.get(url)) == "on", url
    other = _client(city.driver("别人").user)
    assert _elderly(other.get(reverse("me:home"))) == "off"


# Navigation -----------------------------------------------------------------------------------


def test_drivers_get_the_four_tabs_with_the_unread_count(driver_user):
    from redwheel.core import notifications

    client = _client(driver_user)
    html = client.get(reverse("me:home")).content.decode()
    tabs = HREF.findall(TABBAR.search(html).group(1))
    assert tabs == [
        reverse("me:home"),
        reverse("accounts:services"),
        reverse("core:inbox"),
        reverse("accounts:settings"),
    ]
    assert 'aria-current="page"' in TABBAR.search(html).group(1).split("</a>")[0]
    assert 'class="count"' not in TABBAR.search(html).group(1)

    for title in ("Hello", "Hello again"):
        notifications.notify_user(user=driver_user, event="test.hello", title=title)
    tabbar = TABBAR.search(client.get(reverse("accounts:services")).content.decode()).group(1)
    assert re.search(r'class="count">2<', tabbar)


def test_the_services_page_lists_every_driver_menu_entry_grouped(driver_user):
    html = _client(driver_user).get(reverse("accounts:services")).content.decode()
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    links = HREF.findall(main)
    assert sorted(links) == sorted(entry.url for entry in menus.entries(menus.DRIVER))
    for section in menus.menu(menus.DRIVER, driver_user):
        if section.label:
            assert f">{section.label}</h2>" in main


def test_staff_navigation_is_grouped_by_the_registry_groups(city):
    committee = testing.staff(city.root, "staff")
    html = _client(committee).get(reverse("insights:dashboard")).content.decode()
    nav = MAINNAV.search(html).group(1)
    assert "tabbar" not in html and "data-elderly-toggle" not in html
    groups = re.findall(r'<details class="navgroup"[^>]*><summary[^>]*>([^<]+)</summary>', nav)
    expected = [s.label for s in menus.menu(menus.STAFF, committee) if s.label]
    assert groups == [str(label) for label in expected] and len(groups) >= 5
    for section in menus.menu(menus.STAFF, committee):
        for entry in section.entries:
            assert f'href="{entry.url}"' in nav
    assert reverse("accounts:logout") in html and reverse("set_language") in html


def test_the_frame_has_its_landmarks_and_no_emoji(driver_user):
    html = _client(driver_user).get(reverse("me:home")).content.decode()
    assert re.search(r'<html lang="[a-z-]+"', html)
    assert '<header class="topbar">' in html and '<main id="main"' in html
    assert 'class="skip-link" href="#main"' in html
    assert re.search(r'<nav class="tabbar" aria-label="[^"]+">', html)
    assert re.search(r'<nav class="mainnav" aria-label="[^"]+">', html)
    assert "🚗" not in html and "brand.svg" in html
    assert "onchange=" not in html and "<script>" not in html  # no inline script


def test_the_language_select_is_labelled(client, db):
    html = client.get(reverse("accounts:login")).content.decode()
    select = re.search(r'<select name="language" id="([^"]+)"', html)
    assert f'<label for="{select.group(1)}"' in html


# Installable ----------------------------------------------------------------------------------


def test_the_manifest_is_valid_and_its_icons_are_static_files(client, db):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    data = json.loads(response.content)
    assert data["start_url"] == "/me/" and data["display"] == "standalone"
    assert data["name"] and data["short_name"] and data["theme_color"] == "#c8161d"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    assert any(icon["type"] == "image/svg+xml" for icon in data["icons"])
    for icon in data["icons"]:
        path = icon["src"].removeprefix("/static/")
        assert finders.find(path), icon["src"]
        if icon["type"] == "image/png":
            with open(finders.find(path), "rb") as handle:
                head = handle.read(24)
            assert head[:8] == b"\x89PNG\r\n\x1a\n"
            width = int.from_bytes(head[16:20], "big")
            assert f"{width}x{width}" == icon["sizes"]


def test_the_manifest_name_is_the_brand(client, db, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert json.loads(response.content)["name"] == "红色方向盘"


def test_every_page_links_the_manifest_icons_and_theme(client, db):
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert '<meta name="theme-color" content="#c8161d">' in html
    assert 'rel="apple-touch-icon"' in html
    assert 'src="/static/redwheel/frame.js" data-service-worker="/sw.js"' in html


def test_the_service_worker_is_served_at_the_root_for_the_whole_site(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    script = response.content.decode()
    config = json.loads(re.search(r"const CONFIG = (\{.*?\n\});", script, re.S).group(1))
    assert config["offline"] == "/offline/" and config["logout"] == reverse("accounts:logout")
    assert "/static/redwheel/app.css" in config["shell"]
    for url in config["shell"]:
        assert finders.find(url.removeprefix("/static/")), url
    assert config["offlinePrefixes"] == pwa.offline_prefixes()


def test_the_service_worker_keeps_no_page_unless_declared(client, db, monkeypatch):
    monkeypatch.setattr(pwa, "_offline_prefixes", [])
    config = re.search(r"const CONFIG = (\{.*?\n\});", client.get("/sw.js").content.decode(), re.S)
    assert json.loads(config.group(1))["offlinePrefixes"] == []
    pwa.offline_pages("/me/learning/lessons/")
    assert pwa.offline_prefixes() == ["/me/learning/lessons/"]
    with pytest.raises(ValueError):
        pwa.offline_pages("/")
    with pytest.raises(ValueError):
        pwa.offline_pages("me/learning")


def test_the_offline_page_renders_without_personal_data(db, driver_user):
    for client in (Client(), _client(driver_user)):
        response = client.get("/offline/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "No connection" in html
        assert driver_user.display_name not in html and "csrfmiddlewaretoken" not in html


def test_the_brand_mark_and_font_are_static_files():
    assert finders.find("redwheel/brand.svg")
    assert finders.find("redwheel/frame.js")
    css = finders.find("vendor/noto-sans-sc/noto-sans-sc.css")
    if css is None:
        pytest.skip("run `node scripts/vendor.mjs` (make setup) to vendor the font")
    with open(css, encoding="utf-8") as handle:
        text = handle.read()
    files = re.findall(r"url\((files/[^)]+\.woff2)\)", text)
    assert len(files) > 100 and "font-weight: 700" in text and "font-weight: 400" in text
    for name in files[:5] + files[-5:]:
        assert finders.find(f"vendor/noto-sans-sc/{name}"), name


def test_the_font_stack_ends_with_the_shipped_font():
    with open(finders.find("redwheel/app.css"), encoding="utf-8") as handle:
        css = handle.read()
    stack = re.search(r"--font: ([^;]+);", css).group(1)
    names = [name.strip().strip('"') for name in stack.split(",")]
    assert names[-2:] == ["Noto Sans SC", "sans-serif"]
    assert {"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC"} <= set(names)


def test_the_user_model_keeps_the_preferences():
    fields = {f.name for f in User._meta.get_fields()}
    assert {"elderly_mode", "text_scale"} <= fields
