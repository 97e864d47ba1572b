"""The COPY bulk path (PostgreSQL) gives the same results as the per-statement path.

Every test here runs once per write path: `statement` (one `INSERT … ON CONFLICT` per table,
the only path on SQLite) and, on PostgreSQL, `copy` (COPY into a staging table, then one
`INSERT … SELECT … ON CONFLICT`). The expected figures are worked out by hand from the
batches, not read back from either path.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from redwheel import testing
from redwheel.core import crypto
from redwheel.core.permissions import SystemActor
from redwheel.exchange import services, writers
from redwheel.exchange.models import (
    DriverMonthStat,
    IngestBatch,
    LatestPosition,
    PositionSample,
    Trip,
    UnknownDriver,
)
from redwheel.exchange.tests.examples import example

pytestmark = pytest.mark.django_db

ORDERS = 80  # above writers.BULK_MIN_ROWS, so batches take the bulk path when it is on
STAGES = ["orderCreate", "orderMatch", "operateDepart", "operateArrive", "operatePay"]
START = 1710462600  # 2024-03-15 08:30 Shanghai, a whole minute


@pytest.fixture(params=["statement", "copy"])
def path(request, monkeypatch):
    if request.param == "copy":
        if connection.vendor != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        monkeypatch.setattr(writers, "BULK_MIN_ROWS", 1)
    else:
        monkeypatch.setattr(writers, "BULK_MIN_ROWS", 10**9)
    copies = []
    copy_upsert = writers._copy_upsert
    monkeypatch.setattr(
        writers, "_copy_upsert", lambda *args: copies.append(args[1]) or copy_upsert(*args)
    )
    yield request.param
    if request.param == "copy" and request.node.name.find("refused") < 0:
        assert copies, "the bulk path was not taken"
    elif connection.vendor != "postgresql":
        assert not copies


def push(platform, record_type, records):
    return services.ingest(
        actor=SystemActor.for_platform(platform.pk, "test feed"),
        platform=platform,
        record_type=record_type,
        records=records,
        source="api",
    )


def counts(result):
    return result.accepted, result.unchanged, result.rejected


def stage_records(platform, record_type, license_no):
    return [
        example(record_type, platform.company_id, license_no=license_no, order_id=f"BULK-{n:04d}")
        for n in range(ORDERS)
    ]


def test_out_of_order_stages_join_and_a_resent_batch_changes_nothing(city, path):
    platform = city.platform_a
    license_no = testing.id_number(4242)  # nobody's: the trips stay with an unknown driver
    for record_type in reversed(STAGES):
        first = push(platform, record_type, stage_records(platform, record_type, license_no))
        assert first.rejected == 0 and first.accepted + first.unchanged == ORDERS
        if record_type == "operatePay":  # the first stage to arrive: every trip is new
            assert first.accepted == ORDERS
            assert UnknownDriver.objects.get(platform=platform).records == ORDERS
        again = push(platform, record_type, stage_records(platform, record_type, license_no))
        assert counts(again) == (0, ORDERS, 0)
        if record_type == "operatePay":
            assert UnknownDriver.objects.get(platform=platform).records == ORDERS
    trips = Trip.objects.filter(platform=platform)
    assert trips.count() == ORDERS
    assert not trips.filter(order_time=None).exists()
    assert not trips.filter(matched_at=None).exists()
    assert not trips.filter(departed_at=None).exists()
    assert set(trips.values_list("fare_yuan", flat=True)) == {Decimal("23.50")}
    assert set(trips.values_list("arrived_at", flat=True)) == {
        datetime(2024, 3, 15, 0, 50, tzinfo=UTC)  # 08:50 Shanghai
    }
    assert set(trips.values_list("license_index", flat=True)) == {crypto.blind_index(license_no)}
    assert not trips.exclude(driver=None).exists()


def test_unknown_driver_is_back_filled_when_base_info_arrives(city, path):
    platform = city.platform_a
    license_no = testing.id_number(4343)
    push(platform, "operatePay", stage_records(platform, "operatePay", license_no))
    assert not Trip.objects.exclude(driver=None).exists()
    driver_record = example("baseInfoDriver", platform.company_id, license_no=license_no)
    assert push(platform, "baseInfoDriver", [driver_record]).accepted == 1
    assert Trip.objects.filter(platform=platform, driver=None).count() == 0
    assert Trip.objects.filter(platform=platform).count() == ORDERS


def test_flag_2_updates_and_flag_3_deletes(city, path):
    platform = city.platform_a
    stats = [
        example("baseInfoDriverStat", platform.company_id, license_no=testing.id_number(5000 + n))
        for n in range(ORDERS)
    ]
    assert counts(push(platform, "baseInfoDriverStat", stats)) == (ORDERS, 0, 0)
    updated = [r | {"Flag": 2, "OrderCount": 99} for r in stats[:30]]
    assert counts(push(platform, "baseInfoDriverStat", updated)) == (30, 0, 0)
    assert DriverMonthStat.objects.filter(order_count=99).count() == 30
    deleted = [r | {"Flag": 3} for r in stats[20:]]
    assert counts(push(platform, "baseInfoDriverStat", deleted)) == (ORDERS - 20, 0, 0)
    assert counts(push(platform, "baseInfoDriverStat", deleted)) == (0, ORDERS - 20, 0)
    assert DriverMonthStat.objects.count() == 20
    assert DriverMonthStat.objects.filter(order_count=99).count() == 20


def test_positions_latest_only_if_newer_and_one_sample_per_interval(city, path, settings):
    settings.POSITION_SAMPLE_SECONDS = 60
    platform = city.platform_a
    base = example("positionDriver", platform.company_id)
    licences = [testing.id_number(6000 + n) for n in range(ORDERS // 2)]
    # Per driver: 0 s, 20 s (same minute) and 70 s (next minute), sent newest first.
    status = {70: 1, 20: 2, 0: 3}
    records = [
        base | {"LicenseId": lic, "PositionTime": START + s, "BizStatus": status[s]}
        for s in (70, 20, 0)
        for lic in licences
    ]
    # 70 s: latest and a sample; 20 s: a sample (minute 0); 0 s: neither.
    assert counts(push(platform, "positionDriver", records)) == (
        2 * len(licences),
        len(licences),
        0,
    )
    assert counts(push(platform, "positionDriver", records)) == (0, len(records), 0)
    assert LatestPosition.objects.filter(platform=platform).count() == len(licences)
    assert set(LatestPosition.objects.values_list("at", "biz_status")) == {
        (datetime.fromtimestamp(START + 70, UTC), 1)
    }
    # One sample per driver and minute, from the batch's first record of that minute.
    assert PositionSample.objects.count() == 2 * len(licences)
    assert set(PositionSample.objects.values_list("at", "biz_status")) == {
        (datetime.fromtimestamp(START, UTC), 2),
        (datetime.fromtimestamp(START + 60, UTC), 1),
    }
    older = [base | {"LicenseId": lic, "PositionTime": START + 30} for lic in licences]
    assert counts(push(platform, "positionDriver", older)) == (0, len(licences), 0)
    newer = [base | {"LicenseId": lic, "PositionTime": START + 150} for lic in licences]
    assert counts(push(platform, "positionDriver", newer)) == (len(licences), 0, 0)
    assert PositionSample.objects.count() == 3 * len(licences)


def test_rejected_records_and_a_failed_batch_leave_nothing_behind(city, path):
    platform = city.platform_a
    records = stage_records(platform, "orderCreate", testing.id_number(7000))
    records[5] = records[5] | {"OrderTime": "2024-03-15"}
    result = push(platform, "orderCreate", records)
    assert counts(result) == (ORDERS - 1, 0, 1)
    assert result.rejections[0]["index"] == 5
    # A batch whose transaction fails writes neither staged nor stored rows.
    with pytest.raises(RuntimeError), transaction.atomic():
        push(platform, "orderMatch", stage_records(platform, "orderMatch", testing.id_number(7000)))
        raise RuntimeError("the request failed after the write")
    assert not Trip.objects.exclude(matched_at=None).exists()
    assert IngestBatch.objects.filter(record_type="orderMatch").count() == 0
    again = push(
        platform, "orderMatch", stage_records(platform, "orderMatch", testing.id_number(7000))
    )
    assert counts(again) == (ORDERS, 0, 0)


def test_a_conflict_target_that_is_not_a_unique_constraint_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not a unique constraint"):
        writers.upsert(Trip, ("platform_id", "license_index"), ("platform_id",), [(1,)])


def test_the_http_api_writes_a_large_batch_once(client, city, path):
    from redwheel.accounts.services import token_create

    _token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="feed", scopes=["exchange:write"]
    )
    records = stage_records(city.platform_a, "orderMatch", testing.id_number(8000))
    records.append(example("orderMatch", city.platform_b.company_id, order_id="FOREIGN"))

    def send():
        response = client.post(
            "/api/v1/exchange/orderMatch",
            data=json.dumps(records),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert response.status_code == 200
        body = response.json()
        return body["accepted"], body["unchanged"], body["rejected"]

    assert send() == (ORDERS, 0, 1)  # another platform's record is refused on its own
    assert send() == (0, ORDERS, 1)
    assert Trip.objects.filter(platform=city.platform_a).count() == ORDERS
    assert not Trip.objects.filter(platform=city.platform_b).exists()
