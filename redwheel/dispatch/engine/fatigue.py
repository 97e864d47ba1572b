"""Driving-time fatigue rules, tracked for a whole fleet with NumPy arrays.

Driving time is time spent on trips (pickup plus ride). Two limits apply:

* continuous: after ``continuous_limit_s`` of driving without a break of at least
  ``continuous_rest_s``, the driver must rest ``continuous_rest_s`` before the next order;
* daily: after ``daily_limit_s`` of driving without a break of at least ``daily_rest_s``, the
  driver must stay off for ``daily_rest_s``.

A break long enough for a limit's rest resets that limit's counter. Limits are checked when an
order is offered; a trip already under way is always finished.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from .rules import FatigueRules


class FatigueStatus(StrEnum):
    OK = "ok"
    MUST_REST = "must_rest"  # continuous limit reached
    DAILY_CAP = "daily_cap"  # daily limit reached


class FatigueTracker:
    """Per-driver driving counters; indices are positions in the fleet arrays."""

    def __init__(self, n_drivers: int, rules: FatigueRules) -> None:
        self.rules = rules
        self.continuous_s = np.zeros(n_drivers)
        self.daily_s = np.zeros(n_drivers)
        self.last_drive_end = np.full(n_drivers, -np.inf)
        self.eligible_from = np.full(n_drivers, -np.inf)
        self._reason = np.full(n_drivers, FatigueStatus.OK.value, dtype=object)

    def eligible(self, now: float) -> np.ndarray:
        """Boolean mask of drivers the fatigue rules allow to take an order at ``now``."""
        return self.eligible_from <= now

    def status(self, driver: int, now: float) -> FatigueStatus:
        if self.eligible_from[driver] <= now:
            return FatigueStatus.OK
        return FatigueStatus(self._reason[driver])

    def record_drive(self, drivers: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """Record that each of ``drivers`` drives from ``start`` to ``end`` (one trip each)."""
        rules = self.rules
        drivers = np.asarray(drivers, dtype=np.int64)
        start = np.broadcast_to(np.asarray(start, dtype=float), drivers.shape)
        end = np.broadcast_to(np.asarray(end, dtype=float), drivers.shape)
        if np.any(end < start):
            raise ValueError("a drive cannot end before it starts")
        gap = start - self.last_drive_end[drivers]
        duration = end - start
        continuous = np.where(gap >= rules.continuous_rest_s, 0.0, self.continuous_s[drivers])
        daily = np.where(gap >= rules.daily_rest_s, 0.0, self.daily_s[drivers])
        continuous = continuous + duration
        daily = daily + duration

        must_rest = continuous >= rules.continuous_limit_s
        capped = daily >= rules.daily_limit_s
        eligible_from = np.where(must_rest, end + rules.continuous_rest_s, -np.inf)
        eligible_from = np.where(capped, end + rules.daily_rest_s, eligible_from)
        reason = np.where(capped, FatigueStatus.DAILY_CAP.value, FatigueStatus.MUST_REST.value)

        self.continuous_s[drivers] = continuous
        self.daily_s[drivers] = daily
        self.last_drive_end[drivers] = end
        self.eligible_from[drivers] = eligible_from
        self._reason[drivers] = reason
