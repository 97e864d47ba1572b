"""Monthly range partitions of the exchange fact tables on PostgreSQL (docs/operations.md).

Each table in `PARTITIONED` is partitioned by its event time, one partition per local
(Asia/Shanghai) month named `<table>_pYYYYMM`, plus `<table>_default` so that a row of a month
without a partition (a far-off clock, a late back-fill) is kept, never refused. PostgreSQL
wants every primary key and unique constraint of a partitioned table to contain the partition
column: every natural key below does, so each `INSERT … ON CONFLICT (natural key)` stays valid,
and the primary key becomes `(id, <column>)` in the database while Django keeps `id` as pk.

`Trip` is not partitioned: its natural key (platform, OrderId) has no time, its stages arrive
in any order, and PostgreSQL cannot keep that key unique across partitions. It is one row per
order, hundreds of times fewer than position samples; `purge_expired_trips` removes its rows
past retention in chunks, on both databases. State tables (LatestPosition, CreditLevel,
TrainingRecord) and the derived DriverMonthMetric are small and must outlive retention.
`Punishment` is not partitioned either: appeal cases hold a foreign key to the penalty they
contest, and PostgreSQL has no foreign keys into a partitioned table.

On SQLite everything here does nothing and reports nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from redwheel.core.dates import LOCAL_TZ, local_date, month_start, next_month, previous_month
from redwheel.exchange.models import Trip

# table -> (partition column, column is a date rather than a timestamp)
PARTITIONED: dict[str, tuple[str, bool]] = {
    "exchange_positionsample": ("at", False),
    "exchange_onlineevent": ("at", False),
    "exchange_rating": ("evaluated_at", False),
    "exchange_complaint": ("complained_at", False),
    "exchange_drivermonthstat": ("month", True),
}
POSITION_TABLE = "exchange_positionsample"


@dataclass(frozen=True)
class Change:
    """One partition created, dropped or pruned (or that would be, in a dry run)."""

    action: str  # "create", "drop" or "prune-default"
    table: str
    partition: str
    rows: int = 0

    def __str__(self):
        moved = f" ({self.rows} rows)" if self.rows else ""
        return f"{self.action} {self.partition}{moved}"


def enabled() -> bool:
    return connection.vendor == "postgresql"


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def _bound(month: date, is_date: bool) -> str:
    if is_date:
        return month.isoformat()
    return datetime(month.year, month.month, 1, tzinfo=LOCAL_TZ).isoformat()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def existing_partitions(cursor, table: str) -> dict[date, str]:
    """Our monthly partitions of `table`, by month (others, and the default, are ignored)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass",
        [table],
    )
    found = {}
    prefix = f"{table}_p"
    for (name,) in cursor.fetchall():
        digits = name[len(prefix) :]
        if name.startswith(prefix) and len(digits) == 6 and digits.isdigit():
            found[date(int(digits[:4]), int(digits[4:]), 1)] = name
    return found


def _months_in_default(cursor, table: str, source: str = "") -> list[date]:
    """The local months of the rows in `table`'s default partition (or in `source`)."""
    column, is_date = PARTITIONED[table]
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', {_quote(column)}"
        f"{'' if is_date else ' AT TIME ZONE %s'})::date "
        f"FROM {_quote(source or table + '_default')}",
        [] if is_date else [str(LOCAL_TZ)],
    )
    return sorted(row[0] for row in cursor.fetchall())


def create_partition(cursor, table: str, month: date) -> int:
    """Create `table`'s partition of `month`, moving its rows out of the default partition
    first (PostgreSQL refuses a partition whose rows sit in the default). Returns rows moved."""
    column, is_date = PARTITIONED[table]
    name, default = partition_name(table, month), f"{table}_default"
    low, high = _bound(month, is_date), _bound(next_month(month), is_date)
    cursor.execute(
        f"CREATE TABLE {_quote(name)} "
        f"(LIKE {_quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    cursor.execute(
        f"WITH moved AS (DELETE FROM {_quote(default)} WHERE {_quote(column)} >= %s "
        f"AND {_quote(column)} < %s RETURNING *) INSERT INTO {_quote(name)} SELECT * FROM moved",
        [low, high],
    )
    moved = cursor.rowcount
    # Attaching builds the parent's indexes, unique keys and foreign keys on the new table.
    cursor.execute(
        f"ALTER TABLE {_quote(table)} ATTACH PARTITION {_quote(name)} FOR VALUES FROM (%s) TO (%s)",
        [low, high],
    )
    return max(moved, 0)


def _wanted_months(today: date, months_ahead: int) -> list[date]:
    months = [month_start(today)]
    for _ in range(months_ahead):
        months.append(next_month(months[-1]))
    return months


def ensure_partitions(months_ahead: int = 2, *, dry_run: bool = False) -> list[Change]:
    """Create the partitions of this month and the next `months_ahead` ones, and of every
    month (up to those) whose rows sit in the default partition. Idempotent."""
    if not enabled():
        return []
    if months_ahead < 0:
        raise ValueError("months_ahead must not be negative")
    wanted = _wanted_months(local_date(), months_ahead)
    changes = []
    with transaction.atomic(), connection.cursor() as cursor:
        for table in PARTITIONED:
            have = existing_partitions(cursor, table)
            stray = [m for m in _months_in_default(cursor, table) if m <= wanted[-1]]
            for month in sorted(set(wanted) | set(stray)):
                if month in have:
                    continue
                rows = 0 if dry_run else create_partition(cursor, table, month)
                changes.append(Change("create", table, partition_name(table, month), rows))
    return changes


def first_kept_month(retention_months: int, now: datetime | None = None) -> date:
    """The oldest month that `retention_months` months of retention keep (this month counts)."""
    first_kept = month_start(local_date(now or timezone.now()))
    for _ in range(retention_months - 1):
        first_kept = previous_month(first_kept)
    return first_kept


