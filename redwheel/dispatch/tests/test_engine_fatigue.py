"""Fatigue rules: continuous-driving rest and the daily cap."""

import numpy as np
import pytest

from redwheel.dispatch.engine import (
    DriverPool,
    FatigueRules,
    FatigueStatus,
    FatigueTracker,
    OrderBatch,
    RuleSet,
    match_window,
)

HOUR = 3600.0
MINUTE = 60.0


def drive(tracker: FatigueTracker, driver: int, start: float, end: float) -> None:
    tracker.record_drive(np.array([driver]), start, end)


def test_four_hours_continuous_driving_requires_twenty_minutes_rest():
    tracker = FatigueTracker(1, FatigueRules())
    # 25-minute trips with 5-minute gaps never reset the continuous counter: after nine trips
    # (3 h 45 min of driving) the driver may continue, the tenth crosses 4 h.
    start = 0.0
    for _ in range(9):
        drive(tracker, 0, start, start + 25 * MINUTE)
        start += 30 * MINUTE
        assert tracker.status(0, start) is FatigueStatus.OK
    drive(tracker, 0, start, start + 25 * MINUTE)
    trip_end = start + 25 * MINUTE
    assert tracker.continuous_s[0] >= 4 * HOUR
    assert tracker.status(0, trip_end) is FatigueStatus.MUST_REST
    assert not tracker.eligible(trip_end + 19 * MINUTE)[0]
    assert tracker.eligible(trip_end + 20 * MINUTE)[0]

    # The rest reset the continuous counter but not the daily one.
    drive(tracker, 0, trip_end + 20 * MINUTE, trip_end + 30 * MINUTE)
    assert tracker.continuous_s[0] == pytest.approx(10 * MINUTE)
    assert tracker.daily_s[0] > 4 * HOUR


def test_short_breaks_do_not_reset_but_a_long_enough_one_does():
    tracker = FatigueTracker(2, FatigueRules())
    drive(tracker, 0, 0.0, 3 * HOUR)
    drive(tracker, 0, 3 * HOUR + 19 * MINUTE, 3 * HOUR + 30 * MINUTE)
    assert tracker.continuous_s[0] == pytest.approx(3 * HOUR + 11 * MINUTE)
    drive(tracker, 1, 0.0, 3 * HOUR)
    drive(tracker, 1, 3 * HOUR + 20 * MINUTE, 3 * HOUR + 30 * MINUTE)
    assert tracker.continuous_s[1] == pytest.approx(10 * MINUTE)


def test_daily_cap_forces_six_hours_off_and_then_resets():
    tracker = FatigueTracker(1, FatigueRules())
    start = 0.0
    # 3.5 h stints separated by the 20-minute rest keep the continuous rule satisfied.
    for _ in range(2):
        drive(tracker, 0, start, start + 3.5 * HOUR)
        start += 3.5 * HOUR + 20 * MINUTE
        assert tracker.status(0, start) is FatigueStatus.OK
    drive(tracker, 0, start, start + 3 * HOUR)
    end = start + 3 * HOUR
    assert tracker.daily_s[0] == pytest.approx(10 * HOUR)
    assert tracker.status(0, end + 1 * HOUR) is FatigueStatus.DAILY_CAP
    assert not tracker.eligible(end + 6 * HOUR - 1)[0]
    assert tracker.eligible(end + 6 * HOUR)[0]
    drive(tracker, 0, end + 6 * HOUR, end + 6.5 * HOUR)
    assert tracker.daily_s[0] == pytest.approx(0.5 * HOUR)


def test_limits_are_configurable():
    rules = FatigueRules(
        continuous_limit_s=HOUR, continuous_rest_s=5 * MINUTE, daily_limit_s=2 * HOUR
    )
    tracker = FatigueTracker(1, rules)
    drive(tracker, 0, 0.0, HOUR)
    assert tracker.status(0, HOUR) is FatigueStatus.MUST_REST
    assert tracker.eligible(HOUR + 5 * MINUTE)[0]
    drive(tracker, 0, HOUR + 5 * MINUTE, 2 * HOUR + 5 * MINUTE)
    assert tracker.status(0, 3 * HOUR) is FatigueStatus.DAILY_CAP


def test_vectorised_updates_touch_only_the_given_drivers():
    tracker = FatigueTracker(4, FatigueRules())
    tracker.record_drive(np.array([1, 3]), np.array([0.0, 0.0]), np.array([4 * HOUR, HOUR]))
    np.testing.assert_array_equal(tracker.eligible(4 * HOUR), [True, False, True, True])
    with pytest.raises(ValueError):
        tracker.record_drive(np.array([0]), 10.0, 5.0)


def test_matcher_never_assigns_fatigued_drivers():
    rng = np.random.default_rng(8)
    tracker = FatigueTracker(30, FatigueRules())
    tired = np.arange(0, 30, 2)
    tracker.record_drive(tired, 0.0, 4 * HOUR)
    now = 4 * HOUR + MINUTE
    pool = DriverPool(
        np.arange(30),
        rng.uniform(0, 1000, (30, 2)),
        np.full(30, 100.0),
        available=tracker.eligible(now),
    )
    orders = OrderBatch(np.arange(25), rng.uniform(0, 1000, (25, 2)))
    rules = RuleSet(k_candidates=30, score_weight=1.0, bonus_cap_m=500.0)
    result = match_window(orders, pool, rules)
    assigned = result.driver_for_order[result.assigned]
    assert len(assigned) == 15
    assert not np.isin(assigned, tired).any()
