"""Background task for the metric snapshots. Register it as a periodic job (see
`redwheel.core.scheduler.register`), e.g. hourly:

    register("exchange_recompute_metrics", 3600,
             "redwheel.exchange.metric_tasks.recompute_recent_metrics")
"""

from django_tasks import task

from redwheel.exchange import metrics


@task()
def recompute_recent_metrics() -> dict[str, int]:
    """Recompute the current and the previous month's `DriverMonthMetric` snapshots."""
    done = metrics.recompute_recent()
    return {f"{month:%Y-%m}": rows for month, rows in done.items()}
