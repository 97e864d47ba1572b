"""Unknown drivers keep their licence, encrypted, so that a blind-index key rotation can map
the facts about them to the new index (rows recorded earlier keep it empty)."""

from django.db import migrations

import redwheel.core.crypto


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="unknowndriver",
            name="license_no",
            field=redwheel.core.crypto.EncryptedTextField(
                blank=True, editable=False, verbose_name="licence / ID number"
            ),
        ),
    ]
