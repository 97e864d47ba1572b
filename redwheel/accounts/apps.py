from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "redwheel.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from redwheel.accounts import permissions

        permissions.register()
