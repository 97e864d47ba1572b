"""The `balance` idle policy (supply-demand rebalancing) and centroid spreading."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redwheel.dispatch.engine import RuleSet, SimulationConfig, simulate
from redwheel.dispatch.engine.demand import Fleet, Orders
from redwheel.dispatch.engine.environment import (
    BALANCE_CELL_M,
    BALANCE_JITTER,
    BOX_PADDING_M,
    IdleEnvironment,
    Rebalancer,
    apportion,
    spread_centroids,
)

BOX = np.array([-6000.0, -6000.0]), np.array([6000.0, 6000.0])


def _environment(order_time, origin, n_drivers, seed=0, demand_idle_s=0.0, forecast="profile"):
    return IdleEnvironment(
        "balance",
        seed=seed,
        box_min=BOX[0],
        box_max=BOX[1],
        hourly_mps=np.full(24, 10.0),
        n_drivers=n_drivers,
        order_time=np.asarray(order_time, dtype=float),
        origin_xy=np.asarray(origin, dtype=float),
        stations_xy=None,
        demand_idle_s=demand_idle_s,
        balance_forecast=forecast,
    )


def test_apportion_is_proportional_and_sums_to_the_total():
    # 2.5 / 2.5 / 5 / 0: the tied remainders go to the first cell.
    assert apportion(10, np.array([1, 1, 2, 0])).tolist() == [3, 2, 5, 0]
    assert apportion(4, np.array([30, 10, 0])).tolist() == [3, 1, 0]
    # A sparse area gets its driver once there are enough to go round.
    assert apportion(20, np.array([95, 5])).tolist() == [19, 1]
    assert apportion(0, np.array([3, 1])).tolist() == [0, 0]
    assert apportion(5, np.array([0, 0])).tolist() == [0, 0]


@pytest.mark.parametrize("forecast", ["profile", "actual"])
def test_idle_drivers_are_shared_out_by_expected_demand_sparse_cells_included(forecast):
    # Over two hours, 95 % of the orders downtown and 5 % at the "airport" 5 km away; all
    # 20 drivers start downtown.
    downtown, airport = np.array([0.0, 0.0]), np.array([5000.0, 0.0])
    time_downtown = np.arange(380) * 7200.0 / 380
    time_airport = 36.0 + np.arange(20) * 360.0
    order_time = np.concatenate((time_downtown, time_airport))
    origin = np.vstack([np.tile(downtown, (380, 1)), np.tile(airport, (20, 1))])
    by_time = np.argsort(order_time, kind="stable")
    order_time, origin = order_time[by_time], origin[by_time]
    n = 20
    xy = np.tile(downtown, (n, 1)) + np.arange(n)[:, None] * np.array([1.0, 0.0])
    env = _environment(order_time, origin, n, forecast=forecast)
    idle = np.arange(n)
    for minute in range(40):
        env.step(60.0 * minute, xy, idle, np.zeros(n))
    # The box runs from -7 km (padding included), so the airport's 2 km cell is x 5-7 km.
    at_airport = (xy[:, 0] >= 5000.0) & (np.abs(xy[:, 1]) <= 1000.0)
    assert at_airport.sum() == 1
    gap = np.hypot(*(xy[at_airport] - airport).T)[0]
    if forecast == "actual":
        assert gap < 1.0  # sent to a real pick-up point
    else:
        assert 1.0 < gap < 2000.0  # near the area's centre, not where a passenger stands
    # The other drivers stayed: the downtown cell held exactly its share.
    assert (np.hypot(*(xy[~at_airport] - downtown).T) < 100.0).all()


def test_a_driver_counts_for_the_cell_it_is_heading_for():
    origin = np.array([[0.0, 0.0], [9000.0, 0.0]])
    env = _environment([100.0, 200.0], origin, 4)
    xy = np.zeros((4, 2))
    idle = np.arange(4)
    env.step(0.0, xy, idle, np.zeros(4))
    sent = np.flatnonzero(env.has_target)
    # Two orders, one per cell: half of the four drivers head for the far cell.
    assert sent.size == 2
    # A minute later the far cell counts them, so nobody else is sent.
    env.step(60.0, xy, idle, np.zeros(4))
    assert np.flatnonzero(env.has_target).tolist() == sent.tolist()
    # 10 m/s for 60 s towards the far cell; the others never moved.
    np.testing.assert_allclose(np.hypot(*xy[sent].T), 600.0)
    assert (xy[sent, 0] > 500.0).all() and (xy[np.setdiff1d(idle, sent)] == 0).all()


def test_without_expected_orders_nobody_moves_and_recently_idle_drivers_wait():
    # The only order comes at 05:00, outside the 23:00-02:00 band around the first half hour.
    env = _environment([5 * 3600.0], [[4000.0, 0.0]], 3, demand_idle_s=120.0)
    xy = np.zeros((3, 2))
    env.step(0.0, xy, np.arange(3), np.zeros(3))
    assert (xy == 0).all()
    # A perfect forecast sees nothing either when the order is beyond its 30 minutes.
    env = _environment([5000.0], [[4000.0, 0.0]], 3, forecast="actual")
    env.step(0.0, xy, np.arange(3), np.zeros(3))
    assert (xy == 0).all()
    env = _environment([100.0], [[4000.0, 0.0]], 1, demand_idle_s=120.0)
    env.step(0.0, xy[:1], np.arange(1), np.zeros(1))
    assert (xy[:1] == 0).all()  # idle for 0 s < 120 s


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 60),
    busy_share=st.floats(0.0, 1.0),
    steps=st.integers(1, 12),
)
def test_balance_moves_only_idle_drivers_within_reach_and_inside_the_padded_box(
    seed, n, busy_share, steps
):
    rng = np.random.default_rng(seed)
    # Demand and drivers anywhere, including far outside the box: positions must come back in.
    origin = rng.uniform(-6000.0, 6000.0, size=(150, 2))
    order_time = np.sort(rng.uniform(0.0, 3600.0, 150))
    xy = rng.uniform(-9000.0, 9000.0, size=(n, 2))
    env = _environment(order_time, origin, n, seed=seed)
    busy = rng.random(n) < busy_share
    idle = np.flatnonzero(~busy)
    low, high = BOX[0] - BOX_PADDING_M, BOX[1] + BOX_PADDING_M
    for step in range(steps):
        before = xy.copy()
        env.step(60.0 * step, xy, idle, np.zeros(n))
        np.testing.assert_array_equal(xy[busy], before[busy])
        moved = np.flatnonzero(np.any(xy != before, axis=1))
        assert np.isin(moved, idle).all()
        inside = (xy[moved] >= low - 1e-6) & (xy[moved] <= high + 1e-6)
        assert inside.all()
        # 10 m/s for at most one 60 s step, plus the clip back into the box.
        clipped = np.clip(before[moved], low, high)
        assert (np.hypot(*(xy[moved] - clipped).T) <= 600.0 + 1e-6).all()


def test_balance_policy_runs_deterministically_in_the_simulator():
    rng = np.random.default_rng(3)
    n_orders, n_drivers = 600, 25
    lng = 113.26 + rng.normal(0, 0.02, n_orders)
    lat = 23.13 + rng.normal(0, 0.02, n_orders)
    orders = Orders(
        ids=np.arange(n_orders),
        time_s=np.sort(rng.uniform(0, 7200, n_orders)),
        origin_lng=lng,
        origin_lat=lat,
        # Every trip ends in a suburb 8 km east where nobody is picked up: staying strands
        # the drivers beyond the 2.5 km reach, rebalancing brings them back.
        dest_lng=np.roll(lng, 7) + 0.078,
        dest_lat=np.roll(lat, 7),
    )
    fleet = Fleet(
        ids=np.arange(n_drivers),
        lng=np.full(n_drivers, 113.26),
        lat=np.full(n_drivers, 23.13),
        score=np.full(n_drivers, 80.0),
        is_party_member=np.zeros(n_drivers, dtype=bool),
        online_start_s=np.zeros(n_drivers),
        online_end_s=np.full(n_drivers, 7200.0),
    )
    rules = RuleSet(name="r", max_pickup_m=2500.0)
    config = SimulationConfig(idle_policy="balance", speed_kmh=40.0)
    first = simulate(rules, orders, fleet, seed=4, config=config)
    second = simulate(rules, orders, fleet, seed=4, config=config)
    stay = simulate(rules, orders, fleet, seed=4, config=SimulationConfig(speed_kmh=40.0))
    assert first.metrics == second.metrics
    assert first.metrics["served"] > 1.5 * stay.metrics["served"]


def test_spread_centroids_moves_only_shared_points_within_their_disc():
    # Three centroids 1 km apart used by several trip ends each, and one unique point.
    origin = np.array([[0.0, 0.0]] * 50 + [[1000.0, 0.0]] * 50 + [[5000.0, 5000.0]])
    dest = np.array([[0.0, 1000.0]] * 101)
    o, d = spread_centroids(origin, dest, 0.5, seed=7)
    assert o[-1].tolist() == [5000.0, 5000.0]
    assert (np.hypot(*(o[:50] - [0.0, 0.0]).T) <= 500.0 + 1e-9).all()
    assert (np.hypot(*(d - [0.0, 1000.0]).T) <= 500.0 + 1e-9).all()
    # Spread, not collapsed: the points cover their disc.
    assert np.hypot(*(o[:50] - [0.0, 0.0]).T).max() > 250.0
    assert len(np.unique(o[:50], axis=0)) == 50
    o2, d2 = spread_centroids(origin, dest, 0.5, seed=7)
    np.testing.assert_array_equal(o, o2)
    np.testing.assert_array_equal(d, d2)
    same_o, _ = spread_centroids(origin, dest, 0.0, seed=7)
    np.testing.assert_array_equal(same_o, origin)
    with pytest.raises(ValueError):
        spread_centroids(origin, dest, -1.0, seed=7)
    with pytest.raises(ValueError, match="centroid_spread"):
        SimulationConfig(centroid_spread=-0.1)


def test_cell_size_is_a_few_blocks():
    # Coarse enough to count sparse areas, fine enough that a cell is reachable in minutes.
    assert 1000.0 <= BALANCE_CELL_M <= 3000.0


def test_the_profile_forecast_knows_the_hour_not_the_next_half_hour():
    # Both cells see 30 orders between 00:00 and 01:00, but the far cell's all come after 00:40,
    # beyond the first step's 30-minute horizon.
    near, far = np.array([0.0, 0.0]), np.array([5000.0, 0.0])
    order_time = np.concatenate((np.linspace(0.0, 3500.0, 30), np.linspace(2400.0, 3500.0, 30)))
    origin = np.vstack([np.tile(near, (30, 1)), np.tile(far, (30, 1))])
    by_time = np.argsort(order_time, kind="stable")
    order_time, origin = order_time[by_time], origin[by_time]
    sent = {}
    for forecast in ("profile", "actual"):
        env = _environment(order_time, origin, 4, forecast=forecast)
        env.step(0.0, np.zeros((4, 2)), np.arange(4), np.zeros(4))
        sent[forecast] = int(env.has_target.sum())
    assert sent == {"profile": 2, "actual": 0}


def test_staging_points_scatter_around_the_cells_demand_centre_inside_cell_and_box():
    rng = np.random.default_rng(5)
    low, high = np.array([0.0, 0.0]), np.array([10000.0, 5000.0])
    # The hour's pick-ups of one cell (x 2-4 km, y 0-2 km) are centred on (3000, 1000).
    origin = np.array([[2500.0, 500.0], [3500.0, 1500.0]] * 50 + [[9000.0, 4500.0]] * 10)
    order_time = np.sort(rng.uniform(0.0, 3600.0, len(origin)))
    rebalancer = Rebalancer(low, high, order_time, origin)
    cell = rebalancer.cell_of(np.array([[3000.0, 1000.0]]))[0]
    points = rebalancer.staging_points(0.0, np.full(4000, cell), np.random.default_rng(1))
    assert ((points >= [2000.0, 0.0]) & (points <= [4000.0, 2000.0])).all()
    np.testing.assert_allclose(points.mean(axis=0), [3000.0, 1000.0], atol=30.0)
    # A Gaussian of a quarter cell, somewhat narrowed by the clip at one cell's half-width.
    spread = points.std(axis=0)
    assert (spread > 0.8 * BALANCE_JITTER * BALANCE_CELL_M).all()
    assert (spread < BALANCE_JITTER * BALANCE_CELL_M).all()
    assert not (points[:, None, :] == origin[None, :, :]).all(axis=2).any()
    # The corner cell is cut by the box: its points stay inside the box.
    corner = rebalancer.cell_of(np.array([[9000.0, 4500.0]]))[0]
    points = rebalancer.staging_points(0.0, np.full(500, corner), np.random.default_rng(2))
    assert ((points >= [8000.0, 4000.0]) & (points <= high)).all()
    with pytest.raises(ValueError, match="forecast"):
        Rebalancer(low, high, order_time, origin, forecast="oracle")


def _one_trip(response_s):
    # One order 1 km north of the only driver, at a constant 36 km/h (10 m/s).
    orders = Orders(
        ids=np.arange(1),
        time_s=np.array([1.0]),
        origin_lng=np.array([113.26]),
        origin_lat=np.array([23.13 + 1000.0 / 111_195.0]),
        dest_lng=np.array([113.26]),
        dest_lat=np.array([23.13 + 3000.0 / 111_195.0]),
    )
    fleet = Fleet(
        ids=np.arange(1),
        lng=np.array([113.26]),
        lat=np.array([23.13]),
        score=np.array([80.0]),
        is_party_member=np.zeros(1, dtype=bool),
        online_start_s=np.zeros(1),
        online_end_s=np.full(1, 3600.0),
    )
    config = SimulationConfig(speed_kmh=36.0, detour_factor=1.0, response_s=response_s)
    return simulate(RuleSet(name="r"), orders, fleet, seed=0, config=config)


def test_a_driver_response_time_adds_to_the_wait_and_the_busy_time():
    plain, slow = _one_trip(0.0), _one_trip(25.0)
    # Placed at 1 s, matched in the window closing at 2 s, 1 km at 10 m/s, then 2 km aboard.
    assert plain.wait_s.tolist() == pytest.approx([1.0 + 100.0], abs=0.5)
    assert slow.wait_s.tolist() == pytest.approx([1.0 + 25.0 + 100.0], abs=0.5)
    assert slow.driver_busy_s[0] - plain.driver_busy_s[0] == pytest.approx(25.0)
    assert slow.metrics["mean_pickup_m"] == pytest.approx(plain.metrics["mean_pickup_m"])
    with pytest.raises(ValueError, match="response_s"):
        SimulationConfig(response_s=-1.0)
    with pytest.raises(ValueError, match="balance_forecast"):
        SimulationConfig(balance_forecast="oracle")
