"""What the driver services share: permission checks, the badge rule, platform notices."""

from django.utils.translation import gettext as _

from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.notifications import notify_platform
from redwheel.core.permissions import acting_platform, can
from redwheel.drivers.models import (
    PARTY_MEMBER_CATEGORIES,
    Driver,
    Membership,
    MembershipActivity,
)
from redwheel.orgs.models import OrgUnit

State = Membership.State
Action = MembershipActivity.Action


def _require(actor, action: str, obj) -> None:
    if not can(actor, action, obj):
        raise NotFound()


def _branch(unit: OrgUnit) -> OrgUnit:
    if unit.kind not in (
        OrgUnit.Kind.BRANCH,
        OrgUnit.Kind.GENERAL_BRANCH,
        OrgUnit.Kind.ENTERPRISE_COMMITTEE,
    ):
        raise ValidationFailed(
            _("Members belong to a branch, general branch or enterprise committee.")
        )
    return unit


def badge_visible(driver: Driver) -> bool:
    """The "党员司机" badge: a verified party member (full or probationary) who consents."""
    return driver.badge_consent and _is_verified_member(driver)


def _is_verified_member(driver: Driver) -> bool:
    membership = getattr(driver, "membership", None)
    return bool(
        membership
        and membership.state == State.VERIFIED
        and membership.category in PARTY_MEMBER_CATEGORIES
    )


def _is_self(actor, driver: Driver) -> bool:
    """Is `actor` the driver's own account (not a token or feed that happens to share an id)?"""
    return (
        acting_platform(actor) is None
        and getattr(actor, "is_authenticated", False)
        and driver.user_id is not None
        and driver.user_id == actor.pk
    )


def _notify_badge_change(driver: Driver) -> None:
    payload = {
        "license_masked": driver.license_masked,
        "driver_id": driver.pk,
        "badge": badge_visible(driver),
    }
    for affiliation in driver.affiliations.select_related("platform").filter(is_active=True):
        notify_platform(
            platform=affiliation.platform,
            event="badge.changed",
            payload={**payload, "company_id": affiliation.platform.company_id},
        )
