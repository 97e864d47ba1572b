"""Two seeded 2,000 x 20,000 windows keep exactly the assignment the matcher gave before its
speed work (issue 16): same driver for every order, same total cost, same candidate lists.
The helpers that speed work added are checked against the general paths they replace.

The digests were recorded with the matcher as it was before that work. A speed-up that changes
any of them changes results, not just speed; re-pin only for a deliberate change of results.
"""

import hashlib

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from redwheel.dispatch.engine import (
    DEFAULT_CITY,
    DriverPool,
    OrderBatch,
    RuleSet,
    match_window,
    synthetic_fleet,
    synthetic_orders,
)
from redwheel.dispatch.engine import matcher as matcher_module

# The published rule set of bench/dispatch.py.
RULES = RuleSet(name="bench", version="1", score_weight=1.0, bonus_cap_m=500.0)


def digest(*arrays: np.ndarray) -> str:
    sha = hashlib.sha256()
    for array in arrays:
        sha.update(np.ascontiguousarray(array).tobytes())
    return sha.hexdigest()[:16]


def bench_window() -> tuple[OrderBatch, DriverPool]:
    """The window bench/dispatch.py times."""
    orders = synthetic_orders(2_000, DEFAULT_CITY, seed=11)
    fleet = synthetic_fleet(20_000, DEFAULT_CITY, seed=11)
    projection = DEFAULT_CITY.projection
    return (
        OrderBatch(orders.ids, projection.to_xy(orders.origin_lng, orders.origin_lat)),
        DriverPool(fleet.ids, projection.to_xy(fleet.lng, fleet.lat), fleet.score),
    )


def tied_window() -> tuple[OrderBatch, DriverPool]:
    """Clustered city with drivers parked at shared spots and whole-number scores, so distances
    and costs tie exactly, and 15 % of drivers unavailable. Built from NumPy alone, so only the
    matcher can change its result."""
    rng = np.random.default_rng(20240611)
    extent_m = 30_000.0
    hotspots = rng.uniform(3_000, extent_m - 3_000, (12, 2))

    def clustered(n: int, spread_m: float) -> np.ndarray:
        return hotspots[rng.integers(0, len(hotspots), n)] + rng.normal(0, spread_m, (n, 2))

    n_drivers = 20_000
    driver_xy = np.concatenate((clustered(12_000, 2_500), rng.uniform(0, extent_m, (5_000, 2))))
    spots = rng.uniform(0, extent_m, (40, 2))
    driver_xy = np.concatenate(
        (driver_xy, spots[rng.integers(0, len(spots), n_drivers - len(driver_xy))])
    )
    score = rng.integers(0, 101, n_drivers).astype(float)
    available = rng.random(n_drivers) < 0.85
    order_xy = np.concatenate((clustered(1_500, 2_000), rng.uniform(0, extent_m, (500, 2))))
    return (
        OrderBatch(np.arange(len(order_xy)), order_xy),
        DriverPool(np.arange(n_drivers), driver_xy, score, available=available),
    )


# name -> (window, digest of its inputs, assignment digest, total cost, candidates digest)
PINNED = {
    "bench": (
        bench_window,
        "fdfd7c2c22397329",
        "73ccf3949293db3a",
        -637317.7173450054,
        "6c02dba665d84366",
    ),
    "tied": (
        tied_window,
        "a3da5f7e387f6ce1",
        "d74fdfb4f4992f53",
        -460415.20504612714,
        "f3ea64a28583ff38",
    ),
}


@pytest.fixture(scope="module", params=sorted(PINNED))
def pinned(request):
    build, inputs, assignment, total_cost, candidates = PINNED[request.param]
    orders, drivers = build()
    available = (
        np.ones(len(drivers), dtype=bool) if drivers.available is None else drivers.available
    )
    seen = digest(
        orders.xy.astype("<f8"),
        drivers.xy.astype("<f8"),
        drivers.score.astype("<f8"),
        available.astype(bool),
    )
    assert seen == inputs, (
        f"the {request.param!r} window's inputs changed: the pin no longer applies"
    )
    return orders, drivers, assignment, total_cost, candidates


@pytest.mark.parametrize("solver", ["sparse", "auto"])
def test_window_assignment_is_pinned(pinned, solver):
    orders, drivers, assignment, total_cost, candidates = pinned
    result = match_window(orders, drivers, RULES, solver=solver)
    assert result.n_unassigned == 0
    assert digest(result.driver_for_order.astype("<i8")) == assignment
    # Exact equality: the same edges summed in the same order give the same float.
    assert result.total_cost_m == total_cost
    found = result.candidates
    assert (
        digest(
            found.indptr.astype("<i8"),
            found.driver_index.astype("<i8"),
            found.distance_m.astype("<f8"),
        )
        == candidates
    )


