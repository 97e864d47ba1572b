"""Pages by audience: every URL under /staff/ is a staff page (accounts.decorators.staff_required
or a guard built on it) and every URL under /me/ a driver's own page (driver_required). Walked
from the resolver, so a new page is covered without editing this file: a driver without grants
gets 404 from every staff URL, a staff member without a driver record 404 from every /me/ URL,
whatever the method and before any id is looked up; signed-out visitors are sent to sign in.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from redwheel import testing
from redwheel.core.audiences import ME, STAFF

PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
SAMPLES = {"action": "accept", "kind": "drivers", "fmt": "xlsx"}


def _routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and "(?P" not in str(entry.pattern):
            yield prefix + str(entry.pattern)


def _path(route: str) -> str:
    return "/" + PARAM.sub(
        lambda m: "1" if m.group("conv") == "int" else SAMPLES[m.group("name")], route
    )


ROUTES = sorted(set(_routes()))
STAFF_PATHS = [_path(r) for r in ROUTES if r.startswith(STAFF)]
ME_PATHS = [_path(r) for r in ROUTES if r.startswith(ME)]


def test_both_audiences_have_their_pages():
    assert len(STAFF_PATHS) > 60 and len(ME_PATHS) > 15
    assert "/staff/imports/" in STAFF_PATHS and "/me/metrics/" in ME_PATHS


@pytest.fixture
def people(db):
    city = testing.city()
    return {
        "driver": city.driver("只是司机").user,
        "staff": testing.staff(city.root, "staff"),
    }


def _refusals(user, paths):
    client = Client()
    if user is not None:
        client.force_login(user)
    login = reverse("accounts:login")
    seen = {}
    for path in paths:
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            if response.status_code == 302 and response["Location"].startswith(login):
                seen[method, path] = "login"
            else:
                seen[method, path] = response.status_code
    return seen


def test_a_driver_gets_404_from_every_staff_page(people):
    assert set(_refusals(people["driver"], STAFF_PATHS).values()) == {404}


def test_staff_without_a_driver_record_get_404_from_every_driver_page(people):
    assert set(_refusals(people["staff"], ME_PATHS).values()) == {404}


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in():
    assert set(_refusals(None, STAFF_PATHS + ME_PATHS).values()) == {"login"}


def test_imports_were_open_to_drivers_and_are_not(people):
    client = Client()
    client.force_login(people["driver"])
    assert client.get(reverse("imports:list")).status_code == 404
    client.force_login(people["staff"])
    assert client.get(reverse("imports:list")).status_code == 200
