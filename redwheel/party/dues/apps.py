from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyDuesConfig(AppConfig):
    name = "redwheel.party.dues"
    label = "party_dues"
    verbose_name = _("Party dues (党费)")

    def ready(self):
        from redwheel.party.dues import permissions

        permissions.register()
