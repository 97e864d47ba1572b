from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyConfig(AppConfig):
    name = "redwheel.party"
    label = "party"
    verbose_name = _("Party-organisation life")

    def ready(self):
        from redwheel.core import menus

        menus.driver(_("Party life"), "party:me_index", order=35, group=menus.PARTY)
