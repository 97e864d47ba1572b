"""The simulation environment: travel speed by hour of day and what idle drivers do.

Idle policies (``SimulationConfig.idle_policy``):

* ``stay``: an idle driver waits where the last trip ended (the historical behaviour);
* ``cruise``: a correlated random walk at the hour's travel speed;
* ``demand``: a driver idle for ``demand_idle_s`` heads for the origin of an order placed in the
  next 15 minutes, chosen as the nearest of a few sampled origins, so busy areas nearby attract
  more drivers than busy areas across town; the target is kept until reached or matched;
* ``station``: an idle driver drives to the nearest of ``stations``.

Moves happen every ``reposition_every_s`` and cover at most the distance the hour's speed allows
in the time the driver has been idle during that step. Positions stay inside the demand's bounding
box padded by ``BOX_PADDING_M``. The environment draws from its own random stream, so choosing a
policy never changes the passengers' patience draws.
"""

from __future__ import annotations

import numpy as np

IDLE_POLICIES = ("stay", "cruise", "demand", "station")
DEMAND_HORIZON_S = 900.0
DEMAND_SAMPLES = 6
BOX_PADDING_M = 1000.0
_ENVIRONMENT_STREAM = 0x1D1E
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
        self.heading = self.rng.uniform(0.0, 2 * np.pi, n_drivers)
        self.target = np.zeros((n_drivers, 2))
        self.has_target = np.zeros(n_drivers, dtype=bool)
        self.last_step_s = -np.inf

    @property
    def moves(self) -> bool:
        return self.policy != "stay"

    def forget_targets(self, drivers: np.ndarray) -> None:
        """Matched drivers drop whatever they were heading for."""
        self.has_target[drivers] = False

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
        if self.policy == "cruise":
            self._cruise(xy, idle, reach)
        elif self.policy == "demand":
            self._toward_demand(now, xy, idle, idle_since, reach)
        else:
            self._toward(xy, idle, self._nearest_station(xy[idle]), reach)

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
