from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobilizationConfig(AppConfig):
    name = "redwheel.mobilization"
    label = "mobilization"
    verbose_name = _("Fleets and mobilisation")

    def ready(self):
        from redwheel.mobilization import permissions

        permissions.register()

        from redwheel.core import menus

        menus.staff(_("Mobilisation"), "mobilization:index", group=menus.SERVICES, order=20)
        menus.driver(_("Calls and service"), "mobilization:my_home", order=70, group=menus.MY_HELP)

        from redwheel.mobilization import attention

        attention.register()
