"""Issue 12, defect 2: checking a member in opens them to the branch's staff, so staff may
check members in only to mobile branches they run (API and pages alike)."""

import json

import pytest
from django.test import Client

from redwheel import testing
from redwheel.core.errors import NotFound
from redwheel.core.permissions import can
from redwheel.drivers import services

pytestmark = pytest.mark.django_db


def _check_in(user, membership, branch):
    client = Client()
    client.force_login(user)
    return client.post(
        f"/api/v1/memberships/{membership.pk}:check-in",
        json.dumps({"mobile_branch_id": branch.pk}),
        content_type="application/json",
    )


def test_platform_staff_cannot_check_their_member_in_to_another_platforms_branch(city):
    member = city.member(platform=city.platform_b)
    membership = member.membership
    platform_b_staff = testing.staff(city.committee_b)

    response = _check_in(platform_b_staff, membership, city.mobile_branch_a)

    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "details"}
    membership.refresh_from_db()
    assert membership.mobile_branch_id is None
    assert not can(testing.staff(city.committee_a), "view", member)


def test_staff_check_members_in_to_their_own_mobile_branch(city):
    member = city.member()
    platform_a_staff = testing.staff(city.committee_a)
    response = _check_in(platform_a_staff, member.membership, city.mobile_branch_a)
    assert response.status_code == 200, response.content
    member.membership.refresh_from_db()
    assert member.membership.mobile_branch_id == city.mobile_branch_a.pk


def test_a_driver_checks_in_within_their_city_only(city):
    other_city = testing.city()
    member = city.member(platform=city.platform_b)
    with pytest.raises(NotFound):
        services.membership_check_in(
            actor=member.user,
            membership=member.membership,
            mobile_branch=other_city.mobile_branch_a,
        )
    # The driver's own choice may be any mobile branch their city offers.
    services.membership_check_in(
        actor=member.user, membership=member.membership, mobile_branch=city.mobile_branch_a
    )
    assert can(testing.staff(city.mobile_branch_a), "view", member)
