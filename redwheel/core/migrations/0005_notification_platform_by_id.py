# The outbox keeps the receiving platform by id, not by a foreign key into orgs: the kernel
# depends on no app. Existing rows keep their platform.

from django.conf import settings
from django.db import migrations, models


def copy_platform_ids(apps, schema_editor):
    Notification = apps.get_model("core", "Notification")
    Notification.objects.filter(platform__isnull=False).update(platform_ref=models.F("platform_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_notification_delivery_lease"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="platform_ref",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="platform"),
        ),
        migrations.RunPython(copy_platform_ids, migrations.RunPython.noop, elidable=True),
        migrations.RemoveConstraint(
            model_name="notification",
            name="notification_webhook_has_platform",
        ),
        migrations.RemoveField(
            model_name="notification",
            name="platform",
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=~models.Q(channel="webhook") | models.Q(platform_ref__isnull=False),
                name="notification_webhook_has_platform",
            ),
        ),
    ]
