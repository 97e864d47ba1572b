import json

from django.db import migrations, models


def _rewrite(rows, field: str, value_of) -> None:
    """Set `field` to `value_of(row)` on every row, 2,000 rows per UPDATE."""
    batch = []
    for row in rows.iterator(chunk_size=2000):
        setattr(row, field, value_of(row))
        batch.append(row)
        if len(batch) == 2000:
            rows.model.objects.bulk_update(batch, [field])
            batch = []
    rows.model.objects.bulk_update(batch, [field])


def render_lookup_json(apps, schema_editor):
    """The same object as `scoring.lookup.snapshot_json`, written out here so that the migration
    keeps working whatever that function becomes."""
    snapshots = apps.get_model("scoring", "ScoreSnapshot").objects.select_related("book")
    _rewrite(
        snapshots.only("id", "score", "credit_grade", "day", "book__version", "contributions"),
        "lookup_json",
        lambda s: json.dumps(
            {
                "score": float(s.score),
                "credit_grade": s.credit_grade,
                "as_of": s.day.isoformat(),
                "rule_book_version": s.book.version,
                "components": s.contributions or {},
            },
            separators=(",", ":"),
        ),
    )


def restore_contributions(apps, schema_editor):
    snapshots = apps.get_model("scoring", "ScoreSnapshot").objects.only("id", "lookup_json")
    _rewrite(
        snapshots, "contributions", lambda s: json.loads(s.lookup_json).get("components", {})
    )


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
