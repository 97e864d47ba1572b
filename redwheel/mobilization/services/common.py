"""What the mobilization services share: limits, the actor's own driver, the points granted
for service records, and input checks. The state machines are in `mobilization/states.py`."""

import logging
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.core.permissions import get_or_404
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Driver, Membership
from redwheel.mobilization.models import ServiceRecord
from redwheel.orgs.models import OrgUnit
from redwheel.scoring.services import points_grant

logger = logging.getLogger(__name__)

MAX_RADIUS_KM = 50.0
MAX_VOLUNTEER_HOURS = Decimal("24.0")
TENTH = Decimal("0.1")


def _own_driver(actor) -> Driver:
    """The actor's own driver record; anyone without one (staff, system actors) is refused."""
    # Only a signed-in person has a driver of their own (`user_id=None` would match drivers
    # without an account).
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "pk", None) is None:
        raise NotFound()
    return get_or_404(actor, "view", Driver.objects.all(), user_id=actor.pk)


def _city_of(unit: OrgUnit) -> str:
    """The path of the city (root unit) a unit belongs to."""
    return unit.path.split(".", 1)[0] + "."


def _hours(delta: timedelta) -> Decimal:
    seconds = max(delta.total_seconds(), 0)
    return (Decimal(seconds) / Decimal(3600)).quantize(TENTH, rounding=ROUND_HALF_UP)


# Why a service record may stand without its points: the actor may not grant for this driver
# (out of their scope, or their own record), no rule book or no such rule was in force, or the
# rule's cap is used up. Any other error rolls the record back with the grant.
POINTS_SKIPPED = frozenset({"not_found", "no_rule_book", "unknown_rule", "points_cap_reached"})
VOLUNTEER_RULE = "volunteer_hour"
EMERGENCY_RULE = "emergency_call"


def _record_points(
    *, actor, record: ServiceRecord, driver: Driver, rule_code: str, occurred_at, note, quantity=1
):
    """Grant the points for a service record inside the caller's transaction (the ledger entry's
    source is the record). Returns the entry, or None when the points are skipped."""
    try:
        return points_grant(
            actor=actor,
            driver=driver,
            rule_code=rule_code,
            occurred_at=occurred_at,
            source=record,
            note=note,
            quantity=quantity,
        )
    except (NotFound, ValidationFailed, Conflict) as exc:
        if exc.code not in POINTS_SKIPPED:
            raise
        logger.info(
            "service record %s (driver %s): no %s points (%s)",
            record.pk,
            driver.pk,
            rule_code,
            exc.code,
        )
        return None


def _check_coordinates(lng: float, lat: float) -> None:
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise ValidationFailed(_("Coordinates are out of range."))


def _check_radius(radius_km: float) -> None:
    if not (0 < radius_km <= MAX_RADIUS_KM):
        raise ValidationFailed(
            _("The radius must be between 0 and %(max)s km.") % {"max": int(MAX_RADIUS_KM)}
        )


def is_party_member_q(prefix: str = ""):
    """Verified full or probationary membership (the badge's consent plays no role here)."""
    from django.db.models import Q

    return Q(
        **{
            f"{prefix}membership__state": Membership.State.VERIFIED,
            f"{prefix}membership__category__in": PARTY_MEMBER_CATEGORIES,
        }
    )
