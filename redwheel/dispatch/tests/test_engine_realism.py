"""Issue 16 acceptance: on the shipped Chicago sample, a fleet sized for 95 % served looks like
real ride-hailing (docs/dispatch.md, "A public real-demand sample", states sources and ranges).
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from redwheel.dispatch.engine import (
    RuleSet,
    SimulationConfig,
    demand_following_fleet,
    load_orders_csv,
    simulate,
)

pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[3] / "docs" / "examples"
SAMPLE = DOCS / "chicago-taxi"
SEED = 1
# From `manage.py dispatch size-fleet ... --idle balance --centroid-spread 0.5 --seed 1`.
# The default `balance` forecast is the cells' time-of-day profile, not the next half hour.
SIZED_FLEET = 1120
# Cramer & Krueger (2016): UberX drivers carry a passenger about half of their working time.
PASSENGER_SHARE = (0.40, 0.55)
# Hall, Kendrick & Nosko (2015): Manhattan's average wait was about 2 to 2.6 minutes with surge
# pricing working, and reached 8 minutes when it failed.
MANHATTAN_MEAN_WAIT_S = (120.0, 156.0)
FAILED_MARKET_WAIT_S = 8 * 60.0
# Share of online time with a passenger aboard (phase 3), before 2020: Cramer & Krueger (2016),
# City of Toronto (2021: 48.3 % on 6 February 2020), Hyman et al. (2020) and Parrott & Reich
# (2020) for Seattle (47-60 %).
PASSENGER_TIME_SHARE = (0.45, 0.60)
# Phase 2 (on the way to a pickup): 10-15 % of online time (Toronto 11.2 %, Seattle 10-15 %),
# 8-14 % of the distance driven (Fehr & Peers 2019: 9-10 % in six US regions).
PICKUP_TIME_SHARE = (0.10, 0.15)
PICKUP_DISTANCE_SHARE = (0.08, 0.14)


@pytest.fixture(scope="module")
def day():
    orders = load_orders_csv(SAMPLE / "orders.csv")
    orders = dataclasses.replace(orders, time_s=orders.time_s - orders.time_s.min())
    profile = tuple(json.loads((SAMPLE / "speed-profile.json").read_text()))
    rules = RuleSet.from_json((DOCS / "rules-baseline.json").read_text())
    config = SimulationConfig(idle_policy="balance", speed_profile_kmh=profile, centroid_spread=0.5)
    return orders, rules, config


def _run(day, n, **changes):
    orders, rules, config = day
    config = dataclasses.replace(config, **changes)
    return simulate(rules, orders, demand_following_fleet(orders, n, SEED), SEED, config=config)


@pytest.fixture(scope="module")
def sized(day):
    return _run(day, SIZED_FLEET)


def test_the_sized_fleet_serves_95_percent_looks_real_and_repeats(day, sized):
    result = sized
    m = result.metrics
    assert m["served"] / m["orders"] >= 0.95
    online = result.driver_online_s.sum()
    busy = result.driver_busy_s.sum()
    # Busy time is pickup + ride; a served passenger's wait (match + pickup) is at least the
    # pickup, so the time with a passenger lies between these two bounds.
    with_passenger_at_least = (busy - result.wait_s.sum()) / online
    with_passenger_at_most = busy / online
    assert PASSENGER_SHARE[0] <= with_passenger_at_least <= with_passenger_at_most
    assert with_passenger_at_most <= PASSENGER_SHARE[1]
    assert m["driver_utilisation"] == pytest.approx(with_passenger_at_most)
    # Pickups are real legs, not zero-length ones at a shared census-tract centroid ...
    assert 200.0 <= m["mean_pickup_m"] <= 1000.0
    # ... and the market is healthy, far from a wild goose chase and no slower than Manhattan's
    # average. It is faster than that average, a known gap docs/dispatch.md measures and explains.
    assert m["p90_wait_s"] < FAILED_MARKET_WAIT_S
    assert m["mean_wait_s"] < MANHATTAN_MEAN_WAIT_S[1]

    again = _run(day, SIZED_FLEET)
    assert again.metrics == m
    np.testing.assert_array_equal(again.order_status, result.order_status)


def test_a_tenth_fewer_drivers_miss_the_target(day):
    m = _run(day, int(SIZED_FLEET * 0.9)).metrics
    assert m["served"] / m["orders"] < 0.95


def test_a_perfect_forecast_would_shorten_pickups(day, sized):
    # The default forecast knows the hour's profile; told the actual next orders, the same fleet
    # would wait closer to the coming passengers.
    profile = sized.metrics
    actual = _run(day, SIZED_FLEET, balance_forecast="actual").metrics
    assert actual["mean_pickup_m"] < profile["mean_pickup_m"]
    assert actual["served"] >= profile["served"]


def test_phase_shares_against_published_markets(sized):
    m = sized.metrics
    # Time with a passenger is where real markets are ...
    assert PASSENGER_TIME_SHARE[0] <= m["passenger_time_share"] <= PASSENGER_TIME_SHARE[1]
    # ... but the legs to the pickup are shorter than in any of them: the gap docs/dispatch.md
    # measures. Should a model change close it, this test says so and the docs must follow.
    assert m["pickup_time_share"] < PICKUP_TIME_SHARE[0]
    assert m["pickup_distance_share"] < PICKUP_DISTANCE_SHARE[0]
    # Repositioning is counted as empty distance, and it is most of it.
    assert m["idle_distance_share"] > m["pickup_distance_share"] > 0
