"""Fleet sizing by bisection over simulated days."""

import json

import pytest

from redwheel.dispatch.engine import RuleSet, simulate, size_fleet
from redwheel.dispatch.tests.test_engine_uncertainty import hour_of_orders, town_fleet

ORDERS = hour_of_orders(120, seed=5)
RULES = RuleSet(name="sizing", max_pickup_m=2000.0)


def served_share(n_drivers: int, seeds=(0,)) -> float:
    """Independent of size_fleet: simulate directly."""
    shares = [
        simulate(RULES, ORDERS, town_fleet(n_drivers, s), s).metrics["served"] / len(ORDERS)
        for s in seeds
    ]
    return sum(shares) / len(shares)


def test_sized_fleet_meets_the_target_and_a_slightly_smaller_one_does_not():
    result = size_fleet(RULES, ORDERS, town_fleet, target_served=0.8, tolerance=0.05)
    assert result.reached and result.target == 0.8
    assert served_share(result.n_drivers) >= 0.8
    assert result.served_share == pytest.approx(served_share(result.n_drivers))
    # The bisection's last failing size is within the tolerance below the answer.
    failing = [n for n, share in result.steps if share < 0.8 and n < result.n_drivers]
    assert failing and max(failing) >= result.n_drivers * (1 - 0.05) - 1
    assert served_share(max(failing)) < 0.8
    assert result.n_drivers > 1


def test_mean_over_several_seeds_and_progress():
    seen = []
    result = size_fleet(
        RULES, ORDERS, town_fleet, target_served=0.7, seeds=(0, 1), progress=seen.append
    )
    assert served_share(result.n_drivers, seeds=(0, 1)) >= 0.7
    assert seen[-1] == 1.0 and all(0.0 < f <= 1.0 for f in seen)
    assert len(seen) >= len(result.steps)


def test_small_fleet_already_enough_returns_low():
    result = size_fleet(RULES, ORDERS, town_fleet, target_served=0.05, low=40)
    assert result.reached and result.n_drivers == 40 and result.steps[0][0] == 40


def test_unreachable_target_is_reported():
    # Nobody can reach a pickup over 100 m away, so most orders stay unserved at any size.
    tight = RuleSet(name="tight", max_pickup_m=100.0, unassigned_penalty_m=1000.0)
    few = hour_of_orders(20, seed=1)
    result = size_fleet(tight, few, town_fleet, target_served=1.0, low=4)
    assert not result.reached
    assert result.n_drivers == 2 * len(few)
    assert result.served_share < 1.0
    assert [n for n, _ in result.steps] == [4, 8, 16, 32, 40]
    assert json.loads(json.dumps(result.to_dict()))["reached"] is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_served": 0.0}, "target_served"),
        ({"target_served": 1.5}, "target_served"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"low": 0}, "low"),
        ({"low": 10, "high": 10}, "high"),
        ({"seeds": ()}, "seed"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        size_fleet(RULES, ORDERS, town_fleet, **kwargs)
