"""No raw phone or licence/ID number appears on any page, export or log line of the demo city.

The test builds a small demo city, then crawls every page reachable by GET from each role's
home page (following links and htmx GET targets), opening spreadsheet exports too, and
searches every body and every captured log line for any driver's or user's plaintext number.
"""

import io
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import openpyxl
import pytest
from django.test import Client

from redwheel.accounts.models import User
from redwheel.demo.city import build_demo_city
from redwheel.demo.specs import DEMO_PASSWORD, MEMBER_DRIVER, STAFF
from redwheel.drivers.models import Driver

pytestmark = pytest.mark.django_db

MAX_PAGES_PER_ROLE = 120
SKIP = ("/admin/", "/accounts/logout", "/i18n/", "/static/", "/media/")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "hx-get"):
            if attrs.get(name):
                self.links.append(attrs[name])


def _text_of(response) -> str:
    content_type = response.get("Content-Type", "")
    if "spreadsheetml" in content_type:
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return response.content.decode("utf-8", errors="replace")


def _crawl(client: Client, start: str) -> dict[str, str]:
    seen: dict[str, str] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc or not parts.path.startswith("/") or url in seen:
            continue
        if any(parts.path.startswith(prefix) for prefix in SKIP):
            continue
        response = client.get(url, follow=True)
        seen[url] = _text_of(response) if response.status_code == 200 else ""
        if "text/html" in response.get("Content-Type", ""):
            parser = _Links()
            parser.feed(seen[url])
            for link in parser.links:
                absolute = urljoin(url, link).split("#")[0]
                # Visit each route shape a few times, not every page of every list.
                if absolute not in seen and absolute not in queue:
                    queue.append(absolute)
    return seen


@pytest.fixture
def demo_city(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    build_demo_city(scale=0.05)


def test_no_plaintext_numbers_on_any_page_or_log_line(demo_city, caplog, capsys):
    secrets = {d.phone for d in Driver.objects.all()} | {d.license_no for d in Driver.objects.all()}
    secrets |= {u.phone for u in User.objects.all()}
    pattern = re.compile("|".join(sorted(map(re.escape, secrets), key=len, reverse=True)))

    visited = 0
    for phone in (STAFF[1].phone, STAFF[3].phone, MEMBER_DRIVER.phone):
        client = Client()
        assert client.login(phone=phone, password=DEMO_PASSWORD)
        pages = _crawl(client, "/")
        visited += len(pages)
        leaks = {
            url: pattern.findall(body)[:3] for url, body in pages.items() if pattern.search(body)
        }
        assert leaks == {}, f"plaintext numbers on pages: {leaks}"

    assert visited > 40, "the crawl should reach the staff and driver pages"
    logged = caplog.text + capsys.readouterr().out
    assert not pattern.search(logged), "plaintext numbers in log output"
