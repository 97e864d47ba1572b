"""Pinned headline metrics of two small simulated days.

The expected values were recorded from the simulator before its speed work (issue 16) and must
not move when the engine is made faster: any change to them is a change of behaviour, not of
speed. The inputs are built here from a seeded generator rather than with ``synthetic_orders``,
so changes to the synthetic city do not move these numbers either. To re-pin after a deliberate
behaviour change, print ``PINNED_KEYS`` of each run and say why in the commit.
"""

import numpy as np
import pytest

from redwheel.dispatch.engine import (
    FatigueRules,
    Fleet,
    Orders,
    RuleSet,
    Sessions,
    SimulationConfig,
    simulate,
)

# The passenger patience and kerb time the values were recorded with (the defaults then).
RECORDED = {"pickup_patience_s": 480.0, "boarding_s": 0.0}
DAY_S = 7200.0  # two busy hours are enough to exercise every path of the window loop
CENTRE = (113.26, 23.13)
PINNED_KEYS = (
    "served",
    "windows_solved",
    "unserved_pct",
    "cancelled_unmatched_pct",
    "cancelled_long_pickup_pct",
    "mean_wait_s",
    "p90_wait_s",
    "mean_pickup_m",
    "mean_bonus_m",
    "driver_utilisation",
    "income_per_driver",
    "income_gini",
    "top_quintile_order_share_pct",
)


def _lnglat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    metres_per_degree = 111_195.0
    lng = CENTRE[0] + xy[:, 0] / (metres_per_degree * np.cos(np.radians(CENTRE[1])))
    return lng, CENTRE[1] + xy[:, 1] / metres_per_degree


def town(n_orders: int, n_drivers: int, seed: int, *, vehicle_types: bool = False):
    """Orders around three hotspots of a 10 km town; every second driver shares a spot."""
    rng = np.random.default_rng(seed)
    spots = np.array([[-2500.0, 1000.0], [1500.0, -1500.0], [3000.0, 2500.0]])
    hot = rng.random(n_orders) < 0.7
    origin = rng.uniform(-5000.0, 5000.0, (n_orders, 2))
    origin[hot] = spots[rng.integers(0, 3, hot.sum())] + rng.normal(0.0, 700.0, (hot.sum(), 2))
    dest = rng.uniform(-5000.0, 5000.0, (n_orders, 2))
    o_lng, o_lat = _lnglat(origin)
    d_lng, d_lat = _lnglat(dest)
    required = None
    if vehicle_types:
        required = np.where(rng.random(n_orders) < 0.15, "comfort", "").astype(object)
    orders = Orders(
        ids=np.arange(n_orders),
        time_s=np.sort(rng.uniform(0.0, DAY_S, n_orders)),
        origin_lng=o_lng,
        origin_lat=o_lat,
        dest_lng=d_lng,
        dest_lat=d_lat,
        required_vehicle_type=required,
    )
    # Drivers sharing a position give equal pickup distances, the case where tie-breaking
    # between candidates could change an outcome.
    xy = np.repeat(rng.uniform(-5000.0, 5000.0, ((n_drivers + 1) // 2, 2)), 2, axis=0)[:n_drivers]
    lng, lat = _lnglat(xy)
    start = rng.uniform(0.0, 1800.0, n_drivers)
    fleet = Fleet(
        ids=np.arange(n_drivers),
        lng=lng,
        lat=lat,
        score=rng.uniform(0.0, 100.0, n_drivers),
        is_party_member=rng.random(n_drivers) < 0.3,
        online_start_s=start,
        online_end_s=np.minimum(start + rng.uniform(3600.0, 7200.0, n_drivers), DAY_S),
        vehicle_type=np.where(rng.random(n_drivers) < 0.25, "comfort", "").astype(object)
        if vehicle_types
        else None,
    )
    return orders, fleet


def with_sessions(fleet: Fleet) -> Fleet:
    """Each driver's window split in two sessions with a 15-minute break."""
    n = len(fleet)
    mid = (fleet.online_start_s + fleet.online_end_s) / 2
    sessions = Sessions(
        np.concatenate((np.arange(n), np.arange(n))),
        np.concatenate((fleet.online_start_s, mid + 900.0)),
        np.concatenate((mid, fleet.online_end_s)),
    )
    return Fleet(**{**fleet.__dict__, "sessions": sessions})


def headline(result) -> dict:
    return {key: result.metrics[key] for key in PINNED_KEYS}


def assert_pinned(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, int):
            assert actual[key] == value, key
        else:
            assert actual[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_demand_repositioning_with_bonus_fatigue_and_vehicle_types_is_pinned():
    orders, fleet = town(2000, 350, seed=21, vehicle_types=True)
    rules = RuleSet(
        name="bonus",
        score_weight=1.0,
        bonus_cap_m=600.0,
        max_pickup_m=2500.0,
        fatigue=FatigueRules(
            continuous_limit_s=1800.0,
            continuous_rest_s=300.0,
            daily_limit_s=3000.0,
            daily_rest_s=1200.0,
        ),
    )
    config = SimulationConfig(
        idle_policy="demand", demand_idle_s=60.0, reposition_every_s=30.0, **RECORDED
    )
    result = simulate(rules, orders, fleet, seed=4, config=config)
    assert_pinned(headline(result), DEMAND_EXPECTED)


def test_idle_drivers_staying_without_bonus_over_sessions_is_pinned():
    orders, fleet = town(2500, 300, seed=22)
    rules = RuleSet(name="zero", max_pickup_m=2000.0, k_candidates=4)
    result = simulate(
        rules, orders, with_sessions(fleet), seed=5, config=SimulationConfig(**RECORDED)
    )
    assert_pinned(headline(result), STAY_EXPECTED)


DEMAND_EXPECTED = {
    "served": 1520,
    "windows_solved": 2591,
    "unserved_pct": 24.0,
    "cancelled_unmatched_pct": 21.9,
    "cancelled_long_pickup_pct": 2.1,
    "mean_wait_s": 158.22884621237267,
    "p90_wait_s": 326.55227088621155,
    "mean_pickup_m": 887.1307072897059,
    "mean_bonus_m": 311.7485565752813,
    "driver_utilisation": 0.694630288418088,
    "income_per_driver": 111.06098281531447,
    "income_gini": 0.10648211730463242,
    "top_quintile_order_share_pct": 20.855263157894736,
}
STAY_EXPECTED = {
    "served": 1413,
    "windows_solved": 3598,
    "unserved_pct": 43.48,
    "cancelled_unmatched_pct": 42.04,
    "cancelled_long_pickup_pct": 1.44,
    "mean_wait_s": 209.4770175356495,
    "p90_wait_s": 326.29785901495245,
    "mean_pickup_m": 1028.2051398650708,
    "mean_bonus_m": 0.0,
    "driver_utilisation": 0.8607527316423931,
    "income_per_driver": 124.94613429981199,
    "income_gini": 0.17173358722172405,
    "top_quintile_order_share_pct": 18.400566171266806,
}
