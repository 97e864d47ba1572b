"""Reads for the exchange pages: ingestion status, rejections, unknown drivers and metrics.

Every function takes the viewer and goes through `permissions.scope`: ingestion data is seen
through the platforms in scope; a driver's metrics are seen when both the driver and the
platform the metrics come from are in scope (so a platform never sees what a shared driver did
on a competitor), metrics of not-yet-known drivers when the platform is; a driver sees only
their own. Anything else never appears, and filters naming objects outside scope are 404.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from redwheel.core.permissions import scope
from redwheel.drivers.models import Driver
from redwheel.exchange import metrics
from redwheel.exchange.models import DriverMonthMetric, IngestBatch, Rejection, UnknownDriver
from redwheel.orgs.models import OrgUnit, Platform

STATUS_DAYS = 14
TOP_REASONS = 5


def platforms(viewer) -> QuerySet:
    return scope(viewer, "view", Platform.objects.all()).order_by("name")


def units(viewer) -> QuerySet:
    return scope(viewer, "view", OrgUnit.objects.all()).order_by("path")


# Ingestion status ----------------------------------------------------------------------------


@dataclass
class PlatformStatus:
    platform: Platform
    last_by_type: list = field(default_factory=list)  # [(record_type, last received)]
    days: list = field(default_factory=list)  # [(date, received)] oldest first
    received: int = 0
    rejected: int = 0
    reasons: list = field(default_factory=list)  # [(code, count)]

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.received if self.received else None

    @property
    def rejection_percent(self) -> float | None:
        return None if self.rejection_rate is None else 100 * self.rejection_rate


def ingestion_status(viewer, *, today: date | None = None) -> list[PlatformStatus]:
    """Per platform in scope: last batch per record type, daily volumes of the last 14 days,
    the rejection rate and the top rejection codes over those days. Four grouped queries."""
    today = today or timezone.localdate()
    since_day = today - timedelta(days=STATUS_DAYS - 1)
    since = timezone.make_aware(timezone.datetime.combine(since_day, timezone.datetime.min.time()))
    visible = list(platforms(viewer))
    by_id = {p.id: PlatformStatus(platform=p) for p in visible}
    batches = scope(viewer, "view", IngestBatch.objects.all())
    for row in (
        batches.values("platform_id", "record_type")
        .annotate(last=Max("created_at"))
        .order_by("platform_id", "record_type")
    ):
        if row["platform_id"] in by_id:
            by_id[row["platform_id"]].last_by_type.append((row["record_type"], row["last"]))
    daily = {}
    for row in (
        batches.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("platform_id", "day")
        .annotate(n=Sum("received"), r=Sum("rejected"))
    ):
        daily[(row["platform_id"], row["day"])] = row["n"] or 0
        status = by_id.get(row["platform_id"])
        if status is None:
            continue
        status.received += row["n"] or 0
        status.rejected += row["r"] or 0
    days = [since_day + timedelta(days=i) for i in range(STATUS_DAYS)]
    for status in by_id.values():
        status.days = [(day, daily.get((status.platform.id, day), 0)) for day in days]
    reasons = (
        scope(viewer, "view", Rejection.objects.filter(batch__created_at__gte=since))
        .values("batch__platform_id", "code")
        .annotate(n=Count("id"))
        .order_by("batch__platform_id", "-n", "code")
    )
    for row in reasons:
        status = by_id.get(row["batch__platform_id"])
        if status is not None and len(status.reasons) < TOP_REASONS:
            status.reasons.append((row["code"], row["n"]))
    return list(by_id.values())


def rejections(
    viewer, *, platform: Platform | None = None, record_type: str = "", code: str = ""
) -> QuerySet:
    qs = scope(viewer, "view", Rejection.objects.all())
    if platform is not None:
        qs = qs.filter(batch__platform=platform)
    if record_type:
        qs = qs.filter(batch__record_type=record_type)
    if code:
        qs = qs.filter(code=code)
    return qs.select_related("batch", "batch__platform").order_by("-batch__created_at", "-id")


def rejection_choices(viewer) -> tuple[list[str], list[str]]:
    """Record types and codes that occur in the viewer's rejections (for the filter form)."""
    qs = scope(viewer, "view", Rejection.objects.all())
    types = sorted(set(qs.values_list("batch__record_type", flat=True).distinct()))
    codes = sorted(set(qs.values_list("code", flat=True).distinct()))
    return types, codes


