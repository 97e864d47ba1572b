"""The matcher's shortcuts give exactly what the general paths they skip would give."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from redwheel.dispatch.engine import DriverPool, OrderBatch, RuleSet, match_window
from redwheel.dispatch.engine import candidates as candidates_module
from redwheel.dispatch.engine import matcher as matcher_module
from redwheel.dispatch.engine.candidates import nearest_candidates

FAST = settings(max_examples=40, deadline=None)


def full_scan(order_xy, driver_xy, k, max_distance_m):
    """The matcher's original candidate scan: argpartition over every driver of every order."""
    dx = order_xy[:, 0, None] - driver_xy[None, :, 0]
    dy = order_xy[:, 1, None] - driver_xy[None, :, 1]
    squared = dx * dx + dy * dy
    k = min(k, len(driver_xy))
    if k < squared.shape[1]:
        index = np.argpartition(squared, k - 1, axis=1)[:, :k]
    else:
        index = np.broadcast_to(np.arange(squared.shape[1]), squared.shape)
    nearest = np.take_along_axis(squared, index, axis=1)
    order = np.argsort(nearest, axis=1, kind="stable")
    index = np.take_along_axis(index, order, axis=1)
    distance = np.sqrt(np.take_along_axis(nearest, order, axis=1))
    within = distance <= max_distance_m
    return within.sum(axis=1), index[within], distance[within]


@FAST
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 60),
    st.integers(1, 900),
    st.integers(1, 10),
    st.sampled_from([0, 10**9]),
)
def test_candidates_equal_the_full_scan_even_with_drivers_sharing_spots(
    seed, n_orders, n_drivers, k, grid_min_pairs
):
    rng = np.random.default_rng(seed)
    order_xy = rng.uniform(0, 12_000, (n_orders, 2))
    # A few spots shared by many drivers (stations, demand targets) make exact distance ties.
    spots = rng.uniform(0, 12_000, (5, 2))
    driver_xy = rng.uniform(0, 12_000, (n_drivers, 2))
    parked = rng.random(n_drivers) < 0.5
    driver_xy[parked] = spots[rng.integers(0, 5, parked.sum())]
    saved = candidates_module.GRID_MIN_PAIRS
    candidates_module.GRID_MIN_PAIRS = grid_min_pairs
    try:
        found = nearest_candidates(order_xy, driver_xy, k, 2500.0)
    finally:
        candidates_module.GRID_MIN_PAIRS = saved
    counts, index, distance = full_scan(order_xy, driver_xy, k, 2500.0)
    np.testing.assert_array_equal(found.counts, counts)
    np.testing.assert_array_equal(found.driver_index, index)
    np.testing.assert_array_equal(found.distance_m, distance)


def test_orders_outside_the_drivers_area_get_no_candidates_from_the_grid():
    order_xy = np.array([[-50_000.0, 0.0], [0.0, 0.0], [90_000.0, 90_000.0]])
    driver_xy = np.random.default_rng(3).uniform(-1000, 1000, (400, 2))
    saved = candidates_module.GRID_MIN_PAIRS
    candidates_module.GRID_MIN_PAIRS = 0
    try:
        found = nearest_candidates(order_xy, driver_xy, 4, 3000.0)
    finally:
        candidates_module.GRID_MIN_PAIRS = saved
    assert found.counts.tolist() == [0, 4, 0]


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 80), st.integers(1, 80), st.integers(0, 200))
def test_row_components_number_like_scipy(seed, n_rows, n_columns, n_edges):
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.integers(0, n_rows, n_edges))
    columns = rng.integers(0, n_columns, n_edges)
    # Keep only rows and columns that have an edge, numbered 0..n-1, as the matcher does.
    rows = np.unique(rows, return_inverse=True)[1]
    columns = np.unique(columns, return_inverse=True)[1]
    if n_edges == 0:
        return
    r, c = int(rows.max()) + 1, int(columns.max()) + 1
    graph = csr_matrix((np.ones(n_edges, dtype=np.int8), (rows, r + columns)), shape=(r + c, r + c))
    expected_n, expected = connected_components(graph, directed=False)
    got_n, got = matcher_module._row_components(rows, columns, r, c)
    assert got_n == expected_n
    np.testing.assert_array_equal(got, expected[:r])


def test_a_long_chain_is_one_component():
    n = 300  # order i reaches drivers i and i + 1
    rows = np.repeat(np.arange(n), 2)
    columns = rows + np.tile([0, 1], n)
    count, label = matcher_module._row_components(rows, columns, n, n + 1)
    assert count == 1 and (label == 0).all()


@pytest.mark.parametrize("seed", range(6))
def test_windows_the_shortcut_takes_match_the_dense_solver(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    # Orders 6 km apart: no driver is within 2.5 km of two of them, so nobody is contested.
    n = 30
    order_xy = np.column_stack((np.arange(n) % 6, np.arange(n) // 6)) * 6000.0
    driver_xy = np.concatenate(
        (order_xy + rng.normal(0, 300, (n, 2)), rng.uniform(0, 30_000, (60, 2)))
    )
    orders = OrderBatch(np.arange(n), order_xy)
    drivers = DriverPool(np.arange(len(driver_xy)), driver_xy, rng.uniform(0, 100, len(driver_xy)))
    rules = RuleSet(k_candidates=4, max_pickup_m=2500.0, score_weight=1.0, bonus_cap_m=300.0)
    expected = match_window(orders, drivers, rules, solver="dense")
    taken = []
    original = matcher_module._clear_cheapest_edges

    def spy(*args):
        taken.append(original(*args))
        return taken[-1]

    monkeypatch.setattr(matcher_module, "_clear_cheapest_edges", spy)
    result = match_window(orders, drivers, rules)
    assert taken and taken[0] is not None, "each order has its own close driver: no solver"
    np.testing.assert_array_equal(result.driver_for_order, expected.driver_for_order)
    assert result.total_cost_m == expected.total_cost_m


def test_equally_cheap_candidates_are_left_to_the_solver():
    # Two orders at the same spot, two drivers at another: every row has a tie.
    orders = OrderBatch(np.arange(2), np.array([[0.0, 0.0], [0.0, 0.0]]))
    drivers = DriverPool(np.arange(2), np.array([[100.0, 0.0], [100.0, 0.0]]), np.zeros(2))
    rules = RuleSet(k_candidates=2)
    new_row = np.array([True, False, True, False])
    assert (
        matcher_module._clear_cheapest_edges(new_row, np.array([0, 1, 0, 1]), np.full(4, 100.0))
        is None
    )
    result = match_window(orders, drivers, rules)
    assert sorted(result.driver_for_order.tolist()) == [0, 1]
