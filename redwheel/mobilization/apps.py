from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobilizationConfig(AppConfig):
    name = "redwheel.mobilization"
    label = "mobilization"
    verbose_name = _("Fleets and mobilisation")

    def ready(self):
        from redwheel.mobilization import permissions

        permissions.register()
