"""Replay an order stream against a fleet, one matching window at a time.

Drivers move in straight lines (times a detour factor) at a constant speed, and after a trip wait
idle at its destination. Passengers give up if nobody is matched within their patience, or if the
predicted pickup takes longer than they will wait. The only randomness is each passenger's
patience, drawn from ``seed``, so runs with the same seed differ only by their rule sets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .demand import Fleet, Orders
from .environment import (
    BALANCE_FORECASTS,
    IDLE_POLICIES,
    IdleEnvironment,
    hourly_speed_mps,
    speed_at,
    spread_centroids,
)
from .fatigue import FatigueTracker
from .geo import LocalProjection
from .matcher import DriverPool, OrderBatch, match_window
from .metrics import (
    CANCELLED_LONG_PICKUP,
    CANCELLED_UNMATCHED,
    OPEN,
    SERVED,
    compute_metrics,
    income_losers,
    phase_metrics,
)
from .rules import RuleSet

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class SimulationConfig:
    speed_kmh: float = 30.0
    detour_factor: float = 1.3
    # Mean patience; each passenger's is drawn uniformly within +/- patience_spread of it.
    match_patience_s: float = 180.0
    # 15 minutes, so that even the least patient (7.5 min) outwait the longest average waits of
    # markets that kept their riders (6.3 min in London in 2013, 5.8 min in Toronto in July 2021).
    pickup_patience_s: float = 900.0
    patience_spread: float = 0.5
    fare_base: float = 8.0
    fare_per_km: float = 2.0
    fare_per_min: float = 0.4
    bonus_sample_size: int = 2000
    losers_count: int = 10
    # What idle drivers do; see environment.py for the policies.
    idle_policy: str = "stay"
    reposition_every_s: float = 60.0
    demand_idle_s: float = 120.0
    stations_lng: tuple[float, ...] = ()
    stations_lat: tuple[float, ...] = ()
    # 24 km/h values by hour of day; None means speed_kmh all day.
    speed_profile_kmh: tuple[float, ...] | None = None
    # Spread trip ends given as area centroids (0 = off); see environment.spread_centroids.
    centroid_spread: float = 0.0
    # How `balance` forecasts demand; see environment.Rebalancer.
    balance_forecast: str = "profile"
    # Seconds between a match and the driver setting off (accepting, turning round); part of the
    # passenger's wait and of the driver's busy time. 0: off.
    response_s: float = 0.0
    # Seconds from the driver's arrival to the passenger aboard (at the kerb): part of the
    # driver's busy time and of phase 2, as published phase figures count it, but not of the
    # passenger's wait, which ends when the driver arrives. 0: off. One minute, as Henao
    # (2013) logged ("wait for passenger") and Toronto's phase 2 includes.
    boarding_s: float = 60.0

    def __post_init__(self) -> None:
        if self.balance_forecast not in BALANCE_FORECASTS:
            raise ValueError(f"balance_forecast must be one of: {', '.join(BALANCE_FORECASTS)}")
        if self.response_s < 0:
            raise ValueError("response_s must be >= 0")
        if self.boarding_s < 0:
            raise ValueError("boarding_s must be >= 0")
        if self.centroid_spread < 0:
            raise ValueError("centroid_spread must be >= 0")
        if self.idle_policy not in IDLE_POLICIES:
            raise ValueError(f"idle_policy must be one of: {', '.join(IDLE_POLICIES)}")
        if self.reposition_every_s <= 0:
            raise ValueError("reposition_every_s must be positive")
        if len(self.stations_lng) != len(self.stations_lat):
            raise ValueError("stations_lng and stations_lat must have the same length")
        if self.idle_policy == "station" and not self.stations_lng:
            raise ValueError("idle_policy 'station' needs stations_lng/stations_lat")
        profile = self.speed_profile_kmh
        if profile is not None and (len(profile) != 24 or min(profile) <= 0):
            raise ValueError("speed_profile_kmh needs 24 positive values, one per hour")
        if self.speed_kmh <= 0:
            raise ValueError("speed_kmh must be positive")

    @property
    def speed_mps(self) -> float:
        return self.speed_kmh / 3.6


@dataclass
class SimulationResult:
    rule_set: RuleSet
    seed: int
    metrics: dict[str, Any]
    driver_ids: np.ndarray
    driver_income: np.ndarray
    driver_busy_s: np.ndarray
    driver_online_s: np.ndarray
    driver_trips: np.ndarray
    driver_score: np.ndarray
    driver_is_party_member: np.ndarray
    order_status: np.ndarray  # per input order: metrics.SERVED / CANCELLED_*
    wait_s: np.ndarray  # served orders: match wait + pickup time
    bonus_distance_sample: np.ndarray  # (n, 2): bonus_m, pickup_m of sampled served orders
    windows_solved: int
    runtime_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_set": self.rule_set.to_dict(),
            "seed": self.seed,
            "metrics": self.metrics,
            "windows_solved": self.windows_solved,
            "runtime_s": self.runtime_s,
        }


@dataclass
class Comparison:
    results: list[SimulationResult]
    losers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.results[0].rule_set.name if self.results else None,
            "results": [r.to_dict() for r in self.results],
            "losers": self.losers,
        }


def simulate(
    rule_set: RuleSet,
    orders: Orders,
    fleet: Fleet,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    config: SimulationConfig = SimulationConfig(),
) -> SimulationResult:
    """Run one simulated day; ``progress`` receives the completed fraction (0-1) now and then."""
    started = time.perf_counter()
    n_orders, n_drivers = len(orders), len(fleet)
    by_time = np.argsort(orders.time_s, kind="stable")
    order_time = orders.time_s[by_time]
    projection = LocalProjection.around(
        np.concatenate((orders.origin_lng, orders.dest_lng, fleet.lng)),
        np.concatenate((orders.origin_lat, orders.dest_lat, fleet.lat)),
    )
    origin_xy = projection.to_xy(orders.origin_lng[by_time], orders.origin_lat[by_time])
    dest_xy = projection.to_xy(orders.dest_lng[by_time], orders.dest_lat[by_time])
    origin_xy, dest_xy = spread_centroids(origin_xy, dest_xy, config.centroid_spread, seed)
    required = orders.required_vehicle_type
    if required is not None:
        required = required[by_time]

    ride_m = np.hypot(*(dest_xy - origin_xy).T) * config.detour_factor
    hourly_mps = hourly_speed_mps(config.speed_kmh, config.speed_profile_kmh)

    rng = np.random.default_rng(seed)
    low, high = 1.0 - config.patience_spread, 1.0 + config.patience_spread
    match_patience = config.match_patience_s * rng.uniform(low, high, n_orders)
    pickup_patience = config.pickup_patience_s * rng.uniform(low, high, n_orders)

    status = np.full(n_orders, OPEN, dtype=np.int8)
    wait = np.zeros(n_orders)
    pickup_m = np.zeros(n_orders)
    bonus_m = np.zeros(n_orders)
    served_by = np.full(n_orders, -1, dtype=np.int64)

    # Per served order, for the per-driver totals added up after the loop.
    ride_s_of = np.zeros(n_orders)
    pickup_s_of = np.zeros(n_orders)
    busy_s_of = np.zeros(n_orders)
    trip_end_of = np.zeros(n_orders)
    matched_in = np.zeros(n_orders, dtype=np.int64)

    driver_xy = projection.to_xy(fleet.lng, fleet.lat)
    busy_until = np.full(n_drivers, -np.inf)
    fatigue = FatigueTracker(n_drivers, rule_set.fatigue)
    online = _OnlineClock(fleet)
    # Earliest time each driver may take an order: the end of their trip, of a fatigue rest and,
    # with plain online windows, the start of their shift. Kept up to date when drivers are
    # matched, so a window's availability is one comparison instead of three masks.
    shift_start = fleet.online_start_s if fleet.sessions is None else None
    ready_at = np.full(n_drivers, -np.inf)
    if shift_start is not None:
        ready_at = np.maximum(ready_at, shift_start)
    stations_xy = None
    if config.stations_lng:
        stations_xy = projection.to_xy(np.array(config.stations_lng), np.array(config.stations_lat))
    both = np.concatenate((origin_xy, dest_xy)) if n_orders else np.zeros((1, 2))
    environment = IdleEnvironment(
        config.idle_policy,
        seed=seed,
        box_min=both.min(axis=0),
        box_max=both.max(axis=0),
        hourly_mps=hourly_mps,
        n_drivers=n_drivers,
        order_time=order_time,
        origin_xy=origin_xy,
        stations_xy=stations_xy,
        demand_idle_s=config.demand_idle_s,
        balance_forecast=config.balance_forecast,
    )
    next_reposition = -np.inf

    window_s = rule_set.window_s
    # Orders placed during (t - window_s, t] are first matched in the window closing at t.
    order_window = np.ceil(order_time / window_s).astype(np.int64)
    last_window = int(order_window[-1]) if n_orders else 0
    open_orders = np.zeros(0, dtype=np.int64)
    next_order = 0
    window = 0
    windows_solved = 0
    next_report = 0.0

    while next_order < n_orders or open_orders.size:
        if not open_orders.size:
            window = max(window, int(order_window[next_order]))  # skip empty windows
        now = window * window_s
        arrived = int(np.searchsorted(order_window, window, side="right"))
        if arrived > next_order:
            open_orders = np.concatenate((open_orders, np.arange(next_order, arrived)))
            next_order = arrived

        gave_up = now - order_time[open_orders] > match_patience[open_orders]
        if gave_up.any():
            status[open_orders[gave_up]] = CANCELLED_UNMATCHED
            open_orders = open_orders[~gave_up]

        if environment.moves and now >= next_reposition:
            idle = np.flatnonzero(online.at(now) & (busy_until <= now))
            environment.step(now, driver_xy, idle, np.maximum(busy_until, online.since))
            next_reposition = now + config.reposition_every_s
        if open_orders.size:
            if shift_start is None:
                available = np.flatnonzero(online.at(now) & (ready_at <= now))
            else:
                available = np.flatnonzero((ready_at <= now) & (fleet.online_end_s > now))
            if available.size:
                windows_solved += 1
                result = match_window(
                    OrderBatch(
                        open_orders,
                        origin_xy[open_orders],
                        None if required is None else required[open_orders],
                    ),
                    DriverPool(
                        available,
                        driver_xy[available],
                        fleet.score[available],
                        vehicle_type=None
                        if fleet.vehicle_type is None
                        else fleet.vehicle_type[available],
                    ),
                    rule_set,
                )
                matched = result.assigned
                matched_orders = open_orders[matched]
                drivers = available[result.driver_for_order[matched]]
                speed_now = hourly_mps[int(now // 3600.0) % 24]
                pickup_s = config.response_s + (
                    result.pickup_m[matched] * config.detour_factor / speed_now
                )
                accepted = pickup_s <= pickup_patience[matched_orders]
                status[matched_orders[~accepted]] = CANCELLED_LONG_PICKUP

                o, d = matched_orders[accepted], drivers[accepted]
                pickup_s = pickup_s[accepted]
                aboard = now + pickup_s + config.boarding_s
                ride_s = ride_m[o] / speed_at(hourly_mps, aboard)
                trip_end = aboard + ride_s
                status[o] = SERVED
                wait[o] = now - order_time[o] + pickup_s
                pickup_m[o] = result.pickup_m[matched][accepted]
                bonus_m[o] = result.bonus_m[matched][accepted]
                served_by[o] = d
                ride_s_of[o] = ride_s
                pickup_s_of[o] = pickup_s + config.boarding_s
                busy_s_of[o] = trip_end - now
                trip_end_of[o] = trip_end
                matched_in[o] = window
                busy_until[d] = trip_end
                online.record_trip_end(d, trip_end)
                environment.forget_targets(d)
                driver_xy[d] = dest_xy[o]  # idle there once the trip ends
                fatigue.record_drive(d, now, trip_end)
                ready_at[d] = np.maximum(trip_end, fatigue.eligible_from[d])
                if shift_start is not None:
                    ready_at[d] = np.maximum(ready_at[d], shift_start[d])
                open_orders = open_orders[~matched]

        window += 1
        if progress is not None and window >= next_report * last_window:
            progress(min(window / max(last_window, 1), 1.0))
            next_report += 0.01
    if progress is not None:
        progress(1.0)

    served = status == SERVED
    income, busy_s, trips, last_trip_end = _driver_totals(
        n_drivers, served_by, served, matched_in, ride_m, ride_s_of, busy_s_of, trip_end_of, config
    )
    # A trip may run past the end of a shift; that overtime counts as online.
    online_s = online.online_s(last_trip_end)
    metrics = compute_metrics(
        order_status=status,
        wait_s=wait[served],
        pickup_m=pickup_m[served],
        bonus_m=bonus_m[served],
        served_driver=served_by[served],
        driver_income=income,
        driver_busy_s=busy_s,
        driver_online_s=online_s,
        driver_score=fleet.score,
        driver_is_party_member=fleet.is_party_member,
    )
    metrics.update(
        phase_metrics(
            online_s=float(online_s.sum()),
            pickup_s=float(pickup_s_of[served].sum()),
            ride_s=float(ride_s_of[served].sum()),
            idle_road_m=float(environment.idle_moved_m.sum()) * config.detour_factor,
            pickup_road_m=float(pickup_m[served].sum()) * config.detour_factor,
            ride_road_m=float(ride_m[served].sum()),
        )
    )
    metrics["windows_solved"] = windows_solved
    served_index = np.flatnonzero(served)
    sample_size = min(config.bonus_sample_size, served_index.size)
    sample = np.sort(rng.choice(served_index, size=sample_size, replace=False))
    original_status = np.empty_like(status)
    original_status[by_time] = status
    return SimulationResult(
        rule_set=rule_set,
        seed=seed,
        metrics=metrics,
        driver_ids=fleet.ids,
        driver_income=income,
        driver_busy_s=busy_s,
        driver_online_s=online_s,
        driver_trips=trips,
        driver_score=fleet.score,
        driver_is_party_member=fleet.is_party_member,
        order_status=original_status,
        wait_s=wait[served],
        bonus_distance_sample=np.column_stack((bonus_m[sample], pickup_m[sample])),
        windows_solved=windows_solved,
        runtime_s=time.perf_counter() - started,
    )


def compare(
    rule_sets: Sequence[RuleSet],
    orders: Orders,
    fleet: Fleet,
    seed: int = 0,
    config: SimulationConfig = SimulationConfig(),
    progress: ProgressCallback | None = None,
) -> Comparison:
    """Simulate every rule set on the same day; losers are measured against the first set.

    Pass ``[rules.without_bonus(), rules]`` to measure what a score bonus costs individual
    drivers.
    """
    if not rule_sets:
        raise ValueError("compare needs at least one rule set")
    names = [r.name for r in rule_sets]
    if len(set(names)) != len(names):
        raise ValueError("rule sets being compared need distinct names")
    results = []
    for i, rule_set in enumerate(rule_sets):
        step = None
        if progress is not None:
            step = _scaled_progress(progress, i, len(rule_sets))
        results.append(simulate(rule_set, orders, fleet, seed, progress=step, config=config))
    losers = {
        r.rule_set.name: income_losers(results[0], r, config.losers_count) for r in results[1:]
    }
    return Comparison(results, losers)


def _driver_totals(
    n_drivers: int,
    served_by: np.ndarray,
    served: np.ndarray,
    matched_in: np.ndarray,
    ride_m: np.ndarray,
    ride_s: np.ndarray,
    busy_s_of: np.ndarray,
    trip_end: np.ndarray,
    config: SimulationConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Income, busy time, trips and last trip end of every driver, from their served orders.

    Each driver's trips are added in the order they were matched, the order in which the loop
    used to add them one window at a time, so the sums are the same to the last bit.
    """
    orders = np.flatnonzero(served)
    orders = orders[np.argsort(matched_in[orders], kind="stable")]
    drivers = served_by[orders]
    fare = (
        config.fare_base
        + config.fare_per_km * ride_m[orders] / 1000
        + config.fare_per_min * ride_s[orders] / 60
    )
    income = np.zeros(n_drivers)
    np.add.at(income, drivers, fare)
    busy_s = np.zeros(n_drivers)
    np.add.at(busy_s, drivers, busy_s_of[orders])
    last_trip_end = np.full(n_drivers, -np.inf)
    np.maximum.at(last_trip_end, drivers, trip_end[orders])
    trips = np.bincount(drivers, minlength=n_drivers).astype(np.int64)
    return income, busy_s, trips, last_trip_end


