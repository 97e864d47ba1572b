"""Driver metrics per month, computed from the exchange facts (see docs/exchange.md, "Metrics").

For each (platform, LicenseId) and calendar month (Asia/Shanghai):

- completed orders: trips whose `arrived_at` falls in the month and that were not cancelled;
- revenue: the sum of FactPrice (`fare_yuan`) of those trips;
- online seconds: each operateLogin paired with the *next* event of the same driver on the same
  platform when that event is an operateLogout no more than `MAX_SESSION` later, clipped to the
  month. A login followed by another login, by nothing, or by a logout more than a day later
  counts nothing (a missing logout must not credit days of online time);
- ratings: count and sum of ServiceScore of ratedPassenger records evaluated in the month whose
  order is one of the driver's trips (on the same platform);
- complaints: ratedPassengerComplaint records filed in the month about the driver's trips;
- punishments: ratedDriverPunish records in the month;
- training minutes: baseInfoDriverEducate minutes of courses dated in the month.

`recompute_month` stores these as `DriverMonthMetric` snapshots using grouped queries and one
bulk upsert. `compute_month_pure` computes the same numbers from the raw rows with plain Python,
independently; a test proves both agree on generated data.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Lead

from redwheel.core.dates import month_bounds, month_start, next_month, previous_month
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Driver, Membership
from redwheel.exchange.models import (
    Complaint,
    DriverMonthMetric,
    OnlineEvent,
    Punishment,
    Rating,
    TrainingRecord,
    Trip,
)

MAX_SESSION = timedelta(hours=24)
# Below these sample sizes the member comparison is flagged "too few to compare".
MIN_MEMBER_DRIVERS = 30
MIN_MEMBER_ORDERS = 1000

COUNTERS = (
    "completed_orders",
    "revenue_yuan",
    "online_seconds",
    "rating_count",
    "rating_sum",
    "complaints",
    "punishments",
    "training_minutes",
)
ZERO = Decimal("0.00")


def parse_month(text: str) -> date:
    """'2026-10' or '202610' → date(2026, 10, 1); ValueError otherwise."""
    text = (text or "").strip()
    for fmt in ("%Y-%m", "%Y%m"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return date(parsed.year, parsed.month, 1)
    raise ValueError(f"not a month: {text!r}")


def _empty() -> dict:
    return {name: (ZERO if name == "revenue_yuan" else 0) for name in COUNTERS}


# The snapshot, from grouped queries ---------------------------------------------------------


def _trip_license(prefix_platform: str = "platform_id") -> Subquery:
    """LicenseId index of the trip with the outer row's platform and OrderId."""
    return Subquery(
        Trip.objects.filter(platform_id=OuterRef(prefix_platform), order_id=OuterRef("order_id"))
        .exclude(license_index="")
        .values("license_index")[:1]
    )


def compute_month(month: date, platform=None) -> dict[tuple[int, str], dict]:
    """{(platform_id, license_index): counters} for the month, with grouped queries only."""
    start, end = month_bounds(month)
    pf = {"platform": platform} if platform is not None else {}
    rows: dict[tuple[int, str], dict] = defaultdict(_empty)

    trips = (
        Trip.objects.filter(
            arrived_at__gte=start, arrived_at__lt=end, cancelled_at__isnull=True, **pf
        )
        .exclude(license_index="")
        .values("platform_id", "license_index")
        .annotate(n=Count("id"), revenue=Sum("fare_yuan"))
    )
    for r in trips:
        row = rows[(r["platform_id"], r["license_index"])]
        row["completed_orders"] = r["n"]
        row["revenue_yuan"] = (r["revenue"] or ZERO).quantize(Decimal("0.01"))

    ratings = (
        Rating.objects.filter(evaluated_at__gte=start, evaluated_at__lt=end, **pf)
        .annotate(lic=_trip_license())
        .filter(lic__isnull=False)
        .values("platform_id", "lic")
        .annotate(n=Count("id"), total=Sum("service_score"))
    )
    for r in ratings:
        row = rows[(r["platform_id"], r["lic"])]
        row["rating_count"], row["rating_sum"] = r["n"], r["total"]

    complaints = (
        Complaint.objects.filter(complained_at__gte=start, complained_at__lt=end, **pf)
        .annotate(lic=_trip_license())
        .filter(lic__isnull=False)
        .values("platform_id", "lic")
        .annotate(n=Count("id"))
    )
    for r in complaints:
        rows[(r["platform_id"], r["lic"])]["complaints"] = r["n"]

    for r in (
        Punishment.objects.filter(punished_at__gte=start, punished_at__lt=end, **pf)
        .values("platform_id", "license_index")
        .annotate(n=Count("id"))
    ):
        rows[(r["platform_id"], r["license_index"])]["punishments"] = r["n"]

    first, last = month_start(month), next_month(month)
    for r in (
        TrainingRecord.objects.filter(course_date__gte=first, course_date__lt=last, **pf)
        .values("platform_id", "license_index")
        .annotate(n=Sum("minutes"))
    ):
        rows[(r["platform_id"], r["license_index"])]["training_minutes"] = r["n"] or 0

    for (platform_id, license_index), seconds in _online_seconds(start, end, pf).items():
        rows[(platform_id, license_index)]["online_seconds"] = seconds
    return dict(rows)


