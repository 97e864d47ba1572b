from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyRecruitmentConfig(AppConfig):
    name = "redwheel.party.recruitment"
    label = "party_recruitment"
    verbose_name = _("Recruitment (发展党员)")

    def ready(self):
        from redwheel.party.recruitment import permissions

        permissions.register()
