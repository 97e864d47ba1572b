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

        from redwheel.core import menus

        org = menus.ORGANISATION
        menus.staff(_("Org tree"), "orgs:tree", group=org, order=20)
        menus.staff(_("Platforms"), "orgs:platform_list", group=org, order=40)
        menus.staff(_("Joint building"), "orgs:agreements", group=org, order=50)
