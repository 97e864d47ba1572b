"""Monthly partitions of the exchange fact tables (PostgreSQL; SQLite only checks the no-ops)."""

from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from redwheel.exchange import partitions
from redwheel.exchange.models import DriverMonthStat, OnlineEvent, PositionSample, Trip

SHANGHAI = ZoneInfo("Asia/Shanghai")
LICENCE = "a" * 40

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="partitions exist on PostgreSQL only"
)


def sample(city, at):
    return PositionSample.objects.create(
        platform=city.platform_a, license_index=LICENCE, at=at, lng=104.06, lat=30.67
    )


def partition_of(model, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {model._meta.db_table} WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


def partitions_of(table) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [table],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
def test_sqlite_does_nothing():
    if connection.vendor == "postgresql":
        pytest.skip("SQLite behaviour")
    assert partitions.ensure_partitions() == []
    assert partitions.drop_expired_partitions(1) == []
    out = StringIO()
    call_command("exchange_partitions", stdout=out)
    assert "Not PostgreSQL" in out.getvalue()


@postgres_only
@pytest.mark.django_db
def test_rows_land_in_their_local_month(city):
    with time_machine.travel(datetime(2031, 3, 10, tzinfo=SHANGHAI), tick=False):
        partitions.ensure_partitions(1)
    # 1 March 00:30 in Shanghai is still February in UTC: the local month decides.
    early_march = sample(city, datetime(2031, 3, 1, 0, 30, tzinfo=SHANGHAI))
    late_feb = sample(city, datetime(2031, 2, 28, 23, 30, tzinfo=SHANGHAI))
    april = OnlineEvent.objects.create(
        platform=city.platform_a,
        license_index=LICENCE,
        kind="login",
        at=datetime(2031, 4, 2, 8, tzinfo=SHANGHAI),
    )
    stat = DriverMonthStat.objects.create(
        platform=city.platform_a,
        license_index=LICENCE,
        month=date(2031, 3, 1),
        order_count=1,
        traffic_violations=0,
        complaints=0,
    )
    assert partition_of(PositionSample, early_march.pk) == "exchange_positionsample_p203103"
    assert partition_of(PositionSample, late_feb.pk) == "exchange_positionsample_default"
    assert partition_of(OnlineEvent, april.pk) == "exchange_onlineevent_p203104"
    assert partition_of(DriverMonthStat, stat.pk) == "exchange_drivermonthstat_p203103"


@postgres_only
@pytest.mark.django_db
def test_next_months_exist_before_they_begin_and_reruns_change_nothing():
    with time_machine.travel(datetime(2032, 11, 20, tzinfo=SHANGHAI), tick=False):
        created = partitions.ensure_partitions(2)
        again = partitions.ensure_partitions(2)
    names = partitions_of("exchange_onlineevent")
    assert {
        "exchange_onlineevent_p203211",
        "exchange_onlineevent_p203212",
        "exchange_onlineevent_p203301",
    } <= names
    assert "exchange_onlineevent_p203302" not in names
    assert "exchange_positionsample_p203301" in {c.partition for c in created}
    assert again == []


@postgres_only
@pytest.mark.django_db
def test_a_month_held_in_the_default_partition_is_moved_into_its_own(city):
    stray = sample(city, datetime(2033, 6, 5, tzinfo=SHANGHAI))
    assert partition_of(PositionSample, stray.pk) == "exchange_positionsample_default"
    with time_machine.travel(datetime(2033, 5, 20, tzinfo=SHANGHAI), tick=False):
        changes = partitions.ensure_partitions(1)
    june = [c for c in changes if c.partition == "exchange_positionsample_p203306"]
    assert june and june[0].rows == 1
    assert partition_of(PositionSample, stray.pk) == "exchange_positionsample_p203306"
    # The upsert on the natural key still finds the moved row.
    assert PositionSample.objects.filter(at=stray.at).count() == 1


@postgres_only
@pytest.mark.django_db
def test_retention_drops_whole_old_partitions_and_keeps_the_rest(city, settings):
    settings.POSITION_RETENTION_DAYS = 10_000  # months decide here, not the position days
    for month in (1, 2, 3, 4):
        with time_machine.travel(datetime(2034, month, 15, tzinfo=SHANGHAI), tick=False):
            partitions.ensure_partitions(0)
        sample(city, datetime(2034, month, 15, tzinfo=SHANGHAI))
    ancient = sample(city, datetime(2001, 1, 1, tzinfo=SHANGHAI))  # lands in the default
    # The rows' deferred foreign-key checks must run before their table can go, as they do
    # when the daily job runs in its own transaction.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with time_machine.travel(datetime(2034, 4, 20, tzinfo=SHANGHAI), tick=False):
        preview = partitions.drop_expired_partitions(2, dry_run=True)
        assert "exchange_positionsample_p203402" in partitions_of("exchange_positionsample")
        dropped = partitions.drop_expired_partitions(2)
        again = partitions.drop_expired_partitions(2)
    names = partitions_of("exchange_positionsample")
    assert "exchange_positionsample_p203401" not in names
    assert "exchange_positionsample_p203402" not in names
    assert {"exchange_positionsample_p203403", "exchange_positionsample_p203404"} <= names
    assert "exchange_positionsample_default" in names
    assert preview == dropped
    # (the partitions the migration made for the real current months go too)
    gone = {
        c.partition: c.rows
        for c in dropped
        if c.table == "exchange_positionsample"
        and ("p2034" in c.partition or "default" in c.partition)
    }
    assert gone == {
        "exchange_positionsample_p203401": 1,
        "exchange_positionsample_p203402": 1,
        "exchange_positionsample_default": 1,
    }
    assert not PositionSample.objects.filter(pk=ancient.pk).exists()
    kept = PositionSample.objects.filter(at__year=2034).values_list("at__month", flat=True)
    assert sorted(kept) == [3, 4]
    assert again == []


@postgres_only
@pytest.mark.django_db
def test_position_samples_follow_their_retention_days(city, settings):
    settings.POSITION_RETENTION_DAYS = 40
    for month in (1, 2, 3):
        with time_machine.travel(datetime(2035, month, 15, tzinfo=SHANGHAI), tick=False):
            partitions.ensure_partitions(0)
    with time_machine.travel(datetime(2035, 3, 20, tzinfo=SHANGHAI), tick=False):
        cutoffs = partitions.retention_cutoffs(0)
        partitions.drop_expired_partitions(0)
    # 40 days before 20 March is 9 February: January goes, February stays, other tables keep all.
    assert cutoffs == {"exchange_positionsample": date(2035, 2, 1)}
    names = partitions_of("exchange_positionsample")
    assert "exchange_positionsample_p203501" not in names
    assert "exchange_positionsample_p203502" in names
    assert "exchange_onlineevent_p203501" in partitions_of("exchange_onlineevent")


@postgres_only
@pytest.mark.django_db
def test_command_dry_run_reports_and_changes_nothing():
    with time_machine.travel(datetime(2036, 7, 1, tzinfo=SHANGHAI), tick=False):
        out = StringIO()
        call_command("exchange_partitions", "--ahead", "1", "--dry-run", stdout=out)
    assert "would create exchange_rating_p203608" in out.getvalue()
    assert "exchange_rating_p203608" not in partitions_of("exchange_rating")


@pytest.mark.django_db
def test_negative_arguments_are_refused():
    if connection.vendor != "postgresql":
        pytest.skip("the checks run on PostgreSQL only")
    with pytest.raises(ValueError):
        partitions.ensure_partitions(-1)
    with pytest.raises(ValueError):
        partitions.drop_expired_partitions(-1)


def trip(city, order_id, **times):

    return Trip.objects.create(
        platform=city.platform_a, order_id=order_id, license_index=LICENCE, **times
    )


@pytest.mark.django_db
def test_retention_deletes_old_trips_in_chunks_on_both_databases(city):
    """Trips are not partitioned: their rows past retention go row by row, whichever of the
    stage times is known, and a trip without any time is kept."""

    old = datetime(2034, 1, 31, 23, 0, tzinfo=SHANGHAI)
    kept_time = datetime(2034, 2, 1, 0, 30, tzinfo=SHANGHAI)  # the first month kept
    trip(city, "OLD-ORDERED", order_time=old)
    trip(city, "OLD-ARRIVED-ONLY", arrived_at=old)  # stages arrived out of order
    trip(city, "OLD-CANCELLED", cancelled_at=old)
    trip(city, "KEPT", order_time=kept_time, arrived_at=kept_time)
    trip(city, "ORDERED-LATE-PAID-EARLY", order_time=kept_time, paid_at=old)  # order decides
    trip(city, "NO-TIME")
    with time_machine.travel(datetime(2034, 4, 20, tzinfo=SHANGHAI), tick=False):
        preview = partitions.purge_expired_trips(3, dry_run=True)
        assert Trip.objects.count() == 6
        done = partitions.purge_expired_trips(3, chunk=2)
        again = partitions.purge_expired_trips(3)
        assert partitions.purge_expired_trips(0) == []  # 0 keeps everything
    assert [c.rows for c in preview] == [c.rows for c in done] == [3]
    assert again == []
    left = set(Trip.objects.values_list("order_id", flat=True))
    assert left == {"KEPT", "ORDERED-LATE-PAID-EARLY", "NO-TIME"}


@pytest.mark.django_db
def test_command_purges_trips_on_sqlite_too(city):

    trip(city, "ANCIENT", order_time=datetime(2001, 5, 1, tzinfo=SHANGHAI))
    out = StringIO()
    call_command("exchange_partitions", "--retention", "12", stdout=out)
    assert "delete-rows exchange_trip (1 rows)" in out.getvalue()
    assert not Trip.objects.filter(order_id="ANCIENT").exists()