def _online_seconds(start: datetime, end: datetime, pf: dict) -> dict[tuple[int, str], int]:
    """Paired sessions from one window query (LEAD over each driver's events), clipped.

    Only the time range is filtered in SQL (before the window is computed); which rows are
    login→logout pairs is decided on the returned rows, since a WHERE on `kind` would remove
    the logouts from the window itself."""
    partition = [F("platform_id"), F("license_index")]
    order = [F("at").asc(), F("id").asc()]
    events = (
        OnlineEvent.objects.filter(at__gte=start - MAX_SESSION, at__lt=end + MAX_SESSION, **pf)
        .annotate(
            next_kind=Window(Lead("kind"), partition_by=partition, order_by=order),
            next_at=Window(Lead("at"), partition_by=partition, order_by=order),
        )
        .values_list("platform_id", "license_index", "kind", "at", "next_kind", "next_at")
    )
    totals: dict[tuple[int, str], int] = defaultdict(int)
    login, logout = OnlineEvent.Kind.LOGIN, OnlineEvent.Kind.LOGOUT
    for platform_id, license_index, kind, at, next_kind, next_at in events.iterator(2000):
        if kind != login or next_kind != logout or next_at - at > MAX_SESSION:
            continue
        seconds = (min(next_at, end) - max(at, start)).total_seconds()
        if seconds > 0:
            totals[(platform_id, license_index)] += int(seconds)
    return totals


@transaction.atomic
def recompute_month(month: date, platform=None) -> int:
    """Replace the month's `DriverMonthMetric` snapshots (of one platform, or all). Returns the
    number of driver rows stored."""
    month = month_start(month)
    rows = compute_month(month, platform)
    drivers = dict(
        Driver.objects.filter(license_index__in={lic for _p, lic in rows}).values_list(
            "license_index", "id"
        )
    )
    objs = [
        DriverMonthMetric(
            platform_id=platform_id,
            license_index=license_index,
            month=month,
            driver_id=drivers.get(license_index),
            **counters,
        )
        for (platform_id, license_index), counters in rows.items()
    ]
    stale = DriverMonthMetric.objects.filter(month=month)
    if platform is not None:
        stale = stale.filter(platform=platform)
    keep = {key for key in rows}
    stale_ids = [
        pk
        for pk, p, lic in stale.values_list("id", "platform_id", "license_index")
        if (p, lic) not in keep
    ]
    # One transaction: a reader (or a worker killed half-way) never sees a month with its stale
    # rows gone and only part of the new ones stored.
    with transaction.atomic():
        DriverMonthMetric.objects.filter(id__in=stale_ids).delete()
        DriverMonthMetric.objects.bulk_create(
            objs,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["platform", "license_index", "month"],
            update_fields=["driver", *COUNTERS, "computed_at"],
        )
    return len(objs)


def recompute_recent(today: date | None = None) -> dict[date, int]:
    """Recompute the current and the previous month (the periodic job)."""
    current = month_start(today)
    return {month: recompute_month(month) for month in (previous_month(current), current)}


# The same numbers from scratch, for the test --------------------------------------------------


