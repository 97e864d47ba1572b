"""The real drivers of a replayed day: their online sessions, first positions and speeds, read
from the exchange facts of the run's city (and platform) only.

Sessions pair each operateLogin with the next operateLogout of the same driver on the same
platform within the day. A login never closed that day ends at the driver's last activity
(trip arrival or position sample) after it, else at the day's end; a logout with no login
before it starts at the day's start. Overlapping sessions of one driver (two platforms) are
merged, so no second counts twice.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db.models import Max, Q

from redwheel.core.dates import LOCAL_TZ
from redwheel.dispatch.engine.demand import DAY_S
from redwheel.dispatch.engine.environment import speed_profile_from_trips
from redwheel.dispatch.permissions import city_platforms
from redwheel.orgs.models import OrgUnit

# Below this many trips with a drive distance and duration the hourly speeds are noise.
MIN_SPEED_TRIPS = 300
SPEED_TRIPS_LIMIT = 50_000


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def scope_platforms(city: OrgUnit, platform_id: int | None):
    platforms = city_platforms(city)
    return platforms.filter(pk=platform_id) if platform_id else platforms


@dataclass
class DaySessions:
    """Per driver id: merged (start_s, end_s) intervals in seconds since the day's start."""

    intervals: dict[int, list[tuple[float, float]]]

    def clipped(self, t0: float, t1: float) -> "DaySessions":
        """Only the parts inside [t0, t1); drivers with nothing left are dropped."""
        out = {}
        for driver, spans in self.intervals.items():
            kept = [(max(a, t0), min(b, t1)) for a, b in spans if b > t0 and a < t1]
            kept = [(a, b) for a, b in kept if b > a]
            if kept:
                out[driver] = kept
        return DaySessions(out)

    def total_s(self) -> float:
        return float(sum(b - a for spans in self.intervals.values() for a, b in spans))

    def count(self) -> int:
        return sum(len(spans) for spans in self.intervals.values())


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _last_activity(platforms, driver_ids, start: datetime, end: datetime) -> dict[int, datetime]:
    from redwheel.exchange.models import PositionSample, Trip

    last: dict[int, datetime] = {}
    trips = (
        Trip.objects.filter(
            platform__in=platforms,
            driver_id__in=driver_ids,
            arrived_at__gte=start,
            arrived_at__lt=end,
        )
        .values_list("driver_id")
        .annotate(at=Max("arrived_at"))
    )
    samples = (
        PositionSample.objects.filter(
            platform__in=platforms, driver_id__in=driver_ids, at__gte=start, at__lt=end
        )
        .values_list("driver_id")
        .annotate(at=Max("at"))
    )
    for driver, at in [*trips, *samples]:
        if driver not in last or at > last[driver]:
            last[driver] = at
    return last


def day_sessions(city: OrgUnit, day: date, platform_id: int | None, driver_ids) -> DaySessions:
    """The online sessions on `day` of the drivers `driver_ids` (already scoped by the caller)
    reported by the city's platforms (or the one platform)."""
    from redwheel.exchange.models import OnlineEvent

    start = day_start(day)
    end = start + timedelta(days=1)
    platforms = scope_platforms(city, platform_id)
    events = (
        OnlineEvent.objects.filter(
            platform__in=platforms, driver_id__in=driver_ids, at__gte=start, at__lt=end
        )
        .order_by("driver_id", "platform_id", "at", "kind")
        .values_list("driver_id", "platform_id", "kind", "at")
    )
    raw: dict[int, list[tuple[float, float]]] = defaultdict(list)
    open_logins: dict[tuple[int, int], float] = {}
    for driver, platform, kind, at in events:
        key, t = (driver, platform), (at - start).total_seconds()
        if kind == OnlineEvent.Kind.LOGIN:
            open_logins.setdefault(key, t)  # a repeated login keeps the session open
        else:
            raw[driver].append((open_logins.pop(key, 0.0), t))
    if open_logins:
        last = _last_activity(platforms, {d for d, _ in open_logins}, start, end)
        for (driver, _platform), t in open_logins.items():
            at = last.get(driver)
            until = (at - start).total_seconds() if at is not None else DAY_S
            raw[driver].append((t, until if until > t else DAY_S))
    return DaySessions({d: _merge(s) for d, s in raw.items() if _merge(s)})


def first_positions(
    city: OrgUnit, day: date, platform_id: int | None, driver_ids
) -> dict[int, tuple[float, float]]:
    """Each driver's first known position of the day: the first login with coordinates, else
    the first position sample, else the first trip's match point (or its origin)."""
    from redwheel.exchange.models import OnlineEvent, PositionSample, Trip

    start = day_start(day)
    end = start + timedelta(days=1)
    platforms = scope_platforms(city, platform_id)
    found: dict[int, tuple[float, float]] = {}
    day_rows = {"platform__in": platforms, "driver_id__in": driver_ids}
    sources = [
        OnlineEvent.objects.filter(
            **day_rows, kind=OnlineEvent.Kind.LOGIN, at__gte=start, at__lt=end, lng__isnull=False
        )
        .order_by("driver_id", "at")
        .values_list("driver_id", "lng", "lat"),
        PositionSample.objects.filter(**day_rows, at__gte=start, at__lt=end)
        .order_by("driver_id", "at")
        .values_list("driver_id", "lng", "lat"),
    ]
    for rows in sources:
        for driver, lng, lat in rows:
            found.setdefault(driver, (lng, lat))
    trips = (
        Trip.objects.filter(**day_rows, matched_at__gte=start, matched_at__lt=end)
        .filter(Q(match_lng__isnull=False) | Q(origin_lng__isnull=False))
        .order_by("driver_id", "matched_at")
        .values_list("driver_id", "match_lng", "match_lat", "origin_lng", "origin_lat")
    )
    for driver, mlng, mlat, olng, olat in trips:
        found.setdefault(driver, (mlng, mlat) if mlng is not None else (olng, olat))
    return found


def city_speed_profile(city: OrgUnit | None) -> tuple[float, ...] | None:
    """Hourly speeds (km/h) from the city's ingested trips (drive distance and time by hour of
    departure, Asia/Shanghai), or None below MIN_SPEED_TRIPS trips."""
    from redwheel.exchange.models import Trip

    if city is None:
        return None
    rows = list(
        Trip.objects.filter(
            platform__in=city_platforms(city),
            departed_at__isnull=False,
            drive_km__gt=0,
            drive_seconds__gt=0,
        )
        .order_by("-departed_at")
        .values_list("departed_at", "drive_km", "drive_seconds")[:SPEED_TRIPS_LIMIT]
    )
    if len(rows) < MIN_SPEED_TRIPS:
        return None
    hour = np.array([r[0].astimezone(LOCAL_TZ).hour for r in rows])
    distance_m = np.array([r[1] * 1000.0 for r in rows])
    duration_s = np.array([float(r[2]) for r in rows])
    profile = speed_profile_from_trips(hour, distance_m, duration_s)
    return tuple(float(v) for v in profile)
