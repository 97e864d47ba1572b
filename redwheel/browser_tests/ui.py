"""One person's browser tab in a journey: navigation, the checks on every page, screenshots.

A journey calls `ui.check("step")` on each page it reaches; the checks (axe-core, and on a
driver's pages the phone frame and, in elderly mode, the elderly metrics) collect problems
instead of failing at once, and `ui.finish()` fails with all of them, page by page."""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import translation

from redwheel.browser_tests import checks

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
DOCS_SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
UPDATE_DOCS = os.environ.get("REDWHEEL_UPDATE_SCREENSHOTS") == "1"


def T(msgid: str) -> str:
    """The page's text for an English source string: journeys run in zh-Hans, the default."""
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def label(msgid: str) -> re.Pattern:
    """A form control's accessible name as the page shows it: the translated label, with or
    without Django's label suffix (":" or "：")."""
    return re.compile(rf"^\s*{re.escape(T(msgid))}\s*[:：]?\s*$")


@dataclass(frozen=True)
class Variant:
    id: str
    phone: bool
    elderly: bool = False

    @property
    def context_options(self) -> dict:
        if self.phone:
            return {
                "viewport": {"width": 390, "height": 844},
                "device_scale_factor": 2,
                "is_mobile": True,
                "has_touch": True,
                "user_agent": (
                    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
                ),
            }
        return {"viewport": {"width": 1366, "height": 900}}


PHONE = Variant("phone", phone=True)
PHONE_ELDERLY = Variant("phone-elderly", phone=True, elderly=True)
DESKTOP = Variant("desktop", phone=False)
DESKTOP_ELDERLY = Variant("desktop-elderly", phone=False, elderly=True)


@dataclass
class Ui:
    page: object
    variant: Variant
    name: str  # the test's id: the folder of its screenshots
    audience: str = "driver"  # "driver" pages get the frame and elderly checks
    problems: list[str] = field(default_factory=list)
    _shots: int = 0

    def __post_init__(self):
        self.page.on("pageerror", lambda exc: self._problem(f"script error: {exc}"))
        self.page.on("response", self._on_response)

    def _on_response(self, response):
        if response.request.resource_type == "document" and response.status >= 500:
            self._problem(f"HTTP {response.status} for {response.url}")

    def _problem(self, text: str, where: str | None = None) -> None:
        where = where or self.path
        self.problems.append(f"[{where}] {text}")

    @property
    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    # Navigation ------------------------------------------------------------------------------

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(path)
        assert response is not None and response.status == status, (
            f"GET {path}: HTTP {response.status if response else '—'}, expected {status}"
        )
        return response

    def submit(self, button):
        """Press a button that sends a form and wait for the page it leads to."""
        with self.page.expect_navigation(wait_until="load"):
            button.click()

    def login(self, user, password: str) -> None:
        """Sign in as a person does: mobile number and password on the login page."""
        self.goto("/accounts/login/")
        self.check("login")
        self.page.get_by_label(label("Mobile number")).fill(user.phone)
        self.page.get_by_label(label("Password")).fill(password)
        self.submit(self.page.locator("main form button[type=submit]"))
        assert "/accounts/login/" not in self.page.url, self.page.locator("main").inner_text()

    # Checks ---------------------------------------------------------------------------------

    def check(
        self, step: str, *, key: str | None = None, elderly: bool | None = None, frame=True
    ) -> None:
        """axe-core on the page as it is; on a driver's pages the phone frame (unless `frame`
        is False) and, in elderly mode, the elderly metrics; then a screenshot (and the docs
        copy for a key step)."""
        page = self.page
        page.wait_for_load_state("load")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        where = f"{self.path} · {step}"
        for problem in checks.axe(page):
            self._problem(problem, where)
        if self.audience == "driver" and step != "login":
            if self.variant.phone and frame:
                on = page.locator("body").get_attribute("data-elderly") == "on"
                for problem in checks.phone_frame(page, elderly_on=on):
                    self._problem(problem, where)
            if self.variant.elderly if elderly is None else elderly:
                for problem in checks.elderly(page):
                    self._problem(problem, where)
        self.shot(step, key=key)

    def shot(self, step: str, *, key: str | None = None) -> Path:
        self._shots += 1
        folder = SCREENSHOTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self._shots:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True, scale="css")
        if key:
            viewport = SCREENSHOTS / "key" / f"{key}.png"
            viewport.parent.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(viewport), scale="css")
            if UPDATE_DOCS:
                DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(viewport, DOCS_SCREENSHOTS / viewport.name)
        return path

    def finish(self) -> None:
        assert not self.problems, f"{len(self.problems)} problem(s) in {self.name}:\n" + "\n".join(
            self.problems
        )

    # The elderly switch ---------------------------------------------------------------------

    def elderly_on(self, *, via: str = "header") -> None:
        """Switch elderly mode on as a driver does: the switch on the page ("header"), or the
        one in the settings reached from the bottom bar's last tab ("settings")."""
        page = self.page
        if via == "settings":
            tabs = page.locator("nav.tabbar a[href]")
            if self.variant.phone and tabs.count():
                self.submit(tabs.last)
            else:
                self.goto("/me/settings/")
            self.check("settings", elderly=False)
            scope = page.locator("main")
        else:
            scope = page
        checkbox = scope.locator("input[name=elderly_mode]")
        if via == "settings" and checkbox.count():
            checkbox.first.check()
            self.submit(checkbox.first.locator("xpath=ancestor::form").locator("[type=submit]"))
        else:
            toggle = scope.locator("[data-elderly-toggle]").first
            if toggle.evaluate("e => e.tagName") == "FORM":
                toggle = toggle.locator("button, [type=submit]").first
            self.submit(toggle)
        assert page.locator("body").get_attribute("data-elderly") == "on", (
            f"after the elderly switch ({via}) the page at {self.path} is not in elderly mode"
        )
        self.check(f"elderly on via {via}")
