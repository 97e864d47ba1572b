"""Writes for drivers, their accounts, affiliations and vehicles, and the audited reveal of
personal data."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.accounts.models import User
from redwheel.core import audit, crypto
from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.core.permissions import acting_platform, can, is_unscoped
from redwheel.core.validators import clean_identity_number, clean_mobile, clean_plate
from redwheel.drivers.models import (
    Affiliation,
    Driver,
    Vehicle,
)
from redwheel.drivers.services._common import (
    _require,
)
from redwheel.orgs.models import OrgUnit, Platform


def driver_create(
    *,
    actor,
    name: str,
    license_no: str,
    phone: str,
    branch: OrgUnit | None = None,
    gender: str = "",
    region_code: str = "",
    platforms: list[Platform] = (),
    create_account: bool = True,
) -> Driver:
    # The new driver must land inside the actor's scope — in a branch they may change, or
    # with a platform they act for or whose organisation they run — and every platform it is
    # affiliated with opens the driver to that platform, so each must be the actor's too.
    if branch is not None:
        _require(actor, "change", branch)
    elif not platforms and not is_unscoped(actor):
        raise NotFound()
    if not all(can(actor, "change", p) for p in platforms):
        raise NotFound()
    license_no = clean_identity_number(license_no)
    phone = clean_mobile(phone)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A name is required."))
    with transaction.atomic():
        if Driver.objects.filter(license_index=crypto.blind_index(license_no)).exists():
            raise Conflict(
                _("A driver with this licence number already exists."), code="duplicate_driver"
            )
        driver = Driver(
            name=name,
            gender=gender or _gender_from_id(license_no),
            region_code=region_code or license_no[:6],
            branch=branch,
        )
        driver.set_license(license_no)
        driver.set_phone(phone)
        if create_account:
            driver.user = _driver_account(phone, name)
        driver.save()
        for platform in platforms:
            Affiliation.objects.create(driver=driver, platform=platform)
        audit.record(actor=actor, action="driver.create", obj=driver, summary=driver.name)
    return driver


def _gender_from_id(number: str) -> str:
    return Driver.Gender.MALE if int(number[16]) % 2 else Driver.Gender.FEMALE


def _driver_account(phone: str, name: str) -> User:
    """Drivers get an account without a password; they activate it with an SMS code."""
    existing = User.objects.filter(phone_index=crypto.blind_index(phone)).first()
    if existing is not None:
        if hasattr(existing, "driver"):
            raise Conflict(
                _("This mobile number already belongs to another driver."), code="duplicate_phone"
            )
        return existing
    return User.objects.create_user(phone, None, display_name=name)


def driver_update(
    *,
    actor,
    driver: Driver,
    name: str | None = None,
    phone: str | None = None,
    branch: OrgUnit | None = None,
) -> Driver:
    _require(actor, "change", driver)
    changed = []
    with transaction.atomic():
        if name is not None and name.strip() and name.strip() != driver.name:
            driver.name = name.strip()
            changed.append("name")
        if phone is not None:
            phone = clean_mobile(phone)
            if crypto.blind_index(phone) != driver.phone_index:
                driver.set_phone(phone)
                changed += ["phone", "phone_index", "phone_masked"]
        if branch is not None and branch != driver.branch:
            _require(actor, "change", branch)
            driver.branch = branch
            changed.append("branch")
        if changed:
            driver.save(update_fields=[*changed, "updated_at"])
            audit.record(
                actor=actor,
                action="driver.update",
                obj=driver,
                data={"fields": sorted(set(changed) - {"phone_index"})},
            )
    return driver


def affiliation_add(
    *,
    actor,
    driver: Driver,
    platform: Platform,
    certificate_no: str = "",
    joined_on: date | None = None,
) -> Affiliation:
    # A platform's own feed declares that a driver works for it (the regulator format's
    # baseInfoDriver) before the driver is in its scope; anyone else needs the driver.
    if acting_platform(actor) != platform.pk:
        _require(actor, "change", driver)
    _require(actor, "change", platform)
    with transaction.atomic():
        affiliation, created = Affiliation.objects.get_or_create(
            driver=driver,
            platform=platform,
            defaults={"certificate_no": certificate_no, "joined_on": joined_on},
        )
        if created:
            audit.record(
                actor=actor,
                action="affiliation.create",
                obj=affiliation,
                summary=f"{driver.name} @ {platform.name}",
            )
    return affiliation


def vehicle_add(
    *, actor, driver: Driver, plate: str, brand: str = "", model: str = "", seats: int = 5
) -> Vehicle:
    _require(actor, "change", driver)
    plate, new_energy = clean_plate(plate)
    with transaction.atomic():
        if Vehicle.objects.filter(plate=plate).exists():
            raise Conflict(_("Plate %(plate)s is already registered.") % {"plate": plate})
        vehicle = Vehicle.objects.create(
            driver=driver,
            plate=plate,
            brand=brand,
            model=model,
            seats=seats,
            energy=Vehicle.Energy.NEW_ENERGY if new_energy else Vehicle.Energy.FUEL,
        )
        audit.record(actor=actor, action="vehicle.create", obj=vehicle, summary=plate)
    return vehicle


def pii_reveal(*, actor, driver: Driver, field: str, reason: str) -> str:
    """Return one plaintext identifier, leaving an audit entry that says who, when and why."""
    _require(actor, "reveal", driver)
    if field not in ("phone", "license_no"):
        raise ValidationFailed(_("Only the phone or licence number can be revealed."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why you need to see this number."), code="reason_required")
    audit.record(
        actor=actor,
        action=f"driver.reveal.{field}",
        obj=driver,
        summary=driver.name,
        reason=reason.strip(),
    )
    return getattr(driver, field)
