"""Writes for fleets, hubs, mobilisations, volunteer service and public alerts.

Every function takes `actor`, checks scope with `permissions.can`/`scope` (anything out of
scope is NotFound), runs in one transaction and writes one audit entry. State machines are the
explicit tables below; each mobilisation transition and each change of a driver's response
adds an immutable activity row.
"""

import logging
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.accounts.permissions import can, scope
from redwheel.core import audit
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.models import Notification
from redwheel.core.notifications import enqueue_many, fast_bulk_insert, notify_user
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Affiliation, Driver, Membership
from redwheel.mobilization import geo
from redwheel.mobilization.models import (
    Alert,
    AlertRecipient,
    Call,
    Fleet,
    FleetMember,
    Hub,
    Mobilisation,
    MobilisationActivity,
    Opportunity,
    PickupPoint,
    QueueEntry,
    Response,
    ResponseEvent,
    ResponseStatus,
    Ride,
    ServiceRecord,
    Sighting,
    SignUp,
)
from redwheel.orgs.models import OrgUnit
from redwheel.scoring.services import points_grant

logger = logging.getLogger(__name__)

MStatus = Mobilisation.Status
MAction = MobilisationActivity.Action
R = ResponseStatus
S = SignUp.Status

# Mobilisation state machine: action -> (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    MAction.OPEN: (frozenset({None}), MStatus.OPEN),
    MAction.CALL: (frozenset({MStatus.OPEN}), MStatus.OPEN),
    MAction.CLOSE: (frozenset({MStatus.OPEN}), MStatus.CLOSED),
    MAction.CANCEL: (frozenset({MStatus.OPEN}), MStatus.CANCELLED),
}

# A driver's response moves forward only. Repeating the current answer, or an older one (a
# retried or late tap), changes nothing. "Can't come" may be revised if plans change.
RESPONSE_TRANSITIONS: dict[str | None, frozenset] = {
    None: frozenset({R.RECEIVED, R.ON_MY_WAY, R.ARRIVED, R.CANT_COME}),
    R.RECEIVED: frozenset({R.ON_MY_WAY, R.ARRIVED, R.CANT_COME}),
    R.ON_MY_WAY: frozenset({R.ARRIVED, R.CANT_COME}),
    R.CANT_COME: frozenset({R.RECEIVED, R.ON_MY_WAY, R.ARRIVED}),
    R.ARRIVED: frozenset(),
}

# Volunteer sign-up state machine: action -> (start statuses, target). None = no sign-up yet.
SIGNUP_TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    "sign_up": (frozenset({None, S.CANCELLED}), S.SIGNED_UP),
    "cancel": (frozenset({S.SIGNED_UP}), S.CANCELLED),
    "check_in": (frozenset({S.SIGNED_UP}), S.CHECKED_IN),
    "check_out": (frozenset({S.CHECKED_IN}), S.CHECKED_OUT),
    "confirm": (frozenset({S.CHECKED_OUT}), S.CONFIRMED),
}
ACTIVE_SIGNUP = (S.SIGNED_UP, S.CHECKED_IN, S.CHECKED_OUT, S.CONFIRMED)
MAX_RADIUS_KM = 50.0
MAX_VOLUNTEER_HOURS = Decimal("24.0")
TENTH = Decimal("0.1")


def _require(actor, action: str, obj) -> None:
    if not can(actor, action, obj):
        raise NotFound()


def _own_driver(actor) -> Driver:
    driver = Driver.objects.filter(user_id=getattr(actor, "pk", None)).first()
    if driver is None:
        raise NotFound()
    return driver


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


# Fleets --------------------------------------------------------------------------------------


def fleet_create(
    *,
    actor,
    unit: OrgUnit,
    name: str,
    kind: str,
    description: str = "",
    pledge_title: str = "",
    pledge_text: str = "",
    flag_presented_on=None,
) -> Fleet:
    _require(actor, "change", unit)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A name is required."))
    if kind not in Fleet.Kind.values:
        raise ValidationFailed(_("Unknown fleet kind."))
    with transaction.atomic():
        if Fleet.objects.filter(unit=unit, name=name).exists():
            raise Conflict(_("This unit already has a fleet with this name."))
        fleet = Fleet.objects.create(
            unit=unit,
            name=name,
            kind=kind,
            description=description,
            pledge_title=pledge_title,
            pledge_text=pledge_text,
            flag_presented_on=flag_presented_on,
        )
        audit.record(actor=actor, action="fleet.create", obj=fleet, summary=name)
    return fleet


