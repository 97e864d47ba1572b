from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the worker's scheduler looks for members away six months (seconds).
REMINDER_EVERY_SECONDS = 3600


class PartyMobileConfig(AppConfig):
    name = "redwheel.party.mobile"
    label = "party_mobile"
    verbose_name = _("Mobile members (流动党员)")

    def ready(self):
        from redwheel.core import attention, menus, scheduler
        from redwheel.party.mobile import attention as cards
        from redwheel.party.mobile import permissions

        permissions.register()
        scheduler.register(
            "party_mobile_six_month_reminders",
            REMINDER_EVERY_SECONDS,
            "redwheel.party.mobile.tasks.send_six_month_reminders",
        )
        menus.staff(
            _("Mobile members' ledger"), "mobile_members:ledger", group=menus.PARTY, order=50
        )
        attention.register("mobile", cards.cards)