def compute_month_pure(month: date) -> dict[tuple[int, str], dict]:
    """Recompute every counter by reading the raw fact rows one by one (no grouping in SQL)."""
    start, end = month_bounds(month)
    first, last = month_start(month), next_month(month)
    rows: dict[tuple[int, str], dict] = defaultdict(_empty)
    owner: dict[tuple[int, str], str] = {}
    for trip in Trip.objects.all():
        if trip.license_index:
            owner[(trip.platform_id, trip.order_id)] = trip.license_index
        if (
            trip.license_index
            and trip.arrived_at is not None
            and trip.cancelled_at is None
            and start <= trip.arrived_at < end
        ):
            row = rows[(trip.platform_id, trip.license_index)]
            row["completed_orders"] += 1
            row["revenue_yuan"] += trip.fare_yuan or ZERO
    for rating in Rating.objects.all():
        lic = owner.get((rating.platform_id, rating.order_id))
        if lic and start <= rating.evaluated_at < end:
            rows[(rating.platform_id, lic)]["rating_count"] += 1
            rows[(rating.platform_id, lic)]["rating_sum"] += rating.service_score
    for complaint in Complaint.objects.all():
        lic = owner.get((complaint.platform_id, complaint.order_id))
        if lic and start <= complaint.complained_at < end:
            rows[(complaint.platform_id, lic)]["complaints"] += 1
    for punishment in Punishment.objects.all():
        if start <= punishment.punished_at < end:
            rows[(punishment.platform_id, punishment.license_index)]["punishments"] += 1
    for course in TrainingRecord.objects.all():
        if first <= course.course_date < last:
            rows[(course.platform_id, course.license_index)]["training_minutes"] += course.minutes
    events = defaultdict(list)
    for event in OnlineEvent.objects.all():
        events[(event.platform_id, event.license_index)].append(event)
    for key, items in events.items():
        items.sort(key=lambda e: (e.at, e.id))
        for current, following in pairwise(items):
            if current.kind != "login" or following.kind != "logout":
                continue
            if following.at - current.at > MAX_SESSION:
                continue
            seconds = int((min(following.at, end) - max(current.at, start)).total_seconds())
            if seconds > 0:
                rows[key]["online_seconds"] += seconds
    for row in rows.values():
        row["revenue_yuan"] = Decimal(row["revenue_yuan"]).quantize(Decimal("0.01"))
    return dict(rows)


def stored_month(month: date) -> dict[tuple[int, str], dict]:
    """The stored snapshots of a month in the shape `compute_month_pure` returns."""
    return {
        (m.platform_id, m.license_index): {name: getattr(m, name) for name in COUNTERS}
        for m in DriverMonthMetric.objects.filter(month=month_start(month))
    }


# Aggregates and the member comparison, over a queryset of snapshots -------------------------

MEMBER_Q = Q(
    driver__membership__state=Membership.State.VERIFIED,
    driver__membership__category__in=PARTY_MEMBER_CATEGORIES,
)


def _aggregates(prefix: str = "a_", condition: Q | None = None) -> dict:
    def f(q: Q | None) -> Q | None:
        return q if condition is None else (condition if q is None else condition & q)

    return {
        f"{prefix}drivers": Count("license_index", distinct=True, filter=f(None)),
        f"{prefix}active": Count(
            "license_index", distinct=True, filter=f(Q(completed_orders__gt=0))
        ),
        f"{prefix}orders": Sum("completed_orders", filter=f(None)),
        f"{prefix}revenue": Sum("revenue_yuan", filter=f(None)),
        f"{prefix}online": Sum("online_seconds", filter=f(None)),
        f"{prefix}rating_count": Sum("rating_count", filter=f(None)),
        f"{prefix}rating_sum": Sum("rating_sum", filter=f(None)),
        f"{prefix}complaints": Sum("complaints", filter=f(None)),
        f"{prefix}punishments": Sum("punishments", filter=f(None)),
        f"{prefix}training": Sum("training_minutes", filter=f(None)),
    }


@dataclass
class Totals:
    """Summed counters of a group of drivers, with the derived rates."""

    drivers: int = 0
    active: int = 0
    orders: int = 0
    revenue: Decimal = ZERO
    online_seconds: int = 0
    rating_count: int = 0
    rating_sum: int = 0
    complaints: int = 0
    punishments: int = 0
    training_minutes: int = 0
    label: str = ""
    key: object = None

    @classmethod
    def from_row(cls, row: dict, prefix: str = "a_", **extra) -> "Totals":
        def get(name, default=0):
            value = row.get(prefix + name)
            return default if value is None else value

        return cls(
            drivers=get("drivers"),
            active=get("active"),
            orders=get("orders"),
            revenue=Decimal(get("revenue", ZERO)),
            online_seconds=get("online"),
            rating_count=get("rating_count"),
            rating_sum=get("rating_sum"),
            complaints=get("complaints"),
            punishments=get("punishments"),
            training_minutes=get("training"),
            **extra,
        )

    @property
    def orders_per_active(self) -> float | None:
        return self.orders / self.active if self.active else None

    @property
    def complaints_per_10k(self) -> float | None:
        return self.complaints * 10000 / self.orders if self.orders else None

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def online_hours(self) -> float:
        return self.online_seconds / 3600

    @property
    def revenue_per_hour(self) -> float | None:
        return float(self.revenue) / self.online_hours if self.online_seconds else None