def unknown_drivers(
    viewer, *, platform: Platform | None = None, include_resolved: bool = False
) -> QuerySet:
    qs = scope(viewer, "view", UnknownDriver.objects.all())
    if platform is not None:
        qs = qs.filter(platform=platform)
    if not include_resolved:
        qs = qs.filter(resolved_at__isnull=True)
    return qs.select_related("platform").order_by("-records", "-created_at", "id")


# Metrics -------------------------------------------------------------------------------------


def metric_rows(
    viewer,
    *,
    month: date,
    platform: Platform | None = None,
    branch: OrgUnit | None = None,
    members_only: bool = False,
) -> QuerySet:
    """The month's `DriverMonthMetric` rows the viewer may see, filtered.

    Narrower than `scope(viewer, "view", DriverMonthMetric)`: the staff tables need both the
    platform the numbers come from and the driver in scope (or no driver yet), so neither a
    platform's staff nor a driver's branch read what the driver did on a competitor; the
    driver reads their own rows through `my_metrics`."""
    visible_platforms = platforms(viewer).values("id")
    visible_drivers = scope(viewer, "view", Driver.objects.all()).values("id")
    qs = DriverMonthMetric.objects.filter(month=metrics.month_start(month)).filter(
        Q(platform_id__in=visible_platforms)
        & (Q(driver_id__in=visible_drivers) | Q(driver__isnull=True))
    )
    if platform is not None:
        qs = qs.filter(platform=platform)
    if branch is not None:
        qs = qs.filter(
            Q(driver__branch__path__startswith=branch.path)
            | Q(driver__membership__branch__path__startswith=branch.path)
        )
    if members_only:
        qs = qs.filter(metrics.MEMBER_Q)
    return qs


def metric_table(viewer, **filters) -> QuerySet:
    return (
        metric_rows(viewer, **filters)
        .select_related("platform", "driver", "driver__branch", "driver__membership")
        .order_by("-completed_orders", "license_index", "platform_id")
    )


def with_rates(rows):
    """Attach online hours, average rating and complaints per 10,000 orders to snapshot rows."""
    rows = list(rows)
    for m in rows:
        m.online_hours = m.online_seconds / 3600
        m.rating_avg = m.rating_sum / m.rating_count if m.rating_count else None
        m.complaint_rate = m.complaints * 10000 / m.completed_orders if m.completed_orders else None
    return rows


def my_metrics(viewer, *, months: int = 12) -> list[DriverMonthMetric]:
    """A driver's own snapshots, newest month first (empty for anyone without a driver)."""
    driver = Driver.objects.filter(user=viewer).first() if viewer.is_authenticated else None
    if driver is None:
        return []
    return list(
        scope(viewer, "view", DriverMonthMetric.objects.filter(driver=driver))
        .select_related("platform")
        .order_by("-month", "platform__name")[: months * 5]
    )


@dataclass
class Report:
    month: date
    comparison: metrics.Comparison
    by_platform: list
    by_branch: list
    total: metrics.Totals


def comparison_report(
    viewer, *, month: date, platform: Platform | None = None, branch: OrgUnit | None = None
) -> Report:
    rows = metric_rows(viewer, month=month, platform=platform, branch=branch)
    return Report(
        month=metrics.month_start(month),
        comparison=metrics.compare(rows),
        by_platform=metrics.totals_by(rows, "platform_id", "platform__name"),
        by_branch=metrics.totals_by(
            rows.filter(driver__branch__isnull=False), "driver__branch_id", "driver__branch__name"
        ),
        total=metrics.totals(rows),
    )


# A month that has only begun has too few orders to compare; look this far back for one that has.
COMPARISON_LOOKBACK_MONTHS = 3


def default_comparison_month(
    viewer, months: list[date], *, platform: Platform | None = None, branch: OrgUnit | None = None
) -> date | None:
    """The month the comparison shows when none is asked for: the newest of `months` (newest
    first) whose member sample is large enough, else the newest; None without months."""
    for month in months[:COMPARISON_LOOKBACK_MONTHS]:
        rows = metric_rows(viewer, month=month, platform=platform, branch=branch)
        if not metrics.member_sample_too_small(rows):
            return month
    return months[0] if months else None


def available_months(viewer) -> list[date]:
    """Months with snapshots on platforms in scope, newest first."""
    return list(
        DriverMonthMetric.objects.filter(platform__in=platforms(viewer))
        .values_list("month", flat=True)
        .distinct()
        .order_by("-month")
    )
