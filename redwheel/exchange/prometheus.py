"""The exchange feed's metric source for /metrics (core.metrics): records accepted, unchanged
and rejected, summed from the stored batches at scrape time, by record type."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Sum
from prometheus_client.core import CounterMetricFamily, Metric

from redwheel.exchange.models import IngestBatch

OUTCOMES = ("accepted", "unchanged", "rejected")


def ingest_records(now: datetime) -> Iterable[Metric]:
    family = CounterMetricFamily(
        "redwheel_ingest_records",
        "Exchange records received, by record type and outcome (from the stored batches).",
        labels=["record_type", "outcome"],
    )
    rows = (
        IngestBatch.objects.order_by()
        .values("record_type")
        .annotate(**{outcome: Sum(outcome) for outcome in OUTCOMES})
    )
    for row in sorted(rows, key=lambda row: row["record_type"]):
        for outcome in OUTCOMES:
            family.add_metric([row["record_type"], outcome], row[outcome] or 0)
    return [family]