def fleet_member_add(*, actor, fleet: Fleet, driver: Driver, role: str = "member") -> FleetMember:
    _require(actor, "change", fleet.unit)
    _require(actor, "change", driver)
    if role not in FleetMember.Role.values:
        raise ValidationFailed(_("Unknown role."))
    with transaction.atomic():
        member, created = FleetMember.objects.get_or_create(
            fleet=fleet, driver=driver, defaults={"role": role}
        )
        if not created:
            if member.is_active and member.role == role:
                raise Conflict(_("This driver is already in the fleet."))
            member.is_active, member.role = True, role
            member.save(update_fields=["is_active", "role", "updated_at"])
        audit.record(
            actor=actor,
            action="fleet.member_add",
            obj=member,
            summary=f"{fleet.name} · {driver.name} · {role}",
        )
    return member


def fleet_member_remove(*, actor, member: FleetMember) -> FleetMember:
    _require(actor, "change", member.fleet.unit)
    if not member.is_active:
        raise InvalidTransition(_("This driver has already left the fleet."))
    with transaction.atomic():
        member.is_active = False
        member.save(update_fields=["is_active", "updated_at"])
        audit.record(
            actor=actor,
            action="fleet.member_remove",
            obj=member,
            summary=f"{member.fleet.name} · {member.driver.name}",
        )
    return member


def fleet_pledge_sign(*, actor, member: FleetMember) -> FleetMember:
    """The driver signs the fleet's service pledge in the app (once; signing again is a no-op)."""
    if member.driver.user_id is None or member.driver.user_id != getattr(actor, "pk", None):
        raise NotFound()
    if not member.is_active:
        raise NotFound()
    if member.pledge_signed_at is not None:
        return member
    with transaction.atomic():
        member.pledge_signed_at = timezone.now()
        member.save(update_fields=["pledge_signed_at", "updated_at"])
        audit.record(
            actor=actor,
            action="fleet.pledge_sign",
            obj=member,
            summary=member.fleet.pledge_title or member.fleet.name,
        )
    return member


def fleet_markers_set(
    *, actor, member: FleetMember, vehicle_sign: bool, identity_shown: bool
) -> FleetMember:
    """三亮: record the vehicle sign (亮标识) and member identity (亮身份) for one member."""
    _require(actor, "change", member.fleet.unit)
    with transaction.atomic():
        member.vehicle_sign, member.identity_shown = vehicle_sign, identity_shown
        member.save(update_fields=["vehicle_sign", "identity_shown", "updated_at"])
        audit.record(
            actor=actor,
            action="fleet.markers_set",
            obj=member,
            data={"vehicle_sign": vehicle_sign, "identity_shown": identity_shown},
        )
    return member


# Hubs ----------------------------------------------------------------------------------------


def hub_create(
    *,
    actor,
    unit: OrgUnit,
    name: str,
    kind: str,
    lng: float,
    lat: float,
    region_code: str = "",
    address: str = "",
) -> Hub:
    _require(actor, "change", unit)
    _check_coordinates(lng, lat)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A name is required."))
    if kind not in Hub.Kind.values:
        raise ValidationFailed(_("Unknown hub kind."))
    with transaction.atomic():
        if Hub.objects.filter(unit=unit, name=name).exists():
            raise Conflict(_("A hub with this name already exists."))
        hub = Hub.objects.create(
            unit=unit,
            name=name,
            kind=kind,
            lng=lng,
            lat=lat,
            region_code=region_code,
            address=address,
        )
        audit.record(actor=actor, action="hub.create", obj=hub, summary=name)
    return hub


def pickup_point_add(
    *, actor, hub: Hub, name: str, lng: float, lat: float, note: str = ""
) -> PickupPoint:
    _require(actor, "change", hub.unit)
    _check_coordinates(lng, lat)
    if not (name or "").strip():
        raise ValidationFailed(_("A name is required."))
    with transaction.atomic():
        point = PickupPoint.objects.create(hub=hub, name=name.strip(), lng=lng, lat=lat, note=note)
        audit.record(actor=actor, action="hub.pickup_point_add", obj=point, summary=name)
    return point


# Mobilisations -------------------------------------------------------------------------------


def allowed_actions(mobilisation: Mobilisation) -> list[str]:
    return [a for a, (sources, _t) in TRANSITIONS.items() if mobilisation.status in sources]


def _transition(mobilisation: Mobilisation, action: str, actor, note: str = "", data=None):
    sources, target = TRANSITIONS[action]
    if mobilisation.status not in sources:
        raise InvalidTransition(
            _("This mobilisation is %(status)s; it cannot be changed.")
            % {"status": mobilisation.get_status_display()}
        )
    MobilisationActivity.objects.create(
        mobilisation=mobilisation,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=mobilisation.status or "",
        to_status=target,
        note=note[:300],
        data=data or {},
    )
    return target


