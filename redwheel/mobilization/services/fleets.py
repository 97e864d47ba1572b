"""Fleets (rosters, pledges, 三亮 markers) and hubs with their pick-up points."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import require
from redwheel.drivers.models import Driver
from redwheel.mobilization.models import (
    Fleet,
    FleetMember,
    Hub,
    PickupPoint,
)
from redwheel.mobilization.services.common import (
    _check_coordinates,
    _own_driver,
)
from redwheel.orgs.models import OrgUnit

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
    require(actor, "change", unit)
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
    require(actor, "change", fleet)
    require(actor, "change", driver)
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
    require(actor, "change", member.fleet)
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
    """The driver signs the fleet's service pledge in the app (once; signing again is a no-op).
    Only the driver themselves: staff who manage the roster cannot sign for them."""
    require(actor, "change", member)
    if member.driver_id != _own_driver(actor).pk:
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
    require(actor, "change", member.fleet)
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
    require(actor, "change", unit)
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
    require(actor, "change", hub)
    _check_coordinates(lng, lat)
    if not (name or "").strip():
        raise ValidationFailed(_("A name is required."))
    with transaction.atomic():
        point = PickupPoint.objects.create(hub=hub, name=name.strip(), lng=lng, lat=lat, note=note)
        audit.record(actor=actor, action="hub.pickup_point_add", obj=point, summary=name)
    return point
