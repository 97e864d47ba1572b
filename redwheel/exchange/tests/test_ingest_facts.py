"""Facts: trips joined in any order, unknown drivers, drivers and vehicles, positions."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import OuterRef, Subquery

from redwheel import testing
from redwheel.core import crypto
from redwheel.core.models import AuditEntry
from redwheel.core.permissions import SystemActor
from redwheel.drivers.models import Affiliation, Driver, Vehicle
from redwheel.exchange import services
from redwheel.exchange.models import (
    Complaint,
    LatestPosition,
    OnlineEvent,
    PositionSample,
    Punishment,
    Trip,
    UnknownDriver,
)
from redwheel.exchange.tests.examples import LICENSE, PLATE, example

pytestmark = pytest.mark.django_db

STAGES = ["orderCreate", "orderMatch", "operateDepart", "operateArrive", "operatePay"]


def push(platform, record_type, records):
    return services.ingest(
        actor=SystemActor.for_platform(platform.pk, "test feed"),
        platform=platform,
        record_type=record_type,
        records=records,
        source="api",
    )


def trip_state(trip):
    return {
        f.attname: getattr(trip, f.attname) for f in Trip._meta.concrete_fields if f.attname != "id"
    }


def test_pay_before_match_gives_a_trip_with_both(city):
    platform = city.platform_a
    push(platform, "operatePay", [example("operatePay", platform.company_id)])
    trip = Trip.objects.get()
    assert trip.fare_yuan == Decimal("23.50") and trip.matched_at is not None
    push(platform, "orderMatch", [example("orderMatch", platform.company_id)])
    trip.refresh_from_db()
    assert trip.fare_yuan == Decimal("23.50")
    assert trip.match_lng is not None and trip.license_index == crypto.blind_index(LICENSE)
    assert trip.matched_at == datetime(2024, 3, 15, 0, 26, tzinfo=UTC)  # 08:26 Shanghai
    assert trip.paid_at == datetime(2024, 3, 15, 0, 52, tzinfo=UTC)
    assert trip.arrived_at == datetime(2024, 3, 15, 0, 50, tzinfo=UTC)


def test_the_joined_trip_does_not_depend_on_arrival_order(city):
    states = []
    for n, order in enumerate(itertools.islice(itertools.permutations(STAGES), 0, 120, 17)):
        order_id = f"PERM-{n}"
        for stage in order:
            push(
                city.platform_a,
                stage,
                [example(stage, city.platform_a.company_id, order_id=order_id)],
            )
        state = trip_state(Trip.objects.get(order_id=order_id))
        state.pop("order_id")
        states.append(state)
    assert all(state == states[0] for state in states)
    assert states[0]["drive_km"] == 6.5 and states[0]["wait_seconds"] == 240


def test_complaint_before_trip_is_joined_by_order_id(city):
    platform = city.platform_a
    driver = city.driver()
    complaint = example("ratedPassengerComplaint", platform.company_id, order_id="C-1")
    assert push(platform, "ratedPassengerComplaint", [complaint]).accepted == 1
    match = example("orderMatch", platform.company_id, order_id="C-1", license_no=driver.license_no)
    push(platform, "orderMatch", [match])
    trip_driver = Trip.objects.filter(
        platform=OuterRef("platform"), order_id=OuterRef("order_id")
    ).values("driver_id")
    joined = Complaint.objects.annotate(driver_id=Subquery(trip_driver)).get()
    assert joined.driver_id == driver.pk


def test_unknown_driver_is_kept_reported_and_resolved_by_base_info(city):
    platform = city.platform_a
    push(platform, "ratedDriverPunish", [example("ratedDriverPunish", platform.company_id)])
    push(platform, "operatePay", [example("operatePay", platform.company_id)])
    push(platform, "positionDriver", [example("positionDriver", platform.company_id)])
    assert Punishment.objects.get().driver_id is None
    unknown = UnknownDriver.objects.get()
    assert unknown.records == 3 and unknown.first_seen_type == "ratedDriverPunish"
    assert unknown.license_masked == crypto.mask_identity(LICENSE)
    assert unknown.resolved_at is None
    # Re-sending changes nothing, counts included.
    push(platform, "operatePay", [example("operatePay", platform.company_id)])
    assert UnknownDriver.objects.get().records == 3

    result = push(platform, "baseInfoDriver", [example("baseInfoDriver", platform.company_id)])
    assert result.accepted == 1
    driver = Driver.objects.get(license_index=crypto.blind_index(LICENSE))
    assert driver.license_no == LICENSE and driver.user is not None
    assert Affiliation.objects.filter(driver=driver, platform=platform, is_active=True).exists()
    assert Punishment.objects.get().driver == driver
    assert Trip.objects.get().driver == driver
    assert LatestPosition.objects.get().driver == driver
    assert PositionSample.objects.get().driver == driver
    assert UnknownDriver.objects.get().resolved_at is not None
    # Later facts link at once and add nothing to the unknown list.
    push(platform, "operateLogin", [example("operateLogin", platform.company_id)])
    assert OnlineEvent.objects.get().driver == driver
    assert UnknownDriver.objects.get().records == 3
    audit = AuditEntry.objects.filter(action="driver.create").get()
    assert audit.actor is None and audit.actor_label == f"exchange {platform.company_id}"
    assert LICENSE not in str(audit.data) + audit.summary


def test_base_info_for_a_known_driver_affiliates_without_overwriting(city):
    """Another platform's feed does not own the driver: it gets its affiliation, and what it
    reports is kept as its own (test_feed_ownership.py covers the conflicts)."""
    driver = city.driver()  # on platform A
    name, phone = driver.name, driver.phone_masked
    platform = city.platform_b
    record = example("baseInfoDriver", platform.company_id, license_no=driver.license_no) | {
        "DriverName": "李师傅",
        "DriverPhone": "13712345678",
    }
    result = push(platform, "baseInfoDriver", [record])
    assert result.accepted == 1
    driver.refresh_from_db()
    assert (driver.name, driver.phone_masked) == (name, phone)
    assert set(driver.affiliations.values_list("platform", flat=True)) == {
        city.platform_a.pk,
        platform.pk,
    }
    assert push(platform, "baseInfoDriver", [record]).unchanged == 1
    ended = push(platform, "baseInfoDriver", [record | {"Flag": 3}])
    assert ended.accepted == 1
    assert not Affiliation.objects.get(driver=driver, platform=platform).is_active
    assert Affiliation.objects.get(driver=driver, platform=city.platform_a).is_active


def test_base_info_with_a_phone_of_another_driver_is_rejected(city):
    other = city.driver()
    platform = city.platform_a
    record = example("baseInfoDriver", platform.company_id, license_no=testing.id_number(4242)) | {
        "DriverPhone": other.phone
    }
    result = push(
        platform, "baseInfoDriver", [example("baseInfoDriver", platform.company_id), record]
    )
    assert result.accepted == 1 and result.rejected == 1
    assert result.rejections[0]["index"] == 1
    assert (result.rejections[0]["field"], result.rejections[0]["code"]) == (
        "DriverPhone",
        "duplicate_phone",
    )
    assert Driver.objects.count() == 2


def test_vehicle_is_upserted_for_the_driver_who_used_the_plate(city):
    platform = city.platform_a
    vehicle = example("baseInfoVehicle", platform.company_id)
    first = push(platform, "baseInfoVehicle", [vehicle])
    assert first.rejections[0]["code"] == "vehicle_driver_unknown"
    push(platform, "baseInfoDriver", [example("baseInfoDriver", platform.company_id)])
    push(platform, "orderMatch", [example("orderMatch", platform.company_id)])
    assert push(platform, "baseInfoVehicle", [vehicle]).accepted == 1
    car = Vehicle.objects.get(plate=PLATE)
    assert car.driver.license_index == crypto.blind_index(LICENSE) and car.brand == "比亚迪"
    changed = push(platform, "baseInfoVehicle", [vehicle | {"Flag": 2, "Seats": 7}])
    assert changed.accepted == 1 and Vehicle.objects.get().seats == 7
    other = push(
        city.platform_b, "baseInfoVehicle", [example("baseInfoVehicle", city.platform_b.company_id)]
    )
    assert other.rejections[0]["code"] == "foreign_vehicle"
    assert push(platform, "baseInfoVehicle", [vehicle | {"Flag": 3}]).accepted == 1
    assert not Vehicle.objects.exists()
    bad = push(platform, "baseInfoVehicle", [vehicle | {"VehicleNo": "ABC123"}])
    assert bad.rejections[0]["code"] == "bad_plate"


def test_positions_keep_the_latest_and_one_sample_per_interval(city, settings):
    settings.POSITION_SAMPLE_SECONDS = 60
    platform = city.platform_a
    base = example("positionDriver", platform.company_id)
    start = 1710462600  # a whole minute
    records = [
        base | {"PositionTime": start + s, "Longitude": base["Longitude"] + s}
        for s in (0, 20, 40, 70, 130)
    ]
    result = push(platform, "positionDriver", list(reversed(records)))
    # Newest first: 130 s (latest + sample), 70 s and 40 s start samples; 20 s and 0 s add
    # nothing (sampled out), so they count as unchanged.
    assert (result.accepted, result.unchanged) == (3, 2)
    latest = LatestPosition.objects.get()
    assert latest.at == datetime.fromtimestamp(start + 130, UTC)
    assert latest.speed_kmh == 32.5 and latest.biz_status == 1
    samples = list(PositionSample.objects.order_by("at").values_list("at", flat=True))
    assert samples == [datetime.fromtimestamp(start + m, UTC) for m in (0, 60, 120)]
    in_order = push(
        city.platform_b,
        "positionDriver",
        [r | {"CompanyId": city.platform_b.company_id} for r in records],
    )
    assert (in_order.accepted, in_order.unchanged) == (5, 0)  # each one is newer
    older = push(platform, "positionDriver", [records[1]])
    assert older.unchanged == 1
    assert LatestPosition.objects.get(platform=platform).at == latest.at


def test_position_purge_deletes_old_samples_only(city, settings):
    from redwheel.exchange.tasks import purge_position_samples

    settings.POSITION_RETENTION_DAYS = 30
    platform = city.platform_a
    now = datetime.now(UTC).replace(microsecond=0)
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    base = example("positionDriver", platform.company_id)
    push(
        platform,
        "positionDriver",
        [
            base | {"PositionTime": int(old.timestamp())},
            base | {"PositionTime": int(recent.timestamp())},
        ],
    )
    assert PositionSample.objects.count() == 2
    result = purge_position_samples.enqueue()
    assert result.return_value == 1
    assert PositionSample.objects.count() == 1
    assert LatestPosition.objects.count() == 1


def test_purge_job_is_registered_with_the_scheduler():
    from redwheel.core.scheduler import PERIODIC_JOBS

    assert PERIODIC_JOBS["exchange_purge_position_samples"][1] == (
        "redwheel.exchange.tasks.purge_position_samples"
    )


def test_coordinates_are_converted_to_wgs84(city):
    from redwheel.exchange import coords

    platform = city.platform_a
    gcj = example("operateLogin", platform.company_id) | {"Encrypt": 1}
    push(platform, "operateLogin", [gcj])
    event = OnlineEvent.objects.get()
    expected = coords.gcj02_to_wgs84(gcj["Longitude"] / 1e6, gcj["Latitude"] / 1e6)
    assert coords.distance_m(event.lng, event.lat, *expected) < 0.05
    assert (
        coords.distance_m(event.lng, event.lat, gcj["Longitude"] / 1e6, gcj["Latitude"] / 1e6) > 100
    )  # the GCJ-02 offset was removed
    wgs = gcj | {"Encrypt": 4, "LoginTime": "20240316070000"}
    push(platform, "operateLogin", [wgs])
    stored = OnlineEvent.objects.get(at=datetime(2024, 3, 15, 23, tzinfo=UTC))
    assert (stored.lng, stored.lat) == (wgs["Longitude"] / 1e6, wgs["Latitude"] / 1e6)