def _lock(mobilisation: Mobilisation) -> Mobilisation:
    return (
        Mobilisation.objects.select_for_update()
        .select_related("hub", "unit")
        .get(pk=mobilisation.pk)
    )


def mobilisation_open(
    *,
    actor,
    unit: OrgUnit,
    hub: Hub,
    title: str,
    reason: str,
    starts_at: datetime,
    ends_at: datetime,
    expected_passengers: int = 0,
    drivers_needed: int = 0,
) -> Mobilisation:
    _require(actor, "change", unit)
    from redwheel.mobilization.selectors import hubs

    if not hubs(actor).filter(pk=hub.pk).exists():
        raise NotFound()
    if not (title or "").strip() or not (reason or "").strip():
        raise ValidationFailed(_("A title and a reason are required."))
    if ends_at <= starts_at:
        raise ValidationFailed(_("The end must be after the start."))
    if expected_passengers < 0 or drivers_needed < 0:
        raise ValidationFailed(_("Numbers cannot be negative."))
    with transaction.atomic():
        mobilisation = Mobilisation(
            unit=unit,
            hub=hub,
            title=title.strip(),
            reason=reason.strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            expected_passengers=expected_passengers,
            drivers_needed=drivers_needed,
            status=TRANSITIONS[MAction.OPEN][1],
            opened_by=actor if getattr(actor, "pk", None) else None,
        )
        mobilisation.save()
        MobilisationActivity.objects.create(
            mobilisation=mobilisation,
            actor=mobilisation.opened_by,
            action=MAction.OPEN,
            from_status="",
            to_status=MStatus.OPEN,
            note=mobilisation.reason[:300],
        )
        audit.record(
            actor=actor,
            action="mobilisation.open",
            obj=mobilisation,
            summary=f"{hub.name} · {mobilisation.title}",
        )
    return mobilisation


def _call_notifications(mobilisation: Mobilisation, driver_ids: list[int]) -> list[Notification]:
    hub = mobilisation.hub
    title = _("Call: %(hub)s needs cars") % {"hub": hub.name}
    body = f"{mobilisation.title} — {mobilisation.reason}"[:500]
    base = {
        "mobilisation_id": mobilisation.pk,
        "hub": hub.name,
        "lng": hub.lng,
        "lat": hub.lat,
        "title": mobilisation.title,
        "starts_at": mobilisation.starts_at.isoformat(),
        "ends_at": mobilisation.ends_at.isoformat(),
    }
    now = timezone.now()
    rows = []
    users = Driver.objects.filter(pk__in=driver_ids, user__isnull=False).values_list(
        "pk", "user_id"
    )
    for driver_id, user_id in users:
        rows.append(
            Notification(
                channel=Notification.Channel.INBOX,
                recipient_id=user_id,
                event="mobilisation.call",
                title=title,
                body=body,
                payload={**base, "driver_id": driver_id},
                status=Notification.Status.SENT,
                sent_at=now,
            )
        )
    affiliations = (
        Affiliation.objects.filter(driver_id__in=driver_ids, is_active=True)
        .exclude(platform__webhook_url="")
        .values_list("driver_id", "driver__license_masked", "platform_id", "platform__company_id")
    )
    for driver_id, license_masked, platform_id, company_id in affiliations:
        rows.append(
            Notification(
                channel=Notification.Channel.WEBHOOK,
                platform_id=platform_id,
                event="mobilisation.call",
                title=title,
                payload={
                    **base,
                    "driver_id": driver_id,
                    "license_masked": license_masked,
                    "company_id": company_id,
                },
            )
        )
    return rows


