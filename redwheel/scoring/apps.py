from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "redwheel.scoring"
    label = "scoring"
    verbose_name = _("Points, credit and scores")

    def ready(self):
        from redwheel.core import scheduler
        from redwheel.scoring import permissions, signals

        permissions.register()
        signals.connect()
        _declare_inputs()
        # Daily score snapshots (the job is cheap to run more often; it upserts today's rows).
        scheduler.register(
            "scoring_daily_snapshots", 6 * 3600, "redwheel.scoring.tasks.snapshot_scores"
        )

        from redwheel.core import menus

        menus.staff(_("Points and scores"), "scoring:staff_index", group=menus.DATA, order=30)
        menus.driver(_("My score"), "scoring:my_score", order=60, group=menus.MY_FIGURES)

        from redwheel.scoring import attention

        attention.register()


def _declare_inputs() -> None:
    """What the published score counts (docs/scoring.md), for the no-compulsion register."""
    from redwheel.core import compulsion

    score = _("composite score")
    for key, feeds, evidence in (
        ("scoring.service", score, _("passengers' ratings and complaints per 10,000 orders")),
        ("scoring.safety", score, _("punishments and traffic violations platforms reported")),
        ("scoring.credit", _("credit grade"), _("deductions from the published table")),
        (
            "scoring.community_points",
            _("community points, credit bonus and composite score"),
            _(
                "confirmed outcomes in the rule book in force (a shift served, a case closed, "
                "a quiz passed); rules that count activity are refused"
            ),
        ),
    ):
        compulsion.register_input(key, feeds=feeds, evidence=evidence)
