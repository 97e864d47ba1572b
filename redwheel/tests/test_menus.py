"""The navigation comes from the one menu registry (redwheel.core.menus) and shows, for every
role, exactly the entries its user can open: every link shown answers 200, and every registered
entry of the user's audience that is not shown does not."""

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from redwheel import testing
from redwheel.core import menus
from redwheel.tests.world import build_world

NAV = re.compile(r'<nav class="mainnav"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture(scope="module")
def roles(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world("菜单城")
        city = world.city
        yield {
            "superuser": city.admin,
            "committee": testing.staff(city.root, "staff"),
            "platform committee": testing.staff(city.committee_a, "staff"),
            "secretary": testing.staff(city.branch_a, "secretary"),
            "viewer": testing.staff(city.root, "viewer"),
            "regulator": testing.staff(city.root, "regulator"),
            "instructor": testing.staff(city.branch_a, "instructor"),
            "driver": world.driver.user,
            "member": world.member.user,
            "no role": testing.user("无角色"),
        }
        transaction.set_rollback(True)


AUDIENCE = {"driver": menus.DRIVER, "member": menus.DRIVER, "no role": None}


def _nav_links(client) -> list[str]:
    page = client.get(reverse("home"), follow=True)
    assert page.status_code == 200
    return HREF.findall(NAV.search(page.content.decode()).group(1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role",
    [
        "superuser",
        "committee",
        "platform committee",
        "secretary",
        "viewer",
        "regulator",
        "instructor",
        "driver",
        "member",
        "no role",
    ],
)
def test_a_menu_shows_exactly_what_its_user_can_open(role, roles):
    client = Client()
    client.force_login(roles[role])
    shown = _nav_links(client)
    assert len(shown) == len(set(shown))
    for url in shown:
        assert client.get(url).status_code == 200, f"{role}: {url} shown"
    audience = AUDIENCE.get(role, menus.STAFF)
    for entry in menus.entries(audience) if audience else ():
        if entry.url not in shown:
            assert client.get(entry.url).status_code != 200, f"{role}: {entry.url} hidden"
    if audience is None:
        assert shown == []


@pytest.mark.django_db
def test_the_menus_differ_by_role(roles):
    def links(role):
        client = Client()
        client.force_login(roles[role])
        return set(_nav_links(client))

    sandbox, audit = reverse("dispatch:index"), reverse("core:audit_log")
    committee, secretary, driver = links("committee"), links("secretary"), links("driver")
    assert {sandbox, audit} <= committee
    assert sandbox not in secretary and audit not in secretary
    assert sandbox not in links("platform committee")  # the sandbox is the city committee's
    assert reverse("me:badge") in driver and reverse("insights:dashboard") not in driver
    assert reverse("core:inbox") in driver and reverse("core:inbox") in committee
    assert len(committee) == len(menus.entries(menus.STAFF))


def test_staff_entries_are_grouped_by_task():
    groups = [e.group for e in menus.entries(menus.STAFF)]
    assert {menus.ORGANISATION, menus.DRIVERS, menus.DATA, menus.SERVICES, menus.SANDBOX} <= set(
        groups
    )
    assert groups == sorted(groups, key=groups.index)  # each group's entries together


def test_registering_checks_its_arguments():
    with pytest.raises(ValueError, match="audience"):
        menus.register("visitor", "x", "home", order=1)
    with pytest.raises(ValueError, match="group"):
        menus.staff("x", "home", group="nowhere", order=1)
    with pytest.raises(ValueError, match="action"):
        menus.staff("x", "home", group=menus.DATA, order=1, action="fly")
