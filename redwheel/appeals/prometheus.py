"""The appeal chain's metric source for /metrics (core.metrics): escalations, counted from the
cases' activity rows at scrape time, by who escalated (staff or the overdue job)."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, Metric

from redwheel.appeals.models import Activity

KINDS = {Activity.Action.ESCALATE: "manual", Activity.Action.AUTO_ESCALATE: "automatic"}


def escalations(now: datetime) -> Iterable[Metric]:
    counts = dict(
        Activity.objects.filter(action__in=list(KINDS))
        .order_by()
        .values_list("action")
        .annotate(n=Count("id"))
    )
    family = CounterMetricFamily(
        "redwheel_appeal_escalations",
        "Appeal escalations to the next level, by kind (staff or automatic when overdue).",
        labels=["kind"],
    )
    for action, kind in KINDS.items():
        family.add_metric([kind], counts.get(action, 0))
    return [family]
