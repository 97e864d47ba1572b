"""Fleet sizing: the smallest number of drivers that serves a target share of the demand.

Served share grows with fleet size (more drivers can only offer more pickups within reach, up to
noise between fleet draws), so bisection over the number of drivers finds the threshold with a
logarithmic number of simulated days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .demand import Fleet, Orders
from .rules import RuleSet
from .simulator import ProgressCallback, SimulationConfig, simulate

# Doubling stops here even if the target is still out of reach.
MAX_DRIVERS = 1_000_000

# Frozen, so one shared default instance is safe.
DEFAULT_CONFIG = SimulationConfig()

FleetFactory = Callable[[int, int], Fleet]


@dataclass
class SizingResult:
    """``n_drivers`` is the smallest fleet found meeting ``target`` (or the largest tried, when
    ``reached`` is False); ``steps`` lists every ``(n, served_share)`` simulated, in order."""

    n_drivers: int
    served_share: float
    target: float
    reached: bool
    steps: list[tuple[int, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_drivers": self.n_drivers,
            "served_share": self.served_share,
            "target": self.target,
            "reached": self.reached,
            "steps": [[n, share] for n, share in self.steps],
        }


def size_fleet(
    rule_set: RuleSet,
    orders: Orders,
    make_fleet: FleetFactory,
    target_served: float = 0.95,
    seeds: Sequence[int] = (0,),
    low: int = 1,
    high: int | None = None,
    tolerance: float = 0.02,
    config: SimulationConfig = DEFAULT_CONFIG,
    progress: ProgressCallback | None = None,
) -> SizingResult:
    """Bisect the fleet size until ``(high - low) / high <= tolerance``.

    ``make_fleet(n, seed)`` builds a fleet of ``n`` drivers; served share is the mean over
    ``seeds`` of ``served / orders``. ``high`` defaults to twice ``low`` and doubles until the
    target is met, up to ``max(2 * len(orders), low)`` drivers (never more than
    ``MAX_DRIVERS``); beyond that the target is reported as not reachable.
    """
    if not 0.0 < target_served <= 1.0:
        raise ValueError("target_served must be in (0, 1]")
    if not 0.0 < tolerance < 1.0:
        raise ValueError("tolerance must be in (0, 1)")
    if low < 1:
        raise ValueError("low must be at least 1 driver")
    if high is not None and high <= low:
        raise ValueError("high must exceed low")
    if len(orders) == 0:
        raise ValueError("sizing needs at least one order")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("sizing needs at least one seed")
    cap = min(MAX_DRIVERS, max(2 * len(orders), low))

    steps: list[tuple[int, float]] = []
    shares: dict[int, float] = {}

    def share_of(n: int, remaining: int) -> float:
        if n not in shares:
            runs = [simulate(rule_set, orders, make_fleet(n, s), s, config=config) for s in seeds]
            shares[n] = float(np.mean([r.metrics["served"] / len(orders) for r in runs]))
            steps.append((n, shares[n]))
            if progress is not None:
                progress(len(steps) / (len(steps) + remaining))
        return shares[n]

    def bisection_steps(lo: int, hi: int) -> int:
        return max(0, math.ceil(math.log2(max((hi - lo) / (tolerance * hi), 1.0))))

    def finish(n: int, reached: bool) -> SizingResult:
        if progress is not None:
            progress(1.0)
        return SizingResult(n, shares[n], target_served, reached, steps)

    if share_of(low, bisection_steps(low, 2 * low) + 1) >= target_served:
        return finish(low, True)
    high = min(high or 2 * low, cap)
    while share_of(high, bisection_steps(low, 2 * high)) < target_served:
        if high >= cap:
            return finish(high, False)
        low, high = high, min(2 * high, cap)

    while (high - low) / high > tolerance and high - low > 1:
        middle = (low + high) // 2
        if share_of(middle, bisection_steps(low, high) - 1) >= target_served:
            high = middle
        else:
            low = middle
    return finish(high, True)
