"""Batch matcher: optimality, the published bonus cap, filters and explanations."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from redwheel.dispatch.engine import (
    UNASSIGNED,
    DriverPool,
    FatigueRules,
    LocalProjection,
    OrderBatch,
    RuleSet,
    find_candidates,
    haversine_m,
    match_window,
    nearest_candidates,
)
from redwheel.dispatch.engine import candidates as candidates_module
from redwheel.dispatch.engine import matcher as matcher_module

FAST = settings(max_examples=60, deadline=None)


def random_window(
    seed: int, n_orders: int, n_drivers: int, extent_m: float = 4000.0
) -> tuple[OrderBatch, DriverPool]:
    rng = np.random.default_rng(seed)
    orders = OrderBatch(np.arange(n_orders), rng.uniform(0, extent_m, (n_orders, 2)))
    drivers = DriverPool(
        np.arange(100, 100 + n_drivers),
        rng.uniform(0, extent_m, (n_drivers, 2)),
        rng.uniform(0, 100, n_drivers),
    )
    return orders, drivers


def pairwise_m(orders: OrderBatch, drivers: DriverPool) -> np.ndarray:
    return np.hypot(
        orders.xy[:, None, 0] - drivers.xy[None, :, 0],
        orders.xy[:, None, 1] - drivers.xy[None, :, 1],
    )


def reference_optimum(orders: OrderBatch, drivers: DriverPool, rules: RuleSet) -> float:
    """Dense Hungarian over every feasible pair (within max pickup) plus dummy columns."""
    n_orders, n_drivers = len(orders), len(drivers)
    big = 1e12
    cost = np.full((n_orders, n_drivers + n_orders), big)
    distance = pairwise_m(orders, drivers)
    cost[:, :n_drivers] = np.where(distance <= rules.max_pickup_m, distance, big)
    cost[np.arange(n_orders), n_drivers + np.arange(n_orders)] = rules.unassigned_penalty_m
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum())


window_sizes = st.tuples(
    st.integers(0, 2**32 - 1), st.integers(1, 25), st.integers(0, 30), st.sampled_from([1, 3, 8])
)


@FAST
@given(window_sizes, st.sampled_from(["sparse", "dense"]))
def test_zero_bonus_matches_dense_optimum_over_feasible_pairs(params, solver):
    seed, n_orders, n_drivers, _ = params
    orders, drivers = random_window(seed, n_orders, n_drivers)
    # k covers every driver, so "candidate" and "feasible" coincide.
    rules = RuleSet(k_candidates=1000, max_pickup_m=1500.0)
    result = match_window(orders, drivers, rules, solver=solver)
    assert result.total_cost_m == pytest.approx(reference_optimum(orders, drivers, rules), abs=1e-6)


@FAST
@given(window_sizes)
def test_sparse_and_dense_solvers_agree_on_the_same_candidates(params):
    seed, n_orders, n_drivers, k = params
    orders, drivers = random_window(seed, n_orders, n_drivers)
    rules = RuleSet(k_candidates=k, max_pickup_m=2000.0, score_weight=0.8, bonus_cap_m=400.0)
    sparse = match_window(orders, drivers, rules, solver="sparse")
    dense = match_window(orders, drivers, rules, solver="dense")
    assert sparse.total_cost_m == pytest.approx(dense.total_cost_m, abs=1e-6)


@FAST
@given(window_sizes, st.floats(0.0, 3.0), st.floats(0.0, 1500.0))
def test_no_order_goes_to_a_driver_farther_than_an_idle_candidate_by_more_than_the_cap(
    params, weight, cap
):
    seed, n_orders, n_drivers, k = params
    orders, drivers = random_window(seed, n_orders, n_drivers)
    rules = RuleSet(k_candidates=k, max_pickup_m=2500.0, score_weight=weight, bonus_cap_m=cap)
    result = match_window(orders, drivers, rules)
    busy = set(result.driver_for_order[result.assigned].tolist())
    for order in range(n_orders):
        cand_index, cand_dist = result.candidates.for_order(order)
        idle = [(i, d) for i, d in zip(cand_index, cand_dist, strict=True) if i not in busy]
        if not result.assigned[order]:
            # Leaving an order unserved while one of its candidates idles is never optimal.
            assert idle == []
            continue
        chosen = result.pickup_m[order]
        for _, distance in idle:
            assert distance >= chosen - cap - 1e-6
        assert result.bonus_m[order] <= cap + 1e-9


@FAST
@given(window_sizes, st.floats(0.0, 3.0), st.floats(0.0, 1500.0))
def test_bonus_never_changes_who_serves_whom_among_assigned_drivers(params, weight, cap):
    """Swapping two assigned drivers moves both bonuses together, so they cancel: among the
    drivers that do get work, the matching is distance-optimal."""
    seed, n_orders, n_drivers, k = params
    orders, drivers = random_window(seed, n_orders, n_drivers)
    rules = RuleSet(k_candidates=k, max_pickup_m=2500.0, score_weight=weight, bonus_cap_m=cap)
    result = match_window(orders, drivers, rules)
    distance = pairwise_m(orders, drivers)
    assigned = np.flatnonzero(result.assigned)
    for a in assigned:
        for b in assigned:
            da, db = result.driver_for_order[a], result.driver_for_order[b]
            a_cands = set(result.candidates.for_order(a)[0].tolist())
            b_cands = set(result.candidates.for_order(b)[0].tolist())
            if db in a_cands and da in b_cands:
                current = distance[a, da] + distance[b, db]
                assert current <= distance[a, db] + distance[b, da] + 1e-6


@FAST
@given(window_sizes, st.integers(1, 4))
def test_solving_components_in_small_blocks_keeps_the_optimum(params, block_rows):
    seed, n_orders, n_drivers, k = params
    orders, drivers = random_window(seed, n_orders, n_drivers, extent_m=8000.0)
    rules = RuleSet(k_candidates=k, max_pickup_m=1500.0, score_weight=1.0, bonus_cap_m=300.0)
    dense = match_window(orders, drivers, rules, solver="dense")
    saved = matcher_module.COMPONENT_BLOCK_ROWS, matcher_module.DENSE_MAX_CELLS
    matcher_module.COMPONENT_BLOCK_ROWS, matcher_module.DENSE_MAX_CELLS = block_rows, 0
    try:
        blocked = match_window(orders, drivers, rules, solver="sparse")
    finally:
        matcher_module.COMPONENT_BLOCK_ROWS, matcher_module.DENSE_MAX_CELLS = saved
    assert blocked.total_cost_m == pytest.approx(dense.total_cost_m, abs=1e-6)


def test_large_window_split_into_components_matches_dense_optimum():
    orders, drivers = random_window(21, n_orders=600, n_drivers=1500, extent_m=20_000.0)
    rules = RuleSet(k_candidates=6, max_pickup_m=2000.0, score_weight=1.0, bonus_cap_m=400.0)
    sparse = match_window(orders, drivers, rules, solver="sparse")
    dense = match_window(orders, drivers, rules, solver="dense")
    assert sparse.total_cost_m == pytest.approx(dense.total_cost_m, rel=1e-12)
    assigned = sparse.driver_for_order[sparse.assigned]
    assert len(np.unique(assigned)) == len(assigned)


def test_more_orders_than_reachable_drivers_leaves_exactly_the_excess_unassigned():
    orders, drivers = random_window(7, n_orders=30, n_drivers=12, extent_m=1000.0)
    rules = RuleSet(k_candidates=50, max_pickup_m=5000.0, score_weight=1.0, bonus_cap_m=300.0)
    for solver in ("sparse", "dense"):
        result = match_window(orders, drivers, rules, solver=solver)
        assert result.n_unassigned == 30 - 12
        assert sorted(result.driver_for_order[result.assigned]) == list(range(12))


def test_unavailable_and_fatigued_drivers_are_never_assigned():
    orders, drivers = random_window(3, n_orders=20, n_drivers=40)
    available = np.ones(40, dtype=bool)
    available[::3] = False
    pool = DriverPool(drivers.ids, drivers.xy, drivers.score, available=available)
    result = match_window(orders, pool, RuleSet(k_candidates=40, max_pickup_m=10_000.0))
    assigned = result.driver_for_order[result.assigned]
    assert len(assigned) == 20
    assert available[assigned].all()
    assert available[result.candidates.driver_index].all()


def test_vehicle_type_requirement_searches_only_matching_drivers():
    orders, drivers = random_window(11, n_orders=12, n_drivers=60)
    vehicle = np.where(np.arange(60) % 4 == 0, "comfort", "economy").astype(object)
    required = np.where(np.arange(12) % 2 == 0, "comfort", "").astype(object)
    pool = DriverPool(drivers.ids, drivers.xy, drivers.score, vehicle_type=vehicle)
    batch = OrderBatch(orders.ids, orders.xy, required_vehicle_type=required)
    rules = RuleSet(k_candidates=3, max_pickup_m=10_000.0)
    result = match_window(batch, pool, rules)
    for order in range(12):
        cand_index, _ = result.candidates.for_order(order)
        if required[order] == "comfort":
            assert len(cand_index) == 3 and (vehicle[cand_index] == "comfort").all()
            if result.assigned[order]:
                assert vehicle[result.driver_for_order[order]] == "comfort"


def test_vehicle_requirement_without_driver_types_is_an_error():
    orders, drivers = random_window(1, 2, 3)
    batch = OrderBatch(orders.ids, orders.xy, np.array(["comfort", ""], dtype=object))
    with pytest.raises(ValueError, match="vehicle types"):
        match_window(batch, drivers, RuleSet())


def test_window_without_drivers_or_candidates_still_solves():
    orders, drivers = random_window(2, n_orders=4, n_drivers=0)
    result = match_window(orders, drivers, RuleSet())
    assert (result.driver_for_order == UNASSIGNED).all()
    assert result.total_cost_m == 4 * RuleSet().unassigned_penalty_m
    far = DriverPool(np.array([1]), np.array([[1e6, 1e6]]), np.array([50.0]))
    assert match_window(orders, far, RuleSet()).n_unassigned == 4


def test_matching_is_deterministic():
    orders, drivers = random_window(5, 200, 300, extent_m=8000.0)
    rules = RuleSet(score_weight=1.0, bonus_cap_m=500.0)
    first = match_window(orders, drivers, rules)
    second = match_window(orders, drivers, rules)
    np.testing.assert_array_equal(first.driver_for_order, second.driver_for_order)


def test_explanations_cover_every_assignment():
    orders, drivers = random_window(9, 6, 10)
    components = [{"rating": float(i), "tenure": 1.0} for i in range(10)]
    pool = DriverPool(drivers.ids, drivers.xy, drivers.score, score_components=components)
    rules = RuleSet(name="pilot", version="2025-01", score_weight=1.0, bonus_cap_m=200.0)
    result = match_window(orders, pool, rules)
    records = result.explanations()
    assert len(records) == int(result.assigned.sum())
    for record in records:
        order = int(record.order_id)
        driver = int(np.flatnonzero(drivers.ids == record.driver_id)[0])
        assert result.driver_for_order[order] == driver
        assert record.candidates_considered >= 1 and record.driver_id in record.candidate_driver_ids
        assert record.pickup_m == pytest.approx(result.pickup_m[order])
        assert record.bonus_m == pytest.approx(rules.bonus_m(drivers.score[driver]))
        assert record.score_components == components[driver]
        assert (record.rule_set_name, record.rule_set_version) == ("pilot", "2025-01")
    json.dumps([r.__dict__ for r in records])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 400), st.integers(1, 12))
def test_kd_tree_and_brute_force_candidates_agree(seed, n_orders, n_drivers, k):
    rng = np.random.default_rng(seed)
    order_xy = rng.uniform(0, 5000, (n_orders, 2))
    driver_xy = rng.uniform(0, 5000, (n_drivers, 2))
    brute = nearest_candidates(order_xy, driver_xy, k, 1800.0)
    original = candidates_module.BRUTE_FORCE_MAX_PAIRS
    candidates_module.BRUTE_FORCE_MAX_PAIRS = 0
    try:
        tree = nearest_candidates(order_xy, driver_xy, k, 1800.0)
    finally:
        candidates_module.BRUTE_FORCE_MAX_PAIRS = original
    np.testing.assert_array_equal(brute.indptr, tree.indptr)
    np.testing.assert_array_equal(brute.driver_index, tree.driver_index)
    np.testing.assert_allclose(brute.distance_m, tree.distance_m)
    assert (brute.distance_m <= 1800.0).all()


def test_find_candidates_returns_nearest_first():
    orders, drivers = random_window(4, 5, 50)
    found = find_candidates(orders, drivers, RuleSet(k_candidates=5, max_pickup_m=50_000.0))
    distance = pairwise_m(orders, drivers)
    for order in range(5):
        index, dist = found.for_order(order)
        np.testing.assert_allclose(dist, np.sort(distance[order])[:5])
        np.testing.assert_allclose(distance[order, index], dist)


def test_rule_set_round_trips_through_json():
    rules = RuleSet(
        name="shenzhen-pilot",
        version="3",
        score_weight=0.5,
        bonus_cap_m=400.0,
        fatigue=FatigueRules(daily_limit_s=8 * 3600.0),
    )
    assert RuleSet.from_json(rules.to_json()) == rules
    assert RuleSet.from_dict({"name": "minimal"}).fatigue == FatigueRules()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"surprise": 1}, "unknown rule set field"),
        ({"fatigue": {"naps": 2}}, "unknown fatigue field"),
        ({"unassigned_penalty_m": 100.0}, "must exceed max_pickup_m"),
        ({"bonus_cap_m": -1.0}, "bonus_cap_m"),
        ({"fatigue": {"continuous_limit_s": 0}}, "must be positive"),
    ],
)
def test_invalid_rule_sets_are_rejected(data, message):
    with pytest.raises(ValueError, match=message):
        RuleSet.from_dict(data)


def test_bonus_is_capped_and_scales_with_score():
    rules = RuleSet(score_weight=2.0, bonus_cap_m=300.0)
    np.testing.assert_allclose(
        rules.bonus_m(np.array([0, 25, 50, 100, 140])), [0, 150, 300, 300, 300]
    )
    assert RuleSet(score_weight=0.5, bonus_cap_m=300.0).bonus_m(100.0) == pytest.approx(150.0)
    assert rules.without_bonus().bonus_m(100.0) == 0.0


def test_local_projection_is_accurate_within_a_city():
    rng = np.random.default_rng(0)
    lng = 104.07 + rng.uniform(-0.16, 0.16, 200)
    lat = 30.66 + rng.uniform(-0.14, 0.14, 200)
    projection = LocalProjection.around(lng, lat)
    xy = projection.to_xy(lng, lat)
    planar = np.hypot(*(xy[1:] - xy[:-1]).T)
    great_circle = haversine_m(lng[1:], lat[1:], lng[:-1], lat[:-1])
    assert np.max(np.abs(planar - great_circle) / great_circle) < 0.005
    back_lng, back_lat = projection.to_lnglat(xy)
    np.testing.assert_allclose(back_lng, lng)
    np.testing.assert_allclose(back_lat, lat)


def test_uncontested_components_skip_the_solver(monkeypatch):
    """Orders far apart, each with its own nearest driver: every component is solved by taking
    each order's cheapest candidate, and no solver call is needed."""
    n = 40
    order_xy = np.column_stack((np.arange(n) * 10_000.0, np.zeros(n)))
    driver_xy = np.concatenate(
        (order_xy + np.array([100.0, 0.0]), order_xy + np.array([0.0, 900.0]))
    )
    orders = OrderBatch(np.arange(n), order_xy)
    drivers = DriverPool(np.arange(2 * n), driver_xy, np.linspace(0, 100, 2 * n))
    rules = RuleSet(k_candidates=2, max_pickup_m=2000.0, score_weight=1.0, bonus_cap_m=300.0)
    expected = match_window(orders, drivers, rules, solver="dense")

    def no_solver(graph):
        raise AssertionError("the solver should not be called")

    monkeypatch.setattr(matcher_module, "min_weight_full_bipartite_matching", no_solver)
    monkeypatch.setattr(matcher_module, "DENSE_MAX_CELLS", 0)
    result = match_window(orders, drivers, rules, solver="sparse")
    assert result.total_cost_m == pytest.approx(expected.total_cost_m, abs=1e-6)
    np.testing.assert_array_equal(result.driver_for_order, expected.driver_for_order)