def mobilisation_call(
    *,
    actor,
    mobilisation: Mobilisation,
    fleets: list[Fleet] = (),
    radius_km: float | None = None,
    position_max_age_minutes: int | None = None,
) -> int:
    """Call the active members of `fleets` and/or the drivers last seen within `radius_km` of
    the hub. Drivers already called are skipped. Returns the number of drivers newly called."""
    _require(actor, "change", mobilisation.unit)
    if not fleets and radius_km is None:
        raise ValidationFailed(_("Choose at least one fleet or a radius."))
    if radius_km is not None:
        _check_radius(radius_km)
    fleet_ids = [f.pk for f in fleets]
    visible_fleets = scope(actor, "view", OrgUnit.objects.all())
    if (
        len(set(fleet_ids))
        != Fleet.objects.filter(pk__in=fleet_ids, unit__in=visible_fleets).count()
    ):
        raise NotFound()
    callable_drivers = scope(actor, "change", Driver.objects.all())
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        _transition_check(mobilisation, MAction.CALL)
        candidates: dict[int, tuple[str, int | None, int | None]] = {}
        for driver_id, fleet_id in (
            FleetMember.objects.filter(
                fleet_id__in=fleet_ids, is_active=True, driver__in=callable_drivers
            )
            .order_by("fleet_id", "id")
            .values_list("driver_id", "fleet_id")
        ):
            candidates.setdefault(driver_id, (Call.Via.FLEET, fleet_id, None))
        if radius_km is not None:
            since = (
                timezone.now() - timedelta(minutes=position_max_age_minutes)
                if position_max_age_minutes
                else None
            )
            hub = mobilisation.hub
            near = geo.drivers_near(hub.lng, hub.lat, radius_km, callable_drivers, since=since)
            for driver_id, distance in near.items():
                candidates.setdefault(driver_id, (Call.Via.RADIUS, None, distance))
        already = set(mobilisation.calls.values_list("driver_id", flat=True))
        new_ids = sorted(set(candidates) - already)
        fast_bulk_insert(
            Call,
            [
                Call(
                    mobilisation=mobilisation,
                    driver_id=d,
                    via=candidates[d][0],
                    fleet_id=candidates[d][1],
                    distance_m=candidates[d][2],
                )
                for d in new_ids
            ],
        )
        sent = enqueue_many(_call_notifications(mobilisation, new_ids)) if new_ids else 0
        data = {
            "called": len(new_ids),
            "skipped": len(candidates) - len(new_ids),
            "fleets": fleet_ids,
            "radius_km": radius_km,
            "notifications": sent,
        }
        _transition(mobilisation, MAction.CALL, actor, data=data)
        audit.record(actor=actor, action="mobilisation.call", obj=mobilisation, data=data)
    return len(new_ids)


def _transition_check(mobilisation: Mobilisation, action: str) -> None:
    if mobilisation.status not in TRANSITIONS[action][0]:
        raise InvalidTransition(
            _("This mobilisation is %(status)s; it cannot be changed.")
            % {"status": mobilisation.get_status_display()},
            code="mobilisation_not_open",
        )


def response_record(*, actor, mobilisation: Mobilisation, status: str) -> tuple[Response, bool]:
    """The signed-in driver answers a call. Idempotent: repeating an answer (or sending an older
    one) changes nothing and returns `(response, False)`. Refused once the mobilisation closed."""
    if status not in R.values:
        raise ValidationFailed(_("Unknown answer."))
    driver = _own_driver(actor)
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        if not Call.objects.filter(mobilisation=mobilisation, driver=driver).exists():
            raise NotFound()
        if not mobilisation.is_open:
            raise InvalidTransition(
                _("This mobilisation has ended (%(status)s); answers are no longer accepted.")
                % {"status": mobilisation.get_status_display()},
                code="mobilisation_closed",
            )
        response = (
            Response.objects.select_for_update()
            .filter(mobilisation=mobilisation, driver=driver)
            .first()
        )
        current = response.status if response else None
        if status not in RESPONSE_TRANSITIONS[current]:
            return response, False
        now = timezone.now()
        if response is None:
            try:
                with transaction.atomic():
                    response = Response.objects.create(
                        mobilisation=mobilisation,
                        driver=driver,
                        status=status,
                        arrived_at=now if status == R.ARRIVED else None,
                    )
            except IntegrityError:  # a concurrent first tap won; treat this one as a repeat
                return Response.objects.get(mobilisation=mobilisation, driver=driver), False
        else:
            response.status = status
            if status == R.ARRIVED:
                response.arrived_at = now
            response.save(update_fields=["status", "arrived_at", "updated_at"])
        ResponseEvent.objects.create(response=response, from_status=current or "", to_status=status)
        audit.record(
            actor=actor,
            action="mobilisation.respond",
            obj=response,
            summary=f"{current or '-'} → {status}",
        )
    return response, True


def passenger_enqueue(
    *,
    actor,
    mobilisation: Mobilisation,
    party_size: int = 1,
    need: str = "none",
    pickup_point: PickupPoint | None = None,
    destination_district: str = "",
    note: str = "",
) -> QueueEntry:
    _require(actor, "change", mobilisation.unit)
    if need not in QueueEntry.Need.values:
        raise ValidationFailed(_("Unknown priority need."))
    if not 1 <= party_size <= 8:
        raise ValidationFailed(_("A party has between 1 and 8 passengers."))
    if pickup_point is not None and pickup_point.hub_id != mobilisation.hub_id:
        raise ValidationFailed(_("This pick-up point belongs to another hub."))
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        _transition_check(mobilisation, MAction.CALL)
        entry = QueueEntry.objects.create(
            mobilisation=mobilisation,
            party_size=party_size,
            need=need,
            priority=0 if need in QueueEntry.PRIORITY_NEEDS else 1,
            pickup_point=pickup_point,
            destination_district=destination_district.strip(),
            note=note.strip(),
        )
        audit.record(
            actor=actor,
            action="mobilisation.enqueue",
            obj=entry,
            data={"party_size": party_size, "need": need},
        )
    return entry


