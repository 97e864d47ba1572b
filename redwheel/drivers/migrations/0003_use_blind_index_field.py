"""Blind-index columns become `core.crypto.BlindIndexField`, which `rotate_pii_keys --reindex`
finds by type. Only the model state changes: the column type is the same varchar(40), so no SQL
runs (on SQLite, a plain AlterField would rebuild every table)."""

from django.db import migrations

import redwheel.core.crypto


class Migration(migrations.Migration):
    dependencies = [
        ("drivers", "0002_add_roster_imports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="driver",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        max_length=40,
                        source="license_no",
                        unique=True,
                        verbose_name="licence index",
                    ),
                ),
                migrations.AlterField(
                    model_name="driver",
                    name="phone_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True,
                        max_length=40,
                        source="phone",
                        verbose_name="mobile number index",
                    ),
                ),
            ],
        ),
    ]
