from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DriversConfig(AppConfig):
    name = "redwheel.drivers"
    label = "drivers"
    verbose_name = _("Drivers and members")

    def ready(self):
        from redwheel.drivers import permissions

        permissions.register()
