from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyMeetingsConfig(AppConfig):
    name = "redwheel.party.meetings"
    label = "party_meetings"
    verbose_name = _("Organisation life (组织生活)")

    def ready(self):
        from redwheel.party.meetings import permissions

        permissions.register()