def passenger_leave(*, actor, entry: QueueEntry) -> QueueEntry:
    _require(actor, "change", entry.mobilisation.unit)
    with transaction.atomic():
        entry = QueueEntry.objects.select_for_update().get(pk=entry.pk)
        if entry.status != QueueEntry.Status.WAITING:
            raise InvalidTransition(_("This passenger is no longer waiting."))
        entry.status = QueueEntry.Status.LEFT
        entry.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="mobilisation.queue_leave", obj=entry)
    return entry


def ride_record(
    *,
    actor,
    mobilisation: Mobilisation,
    driver: Driver,
    destination_district: str = "",
    passengers: int | None = None,
):
    """Record one free ride by an arrived driver. If anyone is waiting, the ride serves the head
    of the queue (priority needs first, then first come first served) and `passengers` is
    ignored; with an empty queue it records `passengers` walk-up passengers."""
    _require(actor, "change", mobilisation.unit)
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        _transition_check(mobilisation, MAction.CALL)
        if not Response.objects.filter(
            mobilisation=mobilisation, driver=driver, arrived_at__isnull=False
        ).exists():
            raise InvalidTransition(
                _("Only drivers who have arrived at the hub can take passengers."),
                code="driver_not_arrived",
            )
        head = (
            QueueEntry.objects.select_for_update()
            .filter(mobilisation=mobilisation, status=QueueEntry.Status.WAITING)
            .order_by("priority", "id")
            .first()
        )
        if head is not None:
            passengers = head.party_size
            destination_district = destination_district.strip() or head.destination_district
        elif not passengers or passengers < 1:
            raise ValidationFailed(_("Nobody is waiting; give the number of passengers."))
        if not destination_district.strip():
            raise ValidationFailed(_("Give the destination district."))
        ride = Ride.objects.create(
            mobilisation=mobilisation,
            driver=driver,
            passengers=passengers,
            destination_district=destination_district.strip(),
            recorded_by=actor if getattr(actor, "pk", None) else None,
        )
        if head is not None:
            head.status, head.ride, head.served_at = QueueEntry.Status.SERVED, ride, timezone.now()
            head.save(update_fields=["status", "ride", "served_at", "updated_at"])
        audit.record(
            actor=actor,
            action="mobilisation.ride",
            obj=ride,
            summary=f"{driver.name} · {passengers} · {ride.destination_district}",
        )
    return ride


def summary_compute(mobilisation: Mobilisation, closed_at: datetime | None = None) -> dict:
    """The closing figures, computed from the rows (calls, responses, rides, queue)."""
    closed_at = closed_at or mobilisation.closed_at or timezone.now()
    called = set(mobilisation.calls.values_list("driver_id", flat=True))
    responses = list(mobilisation.responses.values_list("driver_id", "status", "arrived_at"))
    responded = {d for d, _s, _a in responses}
    cant_come = {d for d, s, _a in responses if s == R.CANT_COME}
    arrived = {d: a for d, _s, a in responses if a is not None}
    members = set(
        Driver.objects.filter(is_party_member_q(), pk__in=called).values_list("pk", flat=True)
    )
    rides = mobilisation.rides.aggregate(n=Count("id"), p=Sum("passengers"))
    priority = (
        mobilisation.queue.filter(status=QueueEntry.Status.SERVED, priority=0).aggregate(
            p=Sum("party_size")
        )["p"]
        or 0
    )
    waiting = (
        mobilisation.queue.filter(status=QueueEntry.Status.WAITING).aggregate(p=Sum("party_size"))[
            "p"
        ]
        or 0
    )
    hours = sum((_hours(closed_at - at) for at in arrived.values()), Decimal("0.0"))
    return {
        "drivers_called": len(called),
        "drivers_responded": len(responded),
        "drivers_cant_come": len(cant_come),
        "drivers_arrived": len(arrived),
        "members_called": len(members),
        "members_responded": len(members & responded),
        "members_arrived": len(members & set(arrived)),
        "rides": rides["n"] or 0,
        "passengers": rides["p"] or 0,
        "priority_passengers": priority,
        "passengers_left_waiting": waiting,
        "driver_hours": str(hours),
        "duration_hours": str(_hours(closed_at - mobilisation.created_at)),
    }


