from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyEvaluationConfig(AppConfig):
    name = "redwheel.party.evaluation"
    label = "party_evaluation"
    verbose_name = _("Member evaluation (民主评议)")

    def ready(self):
        from redwheel.core import attention, compulsion, menus
        from redwheel.party.evaluation import attention as cards
        from redwheel.party.evaluation import permissions

        permissions.register()
        menus.staff(_("Member evaluation"), "evaluation:rounds", group=menus.PARTY, order=30)
        attention.register("evaluation", cards.cards)
        compulsion.register_input(
            "party_evaluation.grades",
            feeds=_("member evaluation (民主评议): the branch's conclusion"),
            evidence=_("the members' secret votes and the branch committee's decision"),
        )
