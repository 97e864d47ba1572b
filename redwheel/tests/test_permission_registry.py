"""The one permission mechanism: every model registered, and the rules it applies."""

import pytest
from django.apps import apps

from redwheel import testing
from redwheel.core import permissions
from redwheel.core.permissions import SystemActor, can, scope
from redwheel.drivers.models import Driver
from redwheel.orgs.models import OrgUnit, Platform
from redwheel.orgs.permissions import committee_cities, is_city_committee


def _project_models():
    return [
        m
        for m in apps.get_models()
        if m.__module__.startswith("redwheel.") and not m._meta.auto_created
    ]


def test_every_project_model_is_registered():
    missing = sorted(
        m._meta.label for m in _project_models() if m not in permissions.registered_models()
    )
    assert missing == [], "register these with redwheel.core.permissions: " + ", ".join(missing)


def test_an_unregistered_model_is_refused_rather_than_shown(db):
    from django.contrib.sessions.models import Session

    with pytest.raises(TypeError):
        scope(testing.user(), "view", Session.objects.all())


def test_a_system_actor_must_say_whom_it_acts_for():
    with pytest.raises(ValueError):
        SystemActor("no scope")
    with pytest.raises(ValueError):
        SystemActor("both", platform_id=1, operator=True)


@pytest.fixture
def two_cities(db):
    return testing.city(), testing.city()


def test_a_root_grant_covers_its_own_city_only(two_cities):
    one, two = two_cities
    committee = testing.staff(one.root)
    one_driver = one.driver()
    two.driver()

    assert set(scope(committee, "view", Driver.objects.all())) == {one_driver}
    units = set(scope(committee, "view", OrgUnit.objects.all()))
    assert one.branch_b in units and two.root not in units and two.branch_a not in units
    assert set(scope(committee, "view", Platform.objects.all())) == {one.platform_a, one.platform_b}
    assert list(committee_cities(committee)) == [one.root]
    assert is_city_committee(committee, city=one.root)
    assert not is_city_committee(committee, city=two.root)


def test_a_platform_committee_is_not_the_city_committee(two_cities):
    one, _two = two_cities
    platform_staff = testing.staff(one.committee_a)
    assert not is_city_committee(platform_staff)
    a_driver, b_driver = one.driver(), one.driver(platform=one.platform_b)
    assert set(scope(platform_staff, "view", Driver.objects.all())) == {a_driver}
    assert not can(platform_staff, "view", b_driver)


def test_a_driver_without_a_branch_is_seen_through_the_platform_and_its_city(two_cities):
    one, two = two_cities
    from redwheel.drivers.services import driver_create

    loose = driver_create(
        actor=one.admin,
        name="无支部",
        license_no=testing.id_number(990001),
        phone=testing.mobile(990001),
        platforms=[one.platform_b],
    )
    assert can(testing.staff(one.root), "view", loose)
    assert can(testing.staff(one.committee_b), "view", loose)
    assert not can(testing.staff(one.committee_a), "view", loose)
    assert not can(testing.staff(two.root), "view", loose)


def test_a_driver_sees_only_their_own_rows(two_cities):
    one, _two = two_cities
    me, other = one.driver(), one.driver()
    assert set(scope(me.user, "view", Driver.objects.all())) == {me}
    assert not can(me.user, "verify", me)  # self-service is view/change only
    assert not can(me.user, "view", other)


def test_platform_principals_see_their_own_platform_only(two_cities):
    one, _two = two_cities
    a_driver, b_driver = one.driver(), one.driver(platform=one.platform_b)
    feed = SystemActor.for_platform(one.platform_a.pk, "feed A")
    assert set(scope(feed, "change", Driver.objects.all())) == {a_driver}
    assert not can(feed, "change", b_driver)
    assert not can(feed, "verify", a_driver)  # tokens and feeds never verify membership
    assert set(scope(feed, "view", Platform.objects.all())) == {one.platform_a}


def test_operators_and_superusers_are_unscoped_and_inactive_users_see_nothing(two_cities):
    one, two = two_cities
    drivers = {one.driver(), two.driver()}
    assert set(scope(SystemActor.operator("cmd"), "change", Driver.objects.all())) == drivers
    assert set(scope(one.admin, "view", Driver.objects.all())) == drivers
    staff = testing.staff(one.root)
    staff.is_active = False
    staff.save()
    assert not scope(staff, "view", Driver.objects.all()).exists()


def test_the_audit_log_is_scoped_like_its_objects(client, two_cities):
    from redwheel.core.selectors import audit_log

    one, two = two_cities
    mine, theirs = one.driver(), two.driver()
    entries = audit_log(testing.staff(one.root))
    ids = set(entries.filter(action="driver.create").values_list("object_id", flat=True))
    assert str(mine.pk) in ids and str(theirs.pk) not in ids
    platform_b_staff = testing.staff(one.committee_b)
    assert not audit_log(platform_b_staff).filter(object_id=str(mine.pk)).exists()
