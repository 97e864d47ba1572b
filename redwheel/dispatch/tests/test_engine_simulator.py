"""Simulator: determinism, metric sanity and rule-set comparisons on a small town."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from redwheel.dispatch.engine import (
    BoundingBox,
    FatigueRules,
    Fleet,
    Orders,
    RuleSet,
    SimulationConfig,
    compare,
    format_comparison_table,
    gini,
    income_losers,
    simulate,
    synthetic_fleet,
    synthetic_orders,
)

TOWN = BoundingBox.around(113.26, 23.13, 8.0, 8.0)
BASELINE = RuleSet(name="baseline", max_pickup_m=2500.0)
BONUS = RuleSet(name="bonus", max_pickup_m=2500.0, score_weight=1.0, bonus_cap_m=800.0)


def morning_rush(n_orders: int = 700, n_drivers: int = 60) -> tuple[Orders, Fleet]:
    """One busy hour (08:00-09:00) with the whole fleet online, so drivers compete for orders."""
    day = synthetic_orders(n_orders * 20, TOWN, seed=2)
    rush = np.flatnonzero((day.time_s >= 8 * 3600) & (day.time_s < 9 * 3600))[:n_orders]
    orders = day.take(rush)
    orders = dataclasses.replace(orders, time_s=orders.time_s - 8 * 3600)
    fleet = synthetic_fleet(n_drivers, TOWN, seed=2)
    fleet = dataclasses.replace(
        fleet, online_start_s=np.zeros(n_drivers), online_end_s=np.full(n_drivers, 3600.0)
    )
    return orders, fleet


@pytest.fixture(scope="module")
def rush() -> tuple[Orders, Fleet]:
    return morning_rush()


@pytest.fixture(scope="module")
def comparison(rush):
    orders, fleet = rush
    return compare([BASELINE, BONUS], orders, fleet, seed=5)


def test_metrics_are_sane_and_json_serialisable(comparison):
    for result in comparison.results:
        m = result.metrics
        assert 0.0 <= m["income_gini"] <= 1.0
        assert 0.0 <= m["unserved_pct"] <= 100.0
        assert 0.0 < m["driver_utilisation"] <= 1.0
        assert m["served"] == len(result.wait_s) > 0
        assert m["p90_wait_s"] >= m["mean_wait_s"] * 0.5 and m["mean_wait_s"] > 0
        assert m["mean_pickup_m"] <= 2500.0
        assert 0.0 <= m["top_quintile_order_share_pct"] <= 100.0
        assert m["income_per_driver"] == pytest.approx(result.driver_income.mean())
        assert m["unserved_pct"] == pytest.approx(
            m["cancelled_unmatched_pct"] + m["cancelled_long_pickup_pct"]
        )
        assert (result.driver_busy_s <= result.driver_online_s + 1e-6).all()
        assert result.bonus_distance_sample.shape == (min(2000, m["served"]), 2)
    json.dumps(comparison.to_dict())


def test_bonus_shifts_orders_toward_high_scores_within_the_cap(comparison):
    baseline, bonus = comparison.results
    assert baseline.metrics["mean_bonus_m"] == 0.0
    assert 0.0 < bonus.metrics["mean_bonus_m"] <= 800.0
    assert (
        bonus.metrics["top_quintile_order_share_pct"]
        > baseline.metrics["top_quintile_order_share_pct"]
    )
    assert (bonus.bonus_distance_sample[:, 0] <= 800.0).all()


def test_losers_are_measured_against_the_baseline(comparison):
    baseline, bonus = comparison.results
    losers = comparison.losers["bonus"]
    assert 0 < len(losers) <= 10
    losses = [loser["loss"] for loser in losers]
    assert losses == sorted(losses, reverse=True) and losses[-1] > 0
    first = losers[0]
    index = int(np.flatnonzero(bonus.driver_ids == first["driver_id"])[0])
    assert first["loss"] == pytest.approx(
        baseline.driver_income[index] - bonus.driver_income[index]
    )
    assert income_losers(baseline, baseline) == []


def test_comparison_table_lists_every_rule_set_and_losers(comparison):
    table = format_comparison_table(comparison)
    assert "baseline v1" in table and "bonus v1" in table
    assert "income Gini" in table and "Biggest income losers under bonus v1" in table
    assert format_comparison_table(comparison.results) == table


def test_simulation_is_deterministic_for_a_seed(rush):
    orders, fleet = rush
    first = simulate(BONUS, orders, fleet, seed=9)
    second = simulate(BONUS, orders, fleet, seed=9)
    assert first.metrics == second.metrics
    np.testing.assert_array_equal(first.driver_income, second.driver_income)
    np.testing.assert_array_equal(first.bonus_distance_sample, second.bonus_distance_sample)
    other = simulate(BONUS, orders, fleet, seed=10)
    assert other.metrics != first.metrics


def test_losers_require_runs_with_the_same_seed(rush, comparison):
    orders, fleet = rush
    other_seed = simulate(BONUS, orders, fleet, seed=6)
    with pytest.raises(ValueError, match="same seed"):
        income_losers(comparison.results[0], other_seed)


def test_impatient_passengers_cancel(rush):
    orders, fleet = rush
    patient = simulate(BASELINE, orders, fleet, seed=1)
    config = SimulationConfig(match_patience_s=10.0, pickup_patience_s=60.0)
    impatient = simulate(BASELINE, orders, fleet, seed=1, config=config)
    assert impatient.metrics["unserved_pct"] > patient.metrics["unserved_pct"]
    assert impatient.metrics["cancelled_long_pickup_pct"] > 0
    assert (impatient.wait_s <= 10.0 * 1.5 + 2.0 + 60.0 * 1.5).all()


def test_fatigue_limits_cap_each_drivers_driving(rush):
    orders, fleet = rush
    strict = dataclasses.replace(
        BASELINE,
        name="strict",
        fatigue=FatigueRules(
            continuous_limit_s=600.0,
            continuous_rest_s=300.0,
            daily_limit_s=900.0,
            daily_rest_s=3600.0,
        ),
    )
    result = simulate(strict, orders, fleet, seed=1)
    longest_trip_s = 3600.0  # generous bound: the town is 8 km across
    assert (result.driver_busy_s <= 900.0 + longest_trip_s).all()
    assert result.metrics["served"] < simulate(BASELINE, orders, fleet, seed=1).metrics["served"]


def test_offline_drivers_earn_nothing_and_progress_is_reported(rush):
    orders, fleet = rush
    offline = np.arange(len(fleet)) < 10
    shifted = dataclasses.replace(
        fleet,
        online_start_s=np.where(offline, 7200.0, 0.0),
        online_end_s=np.where(offline, 9000.0, 3600.0),
    )
    seen: list[float] = []
    result = simulate(BASELINE, orders, shifted, seed=1, progress=seen.append)
    assert (result.driver_income[offline] == 0).all()
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_compare_rejects_duplicate_names(rush):
    orders, fleet = rush
    with pytest.raises(ValueError, match="distinct names"):
        compare([BASELINE, BASELINE], orders, fleet)


def test_gini_extremes():
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.zeros(5)) == 0.0
    assert gini(np.r_[np.zeros(99), 1.0]) == pytest.approx(0.99)
    with pytest.raises(ValueError):
        gini(np.array([-1.0, 2.0]))


def test_engine_imports_without_django():
    code = "import sys, redwheel.dispatch.engine; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _one_trip(idle_policy: str = "stay", boarding_s: float = 0.0) -> dict:
    """One driver 500 m south of one passenger whose trip runs 1 km north, at 36 km/h."""
    metres_per_degree = 6_371_008.8 * np.pi / 180  # along a meridian
    lat0 = 23.0
    orders = Orders(
        ids=np.array(["o1"]),
        time_s=np.array([10.0]),
        origin_lng=np.array([113.0]),
        origin_lat=np.array([lat0]),
        dest_lng=np.array([113.0]),
        dest_lat=np.array([lat0 + 1000.0 / metres_per_degree]),
    )
    fleet = Fleet(
        ids=np.array(["d1"]),
        lng=np.array([113.0]),
        lat=np.array([lat0 - 500.0 / metres_per_degree]),
        score=np.array([50.0]),
        is_party_member=np.array([False]),
        online_start_s=np.array([0.0]),
        online_end_s=np.array([3600.0]),
    )
    config = SimulationConfig(speed_kmh=36.0, detour_factor=1.3, response_s=20.0)
    config = dataclasses.replace(config, idle_policy=idle_policy, boarding_s=boarding_s)
    return simulate(BASELINE, orders, fleet, seed=1, config=config).metrics


def test_phase_shares_split_online_time_and_road_distance_by_what_the_driver_did():
    m = _one_trip()
    assert m["served"] == 1
    # Phase 2: 20 s response + 500 m x 1.3 at 10 m/s; phase 3: 1,000 m x 1.3 at 10 m/s.
    assert m["pickup_time_share"] == pytest.approx((20 + 65) / 3600, rel=1e-3)
    assert m["passenger_time_share"] == pytest.approx(130 / 3600, rel=1e-3)
    assert m["idle_time_share"] == pytest.approx(1 - 215 / 3600, rel=1e-3)
    # Nobody moved while idle: all road distance is the pickup (650 m) and the ride (1,300 m).
    assert m["idle_distance_share"] == 0.0
    assert m["pickup_distance_share"] == pytest.approx(650 / 1950, rel=1e-3)
    assert m["passenger_distance_share"] == pytest.approx(1300 / 1950, rel=1e-3)
    assert m["empty_km_per_passenger_km"] == pytest.approx(650 / 1300, rel=1e-3)


def test_kerb_time_is_the_drivers_phase_2_not_the_passengers_wait():
    without, kerb = _one_trip(), _one_trip(boarding_s=90.0)
    assert kerb["mean_wait_s"] == without["mean_wait_s"]
    assert kerb["pickup_time_share"] == pytest.approx((20 + 65 + 90) / 3600, rel=1e-3)
    assert kerb["passenger_time_share"] == without["passenger_time_share"]
    assert kerb["pickup_distance_share"] == without["pickup_distance_share"]
    with pytest.raises(ValueError):
        SimulationConfig(boarding_s=-1.0)


def test_repositioning_counts_as_empty_distance(rush):
    orders, fleet = rush
    config = SimulationConfig(idle_policy="stay")
    parked = simulate(BASELINE, orders, fleet, seed=5, config=config).metrics
    cruising = simulate(
        BASELINE, orders, fleet, seed=5, config=dataclasses.replace(config, idle_policy="cruise")
    ).metrics
    assert parked["idle_distance_share"] == 0.0
    assert cruising["idle_distance_share"] > 0.05
    assert cruising["empty_km_per_passenger_km"] > parked["empty_km_per_passenger_km"]
    for m in (parked, cruising):
        shares = ("idle_time_share", "pickup_time_share", "passenger_time_share")
        assert sum(m[k] for k in shares) == pytest.approx(1.0)
        # Busy time (pickup + ride) is added up per driver on a separate path.
        assert m["pickup_time_share"] + m["passenger_time_share"] == pytest.approx(
            m["driver_utilisation"]
        )