def mobilisation_close(*, actor, mobilisation: Mobilisation, note: str = "") -> Mobilisation:
    """Close: freeze the summary and write one ServiceRecord per driver who arrived, each with
    its `emergency_call` points (granted by the closing actor, in the same transaction; a
    record whose points cannot be granted — see POINTS_SKIPPED — is written without them).
    The returned mobilisation carries `points = {"granted", "skipped", "total"}`."""
    _require(actor, "change", mobilisation.unit)
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        now = timezone.now()
        target = _transition(mobilisation, MAction.CLOSE, actor, note=note)
        summary = summary_compute(mobilisation, closed_at=now)
        ride_stats = {
            row["driver_id"]: row
            for row in mobilisation.rides.values("driver_id").annotate(
                n=Count("id"), p=Sum("passengers")
            )
        }
        served_on = timezone.localtime(mobilisation.starts_at).date()
        arrivals = dict(
            mobilisation.responses.filter(arrived_at__isnull=False).values_list(
                "driver_id", "arrived_at"
            )
        )
        ServiceRecord.objects.bulk_create(
            [
                ServiceRecord(
                    driver_id=driver_id,
                    unit_id=mobilisation.unit_id,
                    kind=ServiceRecord.Kind.MOBILISATION,
                    mobilisation=mobilisation,
                    hours=_hours(now - arrived_at),
                    rides=ride_stats.get(driver_id, {}).get("n", 0),
                    passengers=ride_stats.get(driver_id, {}).get("p", 0) or 0,
                    served_on=served_on,
                    confirmed_by=actor if getattr(actor, "pk", None) else None,
                )
                for driver_id, arrived_at in arrivals.items()
            ]
        )
        points = {"granted": 0, "skipped": 0, "total": 0}
        records = ServiceRecord.objects.filter(mobilisation=mobilisation).select_related("driver")
        for record in records.order_by("id"):
            entry = _record_points(
                actor=actor,
                record=record,
                driver=record.driver,
                rule_code=EMERGENCY_RULE,
                occurred_at=arrivals[record.driver_id],
                note=mobilisation.title,
            )
            if entry is None:
                points["skipped"] += 1
            else:
                points["granted"] += 1
                points["total"] += entry.amount
        mobilisation.status, mobilisation.closed_at = target, now
        mobilisation.summary, mobilisation.closing_note = summary, note
        mobilisation.save(
            update_fields=["status", "closed_at", "summary", "closing_note", "updated_at"]
        )
        audit.record(
            actor=actor,
            action="mobilisation.close",
            obj=mobilisation,
            data={**summary, "points": points},
        )
    mobilisation.points = points
    return mobilisation


def mobilisation_cancel(*, actor, mobilisation: Mobilisation, reason: str) -> Mobilisation:
    _require(actor, "change", mobilisation.unit)
    if not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."))
    with transaction.atomic():
        mobilisation = _lock(mobilisation)
        target = _transition(mobilisation, MAction.CANCEL, actor, note=reason)
        mobilisation.status, mobilisation.closed_at = target, timezone.now()
        mobilisation.closing_note = reason
        mobilisation.save(update_fields=["status", "closed_at", "closing_note", "updated_at"])
        audit.record(actor=actor, action="mobilisation.cancel", obj=mobilisation, reason=reason)
    return mobilisation


# Volunteer service ---------------------------------------------------------------------------


def opportunity_create(
    *,
    actor,
    unit: OrgUnit,
    title: str,
    kind: str,
    role: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    places: int,
    description: str = "",
    fleet: Fleet | None = None,
) -> Opportunity:
    _require(actor, "change", unit)
    if kind not in Opportunity.Kind.values:
        raise ValidationFailed(_("Unknown kind."))
    if not all((title or "").strip() for title in (title, role, place)):
        raise ValidationFailed(_("Title, role and place are required."))
    if ends_at <= starts_at:
        raise ValidationFailed(_("The end must be after the start."))
    if places < 1:
        raise ValidationFailed(_("At least one place is needed."))
    if fleet is not None:
        _require(actor, "view", fleet.unit)
    with transaction.atomic():
        opportunity = Opportunity.objects.create(
            unit=unit,
            fleet=fleet,
            title=title.strip(),
            kind=kind,
            role=role.strip(),
            place=place.strip(),
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            places=places,
            organiser=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            actor=actor,
            action="volunteer.opportunity_create",
            obj=opportunity,
            summary=opportunity.title,
        )
    return opportunity