def test_tied_window_really_has_ties():
    # Guards the point of the second window: exact ties among an order's candidates.
    orders, drivers = tied_window()
    found = match_window(orders, drivers, RULES).candidates
    rows = found.order_index
    tied = (rows[1:] == rows[:-1]) & (found.distance_m[1:] == found.distance_m[:-1])
    assert tied.sum() > 50


def test_a_changed_assignment_changes_the_digest(pinned):
    orders, drivers, assignment, _, _ = pinned
    result = match_window(orders, drivers, RULES)
    swapped = result.driver_for_order.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    assert digest(swapped.astype("<i8")) != assignment
    assert digest(result.driver_for_order.astype("<i8")) == assignment


def test_large_graph_components_number_like_scipy_on_the_bipartite_graph():
    # Enough edges for the SciPy search on the graph of rows; the reference is SciPy on the
    # full bipartite graph (rows 0..r-1, columns after them).
    rng = np.random.default_rng(4)
    n_rows, n_columns, per_row = 900, 2500, 4
    rows = np.repeat(np.arange(n_rows), per_row)
    # Columns numbered 0..n-1 over those in use, so none is an isolated vertex for SciPy.
    columns = np.unique(rng.integers(0, n_columns, len(rows)), return_inverse=True)[1]
    n_columns = int(columns.max()) + 1
    assert len(rows) >= matcher_module.CSGRAPH_MIN_EDGES
    graph = csr_matrix(
        (np.ones(len(rows)), (rows, n_rows + columns)), shape=(n_rows + n_columns,) * 2
    )
    expected_n, expected = connected_components(graph, directed=False)
    got_n, got = matcher_module._row_components(rows, columns, n_rows, n_columns)
    assert got_n == expected_n > 1
    np.testing.assert_array_equal(got, expected[:n_rows])


def test_isolated_rows_are_components_of_their_own():
    rows = np.repeat(np.arange(3000), 1)
    count, label = matcher_module._row_components(rows, rows, 3000, 3000)
    assert count == 3000
    np.testing.assert_array_equal(label, np.arange(3000))


@pytest.mark.parametrize("widths", [[8] * 50, [3, 8, 1, 8, 5], [1] * 7, [20] * 4])
def test_row_minimum_equals_reduceat(widths):
    rng = np.random.default_rng(len(widths))
    counts = np.array(widths)
    starts = np.cumsum(counts) - counts
    cost = rng.normal(0, 1000, counts.sum()).round(1)  # rounding makes ties
    expected = np.minimum.reduceat(cost, starts)
    got = matcher_module._row_minimum(cost, starts, counts)
    np.testing.assert_array_equal(got, expected)
    got[:] = np.nan
    assert not np.isnan(cost).any(), "the result must not be a view of the costs"


def test_blocks_built_in_one_pass_give_the_solver_what_one_call_per_block_gives(monkeypatch):
    # Two blocks whose rows and columns interleave by id, as city districts do.
    rng = np.random.default_rng(9)
    row_block = np.array([0, 0, 0, 1, 1, 1, 1], dtype=np.int16)
    row_rows = np.array([1, 4, 6, 0, 2, 3, 5])  # original row ids, grouped by block
    row_edges = np.array([3, 2, 4, 1, 3, 2, 2])
    block_columns = {0: np.array([2, 7, 9, 11]), 1: np.array([0, 3, 5, 8, 12])}
    # Edges of the whole window sorted by row, each row's columns from its own block.
    order = np.argsort(row_rows)
    edge_row = np.repeat(row_rows[order], row_edges[order])
    edge_column = np.concatenate(
        [rng.choice(block_columns[int(row_block[i])], row_edges[i], replace=False) for i in order]
    )
    edge_cost = rng.uniform(-300, 2500, len(edge_row)).round(0)
    first_edge = np.searchsorted(edge_row, row_rows)
    graphs = []
    original = matcher_module.min_weight_full_bipartite_matching

    def record(graph):
        graphs.append(graph)
        return original(graph)

    monkeypatch.setattr(matcher_module, "min_weight_full_bipartite_matching", record)
    picked = matcher_module._solve_blocks(
        first_edge, row_edges, row_block, edge_column, edge_cost, RULES, "sparse"
    )
    expected_picked = []
    for block in (0, 1):
        edges = np.flatnonzero(np.isin(edge_row, row_rows[row_block == block]))
        rows = np.unique(edge_row[edges], return_inverse=True)[1]
        columns = np.unique(edge_column[edges], return_inverse=True)[1]
        mask = matcher_module._solve_numbered(
            rows, columns, edge_cost[edges], rows.max() + 1, columns.max() + 1, RULES, "sparse"
        )
        expected_picked.append(edges[mask])
    by_block, per_block = graphs[:2], graphs[2:]
    for got, expected in zip(by_block, per_block, strict=True):
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.indptr, expected.indptr)
        np.testing.assert_array_equal(got.indices, expected.indices)
        np.testing.assert_array_equal(got.data, expected.data)
    assert sorted(picked.tolist()) == sorted(np.concatenate(expected_picked).tolist())