def totals(queryset) -> Totals:
    return Totals.from_row(queryset.aggregate(**_aggregates()))


def totals_by(queryset, key: str, label: str) -> list[Totals]:
    """One `Totals` per value of `key` (e.g. "platform_id"), labelled by `label`."""
    rows = queryset.values(key, label).annotate(**_aggregates()).order_by(label)
    return [Totals.from_row(row, key=row[key], label=row[label] or "") for row in rows]


@dataclass
class Comparison:
    """Verified party-member drivers against all drivers of the same selection."""

    members: Totals
    everyone: Totals
    min_drivers: int = MIN_MEMBER_DRIVERS
    min_orders: int = MIN_MEMBER_ORDERS
    rating_bins: list[str] = field(default_factory=list)
    rating_members: list[float] = field(default_factory=list)
    rating_everyone: list[float] = field(default_factory=list)

    @property
    def too_few(self) -> bool:
        return self.members.active < self.min_drivers or self.members.orders < self.min_orders

    @staticmethod
    def _ratio(a, b):
        return a / b if a is not None and b else None

    @property
    def order_ratio(self) -> float | None:
        return self._ratio(self.members.orders_per_active, self.everyone.orders_per_active)

    @property
    def complaint_ratio(self) -> float | None:
        return self._ratio(self.members.complaints_per_10k, self.everyone.complaints_per_10k)

    @property
    def rating_difference(self) -> float | None:
        if self.members.rating is None or self.everyone.rating is None:
            return None
        return self.members.rating - self.everyone.rating

    @property
    def revenue_per_hour_ratio(self) -> float | None:
        return self._ratio(self.members.revenue_per_hour, self.everyone.revenue_per_hour)


def member_sample_too_small(queryset) -> bool:
    """Whether a selection of `DriverMonthMetric` rows has too few verified members to compare
    (the rule of `Comparison.too_few`, in one aggregate query)."""
    active = Count("license_index", distinct=True, filter=MEMBER_Q & Q(completed_orders__gt=0))
    row = queryset.aggregate(active=active, orders=Sum("completed_orders", filter=MEMBER_Q))
    return (row["active"] or 0) < MIN_MEMBER_DRIVERS or (row["orders"] or 0) < MIN_MEMBER_ORDERS


RATING_BINS = [
    (0, 4.0, "< 4.0"),
    (4.0, 4.5, "4.0–4.5"),
    (4.5, 4.7, "4.5–4.7"),
    (4.7, 4.9, "4.7–4.9"),
    (4.9, 5.01, "4.9–5.0"),
]


def compare(queryset) -> Comparison:
    """The member comparison over a queryset of `DriverMonthMetric` (one aggregate query, plus
    one grouped query for the distribution of drivers' average ratings)."""
    row = queryset.aggregate(**_aggregates(), **_aggregates("m_", MEMBER_Q))
    result = Comparison(members=Totals.from_row(row, "m_"), everyone=Totals.from_row(row))
    per_driver = (
        queryset.values("license_index")
        .annotate(n=Sum("rating_count"), s=Sum("rating_sum"), member=Count("id", filter=MEMBER_Q))
        .filter(n__gt=0)
        .values_list("n", "s", "member")
    )
    counts = {"m": [0] * len(RATING_BINS), "a": [0] * len(RATING_BINS)}
    for n, s, member in per_driver:
        mean = s / n
        index = next(i for i, (lo, hi, _label) in enumerate(RATING_BINS) if lo <= mean < hi)
        counts["a"][index] += 1
        if member:
            counts["m"][index] += 1
    result.rating_bins = [label for _lo, _hi, label in RATING_BINS]
    for key, target in (("m", result.rating_members), ("a", result.rating_everyone)):
        total = sum(counts[key])
        target.extend(round(100 * c / total, 1) if total else 0 for c in counts[key])
    return result
