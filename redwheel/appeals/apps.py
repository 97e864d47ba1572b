from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the worker's scheduler enqueues the escalation job (seconds).
ESCALATION_EVERY_SECONDS = 120


class AppealsConfig(AppConfig):
    name = "redwheel.appeals"
    label = "appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from redwheel.appeals import permissions
        from redwheel.core import scheduler

        permissions.register()

        from redwheel.appeals import prometheus
        from redwheel.core import metrics

        metrics.register_source("appeals", prometheus.escalations)
        scheduler.register(
            "appeals_escalate_due",
            ESCALATION_EVERY_SECONDS,
            "redwheel.appeals.tasks.escalate_due_cases",
        )

        from redwheel.core import menus

        menus.staff(_("Appeals"), "appeals:list", group=menus.SERVICES, order=10)
        menus.driver(_("My appeals"), "appeals:my_list", order=40, group=menus.MY_HELP)
        menus.quick(_("File an appeal"), "appeals:my_file", order=20, icon="诉")

        from redwheel.appeals import attention

        attention.register()
