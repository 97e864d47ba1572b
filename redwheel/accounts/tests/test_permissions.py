import pytest

from redwheel import testing
from redwheel.core.permissions import can, scope
from redwheel.drivers.models import Driver
from redwheel.orgs import services as org_services

pytestmark = pytest.mark.django_db


def test_committee_staff_see_every_driver_even_on_platforms_without_party_units(city):
    gap_platform = org_services.platform_create(
        actor=city.admin, company_id="GAP1", name="无组织", city=city.root
    )
    orphan = city.driver(platform=gap_platform, branch=None)
    orphan.branch = None
    orphan.save()
    committee_staff = testing.staff(city.root)
    assert can(committee_staff, "view", orphan)
    platform_staff = testing.staff(city.committee_a)
    assert not can(platform_staff, "view", orphan)


def test_platform_committee_sees_its_drivers_but_a_branch_grant_only_its_branch(city):
    in_branch = city.driver(platform=city.platform_a, branch=city.branch_a)
    other_branch = org_services.unit_create(
        actor=city.admin,
        name="甲出行第二支部",
        kind="branch",
        parent=city.committee_a,
        region_code="510107",
    )
    elsewhere = city.driver(platform=city.platform_a, branch=other_branch)

    committee = testing.staff(city.committee_a, "secretary")
    assert set(scope(committee, "view", Driver.objects.all())) == {in_branch, elsewhere}

    organiser = testing.staff(city.branch_a, "organiser")
    assert list(scope(organiser, "view", Driver.objects.all())) == [in_branch]
    assert not can(organiser, "change", elsewhere)


def test_drivers_see_only_themselves(city):
    me, other = city.driver(), city.driver()
    assert list(scope(me.user, "view", Driver.objects.all())) == [me]
    assert not can(me.user, "verify", me)
    assert not can(me.user, "view", other)


def test_viewer_cannot_change_and_unknown_action_is_an_error(city):
    viewer = testing.staff(city.root, "viewer")
    driver = city.driver()
    assert can(viewer, "view", driver)
    assert not can(viewer, "change", driver)
    with pytest.raises(ValueError):
        can(viewer, "fly", driver)
