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
        # Daily score snapshots (the job is cheap to run more often; it upserts today's rows).
        scheduler.register(
            "scoring_daily_snapshots", 6 * 3600, "redwheel.scoring.tasks.snapshot_scores"
        )

        from redwheel.core import menus

        menus.staff(_("Points and scores"), "scoring:staff_index", group=menus.DATA, order=30)
        menus.driver(_("My score"), "scoring:my_score", order=60)
