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
SIZED_FLEET = 868
# Hall, Kendrick & Nosko (2015): Manhattan's average wait was about 2 to 2.6 minutes with surge
# pricing working, and reached 8 minutes when it failed.
MANHATTAN_MEAN_WAIT_S = (120.0, 156.0)
FAILED_MARKET_WAIT_S = 8 * 60.0
# Share of online time with a passenger aboard (phase 3), before 2020: Cramer & Krueger (2016),
# City of Toronto (2021: 48.3 % on 6 February 2020), Hyman et al. (2020) and Parrott & Reich
# (2020) for Seattle (47-60 %).
PASSENGER_TIME_SHARE = (0.45, 0.60)
# Online without an order (phase 1): Toronto 40.5-42 % (January-February 2020), Seattle 30-40 %.
IDLE_TIME_SHARE = (0.30, 0.42)
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
    # Cramer & Krueger (2016), Toronto, Seattle: time with a passenger and time idle.
    assert PASSENGER_TIME_SHARE[0] <= m["passenger_time_share"] <= PASSENGER_TIME_SHARE[1]
    assert IDLE_TIME_SHARE[0] <= m["idle_time_share"] <= IDLE_TIME_SHARE[1]
    # Phase 3 is the ride alone: busy time (pickup + ride, added up per driver) minus phase 2.
    busy_share = result.driver_busy_s.sum() / result.driver_online_s.sum()
    assert m["driver_utilisation"] == pytest.approx(busy_share)
    assert m["passenger_time_share"] == pytest.approx(busy_share - m["pickup_time_share"])
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
    # Time with a passenger and idle time are where real markets are (the test above), but
    # the legs to the pickup are shorter than in any of them: the gap docs/dispatch.md
    # measures. Should a model change close it, this test says so and the docs must follow.
    assert m["pickup_time_share"] < PICKUP_TIME_SHARE[0]
    assert m["pickup_distance_share"] < PICKUP_DISTANCE_SHARE[0]
    # Repositioning is counted as empty distance, and it is most of it.
    assert m["idle_distance_share"] > m["pickup_distance_share"] > 0
