from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "redwheel.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        import redwheel.core.checks  # noqa: F401  (registers the system checks on import)
        from redwheel.core import permissions
        from redwheel.core.models import AuditEntry, Notification, PeriodicJob

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