def retention_cutoffs(retention_months: int, now: datetime | None = None) -> dict[str, date]:
    """The first month each table keeps; 0 months keeps everything (no entry). Position
    samples keep POSITION_RETENTION_DAYS: a month goes once all of it is older than that."""
    now = now or timezone.now()
    cutoffs = {}
    if retention_months > 0:
        cutoffs = dict.fromkeys(PARTITIONED, first_kept_month(retention_months, now))
    oldest_position = local_date(now - timedelta(days=settings.POSITION_RETENTION_DAYS))
    position_cutoff = month_start(oldest_position)
    if POSITION_TABLE not in cutoffs or position_cutoff > cutoffs[POSITION_TABLE]:
        cutoffs[POSITION_TABLE] = position_cutoff
    return cutoffs


def drop_expired_partitions(
    retention_months: int | None = None, *, dry_run: bool = False
) -> list[Change]:
    """Drop every monthly partition wholly before its table's retention cutoff, and delete the
    default partition's rows before it. `retention_months` defaults to
    EXCHANGE_RETENTION_MONTHS. Idempotent."""
    if not enabled():
        return []
    if retention_months is None:
        retention_months = settings.EXCHANGE_RETENTION_MONTHS
    if retention_months < 0:
        raise ValueError("retention_months must not be negative")
    changes = []
    with transaction.atomic(), connection.cursor() as cursor:
        for table, first_kept in retention_cutoffs(retention_months).items():
            column, is_date = PARTITIONED[table]
            for month, name in sorted(existing_partitions(cursor, table).items()):
                if month >= first_kept:
                    continue
                cursor.execute(f"SELECT count(*) FROM {_quote(name)}")
                rows = cursor.fetchone()[0]
                if not dry_run:
                    cursor.execute(f"DROP TABLE {_quote(name)}")
                changes.append(Change("drop", table, name, rows))
            default = f"{table}_default"
            verb = "SELECT count(*)" if dry_run else "DELETE"
            cursor.execute(
                f"{verb} FROM {_quote(default)} WHERE {_quote(column)} < %s",
                [_bound(first_kept, is_date)],
            )
            pruned = cursor.fetchone()[0] if dry_run else cursor.rowcount
            if pruned:
                changes.append(Change("prune-default", table, default, pruned))
    return changes


# Trips are not partitioned: a trip's rows past retention are deleted in chunks, each its own
# short transaction, so the daily job never holds a long lock on the table the feeds write.
TRIP_PURGE_CHUNK = 5000


def purge_expired_trips(
    retention_months: int | None = None, *, dry_run: bool = False, chunk: int = TRIP_PURGE_CHUNK
) -> list[Change]:
    """Delete the trips whose first known time (order, departure, arrival, payment or
    cancellation) is before the first month EXCHANGE_RETENTION_MONTHS keeps; a trip with no
    time at all is kept. Both databases. Idempotent."""
    if retention_months is None:
        retention_months = settings.EXCHANGE_RETENTION_MONTHS
    if retention_months < 0:
        raise ValueError("retention_months must not be negative")
    if retention_months == 0:
        return []
    first_kept = first_kept_month(retention_months)
    cutoff = datetime(first_kept.year, first_kept.month, 1, tzinfo=LOCAL_TZ)
    first_time = Coalesce(
        F("order_time"), F("departed_at"), F("arrived_at"), F("paid_at"), F("cancelled_at")
    )
    expired = Trip.objects.alias(first_time=first_time).filter(first_time__lt=cutoff)
    if dry_run:
        total = expired.count()
    else:
        total = 0
        while ids := list(expired.values_list("id", flat=True)[:chunk]):
            with transaction.atomic():
                total += Trip.objects.filter(id__in=ids).delete()[0]
    return [Change("delete-rows", "exchange_trip", "exchange_trip", total)] if total else []


# Used by the migration that partitions the tables ------------------------------------------


def partition_table(cursor, table: str, months_ahead: int = 2) -> None:
    """Turn the plain `table` into a monthly-partitioned one with the same columns, checks,
    indexes, keys and names, with partitions for every month holding rows plus the next
    `months_ahead`, and a default partition. Runs inside the migration's transaction."""
    column, _is_date = PARTITIONED[table]
    old = f"{table}__plain"
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND "
        "i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    indexes = cursor.fetchall()
    cursor.execute(f"ALTER TABLE {_quote(table)} RENAME TO {_quote(old)}")
    cursor.execute(
        f"CREATE TABLE {_quote(table)} (LIKE {_quote(old)} INCLUDING DEFAULTS "
        f"INCLUDING IDENTITY INCLUDING CONSTRAINTS) PARTITION BY RANGE ({_quote(column)})"
    )
    cursor.execute(
        f"CREATE TABLE {_quote(table + '_default')} PARTITION OF {_quote(table)} DEFAULT"
    )
    today = local_date()
    months = set(_months_in_default(cursor, table, old)) | set(_wanted_months(today, months_ahead))
    for month in sorted(months):
        create_partition(cursor, table, month)
    cursor.execute(
        f"INSERT INTO {_quote(table)} OVERRIDING SYSTEM VALUE SELECT * FROM {_quote(old)}"
    )
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
        f"(SELECT coalesce(max(id), 0) + 1 FROM {_quote(table)}), false)",
        [table],
    )
    cursor.execute(f"DROP TABLE {_quote(old)}")
    for name, definition, kind in constraints:
        if kind == "p":
            definition = f"PRIMARY KEY (id, {_quote(column)})"
        cursor.execute(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}")
    for _name, definition in indexes:
        cursor.execute(definition)
