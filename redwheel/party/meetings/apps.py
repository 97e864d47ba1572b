from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyMeetingsConfig(AppConfig):
    name = "redwheel.party.meetings"
    label = "party_meetings"
    verbose_name = _("Organisation life (组织生活)")

    def ready(self):
        from redwheel.core import compulsion, menus
        from redwheel.party.meetings import attention, permissions

        permissions.register()
        attention.register()
        menus.staff(_("Meetings (三会一课)"), "meetings:list", group=menus.PARTY, order=20)
        menus.staff(_("Themed party days"), "meetings:themes", group=menus.PARTY, order=25)
        compulsion.register_input(
            "party_meetings.attendance",
            feeds=_("community points: rule party_meeting_attended, if the rule book has it"),
            evidence=_("attendance confirmed by the branch's officer when recording the minutes"),
        )
