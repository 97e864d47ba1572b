"""Order streams and driver fleets: CSV loading and seeded synthetic cities."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from .geo import EARTH_RADIUS_M, LocalProjection

DAY_S = 86_400.0
# Quarter hours: the resolution at which shift starts follow the demand.
SHIFT_SLOTS = 96
CSV_COLUMNS = ("order_id", "time", "origin_lng", "origin_lat", "dest_lng", "dest_lat")


@dataclass(frozen=True)
class BoundingBox:
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float

    @classmethod
    def around(cls, lng: float, lat: float, width_km: float, height_km: float) -> BoundingBox:
        half_lat = math.degrees(height_km * 500.0 / EARTH_RADIUS_M)
        half_lng = math.degrees(width_km * 500.0 / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
        return cls(lng - half_lng, lat - half_lat, lng + half_lng, lat + half_lat)

    @property
    def projection(self) -> LocalProjection:
        return LocalProjection(
            (self.min_lng + self.max_lng) / 2.0, (self.min_lat + self.max_lat) / 2.0
        )


# A ~30 km x 30 km box over central Chengdu; any city works the same way.
DEFAULT_CITY = BoundingBox.around(104.066, 30.657, 30.0, 30.0)


@dataclass(frozen=True)
class Orders:
    """An order stream; ``time_s`` is seconds since the start of the simulated day."""

    ids: np.ndarray
    time_s: np.ndarray
    origin_lng: np.ndarray
    origin_lat: np.ndarray
    dest_lng: np.ndarray
    dest_lat: np.ndarray
    # "" means any vehicle; ``None`` means no order has a requirement.
    required_vehicle_type: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.ids)
        arrays = (self.time_s, self.origin_lng, self.origin_lat, self.dest_lng, self.dest_lat)
        if any(len(a) != n for a in arrays):
            raise ValueError("all order arrays must have the same length")
        if self.required_vehicle_type is not None and len(self.required_vehicle_type) != n:
            raise ValueError("required_vehicle_type must have one entry per order")

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> Orders:
        """The orders at ``index`` (positions or a boolean mask), e.g. one hour of a day."""
        required = self.required_vehicle_type
        return Orders(
            ids=self.ids[index],
            time_s=self.time_s[index],
            origin_lng=self.origin_lng[index],
            origin_lat=self.origin_lat[index],
            dest_lng=self.dest_lng[index],
            dest_lat=self.dest_lat[index],
            required_vehicle_type=None if required is None else required[index],
        )


@dataclass(frozen=True)
class Sessions:
    """Online sessions ``[start_s, end_s)``; ``driver`` indexes the fleet arrays.

    A driver may have several; overlapping or touching ones are merged by :meth:`merged`.
    """

    driver: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.driver) == len(self.start_s) == len(self.end_s)):
            raise ValueError("all session arrays must have the same length")
        if np.any(~np.isfinite(np.asarray(self.start_s, dtype=float))) or np.any(
            ~np.isfinite(np.asarray(self.end_s, dtype=float))
        ):
            raise ValueError("session times must be finite")
        if np.any(np.asarray(self.end_s) < np.asarray(self.start_s)):
            raise ValueError("a session cannot end before it starts")

    def __len__(self) -> int:
        return len(self.driver)

    def merged(self) -> Sessions:
        """Non-empty sessions sorted by driver and start, with overlapping ones joined."""
        driver = np.asarray(self.driver, dtype=np.int64)
        start = np.asarray(self.start_s, dtype=float)
        end = np.asarray(self.end_s, dtype=float)
        keep = end > start
        driver, start, end = driver[keep], start[keep], end[keep]
        order = np.lexsort((start, driver))
        driver, start, end = driver[order], start[order], end[order]
        if driver.size == 0:
            return Sessions(driver, start, end)
        # Running maximum of ends within each driver: a session opens a new block when it starts
        # after everything before it (for that driver) has ended.
        block_end = end.copy()
        new_block = np.ones(driver.size, dtype=bool)
        for i in range(1, driver.size):
            if driver[i] == driver[i - 1] and start[i] <= block_end[i - 1]:
                new_block[i] = False
                block_end[i] = max(block_end[i - 1], end[i])
        block = np.cumsum(new_block) - 1
        first = np.flatnonzero(new_block)
        merged_end = np.zeros(first.size)
        np.maximum.at(merged_end, block, block_end)
        return Sessions(driver[first], start[first], merged_end)


@dataclass(frozen=True)
class Fleet:
    """Drivers at the start of the day. Online windows are ``[online_start_s, online_end_s)``.

    With ``sessions`` a driver is online only inside its sessions, and the online window is the
    envelope of them; a driver without sessions is never online.
    """

    ids: np.ndarray
    lng: np.ndarray
    lat: np.ndarray
    score: np.ndarray
    is_party_member: np.ndarray
    online_start_s: np.ndarray
    online_end_s: np.ndarray
    vehicle_type: np.ndarray | None = None
    score_components: list[dict[str, float]] | None = field(default=None, repr=False)
    sessions: Sessions | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        arrays = (
            self.lng,
            self.lat,
            self.score,
            self.is_party_member,
            self.online_start_s,
            self.online_end_s,
        )
        if any(len(a) != n for a in arrays):
            raise ValueError("all fleet arrays must have the same length")
        if np.any(self.online_end_s < self.online_start_s):
            raise ValueError("a driver's online window cannot end before it starts")
        if self.sessions is not None and len(self.sessions):
            driver = np.asarray(self.sessions.driver)
            if not np.issubdtype(driver.dtype, np.integer):
                raise ValueError("session drivers must be integer indices into the fleet")
            if driver.min() < 0 or driver.max() >= n:
                raise ValueError(f"session driver index out of range 0..{n - 1}")

    def __len__(self) -> int:
        return len(self.ids)


def load_orders_csv(source: str | Path | Iterable[str]) -> Orders:
    """Read ``order_id,time,origin_lng,origin_lat,dest_lng,dest_lat[,vehicle_type]``.

    ``time`` is either seconds since the start of the day or an ISO 8601 timestamp, measured from
    midnight of the earliest timestamp's date (in the timestamps' own wall-clock time); a file
    must not mix the two. Errors raise ``ValueError`` naming the offending line.
    """
    if isinstance(source, str | Path):
        with open(source, newline="", encoding="utf-8") as handle:
            return _parse_orders_csv(handle, str(source))
    return _parse_orders_csv(source, "<orders>")


def _parse_orders_csv(lines: Iterable[str], name: str) -> Orders:
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{name}: empty file, expected header {','.join(CSV_COLUMNS)}")
    header = [h.strip() for h in header]
    has_vehicle = header == [*CSV_COLUMNS, "vehicle_type"]
    if list(header) != list(CSV_COLUMNS) and not has_vehicle:
        raise ValueError(f"{name}: line 1: expected header {','.join(CSV_COLUMNS)}[,vehicle_type]")
    width = len(header)

    ids: list[str] = []
    raw_times: list[float | datetime] = []
    coords: list[tuple[float, float, float, float]] = []
    vehicles: list[str] = []
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise ValueError(f"{name}: line {line}: expected {width} fields, got {len(row)}")
        try:
            values = tuple(float(cell) for cell in row[2:6])
        except ValueError:
            raise ValueError(f"{name}: line {line}: coordinates must be numbers") from None
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"{name}: line {line}: coordinates must be finite")
        lng1, lat1, lng2, lat2 = values
        if not (
            -180 <= lng1 <= 180 and -180 <= lng2 <= 180 and -90 <= lat1 <= 90 and -90 <= lat2 <= 90
        ):
            raise ValueError(f"{name}: line {line}: coordinates out of range")
        raw_times.append(_parse_time(row[1].strip(), name, line))
        ids.append(row[0].strip())
        coords.append(values)
        if has_vehicle:
            vehicles.append(row[6].strip())

    kinds = {type(t) for t in raw_times}
    if len(kinds) > 1:
        raise ValueError(f"{name}: times mix seconds and ISO timestamps")
    if raw_times and isinstance(raw_times[0], datetime):
        midnight = min(raw_times).replace(hour=0, minute=0, second=0, microsecond=0)
        times = np.array([(t - midnight).total_seconds() for t in raw_times])
    else:
        times = np.array(raw_times, dtype=float)
    xy = np.array(coords, dtype=float).reshape(-1, 4)
    return Orders(
        ids=np.array(ids, dtype=object),
        time_s=times,
        origin_lng=xy[:, 0],
        origin_lat=xy[:, 1],
        dest_lng=xy[:, 2],
        dest_lat=xy[:, 3],
        required_vehicle_type=np.array(vehicles, dtype=object) if has_vehicle else None,
    )


def _parse_time(text: str, name: str, line: int) -> float | datetime:
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{name}: line {line}: time must be a non-negative number")
        return seconds
    try:
        # Drop any offset: the simulated day runs on the timestamps' local wall clock.
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise ValueError(
            f"{name}: line {line}: time {text!r} is neither seconds nor ISO 8601"
        ) from None


def demand_intensity(hour: np.ndarray) -> np.ndarray:
    """Relative order rate by hour of day: night trough, morning and evening commute peaks."""
    hour = np.asarray(hour, dtype=float)

    def bump(centre: float, width: float) -> np.ndarray:
        # Distance around the clock, so late-evening demand carries on past midnight.
        offset = (hour - centre + 12.0) % 24.0 - 12.0
        return np.exp(-0.5 * (offset / width) ** 2)

    return (
        0.06
        + 0.55 * bump(14.5, 4.5)
        + 1.00 * bump(8.5, 1.1)
        + 1.15 * bump(18.5, 1.5)
        + 0.35 * bump(22.5, 1.2)
    )


@dataclass(frozen=True)
class _Hotspots:
    xy: np.ndarray
    spread_m: np.ndarray
    weight: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        which = rng.choice(len(self.weight), size=n, p=self.weight)
        return self.xy[which] + rng.normal(size=(n, 2)) * self.spread_m[which, None]


def _hotspots(rng: np.random.Generator, half_w: float, half_h: float, count: int) -> _Hotspots:
    # Hotspots cluster toward the centre the way CBDs, stations and malls do.
    xy = rng.normal(size=(count, 2)) * np.array([half_w, half_h]) * 0.35
    xy = np.clip(xy, -0.8 * np.array([half_w, half_h]), 0.8 * np.array([half_w, half_h]))
    return _Hotspots(xy, rng.uniform(400.0, 1500.0, count), rng.dirichlet(np.full(count, 2.0)))


def _half_extent(bbox: BoundingBox) -> tuple[float, float]:
    corner = bbox.projection.to_xy(np.array([bbox.max_lng]), np.array([bbox.max_lat]))[0]
    return float(corner[0]), float(corner[1])


def _mixture_points(
    rng: np.random.Generator,
    spots: _Hotspots,
    n: int,
    hotspot_share: float,
    half: tuple[float, float],
) -> np.ndarray:
    from_hotspot = rng.random(n) < hotspot_share
    points = rng.uniform(-1.0, 1.0, size=(n, 2)) * np.array(half)
    points[from_hotspot] = spots.sample(rng, int(from_hotspot.sum()))
    return points


def synthetic_orders(
    n: int,
    bbox: BoundingBox = DEFAULT_CITY,
    seed: int = 0,
    *,
    n_hotspots: int = 12,
    vehicle_type_shares: dict[str, float] | None = None,
) -> Orders:
    """A seeded day of ``n`` orders following :func:`demand_intensity` with hotspot origins.

    ``vehicle_type_shares`` (e.g. ``{"comfort": 0.05}``) makes that share of orders require the
    vehicle type; the rest accept any vehicle.
    """
    rng = np.random.default_rng(seed)
    half = _half_extent(bbox)
    spots = _hotspots(rng, *half, n_hotspots)

    minute_hours = (np.arange(1440) + 0.5) / 60.0
    weights = demand_intensity(minute_hours)
    minute = rng.choice(1440, size=n, p=weights / weights.sum())
    time_s = np.sort(minute * 60.0 + rng.uniform(0.0, 60.0, n))

    origin = _mixture_points(rng, spots, n, 0.65, half)
    # Most trips are local (median ~4 km); the rest head for another hotspot across town.
    length = rng.lognormal(np.log(4000.0), 0.5, n)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    dest = origin + length[:, None] * np.column_stack((np.cos(angle), np.sin(angle)))
    cross_town = rng.random(n) < 0.3
    dest[cross_town] = spots.sample(rng, int(cross_town.sum()))
    limit = np.array(half)
    origin = np.clip(origin, -limit, limit)
    dest = np.clip(dest, -limit, limit)

    required = None
    if vehicle_type_shares:
        labels = ["", *vehicle_type_shares]
        shares = [1.0 - sum(vehicle_type_shares.values()), *vehicle_type_shares.values()]
        required = np.array(labels, dtype=object)[rng.choice(len(labels), size=n, p=shares)]

    projection = bbox.projection
    o_lng, o_lat = projection.to_lnglat(origin)
    d_lng, d_lat = projection.to_lnglat(dest)
    return Orders(
        ids=np.arange(n),
        time_s=time_s,
        origin_lng=o_lng,
        origin_lat=o_lat,
        dest_lng=d_lng,
        dest_lat=d_lat,
        required_vehicle_type=required,
    )


# (share of drivers, mean start hour, start sd hours, min length h, max length h)
_SHIFT_PATTERNS = (
    (0.10, 0.0, 0.0, 4.0, 8.0),  # night shift carried over from the previous day
    (0.40, 7.0, 1.2, 7.0, 12.0),
    (0.35, 14.5, 1.5, 6.0, 10.0),
    (0.15, 19.5, 1.5, 4.0, 8.0),
)


def synthetic_fleet(
    n: int,
    bbox: BoundingBox = DEFAULT_CITY,
    seed: int = 0,
    *,
    party_share: float = 0.3,
    party_score_shift: float = 0.0,
    vehicle_type_shares: dict[str, float] | None = None,
    n_hotspots: int = 12,
) -> Fleet:
    """A seeded fleet with scores skewed high, staggered shifts and hotspot-biased positions.

    ``party_score_shift`` adds points to party members' scores, to study a score that rewards
    membership; by default membership and score are independent.
    """
    rng = np.random.default_rng(seed + 1_000_003)
    half = _half_extent(bbox)
    spots = _hotspots(np.random.default_rng(seed), *half, n_hotspots)
    xy = np.clip(_mixture_points(rng, spots, n, 0.6, half), -np.array(half), np.array(half))
    lng, lat = bbox.projection.to_lnglat(xy)

    is_party = rng.random(n) < party_share
    score = np.clip(rng.beta(5.0, 2.0, n) * 100.0 + party_score_shift * is_party, 0.0, 100.0)

    shares = np.array([p[0] for p in _SHIFT_PATTERNS])
    pattern = rng.choice(len(_SHIFT_PATTERNS), size=n, p=shares / shares.sum())
    table = np.array([p[1:] for p in _SHIFT_PATTERNS])
    start_h = np.clip(table[pattern, 0] + rng.normal(size=n) * table[pattern, 1], 0.0, 23.0)
    length_h = rng.uniform(table[pattern, 2], table[pattern, 3])
    start = start_h * 3600.0
    end = np.minimum(start + length_h * 3600.0, DAY_S)

    types = _vehicle_types(rng, n, vehicle_type_shares)
    return Fleet(
        ids=np.arange(n),
        lng=lng,
        lat=lat,
        score=score,
        is_party_member=is_party,
        online_start_s=start,
        online_end_s=end,
        vehicle_type=types,
    )


def _vehicle_types(rng: np.random.Generator, n: int, shares: dict[str, float] | None):
    if not shares:
        return None
    labels = list(shares)
    p = np.array(list(shares.values()), dtype=float)
    return np.array(labels, dtype=object)[rng.choice(len(labels), size=n, p=p / p.sum())]


def shift_start_rate(order_time_s: np.ndarray, shift_hours: tuple[float, float]) -> np.ndarray:
    """Share of shifts starting in each of the day's ``SHIFT_SLOTS`` slots, such that the
    drivers online at any time are in proportion to the orders placed then.

    Drivers online in slot b are the shifts started in an earlier slot k that are still running
    (shift lengths uniform within ``shift_hours``, the day cyclic), so the online curve is the
    start rate convolved with the shift-length survival function. The start rate is the
    non-negative least-squares solution of that convolution against the orders per slot,
    smoothed over an hour first: starts timed so that supply tracks demand, rather than starts
    in proportion to demand, whose online curve lags the demand by half a shift and misses the
    small hours.
    """
    slot_s = DAY_S / SHIFT_SLOTS
    slot = (np.asarray(order_time_s, dtype=float) // slot_s).astype(np.int64) % SHIFT_SLOTS
    demand = np.bincount(slot, minlength=SHIFT_SLOTS).astype(float)
    # A centred hour's moving average around the cyclic day.
    half = round(1800.0 / slot_s)
    demand = sum(np.roll(demand, k) for k in range(-half, half)) / (2 * half)
    low_h, high_h = shift_hours
    since_h = (np.arange(SHIFT_SLOTS) + 0.5) * slot_s / 3600.0
    if high_h > low_h:
        still_on = np.clip((high_h - since_h) / (high_h - low_h), 0.0, 1.0)
    else:
        still_on = (since_h < high_h).astype(float)
    lag = (np.arange(SHIFT_SLOTS)[:, None] - np.arange(SHIFT_SLOTS)[None, :]) % SHIFT_SLOTS
    # Relative errors: the small hours' few orders count as much as the peaks' many.
    weight = 1.0 / (demand + 0.05 * demand.mean() + 1e-12)
    rate, _residual = nnls(still_on[lag] * weight[:, None], demand * weight)
    if rate.sum() <= 0:
        return np.full(SHIFT_SLOTS, 1.0 / SHIFT_SLOTS)
    return rate / rate.sum()


def demand_following_fleet(
    orders: Orders,
    n: int,
    seed: int = 0,
    *,
    party_share: float = 0.3,
    vehicle_type_shares: dict[str, float] | None = None,
    shift_hours: tuple[float, float] = (6.0, 10.0),
) -> Fleet:
    """A seeded fleet whose shifts and first positions follow ``orders`` themselves.

    The number of drivers online follows the orders' daily curve (see :func:`shift_start_rate`);
    shift lengths are uniform within ``shift_hours``. A shift that runs past midnight goes on at
    the start of the same day, as the previous evening's drivers would on a day like this one,
    so such a driver has two sessions. Each driver starts at the origin of an order from the
    hour it first comes online (the nearest hour with orders if that one has none), jittered by
    about 300 m and kept inside the orders' bounding box.
    """
    if len(orders) == 0:
        raise ValueError("a demand-following fleet needs at least one order")
    low_h, high_h = shift_hours
    if not 0 < low_h <= high_h <= 24:
        raise ValueError("shift_hours must be (min, max) with 0 < min <= max <= 24")
    rng = np.random.default_rng([seed, 0xF1EE7])
    length_s = rng.uniform(low_h, high_h, n) * 3600.0
    rate = shift_start_rate(orders.time_s, shift_hours)
    start = (rng.choice(SHIFT_SLOTS, size=n, p=rate) + rng.random(n)) * (DAY_S / SHIFT_SLOTS)
    end = start + length_s
    wraps = end > DAY_S
    sessions = Sessions(
        driver=np.concatenate((np.arange(n), np.flatnonzero(wraps))),
        start_s=np.concatenate((start, np.zeros(np.count_nonzero(wraps)))),
        end_s=np.concatenate((np.minimum(end, DAY_S), end[wraps] - DAY_S)),
    )
    first_online = np.where(wraps, 0.0, start)

    order_hour = np.clip((orders.time_s // 3600).astype(np.int64), 0, 23)
    by_hour = np.argsort(order_hour, kind="stable")
    counts = np.bincount(order_hour, minlength=24)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    hours_with_orders = np.flatnonzero(counts)
    start_hour = np.clip((first_online // 3600).astype(np.int64), 0, 23)
    nearest = hours_with_orders[
        np.argmin(np.abs(hours_with_orders[None, :] - start_hour[:, None]), axis=1)
    ]
    which = offsets[nearest] + (rng.random(n) * counts[nearest]).astype(np.int64)
    source = by_hour[which]

    bbox = BoundingBox(
        float(orders.origin_lng.min()),
        float(orders.origin_lat.min()),
        float(orders.origin_lng.max()),
        float(orders.origin_lat.max()),
    )
    projection = bbox.projection
    xy = projection.to_xy(orders.origin_lng[source], orders.origin_lat[source])
    xy += rng.normal(0.0, 300.0, size=(n, 2))
    corners = projection.to_xy(
        np.array([bbox.min_lng, bbox.max_lng]), np.array([bbox.min_lat, bbox.max_lat])
    )
    xy = np.clip(xy, corners[0], corners[1])
    lng, lat = projection.to_lnglat(xy)
    lng = np.clip(lng, bbox.min_lng, bbox.max_lng)
    lat = np.clip(lat, bbox.min_lat, bbox.max_lat)

    is_party = rng.random(n) < party_share
    score = np.clip(rng.beta(5.0, 2.0, n) * 100.0, 0.0, 100.0)
    types = _vehicle_types(rng, n, vehicle_type_shares)
    return Fleet(
        ids=np.arange(n),
        lng=lng,
        lat=lat,
        score=score,
        is_party_member=is_party,
        online_start_s=first_online,
        online_end_s=np.where(wraps, DAY_S, end),
        vehicle_type=types,
        sessions=sessions,
    )
