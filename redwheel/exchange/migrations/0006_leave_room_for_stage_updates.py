"""Leave free space in the pages of the two tables that ingestion updates in place (PostgreSQL).

A trip row is written once per stage (create, match, depart, arrive, pay) and a driver's latest
position once per position batch. With full pages every such update moves the row to another
page and adds an entry to each of the table's indexes (nine on Trip, six on LatestPosition).
With room on the page, an update that changes no indexed column (depart, pay, every latest
position) is a heap-only tuple (HOT) update: no index entry at all. Measured with
bench/ingest.py: about a fifth of the database server's CPU per record (docs/exchange.md,
Performance). The setting applies to pages written from now on; existing rows gain as their
pages are rewritten (or at once after `VACUUM FULL`).

Nothing happens on SQLite. Django's model state does not change.
"""

from django.db import migrations

# table -> fillfactor (percent of each page filled by inserts). Frozen here.
FILLFACTORS = {"exchange_trip": 60, "exchange_latestposition": 50}


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, percent in FILLFACTORS.items():
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(percent)})"
        )


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FILLFACTORS:
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("exchange", "0005_partition_fact_tables")]

    operations = [migrations.RunPython(leave_room, fill_pages, elidable=False)]