def _scaled_progress(progress: ProgressCallback, index: int, total: int) -> ProgressCallback:
    return lambda fraction: progress((index + fraction) / total)


class _OnlineClock:
    """Who is online at a time that only moves forward, from the fleet's windows or sessions."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        n = len(fleet)
        self.since = np.array(fleet.online_start_s, dtype=float)
        self.overtime_s = np.zeros(n)
        if fleet.sessions is None:
            self.sessions = None
            return
        sessions = fleet.sessions.merged()
        self.sessions = sessions
        driver = sessions.driver
        next_start = np.full(driver.size, np.inf)
        same = driver[1:] == driver[:-1]
        next_start[:-1][same] = sessions.start_s[1:][same]
        # Starts sort before ends at equal times so a zero-length session leaves no one online.
        times = np.concatenate((sessions.start_s, sessions.end_s))
        kind = np.concatenate((np.zeros(driver.size), np.ones(driver.size)))
        order = np.lexsort((kind, times))
        self.event_time = times[order]
        self.event_session = np.concatenate((np.arange(driver.size),) * 2)[order]
        self.event_is_start = kind[order] == 0
        self.next_event = 0
        self.online = np.zeros(n, dtype=bool)
        self.session_end = np.full(n, np.inf)
        self.next_start = np.full(n, np.inf)
        self.next_start_of_session = next_start

    def at(self, now: float) -> np.ndarray:
        fleet = self.fleet
        if self.sessions is None:
            return (fleet.online_start_s <= now) & (now < fleet.online_end_s)
        last = int(np.searchsorted(self.event_time, now, side="right"))
        if last > self.next_event:
            events = slice(self.next_event, last)
            session = self.event_session[events]
            starts = self.event_is_start[events]
            driver = self.sessions.driver[session]
            # Applied in time order; a driver's merged sessions never share an instant.
            for d, s, is_start in zip(driver, session, starts, strict=True):
                self.online[d] = is_start
                if is_start:
                    self.session_end[d] = self.sessions.end_s[s]
                    self.next_start[d] = self.next_start_of_session[s]
                    self.since[d] = self.sessions.start_s[s]
            self.next_event = last
        return self.online

    def record_trip_end(self, drivers: np.ndarray, trip_end: np.ndarray) -> None:
        if self.sessions is None:
            return
        # Only a session's last trip can run past its end; overtime stops at the next session.
        past = np.minimum(trip_end, self.next_start[drivers]) - self.session_end[drivers]
        self.overtime_s[drivers] += np.clip(past, 0.0, None)

    def online_s(self, last_trip_end: np.ndarray) -> np.ndarray:
        fleet = self.fleet
        if self.sessions is None:
            # A trip may run past the end of a shift; that overtime counts as online.
            return np.maximum(fleet.online_end_s, last_trip_end) - fleet.online_start_s
        total = np.zeros(len(fleet))
        np.add.at(total, self.sessions.driver, self.sessions.end_s - self.sessions.start_s)
        return total + self.overtime_s
