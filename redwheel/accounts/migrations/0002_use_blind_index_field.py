"""Blind-index columns become `core.crypto.BlindIndexField`, which `rotate_pii_keys --reindex`
finds by type. Only the model state changes: the column type is the same varchar(40), so no SQL
runs (on SQLite, a plain AlterField would rebuild every table)."""

from django.db import migrations

import redwheel.core.crypto


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="phone_index",
                    field=redwheel.core.crypto.BlindIndexField(
                        max_length=40,
                        source="phone",
                        unique=True,
                        verbose_name="mobile number index",
                    ),
                ),
            ],
        ),
    ]
