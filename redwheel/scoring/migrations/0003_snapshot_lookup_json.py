from django.db import migrations, models


def render_lookup_json(apps, schema_editor):
    """The same object as `scoring.lookup.snapshot_json`, written out here so that the migration
    keeps working whatever that function becomes."""
    import json

    snapshot_model = apps.get_model("scoring", "ScoreSnapshot")
    batch = []
    rows = snapshot_model.objects.select_related("book").only(
        "id", "score", "credit_grade", "day", "book__version", "contributions"
    )
    for snapshot in rows.iterator(chunk_size=2000):
        snapshot.lookup_json = json.dumps(
            {
                "score": float(snapshot.score),
                "credit_grade": snapshot.credit_grade,
                "as_of": snapshot.day.isoformat(),
                "rule_book_version": snapshot.book.version,
                "components": snapshot.contributions or {},
            },
            separators=(",", ":"),
        )
        batch.append(snapshot)
        if len(batch) == 2000:
            snapshot_model.objects.bulk_update(batch, ["lookup_json"])
            batch = []
    snapshot_model.objects.bulk_update(batch, ["lookup_json"])


def restore_contributions(apps, schema_editor):
    import json

    snapshot_model = apps.get_model("scoring", "ScoreSnapshot")
    batch = []
    for snapshot in snapshot_model.objects.only("id", "lookup_json").iterator(chunk_size=2000):
        snapshot.contributions = json.loads(snapshot.lookup_json).get("components", {})
        batch.append(snapshot)
        if len(batch) == 2000:
            snapshot_model.objects.bulk_update(batch, ["contributions"])
            batch = []
    snapshot_model.objects.bulk_update(batch, ["contributions"])


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_add_snapshot_contributions"),
    ]

    operations = [
        migrations.AddField(
            model_name="scoresnapshot",
            name="lookup_json",
            field=models.TextField(default='{"score":null}', verbose_name="look-up answer"),
            preserve_default=False,
        ),
        migrations.RunPython(render_lookup_json, restore_contributions),
        migrations.AddConstraint(
            model_name="scoresnapshot",
            constraint=models.CheckConstraint(
                condition=models.Q(lookup_json__startswith='{"score":'),
                name="score_lookup_json_object",
            ),
        ),
        migrations.RemoveField(model_name="scoresnapshot", name="contributions"),
    ]
