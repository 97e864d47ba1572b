"""Concurrent batches that share rows wait for each other instead of deadlocking (PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

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
