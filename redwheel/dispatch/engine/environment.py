"""The simulation environment: travel speed by hour of day and what idle drivers do.

Idle policies (``SimulationConfig.idle_policy``):

* ``stay``: an idle driver waits where the last trip ended (the historical behaviour);
* ``cruise``: a correlated random walk at the hour's travel speed;
* ``demand``: a driver idle for ``demand_idle_s`` heads for the origin of an order placed in the
  next 15 minutes, chosen as the nearest of a few sampled origins, so busy areas nearby attract
  more drivers than busy areas across town; the target is kept until reached or matched;
* ``station``: an idle driver drives to the nearest of ``stations``;
* ``balance``: a supply-demand rebalancer (see :class:`Rebalancer`): the box is cut into square
  cells, the idle drivers are shared out between cells in proportion to the orders each cell is
  expected to see over the next ``BALANCE_HORIZON_S``, sparse cells included, and drivers idle
  for ``demand_idle_s`` in cells holding more than their share are sent to the cells short of
  theirs along the assignment of least total distance. A driver counts for the cell it is heading
  for. The forecast (``BALANCE_FORECASTS``) is by default the cell's time-of-day profile, not the
  orders that will actually come.
* ``observed``: what ride-hailing drivers were seen doing between trips in San Francisco
  (``OBSERVED_IDLE_MIX``, Millard-Ball et al., "Where ridehail drivers go between trips",
  *Transportation* 50, 2023): each idle spell, drawn when the driver becomes free, is spent
  repositioning as ``balance`` sends it, cruising as ``cruise``, or parked where the trip ended.
  Every idle driver, whatever its behaviour, counts as supply for the rebalancer.

Moves happen every ``reposition_every_s`` and cover at most the distance the hour's speed allows
in the time the driver has been idle during that step. Positions stay inside the demand's bounding
box padded by ``BOX_PADDING_M``. The environment draws from its own random stream, so choosing a
policy never changes the passengers' patience draws.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

IDLE_POLICIES = ("stay", "cruise", "demand", "station", "balance", "observed")
# Shares of between-trip spells repositioning, cruising and parked (Millard-Ball et al. 2023).
OBSERVED_IDLE_MIX = {"reposition": 0.63, "cruise": 0.23, "park": 0.14}
_REPOSITION, _CRUISE, _PARK = range(3)
_OBSERVED_CDF = np.cumsum(list(OBSERVED_IDLE_MIX.values())) / sum(OBSERVED_IDLE_MIX.values())
# "profile": what a dispatcher knows from past days; "actual": the stream's own next orders, a
# perfect forecast kept to measure what clairvoyance is worth.
BALANCE_FORECASTS = ("profile", "actual")
DEMAND_HORIZON_S = 900.0
DEMAND_SAMPLES = 6
BOX_PADDING_M = 1000.0
BALANCE_CELL_M = 2000.0
BALANCE_HORIZON_S = 1800.0
# Hours of day a profile forecast counts: the horizon's own hour and one either side, so one
# cell's count rests on a few hundred orders rather than on the next half hour's few.
BALANCE_PROFILE_BAND_H = 3
# A staging point's scatter (standard deviation) around the cell's demand-weighted centre, as a
# share of the cell's side: an area's point, not a passenger's.
BALANCE_JITTER = 0.25
# Caps each side of one step's assignment problem, so a step stays a few milliseconds; movers
# beyond it (longest idle first) and slots beyond it (one per short cell first) wait a step.
BALANCE_MAX_PAIRS_SIDE = 250
_ENVIRONMENT_STREAM = 0x1D1E
_CENTROID_STREAM = 0xCE27
# Trips slower than walking or faster than a motorway average are data errors, not traffic.
_PLAUSIBLE_KMH = (3.0, 120.0)


def speed_profile_from_trips(
    hour: np.ndarray,
    distance_m: np.ndarray,
    duration_s: np.ndarray,
    min_trips_per_hour: int = 20,
) -> tuple[float, ...]:
    """Median trip speed (km/h) for each hour of the day, from trips' distance and duration.

    Rows with a non-positive distance or duration, or an implausible speed, are dropped; hours
    with fewer than ``min_trips_per_hour`` trips take the overall median.
    """
    hour = np.asarray(hour)
    distance_m = np.asarray(distance_m, dtype=float)
    duration_s = np.asarray(duration_s, dtype=float)
    if not (len(hour) == len(distance_m) == len(duration_s)):
        raise ValueError("hour, distance_m and duration_s must have the same length")
    with np.errstate(divide="ignore", invalid="ignore"):
        kmh = distance_m / duration_s * 3.6
    keep = (
        (distance_m > 0)
        & (duration_s > 0)
        & np.isfinite(kmh)
        & (kmh >= _PLAUSIBLE_KMH[0])
        & (kmh <= _PLAUSIBLE_KMH[1])
        & (hour >= 0)
        & (hour < 24)
    )
    if not keep.any():
        raise ValueError("no trip has a plausible distance and duration")
    kmh, hour = kmh[keep], hour[keep].astype(np.int64)
    overall = float(np.median(kmh))
    profile = []
    for h in range(24):
        in_hour = kmh[hour == h]
        profile.append(float(np.median(in_hour)) if in_hour.size >= min_trips_per_hour else overall)
    return tuple(profile)


def spread_centroids(
    origin_xy: np.ndarray, dest_xy: np.ndarray, spread: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Trip ends that share a point, spread uniformly over a disc around it.

    Public trip data often gives an area's centroid instead of the address (Chicago's gives the
    census tract's, or the community area's where a tract would identify the rider), so a driver
    waiting at a centroid reaches every later passenger of that area without moving and trips
    inside one area have no length. Each point used by more than one trip end is taken as the
    centroid of an area whose size is that of its neighbourhood: the disc's radius is ``spread``
    times the distance to the nearest other point (0.5: neighbouring discs touch). Points used
    once are left alone. Seeded by ``seed`` on a stream of its own.
    """
    if spread < 0:
        raise ValueError("spread must be >= 0")
    points = np.concatenate((origin_xy, dest_xy)).astype(float)
    if spread == 0 or len(points) < 2:
        return origin_xy, dest_xy
    unique, inverse, counts = np.unique(points, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if len(unique) < 2:
        return origin_xy, dest_xy
    from scipy.spatial import cKDTree

    nearest = cKDTree(unique).query(unique, k=2)[0][:, 1]
    radius = np.where(counts[inverse] > 1, spread * nearest[inverse], 0.0)
    rng = np.random.default_rng([seed, _CENTROID_STREAM])
    distance = radius * np.sqrt(rng.random(len(points)))
    angle = rng.uniform(0.0, 2 * np.pi, len(points))
    points += distance[:, None] * np.column_stack((np.cos(angle), np.sin(angle)))
    return points[: len(origin_xy)], points[len(origin_xy) :]


def hourly_speed_mps(speed_kmh: float, profile_kmh: tuple[float, ...] | None) -> np.ndarray:
    """24 speeds in m/s, one per hour of day."""
    if profile_kmh is None:
        return np.full(24, speed_kmh / 3.6)
    return np.asarray(profile_kmh, dtype=float) / 3.6


def speed_at(hourly_mps: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """The speed of the hour of day ``t`` (seconds, may run past midnight) falls in."""
    return hourly_mps[(np.asarray(t) // 3600.0).astype(np.int64) % 24]


class IdleEnvironment:
    """Moves idle drivers according to one policy; state lives in the simulator's arrays."""

    def __init__(
        self,
        policy: str,
        *,
        seed: int,
        box_min: np.ndarray,
        box_max: np.ndarray,
        hourly_mps: np.ndarray,
        n_drivers: int,
        order_time: np.ndarray,
        origin_xy: np.ndarray,
        stations_xy: np.ndarray | None,
        demand_idle_s: float,
        balance_forecast: str = "profile",
    ) -> None:
        if policy not in IDLE_POLICIES:
            raise ValueError(f"idle_policy must be one of {', '.join(IDLE_POLICIES)}")
        self.policy = policy
        self.rng = np.random.default_rng([seed, _ENVIRONMENT_STREAM])
        self.low = np.asarray(box_min, dtype=float) - BOX_PADDING_M
        self.high = np.asarray(box_max, dtype=float) + BOX_PADDING_M
        self.hourly_mps = hourly_mps
        self.order_time = order_time
        self.origin_xy = origin_xy
        self.demand_idle_s = demand_idle_s
        self.stations_xy = None
        if stations_xy is not None and len(stations_xy):
            self.stations_xy = np.clip(np.asarray(stations_xy, dtype=float), self.low, self.high)
        self.rebalancer = None
        if policy in ("balance", "observed"):
            self.rebalancer = Rebalancer(
                self.low, self.high, order_time, origin_xy, forecast=balance_forecast
            )
        self.heading = self.rng.uniform(0.0, 2 * np.pi, n_drivers)
        self.target = np.zeros((n_drivers, 2))
        self.has_target = np.zeros(n_drivers, dtype=bool)
        self.last_step_s = -np.inf
        # Straight-line metres each driver has moved while idle, for the phase accounting.
        self.idle_moved_m = np.zeros(n_drivers)
        self.behaviour = np.full(n_drivers, _REPOSITION)
        if policy == "observed":
            self.behaviour = self._draw_behaviour(n_drivers)

    @property
    def moves(self) -> bool:
        return self.policy != "stay"

    def forget_targets(self, drivers: np.ndarray) -> None:
        """Matched drivers drop whatever they were heading for; under ``observed`` their next
        idle spell gets a behaviour of its own."""
        self.has_target[drivers] = False
        if self.policy == "observed":
            self.behaviour[drivers] = self._draw_behaviour(np.size(drivers))

    def _draw_behaviour(self, n: int) -> np.ndarray:
        # What `rng.choice(3, n, p=...)` draws, without rebuilding its table on every match.
        return np.searchsorted(_OBSERVED_CDF, self.rng.random(n), side="right")

    def step(
        self,
        now: float,
        xy: np.ndarray,
        idle: np.ndarray,
        idle_since: np.ndarray,
    ) -> None:
        """Move the ``idle`` drivers (indices) in place in ``xy``; nobody else is touched."""
        previous, self.last_step_s = self.last_step_s, now
        if not self.moves or idle.size == 0:
            return
        moving_s = np.clip(now - np.maximum(idle_since[idle], previous), 0.0, None)
        reach = moving_s * speed_at(self.hourly_mps, now)
        before = xy[idle]
        if self.policy == "cruise":
            self._cruise(xy, idle, reach)
        elif self.policy == "demand":
            self._toward_demand(now, xy, idle, idle_since, reach)
        elif self.policy == "balance":
            self._balance(now, xy, idle, idle_since, reach)
        elif self.policy == "observed":
            behaviour = self.behaviour[idle]
            repositions = behaviour == _REPOSITION
            self._balance(now, xy, idle, idle_since, reach, repositions)
            cruising = behaviour == _CRUISE
            if cruising.any():
                self._cruise(xy, idle[cruising], reach[cruising])
        else:
            self._toward(xy, idle, self._nearest_station(xy[idle]), reach)
        self.idle_moved_m[idle] += np.hypot(*(xy[idle] - before).T)

    def _cruise(self, xy: np.ndarray, idle: np.ndarray, reach: np.ndarray) -> None:
        heading = self.heading[idle] + self.rng.normal(0.0, 0.6, idle.size)
        step = reach[:, None] * np.column_stack((np.cos(heading), np.sin(heading)))
        moved = xy[idle] + step
        # Bounce off the box edge: turn back along the axis that would have left it.
        outside = (moved < self.low) | (moved > self.high)
        step[outside] *= -1.0
        heading = np.where(outside[:, 0], np.pi - heading, heading)
        heading = np.where(outside[:, 1], -heading, heading)
        self.heading[idle] = heading
        xy[idle] = np.clip(xy[idle] + step, self.low, self.high)

    def _toward_demand(
        self,
        now: float,
        xy: np.ndarray,
        idle: np.ndarray,
        idle_since: np.ndarray,
        reach: np.ndarray,
    ) -> None:
        chooses = idle[~self.has_target[idle] & (now - idle_since[idle] >= self.demand_idle_s)]
        first, last = np.searchsorted(self.order_time, (now, now + DEMAND_HORIZON_S))
        if chooses.size and last > first:
            picks = self.rng.integers(first, last, size=(chooses.size, DEMAND_SAMPLES))
            options = self.origin_xy[picks]
            distance = np.hypot(*(options - xy[chooses][:, None, :]).transpose(2, 0, 1))
            nearest = np.argmin(distance, axis=1)
            self.target[chooses] = options[np.arange(chooses.size), nearest]
            self.has_target[chooses] = True
        self._head_for_targets(xy, idle, reach)

    def _balance(
        self,
        now: float,
        xy: np.ndarray,
        idle: np.ndarray,
        idle_since: np.ndarray,
        reach: np.ndarray,
        repositions: np.ndarray | None = None,
    ) -> None:
        """Rebalance ``idle``; only those marked in ``repositions`` (default: all) move, but
        all of them count as supply where they are."""
        assert self.rebalancer is not None
        heading = self.has_target[idle]
        where = np.where(heading[:, None], self.target[idle], xy[idle])
        free = ~heading & (now - idle_since[idle] >= self.demand_idle_s)
        if repositions is not None:
            free &= repositions
        movers, targets = self.rebalancer.plan(now, where, free, idle_since[idle], self.rng)
        self.target[idle[movers]] = targets
        self.has_target[idle[movers]] = True
        self._head_for_targets(xy, idle, reach)

    def _head_for_targets(self, xy: np.ndarray, idle: np.ndarray, reach: np.ndarray) -> None:
        heading = self.has_target[idle]
        if heading.any():
            drivers = idle[heading]
            self._toward(xy, drivers, self.target[drivers], reach[heading])
            arrived = np.all(xy[drivers] == self.target[drivers], axis=1)
            self.has_target[drivers[arrived]] = False

    def _nearest_station(self, points: np.ndarray) -> np.ndarray:
        stations = self.stations_xy
        assert stations is not None
        if len(stations) * len(points) <= 2_000_000:
            d2 = ((points[:, None, :] - stations[None, :, :]) ** 2).sum(axis=2)
            return stations[np.argmin(d2, axis=1)]
        from scipy.spatial import cKDTree

        return stations[cKDTree(stations).query(points)[1]]

    def _toward(
        self, xy: np.ndarray, drivers: np.ndarray, target: np.ndarray, reach: np.ndarray
    ) -> None:
        here = xy[drivers]
        gap = target - here
        distance = np.hypot(gap[:, 0], gap[:, 1])
        arrive = distance <= reach
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(arrive, 1.0, reach / distance)
        moved = np.where(arrive[:, None], target, here + gap * fraction[:, None])
        xy[drivers] = np.clip(moved, self.low, self.high)


class Rebalancer:
    """Supply-demand balancing of idle drivers over a grid of square cells.

    The rule follows the rebalancing step of the autonomous mobility-on-demand literature
    (Pavone et al., "Robotic load balancing for mobility-on-demand systems", IJRR 31(7), 2012;
    Alonso-Mora et al., "On-demand high-capacity ride-sharing via dynamic trip-vehicle
    assignment", PNAS 114(3), 2017): each cell's fair share of the idle drivers is proportional
    to its expected orders, and surplus drivers go to short cells along a minimum-distance
    assignment.

    ``forecast="profile"`` expects of each cell the orders it receives in the
    ``BALANCE_PROFILE_BAND_H`` hours of day around the horizon, the time-of-day profile a
    dispatcher builds from past days (a folded sample's day stands for those days), and sends a
    driver to the cell's demand-weighted centre in that band scattered by a Gaussian of
    ``BALANCE_JITTER`` cells, clipped to the cell and the box: it knows how busy an area usually
    is at this hour, neither which cell the next orders fall in nor where a passenger stands.
    ``forecast="actual"`` counts the orders that will come over the horizon and sends drivers to
    the pick-up point of an order drawn from the cell's day, a perfect forecast.
    """

    def __init__(
        self,
        low: np.ndarray,
        high: np.ndarray,
        order_time: np.ndarray,
        origin_xy: np.ndarray,
        cell_m: float = BALANCE_CELL_M,
        horizon_s: float = BALANCE_HORIZON_S,
        forecast: str = "profile",
    ) -> None:
        if forecast not in BALANCE_FORECASTS:
            raise ValueError(f"balance forecast must be one of {', '.join(BALANCE_FORECASTS)}")
        self.forecast = forecast
        self.low = np.asarray(low, dtype=float)
        self.high = np.asarray(high, dtype=float)
        self.cell_m = cell_m
        self.horizon_s = horizon_s
        self.shape = np.maximum(np.ceil((self.high - self.low) / cell_m), 1).astype(np.int64)
        self.n_cells = int(self.shape.prod())
        self.order_time = order_time
        self.origin_xy = origin_xy
        self.order_cell = self.cell_of(origin_xy)
        self.day_by_cell = np.argsort(self.order_cell, kind="stable")
        self.day_count = np.bincount(self.order_cell, minlength=self.n_cells)
        self.day_start = np.concatenate(([0], np.cumsum(self.day_count)[:-1]))
        if forecast == "profile":
            self._build_profile()

    def _build_profile(self) -> None:
        hour = (np.asarray(self.order_time) // 3600.0).astype(np.int64) % 24
        slot = hour * self.n_cells + self.order_cell
        size = 24 * self.n_cells
        count = np.bincount(slot, minlength=size).reshape(24, self.n_cells).astype(float)
        xy = np.asarray(self.origin_xy, dtype=float).reshape(-1, 2)
        sum_x = np.bincount(slot, weights=xy[:, 0], minlength=size).reshape(24, self.n_cells)
        sum_y = np.bincount(slot, weights=xy[:, 1], minlength=size).reshape(24, self.n_cells)
        half = BALANCE_PROFILE_BAND_H // 2
        shifts = range(-half, BALANCE_PROFILE_BAND_H - half)
        # np.roll by -k puts hour h + k at row h: row h sums the band around h, wrapping midnight.
        self.band_count = sum(np.roll(count, -k, axis=0) for k in shifts)
        band_x = sum(np.roll(sum_x, -k, axis=0) for k in shifts)
        band_y = sum(np.roll(sum_y, -k, axis=0) for k in shifts)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.band_centre = np.stack((band_x, band_y), axis=2) / self.band_count[..., None]

    def cell_of(self, xy: np.ndarray) -> np.ndarray:
        ij = np.floor((np.asarray(xy, dtype=float) - self.low) / self.cell_m).astype(np.int64)
        ij = np.clip(ij, 0, self.shape - 1)
        return ij[:, 0] * self.shape[1] + ij[:, 1]

    def expected(self, now: float) -> np.ndarray:
        """Each cell's expected orders over the horizon starting at ``now`` (relative weights)."""
        if self.forecast == "profile":
            return self.band_count[int((now + self.horizon_s / 2) // 3600.0) % 24]
        first, last = np.searchsorted(self.order_time, (now, now + self.horizon_s))
        return np.bincount(self.order_cell[first:last], minlength=self.n_cells)

    def staging_points(self, now: float, cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One point in each of ``cells`` (a cell may repeat) for a driver sent there."""
        if self.forecast == "actual":
            pick = (rng.random(cells.size) * self.day_count[cells]).astype(np.int64)
            return self.origin_xy[self.day_by_cell[self.day_start[cells] + pick]]
        hour = int((now + self.horizon_s / 2) // 3600.0) % 24
        centre = self.band_centre[hour, cells]
        points = centre + rng.normal(0.0, BALANCE_JITTER * self.cell_m, (cells.size, 2))
        corner = self.low + np.column_stack(np.divmod(cells, self.shape[1])) * self.cell_m
        return np.clip(
            points, np.maximum(corner, self.low), np.minimum(corner + self.cell_m, self.high)
        )

    def plan(
        self,
        now: float,
        where: np.ndarray,
        free: np.ndarray,
        idle_since: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which of the idle drivers (positions into ``where``) move, and to which points.

        ``where`` is each idle driver's position, or its target when it already has one;
        only ``free`` drivers may be given a new target.
        """
        none = np.zeros(0, dtype=np.int64), np.zeros((0, 2))
        if not free.any():
            return none
        expected = self.expected(now)
        if not expected.any():
            return none
        driver_cell = self.cell_of(where)
        supply = np.bincount(driver_cell, minlength=self.n_cells)
        balance = supply - apportion(len(where), expected)

        # Surplus cells give up their longest-idle free drivers, at most their surplus each.
        candidates = np.flatnonzero(free & (balance[driver_cell] > 0))
        candidates = candidates[np.lexsort((idle_since[candidates], driver_cell[candidates]))]
        cells = driver_cell[candidates]
        movers = candidates[_rank_in_groups(cells) < balance[cells]]
        short = np.clip(-balance, 0, None)
        if not movers.size or not short.any():
            return none
        slot_cell = np.repeat(np.arange(self.n_cells), short)
        slot_rank = _rank_in_groups(slot_cell)
        slot_xy = self.staging_points(now, slot_cell, rng)

        if movers.size > BALANCE_MAX_PAIRS_SIDE:
            movers = movers[np.argsort(idle_since[movers], kind="stable")[:BALANCE_MAX_PAIRS_SIDE]]
        if slot_xy.shape[0] > BALANCE_MAX_PAIRS_SIDE:
            # Covering every short cell comes before a second driver for any of them.
            keep = np.argsort(slot_rank, kind="stable")[:BALANCE_MAX_PAIRS_SIDE]
            slot_xy = slot_xy[keep]
        gap = where[movers][:, None, :] - slot_xy[None, :, :]
        rows, cols = linear_sum_assignment(np.hypot(gap[..., 0], gap[..., 1]))
        return movers[rows], slot_xy[cols]


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights`` by largest remainders (sums to ``total``)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(weights.shape, dtype=np.int64)
    share = weights * (total / weights.sum())
    counts = np.floor(share).astype(np.int64)
    left = total - int(counts.sum())
    if left > 0:
        counts[np.argsort(counts - share, kind="stable")[:left]] += 1
    return counts


def _rank_in_groups(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of the sorted array ``keys``."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    index = np.arange(keys.size)
    new = np.concatenate(([True], keys[1:] != keys[:-1]))
    return index - np.maximum.accumulate(np.where(new, index, 0))
