from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyEvaluationConfig(AppConfig):
    name = "redwheel.party.evaluation"
    label = "party_evaluation"
    verbose_name = _("Member evaluation (民主评议)")

    def ready(self):
        from redwheel.party.evaluation import permissions

        permissions.register()
