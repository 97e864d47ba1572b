"""The app is spelt `mobilization`; its model and fields now are too (tables and columns renamed,
rows kept). Stored values (`ServiceRecord.kind = "mobilisation"`, audit actions, events) keep
their spelling. Activity rows are protected from their parent's deletion (PROTECT).

Constraints naming the renamed field are dropped before the rename and recreated after it (on
SQLite a table rebuild must not see a constraint on a column that no longer exists)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("mobilization", "0001_add_fleets_hubs_mobilisations_volunteering_alerts"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="call", name="call_unique"),
        migrations.RemoveConstraint(model_name="response", name="response_unique"),
        migrations.RemoveConstraint(
            model_name="servicerecord", name="service_record_once_per_mobilisation"
        ),
        migrations.RemoveConstraint(model_name="servicerecord", name="service_record_has_source"),
        migrations.RemoveConstraint(model_name="mobilisation", name="mobilisation_window_positive"),
        migrations.RemoveConstraint(
            model_name="mobilisation", name="mobilisation_finished_has_time"
        ),
        migrations.RemoveIndex(model_name="queueentry", name="queue_order_idx"),
        migrations.RenameModel(old_name="Mobilisation", new_name="Mobilization"),
        migrations.RenameModel(old_name="MobilisationActivity", new_name="MobilizationActivity"),
        migrations.RenameField(
            model_name="mobilizationactivity", old_name="mobilisation", new_name="mobilization"
        ),
        migrations.RenameField(model_name="call", old_name="mobilisation", new_name="mobilization"),
        migrations.RenameField(
            model_name="response", old_name="mobilisation", new_name="mobilization"
        ),
        migrations.RenameField(model_name="ride", old_name="mobilisation", new_name="mobilization"),
        migrations.RenameField(
            model_name="queueentry", old_name="mobilisation", new_name="mobilization"
        ),
        migrations.RenameField(
            model_name="servicerecord", old_name="mobilisation", new_name="mobilization"
        ),
        migrations.AlterField(
            model_name="call",
            name="driver",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="mobilization_calls",
                to="drivers.driver",
            ),
        ),
        migrations.AlterField(
            model_name="mobilization",
            name="hub",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mobilizations",
                to="mobilization.hub",
                verbose_name="hub",
            ),
        ),
        migrations.AlterField(
            model_name="mobilization",
            name="unit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mobilizations",
                to="orgs.orgunit",
                verbose_name="organised by",
            ),
        ),
        migrations.AlterField(
            model_name="mobilizationactivity",
            name="mobilization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="activities",
                to="mobilization.mobilization",
            ),
        ),
        migrations.AlterField(
            model_name="response",
            name="driver",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="mobilization_responses",
                to="drivers.driver",
            ),
        ),
        migrations.AlterField(
            model_name="responseevent",
            name="response",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="events",
                to="mobilization.response",
            ),
        ),
        migrations.AlterField(
            model_name="ride",
            name="driver",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="mobilization_rides",
                to="drivers.driver",
            ),
        ),
        migrations.AddIndex(
            model_name="queueentry",
            index=models.Index(
                fields=["mobilization", "status", "priority", "id"], name="queue_order_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="call",
            constraint=models.UniqueConstraint(
                fields=("mobilization", "driver"), name="call_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="response",
            constraint=models.UniqueConstraint(
                fields=("mobilization", "driver"), name="response_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="servicerecord",
            constraint=models.UniqueConstraint(
                fields=("mobilization", "driver"), name="service_record_once_per_mobilization"
            ),
        ),
        migrations.AddConstraint(
            model_name="servicerecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "mobilisation"), ("mobilization__isnull", False)),
                    models.Q(("kind", "volunteer"), ("signup__isnull", False)),
                    _connector="OR",
                ),
                name="service_record_has_source",
            ),
        ),
        migrations.AddConstraint(
            model_name="mobilization",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                name="mobilization_window_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="mobilization",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "open"), ("closed_at__isnull", False), _connector="OR"
                ),
                name="mobilization_finished_has_time",
            ),
        ),
    ]
