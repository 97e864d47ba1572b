"""Seed replication: intervals, paired differences and parallel runs."""

import json
import math

import numpy as np
import pytest

from redwheel.dispatch.engine import (
    DEFAULT_SEEDS,
    BoundingBox,
    Fleet,
    Interval,
    Orders,
    RuleSet,
    interval,
    replicate,
    seeds_from,
)

SMALL_TOWN = BoundingBox.around(104.07, 30.66, 6.0, 6.0)
HOUR_S = 3600.0


def hour_of_orders(n: int, seed: int) -> Orders:
    """``n`` orders spread over one hour in a 6 km town, trips of about 2 km."""
    rng = np.random.default_rng(seed)
    origin = rng.uniform(-2500, 2500, (n, 2))
    dest = np.clip(origin + rng.normal(0, 1500, (n, 2)), -3000, 3000)
    projection = SMALL_TOWN.projection
    o_lng, o_lat = projection.to_lnglat(origin)
    d_lng, d_lat = projection.to_lnglat(dest)
    return Orders(
        ids=np.arange(n),
        time_s=np.sort(rng.uniform(0, HOUR_S, n)),
        origin_lng=o_lng,
        origin_lat=o_lat,
        dest_lng=d_lng,
        dest_lat=d_lat,
    )


def town_fleet(n: int, seed: int) -> Fleet:
    rng = np.random.default_rng(seed + 77)
    lng, lat = SMALL_TOWN.projection.to_lnglat(rng.uniform(-3000, 3000, (n, 2)))
    return Fleet(
        ids=np.arange(n),
        lng=lng,
        lat=lat,
        score=rng.uniform(0, 100, n),
        is_party_member=rng.random(n) < 0.3,
        online_start_s=np.zeros(n),
        online_end_s=np.full(n, 2 * HOUR_S),
    )


def seeded_town(seed: int) -> tuple[Orders, Fleet]:
    """Module-level, so it pickles into worker processes."""
    return hour_of_orders(150, seed), town_fleet(12, seed)


WIDE = RuleSet(name="wide", max_pickup_m=3000.0)
NARROW = RuleSet(name="narrow", max_pickup_m=500.0)


def test_interval_uses_student_t():
    values = [1.0, 2.0, 3.0, 4.0]
    result = interval(values)
    # t(0.975, 3) = 3.182446305; sd = 1.290994449; sqrt(4) = 2.
    half = 3.182446305284263 * 1.2909944487358056 / 2
    assert result.mean == pytest.approx(2.5)
    assert result.low == pytest.approx(2.5 - half)
    assert result.high == pytest.approx(2.5 + half)
    assert result.n == 4
    assert result.contains(2.5) and not result.contains(10.0)
    assert result.excludes_zero
    assert not interval([-1.0, 1.0, 2.0]).excludes_zero
    assert interval([5.0, 6.0, 7.0], confidence=0.5).high < interval([5.0, 6.0, 7.0]).high


def test_interval_edge_cases():
    single = interval([3.0])
    assert single.mean == 3.0 and math.isnan(single.low) and math.isnan(single.high)
    assert not single.excludes_zero
    assert single.to_dict() == {"mean": 3.0, "low": None, "high": None, "n": 1}
    equal = interval([0.25, 0.25, 0.25])
    assert (equal.low, equal.high) == (0.25, 0.25) and equal.excludes_zero
    assert not interval([0.0, 0.0]).excludes_zero
    with pytest.raises(ValueError, match="at least one"):
        interval([])
    with pytest.raises(ValueError, match="confidence"):
        interval([1.0, 2.0], confidence=1.0)


def test_seeds_from_counts_up():
    assert seeds_from(7, 3) == [7, 8, 9]
    assert len(seeds_from(0)) == DEFAULT_SEEDS == 5
    with pytest.raises(ValueError):
        seeds_from(0, 0)


def test_interval_shrinks_as_seeds_grow():
    few = replicate([WIDE], seeded_town, seeds_from(0, 3), processes=1)
    many = replicate([WIDE], seeded_town, seeds_from(0, 12), processes=1)
    for metric in ("served_share", "mean_pickup_m", "income_gini"):
        few_iv = few.metric_intervals["wide"][metric]
        many_iv = many.metric_intervals["wide"][metric]
        assert (many_iv.high - many_iv.low) < (few_iv.high - few_iv.low)
        assert (few_iv.n, many_iv.n) == (3, 12)


def test_rule_set_against_itself_is_never_significant():
    twin = RuleSet(name="wide-again", max_pickup_m=3000.0)
    result = replicate([WIDE, twin], seeded_town, seeds_from(0, 4), processes=1)
    for metric, diff in result.difference_intervals["wide-again"].items():
        assert diff == Interval(0.0, 0.0, 0.0, 4), metric
        assert not result.significant("wide-again", metric)
    # The baseline's difference with itself is zero too.
    assert not any(result.significant("wide", m) for m in result.difference_intervals["wide"])


def test_clearly_different_rule_set_is_significant_on_served_share():
    result = replicate([WIDE, NARROW], seeded_town, seeds_from(0, 5), processes=1)
    diff = result.difference_intervals["narrow"]["served_share"]
    assert diff.high < 0.0
    assert result.significant("narrow", "served_share")
    wide = result.metric_intervals["wide"]["served_share"]
    narrow = result.metric_intervals["narrow"]["served_share"]
    assert narrow.mean < wide.mean
    # Paired differences are exactly the per-seed differences of the two runs.
    per_seed = [
        c.results[1].metrics["served"] / 150 - c.results[0].metrics["served"] / 150
        for c in result.comparisons
    ]
    assert diff.mean == pytest.approx(np.mean(per_seed))
    assert [c.results[0].seed for c in result.comparisons] == [0, 1, 2, 3, 4]


def test_two_processes_give_the_same_numbers_as_one():
    seeds = seeds_from(3, 3)
    serial = replicate([WIDE, NARROW], seeded_town, seeds, processes=1)
    parallel = replicate([WIDE, NARROW], seeded_town, seeds, processes=2)
    assert parallel.to_dict() == serial.to_dict()
    for a, b in zip(serial.comparisons, parallel.comparisons, strict=True):
        for run_a, run_b in zip(a.results, b.results, strict=True):
            np.testing.assert_array_equal(run_a.driver_income, run_b.driver_income)


def test_fixed_inputs_and_progress_and_json():
    orders, fleet = seeded_town(0)
    seen = []
    result = replicate([WIDE], (orders, fleet), [0, 1], processes=1, progress=seen.append)
    assert seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["seeds"] == [0, 1] and payload["baseline"] == "wide"
    assert payload["metric_intervals"]["wide"]["served_share"]["n"] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seeds": []}, "at least one seed"),
        ({"seeds": [1, 1]}, "distinct"),
        ({"rule_sets": []}, "at least one rule set"),
        ({"inputs": "town"}, "inputs must be"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    arguments = {"rule_sets": [WIDE], "inputs": seeded_town, "seeds": [0]} | kwargs
    with pytest.raises(ValueError, match=message):
        replicate(processes=1, **arguments)
