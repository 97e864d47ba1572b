"""Feed ownership: which feed may change a driver, what the other feeds reported, conflicts.

A driver's name and phone are owned by whoever created the driver: the platform whose feed
created it (its `DriverFeedRecord` has `created_driver`), or people (roster import, staff
pages) when no feed did. Only the owning feed changes them, and only when its own report
changes. Every feed's last report is kept per (driver, platform); a report that differs from
the driver and is not settled is a conflict, which the city committee resolves by accepting
one platform's values (`services.feed_conflict_resolve`). See docs/exchange.md, "Feed ownership".

A feed may only attach to drivers of its own city (the licensing city of its platform): a
licence already known in another city is rejected, so that two cities never see each other.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from redwheel.core import audit, crypto
from redwheel.core.errors import NotFound
from redwheel.core.permissions import require, scope
from redwheel.core.validators import clean_mobile
from redwheel.drivers import services as driver_services
from redwheel.drivers.models import Affiliation, Driver
from redwheel.exchange.models import DriverFeedRecord
from redwheel.orgs.permissions import is_city_committee


@dataclass
class Ownership:
    """What one batch of one platform needs to know about the drivers it names (3 queries)."""

    platform: object
    city_path: str = ""
    records: dict[int, DriverFeedRecord] = field(default_factory=dict)  # this platform's
    creators: dict[int, int] = field(default_factory=dict)  # driver id -> creating platform
    cities: dict[int, set[int]] = field(default_factory=dict)  # driver id -> platform cities
    new: list[DriverFeedRecord] = field(default_factory=list)
    changed: dict[int, DriverFeedRecord] = field(default_factory=dict)

    def owns(self, driver: Driver) -> bool:
        return self.creators.get(driver.pk) == self.platform.pk

    def in_city(self, driver: Driver) -> bool:
        """Is `driver` a driver of this platform's city (or of no city yet)?"""
        city_id = self.platform.city_id
        if city_id is None:
            return True
        membership = getattr(driver, "membership", None)
        paths = [
            unit.path
            for unit in (
                driver.branch,
                membership and membership.branch,
                membership and membership.mobile_branch,
            )
            if unit is not None
        ]
        platform_cities = self.cities.get(driver.pk, set())
        if not paths and not platform_cities:
            return True
        return city_id in platform_cities or any(p.startswith(self.city_path) for p in paths)

    def is_new_report(self, driver: Driver, name: str, phone: str) -> bool:
        """Does this differ from what this platform last reported about `driver`?"""
        record = self.records.get(driver.pk)
        if record is None:
            return True
        return (record.name, record.phone_index) != (
            name.strip(),
            crypto.blind_index(clean_mobile(phone)),
        )

    def report(self, driver: Driver, name: str, phone: str, *, created: bool = False) -> bool:
        """Keep what this platform reported about `driver`; True if the report changed."""
        if not self.is_new_report(driver, name, phone):
            return False
        name, phone = name.strip(), clean_mobile(phone)
        record = self.records.get(driver.pk)
        now = timezone.now()
        if record is None:
            record = DriverFeedRecord(driver=driver, platform=self.platform, created_driver=created)
            self.records[driver.pk] = record
            self.new.append(record)
            if created:
                self.creators[driver.pk] = self.platform.pk
        elif record.pk is not None:
            self.changed[record.pk] = record
        record.name = name
        record.set_phone(phone)
        record.reported_at = now
        record.settled_at = None
        return True

    def save(self) -> None:
        """Write the batch's new and changed reports: two bulk statements."""
        DriverFeedRecord.objects.bulk_create(self.new, batch_size=1000)
        DriverFeedRecord.objects.bulk_update(
            list(self.changed.values()),
            ["name", "phone", "phone_index", "phone_masked", "reported_at", "settled_at"],
            batch_size=1000,
        )


def load(platform, drivers: list[Driver]) -> Ownership:
    """Reports, creators and cities of `drivers`, for one batch of `platform`."""
    city = platform.city if platform.city_id else None
    ownership = Ownership(platform=platform, city_path=city.path if city else "")
    ids = [d.pk for d in drivers]
    if not ids:
        return ownership
    for record in DriverFeedRecord.objects.filter(driver_id__in=ids).filter(
        Q(platform=platform) | Q(created_driver=True)
    ):
        if record.platform_id == platform.pk:
            ownership.records[record.driver_id] = record
        if record.created_driver:
            ownership.creators[record.driver_id] = record.platform_id
    for driver_id, city_id in Affiliation.objects.filter(driver_id__in=ids).values_list(
        "driver_id", "platform__city_id"
    ):
        ownership.cities.setdefault(driver_id, set()).add(city_id)
    return ownership


def owned_by(platform, driver_ids) -> set[int]:
    """The drivers among `driver_ids` whose fields `platform`'s feed owns (one query)."""
    if not driver_ids:
        return set()
    return set(
        DriverFeedRecord.objects.filter(
            platform=platform, created_driver=True, driver_id__in=list(driver_ids)
        ).values_list("driver_id", flat=True)
    )


# Conflicts ------------------------------------------------------------------------------------


def open_conflicts() -> QuerySet:
    """Reports that differ from their driver's name or phone and are not settled."""
    return DriverFeedRecord.objects.filter(settled_at__isnull=True).exclude(
        name=F("driver__name"), phone_index=F("driver__phone_index")
    )


def conflict_drivers(viewer) -> QuerySet:
    """Drivers with open conflicts that `viewer`, as a city committee, may resolve."""
    if not is_city_committee(viewer, "change"):
        return Driver.objects.none()
    return scope(
        viewer, "change", Driver.objects.filter(pk__in=open_conflicts().values("driver_id"))
    )


def reports_of(viewer, driver: Driver) -> list[DriverFeedRecord]:
    """Every platform's report about `driver`, creator first (for the resolution page)."""
    return list(
        scope(viewer, "view", DriverFeedRecord.objects.filter(driver=driver))
        .select_related("platform")
        .order_by("-created_driver", "platform__name")
    )


def resolve_conflict(
    *, actor, driver: Driver, platform_id: int | None = None, note: str = ""
) -> Driver:
    """Settle `driver`'s conflicts: take the name and phone `platform_id` reported (through
    the driver update service), or keep the driver's (None). City committee only."""
    if not is_city_committee(actor, "change"):
        raise NotFound()
    require(actor, "change", driver)
    with transaction.atomic():
        records = DriverFeedRecord.objects.select_for_update().filter(driver=driver)
        accepted = None
        if platform_id is not None:
            accepted = records.filter(platform_id=platform_id).select_related("platform").first()
            if accepted is None:
                raise NotFound()
            driver = driver_services.driver_update(
                actor=actor, driver=driver, name=accepted.name, phone=accepted.phone
            )
        settled = records.filter(settled_at__isnull=True).update(settled_at=timezone.now())
        audit.record(
            actor=actor,
            action="exchange.feed_conflict_resolve",
            obj=driver,
            summary=driver.name,
            reason=note[:300],
            data={
                "accepted_platform": accepted.platform.company_id if accepted else None,
                "reports_settled": settled,
            },
        )
    return driver
