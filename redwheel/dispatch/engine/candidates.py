"""Candidate generation: the k nearest drivers of each order within the maximum pickup distance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

# Up to this many order x driver pairs a vectorised brute-force scan beats building a KD-tree
# (a tree over 5,000 points costs ~0.5 ms; scanning 5 x 5,000 pairs costs ~0.1 ms). Both paths
# return the same candidates, so the choice is purely about speed.
BRUTE_FORCE_MAX_PAIRS = 200_000
# Leaves of 32 points build about twice as fast as the default 16 and query as fast.
KD_TREE_LEAF_SIZE = 32
# Queries of at least this many orders are split across all cores: below it, starting threads
# costs more than it saves. Results do not depend on the number of threads.
PARALLEL_QUERY_MIN_ORDERS = 1024
# Brute-force scans of at least this many pairs first keep the drivers of the grid cells around
# each order: below it, sorting drivers into cells costs more than the pairs it skips.
GRID_MIN_PAIRS = 60000
# Caps the grid at this many cells a side when drivers are spread far wider than the reach.
GRID_MAX_CELLS_PER_SIDE = 64


@dataclass(frozen=True)
class Candidates:
    """CSR-style candidate lists: order ``i`` has ``driver_index[indptr[i]:indptr[i + 1]]``.

    Each order's candidates are sorted by increasing distance and contain no duplicates.
    """

    indptr: np.ndarray
    driver_index: np.ndarray
    distance_m: np.ndarray

    @property
    def n_orders(self) -> int:
        return len(self.indptr) - 1

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)

    @property
    def order_index(self) -> np.ndarray:
        """Order (row) index of every candidate edge."""
        return np.repeat(np.arange(self.n_orders), self.counts)

    def for_order(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.indptr[i], self.indptr[i + 1]
        return self.driver_index[start:stop], self.distance_m[start:stop]

    @classmethod
    def empty(cls, n_orders: int) -> Candidates:
        return cls(
            np.zeros(n_orders + 1, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=float),
        )

    @classmethod
    def from_edges(
        cls,
        n_orders: int,
        order_index: np.ndarray,
        driver_index: np.ndarray,
        distance_m: np.ndarray,
    ) -> Candidates:
        """Assemble from unordered edges (e.g. the union of per-vehicle-type searches)."""
        key = np.lexsort((distance_m, order_index))
        counts = np.bincount(order_index, minlength=n_orders)
        indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return cls(indptr, driver_index[key].astype(np.int64), distance_m[key])


def nearest_candidates(
    order_xy: np.ndarray, driver_xy: np.ndarray, k: int, max_distance_m: float
) -> Candidates:
    """The ``k`` nearest drivers of every order that are at most ``max_distance_m`` away.

    Drivers at exactly the same distance are ranked as ``np.argpartition`` over all drivers
    ranks them, which is how the brute-force path has always broken such ties.
    """
    n_orders, n_drivers = len(order_xy), len(driver_xy)
    if n_orders == 0 or n_drivers == 0:
        return Candidates.empty(n_orders)
    k = min(k, n_drivers)
    if n_orders * n_drivers <= BRUTE_FORCE_MAX_PAIRS:
        return _brute_force_candidates(order_xy, driver_xy, k, max_distance_m)
    tree = cKDTree(driver_xy, leafsize=KD_TREE_LEAF_SIZE, balanced_tree=False, compact_nodes=False)
    # The tree's bound is strict; nudge it so a driver exactly at the limit is kept, as in
    # the brute-force path.
    distance, index = tree.query(
        order_xy,
        k=k,
        distance_upper_bound=np.nextafter(max_distance_m, np.inf),
        workers=-1 if n_orders >= PARALLEL_QUERY_MIN_ORDERS else 1,
    )
    distance = distance.reshape(n_orders, k)
    index = index.reshape(n_orders, k)
    within = distance <= max_distance_m
    if within.all():
        # Typical of a busy city window: every order has k drivers within reach.
        indptr = np.arange(0, (n_orders + 1) * k, k, dtype=np.int64)
        return Candidates(indptr, index.ravel().astype(np.int64, copy=False), distance.ravel())
    indptr = np.concatenate(([0], np.cumsum(within.sum(axis=1)))).astype(np.int64)
    return Candidates(indptr, index[within].astype(np.int64, copy=False), distance[within])


def _brute_force_candidates(
    order_xy: np.ndarray, driver_xy: np.ndarray, k: int, max_distance_m: float
) -> Candidates:
    """Exact scan of the pairs that can be within reach, then the ``k`` nearest of each order.

    Only pairs within reach are ranked, and most pairs of a city window are not, so this costs
    far less than ranking every driver for every order.
    """
    n_orders = len(order_xy)
    # Squared distances are compared with a slightly larger bound and the exact test is made on
    # the square root below, so a driver exactly at the limit is kept as in the tree path.
    bound_squared = (max_distance_m * (1.0 + 1e-9)) ** 2
    if n_orders * len(driver_xy) < GRID_MIN_PAIRS:
        dx = order_xy[:, 0, None] - driver_xy[None, :, 0]
        dy = order_xy[:, 1, None] - driver_xy[None, :, 1]
        squared = dx * dx + dy * dy
        # flatnonzero + divmod is several times faster than a 2-D nonzero.
        flat = np.flatnonzero(squared <= bound_squared)
        row, column = np.divmod(flat, len(driver_xy))
        squared = squared.ravel()[flat]
    else:
        row, column = _grid_pairs(order_xy, driver_xy, max_distance_m)
        dx = order_xy[row, 0] - driver_xy[column, 0]
        dy = order_xy[row, 1] - driver_xy[column, 1]
        squared = dx * dx + dy * dy
        near = squared <= bound_squared
        row, column, squared = row[near], column[near], squared[near]
    distance = np.sqrt(squared)
    within = distance <= max_distance_m
    row, column, squared, distance = row[within], column[within], squared[within], distance[within]
    nearest_first = np.lexsort((squared, row))
    row, column = row[nearest_first], column[nearest_first]
    squared, distance = squared[nearest_first], distance[nearest_first]
    counts = np.bincount(row, minlength=n_orders)
    rank = np.arange(row.size) - (np.cumsum(counts) - counts)[row]
    keep = rank < k
    indptr = np.zeros(n_orders + 1, dtype=np.int64)
    np.cumsum(np.minimum(counts, k), out=indptr[1:])
    found = Candidates(indptr, column[keep].astype(np.int64), distance[keep])
    # Equal distances among an order's first k + 1 drivers are settled as the original full scan
    # settled them (which of the tied drivers is kept, and in which order), so that results stay
    # identical to it; drivers parked at one spot (a station, a demand target) make such ties.
    tied = (row[1:] == row[:-1]) & (squared[1:] == squared[:-1]) & (rank[1:] <= k)
    if tied.any():
        _rescan_rows(found, np.unique(row[1:][tied]), order_xy, driver_xy, k, max_distance_m)
    return found


def _rescan_rows(
    found: Candidates,
    rows: np.ndarray,
    order_xy: np.ndarray,
    driver_xy: np.ndarray,
    k: int,
    max_distance_m: float,
) -> None:
    """Overwrite the candidates of ``rows`` (in place) with a full scan of every driver.

    The scan ranks with ``np.argpartition`` over each row of all drivers, exactly as the matcher
    always has; the number of candidates per row is the same either way.
    """
    dx = order_xy[rows, 0, None] - driver_xy[None, :, 0]
    dy = order_xy[rows, 1, None] - driver_xy[None, :, 1]
    squared = dx * dx + dy * dy
    if k < squared.shape[1]:
        index = np.argpartition(squared, k - 1, axis=1)[:, :k]
    else:
        index = np.broadcast_to(np.arange(squared.shape[1]), squared.shape)
    nearest = np.take_along_axis(squared, index, axis=1)
    order = np.argsort(nearest, axis=1, kind="stable")
    index = np.take_along_axis(index, order, axis=1)
    distance = np.sqrt(np.take_along_axis(nearest, order, axis=1))
    within = distance <= max_distance_m
    start, stop = found.indptr[rows], found.indptr[rows + 1]
    slots = np.repeat(start - (np.cumsum(stop - start) - (stop - start)), stop - start)
    slots += np.arange(slots.size)
    found.driver_index[slots] = index[within]
    found.distance_m[slots] = distance[within]


def _grid_pairs(
    order_xy: np.ndarray, driver_xy: np.ndarray, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """(order, driver) pairs in the 3 x 3 grid cells around each order.

    Cells are at least ``max_distance_m`` wide (with a margin for rounding), so every driver
    within reach of an order lies in one of the cells around it.
    """
    # Column-wise reductions: NumPy's axis-0 reductions of (n, 2) arrays are many times slower.
    dx, dy = driver_xy[:, 0], driver_xy[:, 1]
    x0, y0 = dx.min(), dy.min()
    extent = max(dx.max() - x0, dy.max() - y0)
    cell_m = max(max_distance_m * 1.001, float(extent) / GRID_MAX_CELLS_PER_SIDE)
    cx = np.floor((dx - x0) / cell_m).astype(np.int64)
    cy = np.floor((dy - y0) / cell_m).astype(np.int64)
    nx, ny = int(cx.max()) + 1, int(cy.max()) + 1
    # Cells numbered row by row, so the three cells of a row around an order are one range.
    key = cy * nx + cx
    by_cell = np.argsort(key.astype(np.int16) if nx * ny < 2**15 else key, kind="stable")
    cell_start = np.zeros(nx * ny + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=nx * ny), out=cell_start[1:])

    # Orders beyond the drivers' cells are pulled to just outside them: no cells, no pairs.
    ox = np.floor((order_xy[:, 0] - x0) / cell_m)
    oy = np.floor((order_xy[:, 1] - y0) / cell_m)
    ox = np.minimum(np.maximum(ox, -2), nx + 1).astype(np.int64)
    oy = np.minimum(np.maximum(oy, -2), ny + 1).astype(np.int64)
    x_low = np.maximum(ox - 1, 0)
    x_high = np.minimum(ox + 1, nx - 1)
    y = oy[:, None] + np.arange(-1, 2)
    valid = (x_low <= x_high)[:, None] & (y >= 0) & (y < ny)
    y = np.minimum(np.maximum(y, 0), ny - 1)
    begin = cell_start[y * nx + np.minimum(x_low, nx - 1)[:, None]]
    end = cell_start[y * nx + np.maximum(x_high, 0)[:, None] + 1]
    length = np.where(valid, end - begin, 0).ravel()
    begin = begin.ravel()
    row = np.repeat(np.arange(len(order_xy)).repeat(3), length)
    run_offset = np.repeat(begin - (np.cumsum(length) - length), length)
    return row, by_cell[np.arange(row.size) + run_offset]
