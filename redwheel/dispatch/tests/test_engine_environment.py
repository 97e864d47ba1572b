"""Idle policies, hourly speeds and online sessions in the simulator."""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redwheel.dispatch.engine import (
    IDLE_POLICIES,
    BoundingBox,
    Fleet,
    RuleSet,
    Sessions,
    SimulationConfig,
    demand_following_fleet,
    simulate,
    speed_profile_from_trips,
    synthetic_fleet,
    synthetic_orders,
)
from redwheel.dispatch.engine.environment import IdleEnvironment

TOWN = BoundingBox.around(113.26, 23.13, 8.0, 8.0)
RULES = RuleSet(name="b", max_pickup_m=2500.0, score_weight=1.0, bonus_cap_m=800.0)
STATIONS = {"stations_lng": (113.25, 113.27), "stations_lat": (23.12, 23.14)}


def _config(policy: str) -> SimulationConfig:
    extra = STATIONS if policy == "station" else {}
    return SimulationConfig(idle_policy=policy, **extra)


def test_stay_reproduces_the_recorded_results():
    # Recorded from the simulator before idle policies and sessions existed.
    orders = synthetic_orders(3000, TOWN, seed=7)
    fleet = synthetic_fleet(80, TOWN, seed=7)
    # With the passenger patience and kerb time of then, not today's defaults.
    recorded = SimulationConfig(pickup_patience_s=480.0, boarding_s=0.0)
    result = simulate(RULES, orders, fleet, seed=3, config=recorded)
    m = result.metrics
    assert m["served"] == 1657
    assert m["windows_solved"] == 33281
    assert m["income_gini"] == pytest.approx(0.2640477000721322, rel=1e-12)
    assert m["mean_pickup_m"] == pytest.approx(1405.5818757682603, rel=1e-12)
    assert m["mean_wait_s"] == pytest.approx(262.86402127071625, rel=1e-12)
    assert result.driver_income.sum() == pytest.approx(33029.217263319195, rel=1e-12)
    assert result.driver_online_s.sum() == pytest.approx(2220327.3291573687, rel=1e-12)
    assert np.bincount(result.order_status).tolist() == [0, 1657, 1191, 152]


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="stay, cruise, demand, station, balance, observed"):
        SimulationConfig(idle_policy="wander")
    with pytest.raises(ValueError, match="station"):
        SimulationConfig(idle_policy="station")
    with pytest.raises(ValueError, match="24"):
        SimulationConfig(speed_profile_kmh=(30.0,) * 23)
    assert IDLE_POLICIES == ("stay", "cruise", "demand", "station", "balance", "observed")


@pytest.fixture(scope="module")
def small_day():
    orders = synthetic_orders(1500, TOWN, seed=4)
    return orders, demand_following_fleet(orders, 40, seed=4)


@pytest.mark.parametrize("policy", IDLE_POLICIES)
def test_same_seed_same_metrics_for_every_policy(small_day, policy):
    orders, fleet = small_day
    first = simulate(RULES, orders, fleet, seed=2, config=_config(policy))
    second = simulate(RULES, orders, fleet, seed=2, config=_config(policy))
    assert first.metrics == second.metrics
    assert first.metrics["served"] > 0


def test_repositioning_changes_results(small_day):
    orders, fleet = small_day
    stay = simulate(RULES, orders, fleet, seed=2).metrics
    demand = simulate(RULES, orders, fleet, seed=2, config=_config("demand")).metrics
    assert demand != stay


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(["cruise", "demand", "station", "balance", "observed"]),
    seed=st.integers(0, 1000),
    busy_share=st.floats(0.0, 1.0),
)
def test_reposition_moves_only_idle_drivers_and_stays_in_the_box(policy, seed, busy_share):
    rng = np.random.default_rng(seed)
    n = 50
    xy = rng.uniform(-3000.0, 3000.0, size=(n, 2))
    order_time = np.sort(rng.uniform(0.0, 3600.0, 200))
    origin = rng.uniform(-3000.0, 3000.0, size=(200, 2))
    env = IdleEnvironment(
        policy,
        seed=seed,
        box_min=np.array([-3000.0, -3000.0]),
        box_max=np.array([3000.0, 3000.0]),
        hourly_mps=np.full(24, 10.0),
        n_drivers=n,
        order_time=order_time,
        origin_xy=origin,
        stations_xy=np.array([[9000.0, 0.0], [0.0, -100.0]]),
        demand_idle_s=0.0,
    )
    busy = rng.random(n) < busy_share
    idle = np.flatnonzero(~busy)
    for step in range(10):
        before = xy.copy()
        env.step(60.0 * step, xy, idle, np.zeros(n))
        np.testing.assert_array_equal(xy[busy], before[busy])
        assert (xy >= -4000.0 - 1e-6).all() and (xy <= 4000.0 + 1e-6).all()
        assert (np.hypot(*(xy - before).T) <= 600.0 + 1e-6).all()


