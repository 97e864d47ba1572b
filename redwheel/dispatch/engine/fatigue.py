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


# Reasons are stored as small integer codes, not strings: recording a window's trips then stays
# a few vector operations instead of building an object array every window.
_REASONS = (FatigueStatus.MUST_REST, FatigueStatus.DAILY_CAP)
_MUST_REST, _DAILY_CAP = 0, 1


class FatigueTracker:
    """Per-driver driving counters; indices are positions in the fleet arrays."""

    def __init__(self, n_drivers: int, rules: FatigueRules) -> None:
        self.rules = rules
        self.continuous_s = np.zeros(n_drivers)
        self.daily_s = np.zeros(n_drivers)
        self.last_drive_end = np.full(n_drivers, -np.inf)
        self.eligible_from = np.full(n_drivers, -np.inf)
        self._reason = np.full(n_drivers, _MUST_REST, dtype=np.int8)

    def eligible(self, now: float) -> np.ndarray:
        """Boolean mask of drivers the fatigue rules allow to take an order at ``now``."""
        return self.eligible_from <= now

    def status(self, driver: int, now: float) -> FatigueStatus:
        if self.eligible_from[driver] <= now:
            return FatigueStatus.OK
        return _REASONS[self._reason[driver]]

    def record_drive(self, drivers: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
        """Record that each of ``drivers`` drives from ``start`` to ``end`` (one trip each)."""
        rules = self.rules
        drivers = np.asarray(drivers, dtype=np.int64)
        # Broadcasting (a scalar start for a whole window) is left to the arithmetic below.
        start = np.asarray(start, dtype=float)
        end = np.asarray(end, dtype=float)
        if np.any(end < start):
            raise ValueError("a drive cannot end before it starts")
        gap = start - self.last_drive_end[drivers]
        duration = end - start
        continuous = np.where(gap >= rules.continuous_rest_s, 0.0, self.continuous_s[drivers])
        daily = np.where(gap >= rules.daily_rest_s, 0.0, self.daily_s[drivers])
        continuous = continuous + duration
        daily = daily + duration

        capped = daily >= rules.daily_limit_s
        eligible_from = np.where(
            continuous >= rules.continuous_limit_s, end + rules.continuous_rest_s, -np.inf
        )
        eligible_from = np.where(capped, end + rules.daily_rest_s, eligible_from)

        self.continuous_s[drivers] = continuous
        self.daily_s[drivers] = daily
        self.last_drive_end[drivers] = end
        self.eligible_from[drivers] = eligible_from
        self._reason[drivers] = np.where(capped, _DAILY_CAP, _MUST_REST)
