"""Base data: drivers and vehicles through the drivers services, feed conflicts, and linking
a platform's facts to a driver once its base record arrives.
"""

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from redwheel.core.errors import DomainError
from redwheel.drivers import services as driver_services
from redwheel.drivers.models import Affiliation, Driver, Vehicle
from redwheel.exchange import feed_ownership, writers
from redwheel.exchange.models import (
    CreditLevel,
    DriverMonthMetric,
    DriverMonthStat,
    LatestPosition,
    OnlineEvent,
    PositionSample,
    Punishment,
    TrainingRecord,
    Trip,
    UnknownDriver,
)
from redwheel.exchange.services.common import ACCEPTED, UNCHANGED, _deleted, _reject

# Base data: drivers and vehicles through the drivers services ----------------------------


_FIELD_FOR_CODE = {
    "duplicate_phone": "DriverPhone",
    "bad_phone": "DriverPhone",
    "bad_checksum": "LicenseId",
    "bad_length": "LicenseId",
    "bad_id_region": "LicenseId",
    "bad_birth_date": "LicenseId",
    "bad_format": "LicenseId",
    "bad_plate": "VehicleNo",
    "duplicate_driver": "LicenseId",
}


def _ingest_drivers(ctx, cleaned):
    """baseInfoDriver. Four queries per batch (drivers, their affiliations with this platform,
    feed reports and cities) plus the service writes of the records that change something."""
    platform = ctx.platform
    wanted = {ctx.index(r["LicenseId"]) for _, r in cleaned}
    drivers = {
        d.license_index: d
        for d in Driver.objects.filter(writers.one_of("license_index", wanted)).select_related(
            "branch", "membership__branch", "membership__mobile_branch"
        )
    }
    affiliations = {
        a.driver_id: a
        for a in Affiliation.objects.filter(platform=platform, driver__in=drivers.values())
    }
    ownership = feed_ownership.load(platform, list(drivers.values()))
    statuses, touched = [], set()
    for _, r in cleaned:
        idx = ctx.index(r["LicenseId"])
        driver = drivers.get(idx)
        try:
            with transaction.atomic():
                if _deleted(r) or r.get("State") == 1:
                    status = _affiliation_end(ctx, affiliations.get(driver.pk) if driver else None)
                else:
                    driver, status = _driver_upsert(ctx, ownership, driver, affiliations, r)
                    if isinstance(status, str):
                        drivers[idx] = driver
                        touched.add(idx)
        except DomainError as exc:
            statuses.append(_reject(exc.code, _FIELD_FOR_CODE.get(exc.code, ""), str(exc.message)))
            continue
        statuses.append(status)
    ownership.save()
    if touched:
        ctx.drivers.update({idx: drivers[idx].pk for idx in touched})
        _link_known_drivers(platform, touched)
    return statuses


def _affiliation_end(ctx, affiliation: Affiliation | None) -> str:
    if affiliation is None or not affiliation.is_active:
        return UNCHANGED
    affiliation.is_active = False
    affiliation.save(update_fields=["is_active", "updated_at"])
    ctx.extra["affiliations_ended"] = ctx.extra.get("affiliations_ended", 0) + 1
    return ACCEPTED


def _driver_upsert(ctx, ownership, driver: Driver | None, affiliations: dict, r: dict):
    """Create the driver, or affiliate this platform with a driver of its city; change the
    driver's name and phone only when this feed owns the driver and its report changed."""
    platform, system = ctx.platform, ctx.system
    name, phone = r["DriverName"], r["DriverPhone"]
    if driver is None:
        driver = driver_services.driver_create(
            actor=system,
            name=name,
            license_no=r["LicenseId"],
            phone=phone,
            region_code=r.get("Address", ""),
            platforms=[platform],
        )
        affiliation = Affiliation.objects.get(driver=driver, platform=platform)
        if r.get("CertificateNo") or r.get("RegisterDate"):
            affiliation.certificate_no = r.get("CertificateNo", "")
            affiliation.joined_on = r.get("RegisterDate")
            affiliation.save(update_fields=["certificate_no", "joined_on", "updated_at"])
        affiliations[driver.pk] = affiliation
        ownership.report(driver, name, phone, created=True)
        return driver, ACCEPTED
    if not ownership.in_city(driver):
        return driver, _reject("driver_other_city", "LicenseId")
    changed = False
    affiliation = affiliations.get(driver.pk)
    if affiliation is None:
        affiliation = driver_services.affiliation_add(
            actor=system,
            driver=driver,
            platform=platform,
            certificate_no=r.get("CertificateNo", ""),
            joined_on=r.get("RegisterDate"),
        )
        changed = True
    elif not affiliation.is_active:
        affiliation.is_active = True
        affiliation.save(update_fields=["is_active", "updated_at"])
        changed = True
    if ownership.owns(driver) and ownership.is_new_report(driver, name, phone):
        # driver_update changes (and audits) only what differs from the driver.
        driver_services.driver_update(actor=system, driver=driver, name=name, phone=phone)
    changed = ownership.report(driver, name, phone) or changed
    affiliations[driver.pk] = affiliation
    return driver, ACCEPTED if changed else UNCHANGED


