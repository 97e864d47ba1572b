from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyMobileConfig(AppConfig):
    name = "redwheel.party.mobile"
    label = "party_mobile"
    verbose_name = _("Mobile members (流动党员)")

    def ready(self):
        from redwheel.party.mobile import permissions

        permissions.register()