def test_contested_and_uncontested_components_together_keep_the_optimum():
    # Clusters of three orders around one close driver (contested) next to lone orders.
    rng = np.random.default_rng(8)
    centres = np.column_stack((np.arange(30) * 8000.0, np.zeros(30)))
    cluster = np.repeat(centres[:15], 3, axis=0) + rng.uniform(-200, 200, (45, 2))
    lone = centres[15:]
    order_xy = np.concatenate((cluster, lone))
    driver_xy = np.concatenate(
        (centres + np.array([50.0, 0.0]), centres + rng.uniform(-1500, 1500, (30, 2)))
    )
    orders = OrderBatch(np.arange(len(order_xy)), order_xy)
    drivers = DriverPool(np.arange(60), driver_xy, rng.uniform(0, 100, 60))
    rules = RuleSet(k_candidates=4, max_pickup_m=2000.0, score_weight=1.0, bonus_cap_m=300.0)
    dense = match_window(orders, drivers, rules, solver="dense")
    saved = matcher_module.DENSE_MAX_CELLS
    matcher_module.DENSE_MAX_CELLS = 0
    try:
        sparse = match_window(orders, drivers, rules, solver="sparse")
    finally:
        matcher_module.DENSE_MAX_CELLS = saved
    assert sparse.total_cost_m == pytest.approx(dense.total_cost_m, abs=1e-6)
    assert sparse.n_unassigned == dense.n_unassigned > 0