def opportunity_close(*, actor, opportunity: Opportunity) -> Opportunity:
    _require(actor, "change", opportunity.unit)
    if opportunity.status != Opportunity.Status.OPEN:
        raise InvalidTransition(_("This opportunity is already closed."))
    with transaction.atomic():
        opportunity.status = Opportunity.Status.CLOSED
        opportunity.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="volunteer.opportunity_close", obj=opportunity)
    return opportunity


def _signup_step(signup: SignUp | None, action: str) -> str:
    sources, target = SIGNUP_TRANSITIONS[action]
    if (signup.status if signup else None) not in sources:
        raise InvalidTransition()
    return target


def signup_create(*, actor, opportunity: Opportunity) -> SignUp:
    """The signed-in driver signs up for an open opportunity with places left."""
    from redwheel.mobilization.selectors import opportunity_visible_to_driver

    driver = _own_driver(actor)
    if not opportunity_visible_to_driver(driver, opportunity):
        raise NotFound()
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if opportunity.status != Opportunity.Status.OPEN:
            raise InvalidTransition(_("Sign-up for this opportunity has closed."))
        signup = SignUp.objects.filter(opportunity=opportunity, driver=driver).first()
        if signup is not None and signup.status in ACTIVE_SIGNUP:
            raise Conflict(_("You have already signed up."), code="already_signed_up")
        taken = opportunity.signups.filter(status__in=ACTIVE_SIGNUP).count()
        if taken >= opportunity.places:
            raise Conflict(_("All places are taken."), code="opportunity_full")
        target = _signup_step(signup, "sign_up")
        if signup is None:
            signup = SignUp.objects.create(opportunity=opportunity, driver=driver, status=target)
        else:
            signup.status = target
            signup.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="volunteer.sign_up", obj=signup, summary=opportunity.title)
    return signup


def _own_signup_step(actor, signup: SignUp, action: str, message: str) -> SignUp:
    driver = _own_driver(actor)
    if signup.driver_id != driver.pk:
        raise NotFound()
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("opportunity").get(pk=signup.pk)
        try:
            target = _signup_step(signup, action)
        except InvalidTransition as exc:
            raise InvalidTransition(message) from exc
        now = timezone.now()
        signup.status = target
        if action == "check_in":
            signup.checked_in_at = now
        elif action == "check_out":
            signup.checked_out_at = now
        signup.save(update_fields=["status", "checked_in_at", "checked_out_at", "updated_at"])
        audit.record(actor=actor, action=f"volunteer.{action}", obj=signup)
    return signup