def test_sessions_bound_when_drivers_are_offered_orders():
    orders = synthetic_orders(1500, TOWN, seed=5)
    n = 30
    base = synthetic_fleet(n, TOWN, seed=5)
    driver = np.repeat(np.arange(n), 2)
    start = np.tile([7 * 3600.0, 17 * 3600.0], n)
    end = start + 2 * 3600.0
    fleet = dataclasses.replace(
        base,
        online_start_s=np.full(n, 7 * 3600.0),
        online_end_s=np.full(n, 19 * 3600.0),
        sessions=Sessions(driver, start, end),
    )
    result = simulate(RULES, orders, fleet, seed=1)
    envelope = simulate(RULES, orders, dataclasses.replace(fleet, sessions=None), seed=1)
    assert 0 < result.metrics["served"] < envelope.metrics["served"]
    # Served order times: every one must have been placed while some session was open (the
    # match follows within the passenger's patience, at most 270 s).
    served = result.order_status == 1
    t = orders.time_s[served]
    inside = ((t >= 7 * 3600 - 300) & (t < 9 * 3600)) | ((t >= 17 * 3600 - 300) & (t < 19 * 3600))
    assert inside.all()
    online = result.driver_online_s
    assert (online >= 4 * 3600.0 - 1e-6).all() and (online < 4 * 3600.0 + 2 * 3600.0).all()


def test_sessions_are_validated_and_merged():
    with pytest.raises(ValueError, match="end before"):
        Sessions(np.array([0]), np.array([10.0]), np.array([5.0]))
    fleet = synthetic_fleet(3, TOWN, seed=1)
    with pytest.raises(ValueError, match="out of range"):
        dataclasses.replace(fleet, sessions=Sessions(np.array([3]), np.zeros(1), np.ones(1)))
    merged = Sessions(
        np.array([1, 0, 1, 1]),
        np.array([0.0, 5.0, 50.0, 10.0]),
        np.array([20.0, 6.0, 60.0, 30.0]),
    ).merged()
    assert merged.driver.tolist() == [0, 1, 1]
    assert merged.start_s.tolist() == [5.0, 0.0, 50.0]
    assert merged.end_s.tolist() == [6.0, 30.0, 60.0]
    assert isinstance(fleet, Fleet)


def test_speed_profile_from_trips_uses_medians_and_falls_back():
    hour = np.r_[np.full(30, 8), np.full(5, 9), [10, 10]]
    distance = np.r_[np.full(30, 1000.0), np.full(5, 5000.0), [0.0, 1000.0]]
    duration = np.r_[np.full(30, 360.0), np.full(5, 600.0), [60.0, 0.01]]
    profile = speed_profile_from_trips(hour, distance, duration)
    assert len(profile) == 24
    assert profile[8] == pytest.approx(10.0)
    # 30 trips at 10 km/h and 5 at 30 km/h: the overall median is 10 km/h.
    assert profile[9] == pytest.approx(10.0) and profile[3] == pytest.approx(10.0)
    with pytest.raises(ValueError):
        speed_profile_from_trips(np.array([1]), np.array([0.0]), np.array([1.0]))


def test_slower_hours_make_longer_waits():
    orders = synthetic_orders(1500, TOWN, seed=6)
    fleet = synthetic_fleet(40, TOWN, seed=6)
    fast = simulate(RULES, orders, fleet, seed=1).metrics
    slow_profile = SimulationConfig(speed_profile_kmh=(15.0,) * 24)
    slow = simulate(RULES, orders, fleet, seed=1, config=slow_profile).metrics
    assert slow["mean_wait_s"] > fast["mean_wait_s"]


def test_observed_idle_spells_cruise_as_often_as_drivers_were_seen_to():
    # Millard-Ball et al. (2023): 23 % of between-trip spells cruising, the rest repositioning
    # (63 %) or parked (14 %). With repositioning held back (idle for less than demand_idle_s),
    # only the cruisers move.
    n = 20_000
    rng = np.random.default_rng(0)
    xy = rng.uniform(-3000.0, 3000.0, size=(n, 2))
    env = IdleEnvironment(
        "observed",
        seed=1,
        box_min=np.array([-3000.0, -3000.0]),
        box_max=np.array([3000.0, 3000.0]),
        hourly_mps=np.full(24, 10.0),
        n_drivers=n,
        order_time=np.sort(rng.uniform(0.0, 3600.0, 500)),
        origin_xy=rng.uniform(-3000.0, 3000.0, size=(500, 2)),
        stations_xy=None,
        demand_idle_s=1e9,
    )
    everyone = np.arange(n)

    def movers(now):
        before = xy.copy()
        env.step(now, xy, everyone, np.zeros(n))
        return np.hypot(*(xy - before).T) > 0

    env.step(0.0, xy, everyone, np.zeros(n))
    first = movers(60.0)
    assert first.mean() == pytest.approx(0.23, abs=0.01)
    assert (movers(120.0) == first).all()  # a spell keeps its behaviour
    env.forget_targets(everyone)  # every driver took a trip: new spells
    second = movers(180.0)
    assert second.mean() == pytest.approx(0.23, abs=0.01)
    # Drawn afresh: a cruiser's next spell cruises again with its own probability only.
    assert (first & second).sum() / first.sum() == pytest.approx(0.23, abs=0.03)
