"""Concurrent batches that share rows wait for each other instead of deadlocking (PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from redwheel import testing
from redwheel.core.permissions import SystemActor
from redwheel.exchange import services, writers
from redwheel.exchange.models import LatestPosition, UnknownDriver
from redwheel.exchange.services import positions
from redwheel.exchange.tests.examples import example

DRIVERS, ROUNDS = 60, 4
START = 1710462600


@pytest.mark.django_db(transaction=True)
def test_position_batches_of_the_same_drivers_in_opposite_orders_both_succeed():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every write; row locks are tested on PostgreSQL")
    city = testing.city()
    platform = city.platform_a
    base = example("positionDriver", platform.company_id)
    licenses = [testing.id_number(90_000 + n) for n in range(DRIVERS)]
    errors, barrier = [], threading.Barrier(2)

    def feed(reverse: bool, offset: int):
        try:
            for round_ in range(ROUNDS):
                at = START + 60 * round_ + offset
                records = [base | {"LicenseId": lic, "PositionTime": at} for lic in licenses]
                barrier.wait()
                services.ingest(
                    actor=SystemActor.for_platform(platform.pk, "test feed"),
                    platform=platform,
                    record_type="positionDriver",
                    records=records[::-1] if reverse else records,
                    source="api",
                )
        except Exception as exc:  # a deadlock surfaces here as OperationalError
            errors.append(repr(exc))
            barrier.abort()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=feed, args=(False, 0)),
        threading.Thread(target=feed, args=(True, 30)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    latest = LatestPosition.objects.filter(platform=platform)
    assert latest.count() == DRIVERS
    assert {p.at.timestamp() for p in latest} == {START + 60 * (ROUNDS - 1) + 30}
    assert UnknownDriver.objects.filter(platform=platform).count() == DRIVERS


@pytest.mark.django_db
def test_the_latest_position_statement_itself_never_moves_backwards(city):
    """What a concurrent batch committed after this one read the rows is still respected."""
    platform = city.platform_a
    record = example("positionDriver", platform.company_id)
    services.ingest(
        actor=SystemActor.for_platform(platform.pk, "test feed"),
        platform=platform,
        record_type="positionDriver",
        records=[record],
        source="api",
    )
    stored = LatestPosition.objects.get()
    older = [getattr(stored, name) for name in positions._LATEST_COLUMNS]
    newer = list(older)
    at = positions._LATEST_COLUMNS.index("at")
    lng = positions._LATEST_COLUMNS.index("lng")
    older[at], older[lng] = stored.at - timedelta(minutes=5), 100.0
    newer[at], newer[lng] = stored.at + timedelta(minutes=5), 101.0
    for row in (older, newer, older):
        writers.upsert(
            LatestPosition,
            ("platform_id", "license_index"),
            positions._LATEST_COLUMNS,
            [tuple(row)],
            update=positions._LATEST_COLUMNS[2:],
            only_if_newer="at",
        )
    latest = LatestPosition.objects.get()
    assert (latest.at, latest.lng) == (newer[at], 101.0)


@pytest.mark.parametrize("pay_has_match_time", [True, False])
def test_a_stage_stored_while_another_batch_merged_is_kept(city, monkeypatch, pay_has_match_time):
    """The soak run's lost stages: a payment batch reads a trip before its match is stored,
    merges, and writes after. The write must keep what was stored meanwhile: the match's own
    columns are not emptied, and a fill column (the match time the payment also carries) does
    not replace the stored one. Deterministic: the match is stored from inside the payment's
    read, as a concurrent batch committing at that moment would be seen by its write."""
    from redwheel.exchange.models import Trip
    from redwheel.exchange.services import facts

    platform = city.platform_a
    actor = SystemActor.for_platform(platform.pk, "test feed")

    def push(record_type, drop=(), **fields):
        record = example(record_type, platform.company_id) | fields
        for name in drop:
            record.pop(name)
        return services.ingest(
            actor=actor, platform=platform, record_type=record_type, records=[record], source="api"
        )

    push("orderCreate")
    match = example("orderMatch", platform.company_id)
    real_load = facts.TRIPS.load

    def load_then_match_lands(*args, **kwargs):
        rows = real_load(*args, **kwargs)  # the payment's view: no match yet
        monkeypatch.setattr(facts.TRIPS, "load", real_load)
        push("orderMatch")
        return rows

    monkeypatch.setattr(facts.TRIPS, "load", load_then_match_lands)
    later = str(int(match["DistributeTime"]) + 5)
    if pay_has_match_time:
        result = push("operatePay", OrderMatchTime=later)
    else:
        result = push("operatePay", drop=["OrderMatchTime"])
    assert (result.accepted, result.rejected) == (1, 0), result.rejections
    trip = Trip.objects.get(platform=platform)
    assert trip.matched_at is not None and trip.match_lng is not None
    assert f"{timezone.localtime(trip.matched_at):%Y%m%d%H%M%S}" == match["DistributeTime"]
    assert trip.order_time is not None and trip.paid_at is not None
