from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "redwheel.dispatch"
    label = "dispatch"
    verbose_name = _("Dispatch sandbox")

    def ready(self):
        from redwheel.dispatch import permissions

        permissions.register()