def _ingest_vehicles(ctx, cleaned):
    platform, system = ctx.platform, ctx.system
    plates = {r["VehicleNo"] for _, r in cleaned}
    vehicles = {v.plate: v for v in Vehicle.objects.filter(plate__in=plates)}
    # The format's vehicle record names no driver: the driver is whoever last used the plate
    # in this platform's operating data (login or order).
    users: dict[str, int] = {}
    for model, order in ((OnlineEvent, "at"), (Trip, "matched_at")):
        rows = (
            model.objects.filter(platform=platform, vehicle_no__in=plates, driver__isnull=False)
            .order_by(f"-{order}")
            .values_list("vehicle_no", "driver_id")
        )
        for plate, driver_id in rows:
            users.setdefault(plate, driver_id)
    # A feed writes vehicles only of the drivers it owns (feed_ownership.py).
    ours = feed_ownership.owned_by(
        platform, {v.driver_id for v in vehicles.values()} | set(users.values())
    )
    statuses = []
    for _, r in cleaned:
        plate = r["VehicleNo"]
        vehicle = vehicles.get(plate)
        if vehicle is None and plate in users and users[plate] not in ours:
            statuses.append(_reject("foreign_vehicle", "VehicleNo"))
            continue
        if vehicle is not None and vehicle.driver_id not in ours:
            statuses.append(_reject("foreign_vehicle", "VehicleNo"))
            continue
        if _deleted(r) or r.get("State") == 1:
            if vehicle is None:
                statuses.append(UNCHANGED)
                continue
            vehicle.delete()
            del vehicles[plate]
            ctx.extra["vehicles_deleted"] = ctx.extra.get("vehicles_deleted", 0) + 1
            statuses.append(ACCEPTED)
            continue
        wanted = {
            "brand": r.get("Brand", ""),
            "model": r.get("Model", ""),
            "seats": r.get("Seats", 5),
        }
        if vehicle is None:
            driver_id = users.get(plate)
            if driver_id is None:
                statuses.append(_reject("vehicle_driver_unknown", "VehicleNo"))
                continue
            try:
                with transaction.atomic():
                    vehicles[plate] = driver_services.vehicle_add(
                        actor=system,
                        driver=Driver.objects.get(pk=driver_id),
                        plate=plate,
                        **wanted,
                    )
            except DomainError as exc:
                statuses.append(_reject(exc.code, "VehicleNo", str(exc.message)))
                continue
            ours.add(driver_id)
            statuses.append(ACCEPTED)
            continue
        changed = [k for k, v in wanted.items() if getattr(vehicle, k) != v]
        if not changed:
            statuses.append(UNCHANGED)
            continue
        for k in changed:
            setattr(vehicle, k, wanted[k])
        vehicle.save(update_fields=[*changed, "updated_at"])
        ctx.extra["vehicles_updated"] = ctx.extra.get("vehicles_updated", 0) + 1
        statuses.append(ACCEPTED)
    return statuses


def feed_conflict_resolve(
    *, actor, driver: Driver, platform_id: int | None = None, note: str = ""
) -> Driver:
    """Settle a driver's feed conflicts: take the name and phone that platform `platform_id`
    reported, or keep the driver's (None). City committee only; see feed_ownership.py."""
    return feed_ownership.resolve_conflict(
        actor=actor, driver=driver, platform_id=platform_id, note=note
    )


DRIVER_FACTS = (
    Trip,
    Punishment,
    CreditLevel,
    TrainingRecord,
    DriverMonthStat,
    OnlineEvent,
    LatestPosition,
    PositionSample,
    DriverMonthMetric,
)


def _link_known_drivers(platform, license_indexes) -> int:
    """Link `platform`'s facts about these licences to their drivers, now affiliated with it,
    and mark its UnknownDriver rows resolved. Other platforms' facts wait for their own base
    record: a licence never links a platform's data to a driver who does not work for it."""
    indexes = list(license_indexes)
    driver_id = Subquery(
        Driver.objects.filter(
            license_index=OuterRef("license_index"), affiliations__platform=platform
        ).values("id")[:1]
    )
    linked = 0
    for model in DRIVER_FACTS:
        linked += model.objects.filter(
            platform=platform, license_index__in=indexes, driver__isnull=True
        ).update(driver_id=driver_id)
    UnknownDriver.objects.filter(
        platform=platform, license_index__in=indexes, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
    return linked
