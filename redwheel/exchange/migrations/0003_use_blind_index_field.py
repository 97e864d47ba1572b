"""Blind-index columns become `core.crypto.BlindIndexField`, which `rotate_pii_keys --reindex`
finds by type. Only the model state changes: the column type is the same varchar(40), so no SQL
runs (on SQLite, a plain AlterField would rebuild every table)."""

from django.db import migrations

import redwheel.core.crypto


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0002_add_unknown_driver_license"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="creditlevel",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="drivermonthmetric",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(kind="license_no", max_length=40),
                ),
                migrations.AlterField(
                    model_name="drivermonthstat",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="latestposition",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="onlineevent",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="positionsample",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="punishment",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="trainingrecord",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="trip",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        blank=True, db_index=True, kind="license_no", max_length=40
                    ),
                ),
                migrations.AlterField(
                    model_name="unknowndriver",
                    name="license_index",
                    field=redwheel.core.crypto.BlindIndexField(max_length=40, source="license_no"),
                ),
            ],
        ),
    ]
