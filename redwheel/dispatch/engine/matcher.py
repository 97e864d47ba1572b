"""One-window batch matcher: open orders x available drivers -> one-to-one assignment.

Cost of giving order ``o`` to driver ``d`` is ``pickup_m(o, d) - bonus_m(d)`` where the bonus is
the driver's score converted to metres and capped by the rule set. Every order also has a private
"unassigned" option costing ``unassigned_penalty_m``, so a full matching of the order side always
exists and the window always solves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

from .candidates import Candidates, nearest_candidates
from .rules import RuleSet

UNASSIGNED = -1

# Windows with at most this many cost cells (orders x (candidate drivers + dummies)) are solved
# with the dense Hungarian solver, whose fixed overhead is far lower than building a CSR graph.
DENSE_MAX_CELLS = 4096
# Independent parts of a window are packed into solver calls of about this many orders: large
# enough to amortise per-call overhead, small enough that rows x columns work stays low.
COMPONENT_BLOCK_ROWS = 128

# A row whose cheapest edge beats its next one by more than this (far above rounding errors of
# costs of at most ~1e5 m) has a clear choice; see _clear_cheapest_edges.
CLEAR_MARGIN_M = 1e-6
# From this many candidate edges SciPy's graph search beats hooking and pointer jumping, whose
# rounds each touch every edge (a 2,000 x 20,000 window has ~16,000 edges); both number the
# components the same way.
CSGRAPH_MIN_EDGES = 2048

Solver = Literal["auto", "sparse", "dense"]


@dataclass(frozen=True)
class OrderBatch:
    """Open orders of one window, positions in local metres."""

    ids: np.ndarray
    xy: np.ndarray
    # Per-order required vehicle type; ``None`` (whole batch) or "" (one order) means any.
    required_vehicle_type: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class DriverPool:
    """Drivers that could be offered an order in this window, positions in local metres."""

    ids: np.ndarray
    xy: np.ndarray
    score: np.ndarray
    # False for drivers that are busy, offline or fatigued; ``None`` means all are available.
    available: np.ndarray | None = None
    vehicle_type: np.ndarray | None = None
    # Optional per-driver breakdown of the composite score, copied into explanations verbatim.
    score_components: Sequence[Mapping[str, float] | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class AssignmentExplanation:
    """Why order ``order_id`` went to ``driver_id``; one record per assignment."""

    order_id: object
    driver_id: object
    candidate_driver_ids: tuple[object, ...]
    candidate_distances_m: tuple[float, ...]
    pickup_m: float
    bonus_m: float
    cost_m: float
    score: float
    score_components: Mapping[str, float] | None
    rule_set_name: str
    rule_set_version: str

    @property
    def candidates_considered(self) -> int:
        return len(self.candidate_driver_ids)


@dataclass(frozen=True)
class MatchResult:
    """Outcome of one window. Arrays are indexed by order position in the batch."""

    driver_for_order: np.ndarray  # index into the DriverPool, UNASSIGNED if none
    pickup_m: np.ndarray  # NaN where unassigned
    bonus_m: np.ndarray  # 0 where unassigned
    total_cost_m: float  # sum of (pickup - bonus) plus the penalty for each unassigned order
    candidates: Candidates
    orders: OrderBatch
    drivers: DriverPool
    rule_set: RuleSet

    @property
    def assigned(self) -> np.ndarray:
        return self.driver_for_order != UNASSIGNED

    @property
    def n_unassigned(self) -> int:
        return int(np.count_nonzero(~self.assigned))

    def explanations(self) -> list[AssignmentExplanation]:
        """Explanation records for every assignment (built on demand; the simulator skips them)."""
        records = []
        components = self.drivers.score_components
        for order_pos in np.flatnonzero(self.assigned):
            driver_pos = int(self.driver_for_order[order_pos])
            cand_index, cand_dist = self.candidates.for_order(int(order_pos))
            pickup = float(self.pickup_m[order_pos])
            bonus = float(self.bonus_m[order_pos])
            records.append(
                AssignmentExplanation(
                    order_id=plain_scalar(self.orders.ids[order_pos]),
                    driver_id=plain_scalar(self.drivers.ids[driver_pos]),
                    candidate_driver_ids=tuple(
                        plain_scalar(i) for i in self.drivers.ids[cand_index]
                    ),
                    candidate_distances_m=tuple(float(d) for d in cand_dist),
                    pickup_m=pickup,
                    bonus_m=bonus,
                    cost_m=pickup - bonus,
                    score=float(self.drivers.score[driver_pos]),
                    score_components=None if components is None else components[driver_pos],
                    rule_set_name=self.rule_set.name,
                    rule_set_version=self.rule_set.version,
                )
            )
        return records


def match_window(
    orders: OrderBatch, drivers: DriverPool, rule_set: RuleSet, solver: Solver = "auto"
) -> MatchResult:
    """Assign orders to drivers minimising total ``pickup - bonus`` (see module docstring)."""
    candidates = find_candidates(orders, drivers, rule_set)
    edge_order = candidates.order_index
    edge_bonus = rule_set.bonus_m(drivers.score[candidates.driver_index])
    edge_cost = candidates.distance_m - edge_bonus

    n_orders = len(orders)
    if solver not in ("auto", "sparse", "dense"):
        raise ValueError(f"unknown solver {solver!r}")
    chosen_edge = _solve_by_component(
        edge_order, candidates.driver_index, edge_cost, rule_set, solver
    )

    # Indices rather than the mask: each array below then takes a few thousand elements, not
    # a pass over every candidate edge; the order (and so the cost sum) stays the same.
    chosen_edge = np.flatnonzero(chosen_edge)
    assigned_orders = edge_order[chosen_edge]
    driver_for_order = np.full(n_orders, UNASSIGNED, dtype=np.int64)
    driver_for_order[assigned_orders] = candidates.driver_index[chosen_edge]
    pickup_m = np.full(n_orders, np.nan)
    pickup_m[assigned_orders] = candidates.distance_m[chosen_edge]
    bonus_m = np.zeros(n_orders)
    bonus_m[assigned_orders] = edge_bonus[chosen_edge]
    total_cost = float(edge_cost[chosen_edge].sum()) + rule_set.unassigned_penalty_m * (
        n_orders - len(assigned_orders)
    )
    return MatchResult(
        driver_for_order,
        pickup_m,
        bonus_m,
        total_cost,
        candidates,
        orders,
        drivers,
        rule_set,
    )


def find_candidates(orders: OrderBatch, drivers: DriverPool, rule_set: RuleSet) -> Candidates:
    """Nearest available drivers per order, honouring per-order vehicle type requirements.

    Orders needing a vehicle type search only among drivers of that type, so they still get up to
    ``k_candidates`` real options instead of nearest drivers that would then be filtered out.
    """
    n_orders = len(orders)
    required = orders.required_vehicle_type
    any_type = required is None or not np.any(required != "")
    if any_type and drivers.available is None:
        # Every driver is eligible: search the pool as it is rather than a copy of it.
        return nearest_candidates(
            orders.xy, drivers.xy, rule_set.k_candidates, rule_set.max_pickup_m
        )
    eligible = (
        np.arange(len(drivers)) if drivers.available is None else np.flatnonzero(drivers.available)
    )
    if any_type:
        found = nearest_candidates(
            orders.xy, drivers.xy[eligible], rule_set.k_candidates, rule_set.max_pickup_m
        )
        return Candidates(found.indptr, eligible[found.driver_index], found.distance_m)
    if drivers.vehicle_type is None:
        raise ValueError("orders require vehicle types but the driver pool has none")

    edge_orders, edge_drivers, edge_distances = [], [], []
    for vehicle_type in np.unique(required):
        order_pos = np.flatnonzero(required == vehicle_type)
        pool = (
            eligible
            if vehicle_type == ""
            else eligible[drivers.vehicle_type[eligible] == vehicle_type]
        )
        found = nearest_candidates(
            orders.xy[order_pos], drivers.xy[pool], rule_set.k_candidates, rule_set.max_pickup_m
        )
        edge_orders.append(order_pos[found.order_index])
        edge_drivers.append(pool[found.driver_index])
        edge_distances.append(found.distance_m)
    return Candidates.from_edges(
        n_orders,
        np.concatenate(edge_orders),
        np.concatenate(edge_drivers),
        np.concatenate(edge_distances),
    )


def _solve_by_component(
    edge_order: np.ndarray,
    edge_driver: np.ndarray,
    edge_cost: np.ndarray,
    rule_set: RuleSet,
    solver: Solver,
) -> np.ndarray:
    """Solve independent parts of the candidate graph separately; the chosen edges as a mask.

    Orders that share no candidate (even indirectly) cannot affect each other, and the sparse
    solver's running time grows with rows x columns of its input, so solving city districts
    separately is far cheaper than one city-wide matrix. Whole components are packed into
    blocks of about ``COMPONENT_BLOCK_ROWS`` orders to keep the number of solver calls small.
    ``solver="dense"`` skips all that: one dense solve of the whole window, the reference.
    """
    if len(edge_order) == 0:
        return np.zeros(0, dtype=bool)
    new_row = np.empty(len(edge_order), dtype=bool)
    new_row[0] = True
    np.not_equal(edge_order[1:], edge_order[:-1], out=new_row[1:])
    whole = solver == "dense"
    cheapest = None if whole else _clear_cheapest_edges(new_row, edge_driver, edge_cost)
    if cheapest is not None:
        chosen = np.zeros(len(edge_order), dtype=bool)
        chosen[cheapest] = True
        return chosen
    # Rows numbered 0..n-1 by a running count (they arrive grouped). Only a window of a few
    # rows can be small enough for one dense solve; only then are its columns counted and
    # numbered 0..n-1 in order of their ids (through a lookup table, without sorting).
    edge_row = np.cumsum(new_row) - 1
    n_rows = int(edge_row[-1]) + 1
    if whole or n_rows * (n_rows + 1) <= DENSE_MAX_CELLS:
        present = np.zeros(int(edge_driver.max()) + 1, dtype=bool)
        present[edge_driver] = True
        column_number = np.cumsum(present) - 1
        n_columns = int(column_number[-1]) + 1
        if whole or n_rows * (n_columns + n_rows) <= DENSE_MAX_CELLS:
            return _solve_numbered(
                edge_row, column_number[edge_driver], edge_cost, n_rows, n_columns, rule_set, solver
            )
    # Components and blocks take the drivers' own indices as column ids: the blocks number
    # their columns in order of those ids, as they would numbers 0..n-1 kept in that order.
    edge_column = edge_driver
    n_columns = int(edge_driver.max()) + 1
    n_components, row_label = _row_components(edge_row, edge_column, n_rows, n_columns)

    # A component in which every order's cheapest candidate is a different driver is solved by
    # giving each order that candidate: each row then sits at its own minimum, a lower bound on
    # any assignment, so this is optimal. Most components of a city window are like that, and
    # only the rest need a solver call.
    row_start = np.flatnonzero(new_row)
    row_edges = np.diff(row_start, append=len(edge_row))
    best_edge = _cheapest_edge_per_row(row_start, row_edges, edge_cost)
    best_column = edge_column[best_edge]
    contested = np.bincount(best_column, minlength=n_columns)[best_column] > 1
    needs_solver = np.zeros(n_components, dtype=bool)
    needs_solver[row_label[contested]] = True
    solved_row = needs_solver[row_label]
    chosen = np.zeros(len(edge_row), dtype=bool)
    chosen[best_edge[~solved_row]] = True
    if not needs_solver.any():
        return chosen

    # Blocks are chosen per row, then each block's rows (in row order) bring their edges.
    rows_per_component = np.bincount(row_label, minlength=n_components) * needs_solver
    first_row_slot = np.cumsum(rows_per_component) - rows_per_component
    rows = np.flatnonzero(solved_row)
    row_block = (first_row_slot // COMPONENT_BLOCK_ROWS)[row_label[rows]]
    # Stable, so each block keeps its rows in order; small integers sort by radix, several
    # times faster than the general stable sort.
    small = row_block.astype(np.int16) if n_rows // COMPONENT_BLOCK_ROWS < 2**15 else row_block
    by_block = np.argsort(small, kind="stable")
    rows = rows[by_block]
    picked = _solve_blocks(
        row_start[rows], row_edges[rows], small[by_block], edge_column, edge_cost, rule_set, solver
    )
    chosen[picked] = True
    return chosen


def _row_components(
    edge_row: np.ndarray, edge_column: np.ndarray, n_rows: int, n_columns: int
) -> tuple[int, np.ndarray]:
    """Connected components of the rows of a bipartite graph, numbered by their first row.

    That is the numbering of ``scipy.sparse.csgraph.connected_components`` on the graph with
    rows as vertices 0..n_rows-1 (every component holds a row). Both ways below search a graph
    of rows alone, linking each edge's row to one row chosen for its column: rows sharing a
    column are linked through that row, so the components are the same, and only columns with
    several rows give links (in a city window most have one). Hooking and pointer jumping on
    plain arrays search a small graph (a sparse matrix costs more to build than that search),
    SciPy a large one. Edges must be sorted by row.
    """
    representative = np.empty(n_columns, dtype=edge_row.dtype)
    representative[edge_column] = edge_row  # any of the column's rows will do
    linked = representative[edge_column]
    link = np.flatnonzero(linked != edge_row)
    u, v = edge_row[link], linked[link]
    if len(edge_row) >= CSGRAPH_MIN_EDGES:
        # CSR arrays written directly (links arrive sorted by row) in the float64 / int32 form
        # the search wants: a COO build sorts, and any other form is converted again.
        indptr = np.zeros(n_rows + 1, dtype=np.int32)
        np.cumsum(np.bincount(u, minlength=n_rows), out=indptr[1:])
        graph = csr_matrix((np.ones(len(u)), v.astype(np.int32), indptr), shape=(n_rows, n_rows))
        # Labels are handed out in order of each component's smallest vertex whatever the
        # order of the edges, as the numbering by first row wants.
        return connected_components(graph, directed=False)
    label = np.arange(n_rows)
    while True:
        # Hook: each endpoint takes the smaller label of the edge; labels stay vertex ids of the
        # same component and only decrease, so the smallest vertex keeps its own.
        hooked = label.copy()
        smaller = np.minimum(label[u], label[v])
        np.minimum.at(hooked, u, smaller)
        np.minimum.at(hooked, v, smaller)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, label):
            break
        label = hooked
    first_rows, row_label = np.unique(label, return_inverse=True)
    return len(first_rows), row_label


def _clear_cheapest_edges(
    new_row: np.ndarray, edge_column: np.ndarray, edge_cost: np.ndarray
) -> np.ndarray | None:
    """Every row's cheapest edge, if that is clearly the one optimal assignment; else None.

    When each row's cheapest edge beats its second cheapest by more than ``CLEAR_MARGIN_M`` and
    no two rows' cheapest edges share a column, every other assignment costs at least the margin
    more, so any exact solver returns this one: skipping the solver cannot change the result.
    Many windows of a city day are like that. Edges are grouped by row; ``new_row`` flags each
    row's first edge.
    """
    starts = np.flatnonzero(new_row)
    counts = np.diff(starts, append=len(new_row))
    row_min = _row_minimum(edge_cost, starts, counts)
    at_min = np.flatnonzero(edge_cost == np.repeat(row_min, counts))
    if at_min.size != starts.size:
        return None  # a row with two equally cheap edges
    columns = np.sort(edge_column[at_min])
    if np.any(columns[1:] == columns[:-1]):
        return None
    others = edge_cost.copy()
    others[at_min] = np.inf
    if np.any(_row_minimum(others, starts, counts) - row_min <= CLEAR_MARGIN_M):
        return None
    return at_min


def _row_minimum(edge_cost: np.ndarray, row_start: np.ndarray, row_edges: np.ndarray) -> np.ndarray:
    """``np.minimum.reduceat(edge_cost, row_start)`` for rows of ``row_edges`` (> 0) edges."""
    width = len(edge_cost) // len(row_start)
    if width <= 16 and np.all(row_edges == width):
        # Rows of one length (every order with k candidates): a minimum down the k columns of
        # the rows x k table loops once per column, reduceat once per row.
        table = edge_cost.reshape(-1, width)
        row_min = table[:, 0].copy()
        for column in range(1, width):
            np.minimum(row_min, table[:, column], out=row_min)
        return row_min
    return np.minimum.reduceat(edge_cost, row_start)


def _cheapest_edge_per_row(
    row_start: np.ndarray, row_edges: np.ndarray, edge_cost: np.ndarray
) -> np.ndarray:
    """Index of the first minimum-cost edge of every row; edges sorted by row, none empty."""
    row_min = _row_minimum(edge_cost, row_start, row_edges)
    at_min = np.flatnonzero(edge_cost == np.repeat(row_min, row_edges))
    if len(at_min) == len(row_start):
        return at_min  # no ties: one minimum per row
    edge_row = np.repeat(np.arange(len(row_start)), row_edges)[at_min]
    first = np.ones(len(at_min), dtype=bool)
    first[1:] = edge_row[1:] != edge_row[:-1]
    return at_min[first]


def _solve_numbered(
    rows: np.ndarray,
    columns: np.ndarray,
    edge_cost: np.ndarray,
    n_rows: int,
    n_columns: int,
    rule_set: RuleSet,
    solver: Solver,
) -> np.ndarray:
    """Optimal assignment over the given edges plus one dummy per row; the chosen edges as a
    mask. Rows and columns are numbered 0..n-1; edges are sorted by row."""
    if solver == "auto":
        solver = "dense" if n_rows * (n_columns + n_rows) <= DENSE_MAX_CELLS else "sparse"
    if solver == "dense":
        column_for_row = _dense_column_for_row(
            rows, columns, edge_cost, n_rows, n_columns, rule_set
        )
    else:
        graph = _sparse_cost_graph(rows, columns, edge_cost, n_rows, n_columns, rule_set)
        column_for_row = _sparse_column_for_row(graph, n_rows)
    return columns == column_for_row[rows]


def _dense_column_for_row(
    rows: np.ndarray,
    columns: np.ndarray,
    edge_cost: np.ndarray,
    n_rows: int,
    n_columns: int,
    rule_set: RuleSet,
) -> np.ndarray:
    cost = dense_cost_matrix(rows, columns, edge_cost, n_rows, n_columns, rule_set)
    chosen_row, chosen_column = linear_sum_assignment(cost)
    column_for_row = np.empty(n_rows, dtype=np.int64)
    column_for_row[chosen_row] = chosen_column
    return column_for_row


def _sparse_column_for_row(graph: csr_matrix, n_rows: int) -> np.ndarray:
    chosen_row, chosen_column = min_weight_full_bipartite_matching(graph)
    column_for_row = np.empty(n_rows, dtype=np.int64)
    column_for_row[chosen_row] = chosen_column
    return column_for_row


def _solve_blocks(
    row_first_edge: np.ndarray,
    row_edges: np.ndarray,
    row_block: np.ndarray,
    edge_column: np.ndarray,
    edge_cost: np.ndarray,
    rule_set: RuleSet,
    solver: Solver,
) -> np.ndarray:
    """:func:`_solve_numbered` on each block of rows; the indices of the chosen edges.

    Row ``i`` owns edges ``row_first_edge[i]`` onwards (``row_edges[i]`` of them); rows are
    grouped by ``row_block`` and in order within a block, and no column is in two blocks. Each
    block's solver gets exactly what :func:`_solve_numbered` would give it for the block's
    edges (rows and columns numbered in order of their ids, the same CSR arrays), so results
    are the same; but the numbering and the CSR arrays of all blocks are built in one pass, as
    per-block NumPy calls on a few hundred edges cost more in call overhead than in work.
    """
    n_solved_rows = len(row_first_edge)
    row_end = np.cumsum(row_edges)  # where each row's edges end once gathered
    n_edges = int(row_end[-1])
    row_of_edge = np.repeat(np.arange(n_solved_rows), row_edges)
    edges = np.arange(n_edges) + np.repeat(row_first_edge - (row_end - row_edges), row_edges)
    columns = edge_column[edges]
    new_block = np.empty(n_solved_rows, dtype=bool)
    new_block[0] = True
    np.not_equal(row_block[1:], row_block[:-1], out=new_block[1:])
    block_first_row = np.flatnonzero(new_block)
    n_blocks = len(block_first_row)
    block_rows = np.diff(block_first_row, append=n_solved_rows)
    block_of_row = np.repeat(np.arange(n_blocks), block_rows)
    local_row = np.arange(n_solved_rows) - np.repeat(block_first_row, block_rows)

    # Columns numbered within their block in order of their ids: sorting the columns present by
    # block (stable, by radix for small integers) keeps them in id order inside each block.
    column_block = np.full(int(columns.max()) + 1, -1, dtype=np.int16 if n_blocks < 2**15 else int)
    column_block[columns] = block_of_row[row_of_edge]
    present = np.flatnonzero(column_block >= 0)
    present_block = column_block[present]
    block_columns = np.bincount(present_block, minlength=n_blocks)
    rank = np.arange(len(present)) - np.repeat(
        np.cumsum(block_columns) - block_columns, block_columns
    )
    local_column = np.empty(len(column_block), dtype=np.int64)
    local_column[present[np.argsort(present_block, kind="stable")]] = rank
    edge_local_column = local_column[columns]

    # All blocks' CSR arrays back to back, as _sparse_cost_graph lays them out: each row's
    # edges in their order, then its dummy (column n_columns + the row's number in its block).
    dummy_slot = row_end + np.arange(n_solved_rows)
    n_slots = n_edges + n_solved_rows
    index_dtype = np.int32 if n_slots + len(column_block) + n_solved_rows < 2**31 else np.int64
    is_edge = np.ones(n_slots, dtype=bool)
    is_edge[dummy_slot] = False
    offset = rule_set.bonus_cap_m + 1.0
    edge_cost = edge_cost[edges]
    data = np.empty(n_slots)
    data[is_edge] = edge_cost + offset
    data[dummy_slot] = rule_set.unassigned_penalty_m + offset
    indices = np.empty(n_slots, dtype=index_dtype)
    indices[is_edge] = edge_local_column
    indices[dummy_slot] = block_columns[block_of_row] + local_row
    indptr = np.zeros(n_solved_rows + 1, dtype=index_dtype)
    indptr[1:] = dummy_slot + 1

    column_for_row = np.empty(n_solved_rows, dtype=np.int64)
    for block in range(n_blocks):
        first = int(block_first_row[block])
        n_rows, n_columns = int(block_rows[block]), int(block_columns[block])
        last = first + n_rows
        if solver == "auto" and n_rows * (n_columns + n_rows) <= DENSE_MAX_CELLS:
            edge0, edge1 = int(row_end[first] - row_edges[first]), int(row_end[last - 1])
            column_for_row[first:last] = _dense_column_for_row(
                local_row[row_of_edge[edge0:edge1]],
                edge_local_column[edge0:edge1],
                edge_cost[edge0:edge1],
                n_rows,
                n_columns,
                rule_set,
            )
            continue
        slot0, slot1 = indptr[first], indptr[last]
        graph = csr_matrix(
            (data[slot0:slot1], indices[slot0:slot1], indptr[first : last + 1] - slot0),
            shape=(n_rows, n_columns + n_rows),
        )
        column_for_row[first:last] = _sparse_column_for_row(graph, n_rows)
    return edges[edge_local_column == column_for_row[row_of_edge]]


def _sparse_cost_graph(
    rows: np.ndarray,
    columns: np.ndarray,
    edge_cost: np.ndarray,
    n_rows: int,
    n_columns: int,
    rule_set: RuleSet,
) -> csr_matrix:
    # The solver treats stored zeros as missing edges, so shift every weight to be >= 1. Every
    # row uses exactly one edge (real or dummy), so a constant shift changes the total by
    # n_rows * offset and cannot change which matching is optimal.
    offset = rule_set.bonus_cap_m + 1.0
    # Row i holds its candidate edges followed by its own dummy column n_columns + i.
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows) + 1, out=indptr[1:])
    dummy_slot = indptr[1:] - 1
    is_edge = np.ones(indptr[-1], dtype=bool)
    is_edge[dummy_slot] = False
    data = np.empty(indptr[-1])
    indices = np.empty(indptr[-1], dtype=np.int64)
    data[is_edge] = edge_cost + offset
    indices[is_edge] = columns
    data[dummy_slot] = rule_set.unassigned_penalty_m + offset
    indices[dummy_slot] = n_columns + np.arange(n_rows)
    return csr_matrix((data, indices, indptr), shape=(n_rows, n_columns + n_rows))


def dense_cost_matrix(
    edge_order: np.ndarray,
    edge_column: np.ndarray,
    edge_cost: np.ndarray,
    n_orders: int,
    n_columns: int,
    rule_set: RuleSet,
    infeasible: float = np.inf,
) -> np.ndarray:
    """``n_orders x (n_columns + n_orders)`` matrix: edge costs, a dummy diagonal, ``infeasible``
    elsewhere. Pass a large finite ``infeasible`` to mimic solvers without forbidden-edge support.
    """
    cost = np.full((n_orders, n_columns + n_orders), infeasible)
    cost[edge_order, edge_column] = edge_cost
    cost[np.arange(n_orders), n_columns + np.arange(n_orders)] = rule_set.unassigned_penalty_m
    return cost


def plain_scalar(value: object) -> object:
    """NumPy scalars -> Python scalars so explanation records serialise cleanly."""
    return value.item() if isinstance(value, np.generic) else value
