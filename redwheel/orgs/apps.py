from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "redwheel.orgs"
    label = "orgs"
    verbose_name = _("Organisations")

    def ready(self):
        from redwheel.core import notifications
        from redwheel.orgs import permissions, selectors

        permissions.register()
        notifications.set_webhook_targets(selectors.webhook_target)
