from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "redwheel.orgs"
    label = "orgs"
    verbose_name = _("Organisations")

    def ready(self):
        from redwheel.orgs import permissions

        permissions.register()
