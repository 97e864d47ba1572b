from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """Reads across the layers below: the staff home and coverage (全覆盖). No models."""

    name = "redwheel.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self):
        from redwheel.core import menus

        menus.staff(_("Overview"), "insights:dashboard", group=menus.ORGANISATION, order=10)
        menus.staff(_("Coverage"), "insights:coverage", group=menus.ORGANISATION, order=30)
