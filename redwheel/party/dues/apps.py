from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the worker's scheduler runs the dues reminder job (seconds).
REMINDERS_EVERY_SECONDS = 3600


class PartyDuesConfig(AppConfig):
    name = "redwheel.party.dues"
    label = "party_dues"
    verbose_name = _("Party dues (党费)")

    def ready(self):
        from redwheel.core import attention, menus, scheduler
        from redwheel.party.dues import permissions, selectors

        permissions.register()
        scheduler.register(
            "party_dues_reminders",
            REMINDERS_EVERY_SECONDS,
            "redwheel.party.dues.tasks.send_dues_reminders",
        )
        menus.staff(_("Party dues"), "dues:index", group=menus.PARTY, order=40)
        attention.register("dues", selectors.attention_cards)
