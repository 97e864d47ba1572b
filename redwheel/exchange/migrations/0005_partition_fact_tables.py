"""Range-partition the exchange fact tables by month on PostgreSQL (docs/operations.md).

Nothing happens on SQLite. Django's model state does not change: `id` stays the pk while the
database's primary key becomes (id, <partition column>). The reverse keeps the partitioned
tables, which behave the same for every query Django makes.
"""

from django.db import migrations

# Frozen here so that later changes to `partitions.PARTITIONED` do not rewrite history.
TABLES = (
    "exchange_positionsample",
    "exchange_onlineevent",
    "exchange_rating",
    "exchange_complaint",
    "exchange_drivermonthstat",
)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from redwheel.exchange.partitions import partition_table

    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            partition_table(cursor, table)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0004_add_driver_feed_record")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
