from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "redwheel.dispatch"
    label = "dispatch"
    verbose_name = _("Dispatch sandbox")

    def ready(self):
        from redwheel.dispatch import permissions

        permissions.register()

        from redwheel.core import menus
        from redwheel.dispatch import selectors

        menus.staff(
            _("Dispatch sandbox"),
            "dispatch:index",
            group=menus.SANDBOX,
            order=10,
            action=None,
            allowed=selectors.may_use_sandbox,
        )
