"""Candidate generation: the k nearest drivers of each order within the maximum pickup distance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

# Below this many order x driver pairs a vectorised brute-force scan beats building a KD-tree
# (a tree over 5,000 points costs ~0.5 ms; scanning 5 x 5,000 pairs costs ~0.1 ms). Both paths
# return the same candidates, so the choice is purely about speed.
BRUTE_FORCE_MAX_PAIRS = 200_000
# Leaves of 32 points build about twice as fast as the default 16 and query as fast.
KD_TREE_LEAF_SIZE = 32
# Queries of at least this many orders are split across all cores: below it, starting threads
# costs more than it saves. Results do not depend on the number of threads.
PARALLEL_QUERY_MIN_ORDERS = 1024


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
    """The ``k`` nearest drivers of every order that are at most ``max_distance_m`` away."""
    n_orders, n_drivers = len(order_xy), len(driver_xy)
    if n_orders == 0 or n_drivers == 0:
        return Candidates.empty(n_orders)
    k = min(k, n_drivers)
    if n_orders * n_drivers <= BRUTE_FORCE_MAX_PAIRS:
        index, distance = _brute_force_knn(order_xy, driver_xy, k)
    else:
        tree = cKDTree(
            driver_xy, leafsize=KD_TREE_LEAF_SIZE, balanced_tree=False, compact_nodes=False
        )
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
    indptr = np.concatenate(([0], np.cumsum(within.sum(axis=1)))).astype(np.int64)
    return Candidates(indptr, index[within].astype(np.int64), distance[within])


def _brute_force_knn(
    order_xy: np.ndarray, driver_xy: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    dx = order_xy[:, 0, None] - driver_xy[None, :, 0]
    dy = order_xy[:, 1, None] - driver_xy[None, :, 1]
    squared = dx * dx + dy * dy
    if k < squared.shape[1]:
        index = np.argpartition(squared, k - 1, axis=1)[:, :k]
    else:
        index = np.broadcast_to(np.arange(squared.shape[1]), squared.shape)
    nearest = np.take_along_axis(squared, index, axis=1)
    order = np.argsort(nearest, axis=1, kind="stable")
    return (
        np.take_along_axis(index, order, axis=1),
        np.sqrt(np.take_along_axis(nearest, order, axis=1)),
    )
