from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "redwheel.exchange"
    label = "exchange"
    verbose_name = _("Exchange data")

    def ready(self):
        from redwheel.core import scheduler
        from redwheel.exchange import permissions

        permissions.register()

        from redwheel.core import metrics
        from redwheel.exchange import prometheus

        metrics.register_source("ingest", prometheus.ingest_records)

        scheduler.register(
            "exchange_purge_position_samples",
            24 * 3600,
            "redwheel.exchange.tasks.purge_position_samples",
        )
        scheduler.register(
            "exchange_recompute_metrics",
            3600,
            "redwheel.exchange.metric_tasks.recompute_recent_metrics",
        )
        scheduler.register(
            "exchange_maintain_partitions",
            24 * 3600,
            "redwheel.exchange.partition_tasks.maintain_partitions",
        )

        from redwheel.core import menus

        menus.staff(_("Exchange data"), "exchange:status", group=menus.DATA, order=10)
        menus.staff(_("Member comparison"), "exchange:comparison", group=menus.DATA, order=20)
        menus.driver(_("My figures"), "exchange:my_metrics", order=50, group=menus.MY_FIGURES)
