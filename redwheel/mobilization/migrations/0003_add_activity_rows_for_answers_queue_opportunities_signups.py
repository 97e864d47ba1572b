"""Activity rows for the moves that had none (queue entries, opportunities, sign-ups), and the
kernel state machine's columns on a driver's answer events (actor, action, note)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def answer_events_action_is_the_answer(apps, schema_editor):
    # An answer event's action is the answer given (its `to_status`); rows written before this
    # migration get theirs from it (through the base manager: the model's own queryset refuses
    # updates of immutable rows).
    ResponseEvent = apps.get_model("mobilization", "ResponseEvent")
    ResponseEvent._base_manager.filter(action="").update(action=models.F("to_status"))


class Migration(migrations.Migration):
    dependencies = [
        ("mobilization", "0002_rename_mobilisation_to_mobilization"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="responseevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("received", "Received"),
                    ("on_my_way", "On my way"),
                    ("arrived", "Arrived"),
                    ("cant_come", "Can't come"),
                ],
                default="",
                max_length=16,
                verbose_name="action",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(answer_events_action_is_the_answer, migrations.RunPython.noop),
        migrations.AddField(
            model_name="responseevent",
            name="actor",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="responseevent",
            name="note",
            field=models.CharField(blank=True, max_length=300, verbose_name="note"),
        ),
        migrations.CreateModel(
            name="OpportunityActivity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="at")),
                (
                    "action",
                    models.CharField(
                        choices=[("publish", "Published"), ("close", "Closed")],
                        max_length=8,
                        verbose_name="action",
                    ),
                ),
                ("from_status", models.CharField(blank=True, max_length=8, verbose_name="from")),
                ("to_status", models.CharField(max_length=8, verbose_name="to")),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="note")),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "opportunity",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="activities",
                        to="mobilization.opportunity",
                    ),
                ),
            ],
            options={
                "verbose_name": "opportunity activity",
                "verbose_name_plural": "opportunity activities",
                "ordering": ["at", "id"],
            },
        ),
        migrations.CreateModel(
            name="QueueEntryActivity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="at")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("join", "Joined the queue"),
                            ("serve", "Served"),
                            ("leave", "Left the queue"),
                        ],
                        max_length=8,
                        verbose_name="action",
                    ),
                ),
                ("from_status", models.CharField(blank=True, max_length=8, verbose_name="from")),
                ("to_status", models.CharField(max_length=8, verbose_name="to")),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="note")),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="activities",
                        to="mobilization.queueentry",
                    ),
                ),
            ],
            options={
                "verbose_name": "queue entry activity",
                "verbose_name_plural": "queue entry activities",
                "ordering": ["at", "id"],
            },
        ),
        migrations.CreateModel(
            name="SignUpActivity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="at")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("sign_up", "Signed up"),
                            ("cancel", "Cancelled"),
                            ("check_in", "Checked in"),
                            ("check_out", "Checked out"),
                            ("confirm", "Hours confirmed"),
                        ],
                        max_length=12,
                        verbose_name="action",
                    ),
                ),
                ("from_status", models.CharField(blank=True, max_length=12, verbose_name="from")),
                ("to_status", models.CharField(max_length=12, verbose_name="to")),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="note")),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "signup",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="activities",
                        to="mobilization.signup",
                    ),
                ),
            ],
            options={
                "verbose_name": "sign-up activity",
                "verbose_name_plural": "sign-up activities",
                "ordering": ["at", "id"],
            },
        ),
    ]
