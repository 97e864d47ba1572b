from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "redwheel.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        import redwheel.core.checks  # noqa: F401  (registers the system checks on import)
        from redwheel.core import immutability, permissions

        pre_migrate.connect(immutability.lift_before_migrate, sender=self)
        post_migrate.connect(immutability.install_after_migrate, sender=self)
        from redwheel.core.models import AuditEntry, Notification, PeriodicJob, WorkerHeartbeat

        permissions.register(
            AuditEntry, units=("unit_path",), platforms=("platform_ref",), platform_actions=()
        )
        permissions.register(
            Notification,
            owners=("recipient_id",),
            platforms=("platform_ref",),
            self_actions=("view", "change"),
            platform_actions=("view",),
        )
        permissions.register(PeriodicJob, internal=True)
        permissions.register(WorkerHeartbeat, internal=True)

        from redwheel.core import menus

        menus.staff(
            _("Audit log"), "core:audit_log", group=menus.ORGANISATION, order=90, action="audit"
        )
        for audience in menus.AUDIENCES:
            menus.register(audience, _("Inbox"), "core:inbox", order=100)