def signup_cancel(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(
        actor, signup, "cancel", _("Only a sign-up that has not started can be cancelled.")
    )


def signup_check_in(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(actor, signup, "check_in", _("You cannot check in now."))


def signup_check_out(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(actor, signup, "check_out", _("Check in first."))


def signup_confirm(*, actor, signup: SignUp, hours: Decimal | None = None) -> ServiceRecord:
    """The organiser confirms the hours (default: checked-out minus checked-in time). In the same
    transaction the organiser grants `volunteer_hour` points for the whole hours (3.5 h → 3
    units), with the record as source, unless skipped (POINTS_SKIPPED); the returned record
    carries `points_entry` (the ledger entry or None)."""
    _require(actor, "change", signup.opportunity.unit)
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("opportunity").get(pk=signup.pk)
        try:
            target = _signup_step(signup, "confirm")
        except InvalidTransition as exc:
            raise InvalidTransition(_("Hours can be confirmed after check-out.")) from exc
        if hours is None:
            hours = _hours(signup.checked_out_at - signup.checked_in_at)
        hours = Decimal(hours).quantize(TENTH, rounding=ROUND_HALF_UP)
        if not Decimal("0") <= hours <= MAX_VOLUNTEER_HOURS:
            raise ValidationFailed(_("Hours must be between 0 and 24."))
        signup.status = target
        signup.save(update_fields=["status", "updated_at"])
        record = ServiceRecord.objects.create(
            driver_id=signup.driver_id,
            unit_id=signup.opportunity.unit_id,
            kind=ServiceRecord.Kind.VOLUNTEER,
            signup=signup,
            hours=hours,
            served_on=timezone.localtime(signup.checked_in_at).date(),
            confirmed_by=actor if getattr(actor, "pk", None) else None,
        )
        whole_hours = int(hours.to_integral_value(rounding=ROUND_DOWN))
        entry = None
        if whole_hours > 0:
            entry = _record_points(
                actor=actor,
                record=record,
                driver=signup.driver,
                rule_code=VOLUNTEER_RULE,
                occurred_at=signup.checked_out_at,
                note=_("%(title)s: %(hours)s h")
                % {"title": signup.opportunity.title, "hours": hours},
                quantity=whole_hours,
            )
        audit.record(
            actor=actor,
            action="volunteer.confirm",
            obj=signup,
            data={"hours": str(hours), "points": entry.amount if entry else 0},
        )
    record.points_entry = entry
    return record


# Public alerts -------------------------------------------------------------------------------


def alert_create(
    *,
    actor,
    unit: OrgUnit,
    kind: str,
    title: str,
    description: str,
    lng: float,
    lat: float,
    radius_km: float,
    expires_at: datetime,
    photo=None,
    position_max_age_minutes: int | None = None,
) -> Alert:
    """Broadcast to the drivers in the actor's scope last seen inside the circle."""
    _require(actor, "change", unit)
    _check_coordinates(lng, lat)
    _check_radius(radius_km)
    if kind not in Alert.Kind.values:
        raise ValidationFailed(_("Unknown kind."))
    if not (title or "").strip() or not (description or "").strip():
        raise ValidationFailed(_("A title and a description are required."))
    if expires_at <= timezone.now():
        raise ValidationFailed(_("The expiry must be in the future."))
    since = (
        timezone.now() - timedelta(minutes=position_max_age_minutes)
        if position_max_age_minutes
        else None
    )
    with transaction.atomic():
        alert = Alert(
            unit=unit,
            sender=actor,
            kind=kind,
            title=title.strip(),
            description=description.strip(),
            lng=lng,
            lat=lat,
            radius_km=radius_km,
            expires_at=expires_at,
        )
        if photo is not None:
            alert.photo = photo
        alert.full_clean(exclude=["sender", "unit"])
        alert.save()
        near = geo.drivers_near(
            lng, lat, radius_km, scope(actor, "change", Driver.objects.all()), since=since
        )
        AlertRecipient.objects.bulk_create(
            [AlertRecipient(alert=alert, driver_id=d, distance_m=m) for d, m in near.items()],
            batch_size=1000,
        )
        now = timezone.now()
        payload = {
            "alert_id": alert.pk,
            "kind": kind,
            "lng": lng,
            "lat": lat,
            "radius_km": radius_km,
            "expires_at": expires_at.isoformat(),
        }
        enqueue_many(
            [
                Notification(
                    channel=Notification.Channel.INBOX,
                    recipient_id=user_id,
                    event="alert.broadcast",
                    title=alert.title,
                    body=alert.description[:500],
                    payload=payload,
                    status=Notification.Status.SENT,
                    sent_at=now,
                )
                for user_id in Driver.objects.filter(
                    pk__in=list(near), user__isnull=False
                ).values_list("user_id", flat=True)
            ]
        )
        alert.recipients_count = len(near)
        alert.save(update_fields=["recipients_count", "updated_at"])
        audit.record(
            actor=actor,
            action="alert.create",
            obj=alert,
            summary=alert.title,
            data={"recipients": len(near)},
        )
    return alert


def alert_withdraw(*, actor, alert: Alert) -> Alert:
    _require(actor, "change", alert.unit)
    if alert.withdrawn_at is not None:
        raise InvalidTransition(_("This alert has already been withdrawn."))
    with transaction.atomic():
        alert.withdrawn_at = timezone.now()
        alert.save(update_fields=["withdrawn_at", "updated_at"])
        audit.record(actor=actor, action="alert.withdraw", obj=alert)
    return alert


def sighting_report(*, actor, alert: Alert, lng: float, lat: float, note: str) -> Sighting:
    """A driver who received the alert reports "seen something"; the sender gets an inbox
    message with the place and the note."""
    driver = _own_driver(actor)
    if not AlertRecipient.objects.filter(alert=alert, driver=driver).exists():
        raise NotFound()
    _check_coordinates(lng, lat)
    if not (note or "").strip():
        raise ValidationFailed(_("Say what you saw."))
    if alert.withdrawn_at is not None or alert.expires_at <= timezone.now():
        raise InvalidTransition(_("This alert has expired."), code="alert_expired")
    with transaction.atomic():
        sighting = Sighting.objects.create(
            alert=alert, driver=driver, lng=lng, lat=lat, note=note.strip()[:500]
        )
        notify_user(
            user=alert.sender,
            event="alert.sighting",
            title=_("Sighting reported: %(title)s") % {"title": alert.title},
            body=f"{driver.name}（{driver.phone_masked}）: {sighting.note} @ {lat:.5f}, {lng:.5f}",
            payload={"alert_id": alert.pk, "sighting_id": sighting.pk, "lng": lng, "lat": lat},
        )
        audit.record(actor=actor, action="alert.sighting", obj=sighting)
    return sighting
