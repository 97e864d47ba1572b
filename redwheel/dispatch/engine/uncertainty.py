"""Comparisons over several seeds: each metric's mean with a Student-t interval.

One seed is one draw of passenger patience (and, with a fleet factory, of the fleet), so a single
run cannot tell a real difference between rule sets from noise. Every rule set here is run on the
same seeds, and differences are taken per seed before averaging (common random numbers): the
seed-to-seed noise that both rule sets share cancels, so the difference interval is much tighter
than the two separate intervals would suggest.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .demand import Fleet, Orders
from .rules import RuleSet
from .simulator import Comparison, ProgressCallback, SimulationConfig, compare

DEFAULT_SEEDS = 5
DEFAULT_CONFIDENCE = 0.95
# Derived per run from ``served / orders`` so that "served share" reads as a fraction 0-1.
SERVED_SHARE = "served_share"

# Frozen, so one shared default instance is safe.
DEFAULT_CONFIG = SimulationConfig()

Inputs = tuple[Orders, Fleet] | Callable[[int], tuple[Orders, Fleet]]


@dataclass(frozen=True)
class Interval:
    """Mean of ``n`` values with a two-sided confidence interval ``[low, high]``."""

    mean: float
    low: float
    high: float
    n: int

    def contains(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero (NaN bounds never do)."""
        return bool(self.low > 0.0 or self.high < 0.0)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": _json_float(self.mean),
            "low": _json_float(self.low),
            "high": _json_float(self.high),
            "n": self.n,
        }


def interval(
    values: Sequence[float] | np.ndarray, confidence: float = DEFAULT_CONFIDENCE
) -> Interval:
    """Student-t interval for the mean of ``values`` (one value -> NaN bounds)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n == 0:
        raise ValueError("an interval needs at least one value")
    mean = float(data.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    spread = float(data.std(ddof=1))
    # Identical values have no spread; scipy would return NaN bounds for a zero scale.
    if spread == 0.0:
        return Interval(mean, mean, mean, n)
    half = float(stats.t.ppf(0.5 + confidence / 2.0, df=n - 1)) * spread / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def seeds_from(seed: int, count: int = DEFAULT_SEEDS) -> list[int]:
    """``count`` consecutive seeds starting at ``seed``."""
    if count < 1:
        raise ValueError("count must be at least 1")
    return [seed + i for i in range(count)]


@dataclass
class Replicated:
    """Per-seed comparisons and, for every rule set and metric, intervals over the seeds."""

    seeds: list[int]
    comparisons: list[Comparison]
    metric_intervals: dict[str, dict[str, Interval]]
    difference_intervals: dict[str, dict[str, Interval]]
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def rule_names(self) -> list[str]:
        return list(self.metric_intervals)

    @property
    def baseline(self) -> str:
        return self.rule_names[0]

    def significant(self, rule_name: str, metric: str) -> bool:
        """True only if the paired difference vs the first rule set excludes zero."""
        try:
            return self.difference_intervals[rule_name][metric].excludes_zero
        except KeyError:
            raise KeyError(f"no difference interval for {rule_name!r} / {metric!r}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seeds": list(self.seeds),
            "confidence": self.confidence,
            "baseline": self.baseline,
            "metric_intervals": _intervals_dict(self.metric_intervals),
            "difference_intervals": _intervals_dict(self.difference_intervals),
            "significant": {
                rule: {metric: iv.excludes_zero for metric, iv in by_metric.items()}
                for rule, by_metric in self.difference_intervals.items()
            },
        }


def replicate(
    rule_sets: Sequence[RuleSet],
    inputs: Inputs,
    seeds: Sequence[int],
    config: SimulationConfig = DEFAULT_CONFIG,
    processes: int | None = None,
    progress: ProgressCallback | None = None,
) -> Replicated:
    """Run :func:`compare` once per seed and summarise every metric over the seeds.

    ``inputs`` is ``(orders, fleet)`` for the same day on every seed, or a picklable callable
    ``seed -> (orders, fleet)``. ``processes`` > 1 runs seeds in separate processes; the result
    is identical to ``processes=1`` because each seed's run depends on nothing else.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("replicate needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct")
    if not rule_sets:
        raise ValueError("replicate needs at least one rule set")
    if not callable(inputs) and not (isinstance(inputs, tuple) and len(inputs) == 2):
        raise ValueError("inputs must be (orders, fleet) or a callable seed -> (orders, fleet)")
    rule_sets = list(rule_sets)
    if processes is None:
        processes = min(len(seeds), os.cpu_count() or 1)
    processes = max(1, min(int(processes), len(seeds)))

    if processes == 1:
        comparisons = []
        for i, seed in enumerate(seeds):
            step = None
            if progress is not None:
                step = _seed_progress(progress, i, len(seeds))
            comparisons.append(_run_seed(rule_sets, inputs, seed, config, step))
    else:
        comparisons = _run_in_processes(rule_sets, inputs, seeds, config, processes, progress)
    if progress is not None:
        progress(1.0)
    return summarise(seeds, comparisons)


def summarise(
    seeds: Sequence[int],
    comparisons: Sequence[Comparison],
    confidence: float = DEFAULT_CONFIDENCE,
) -> Replicated:
    """Intervals of every numeric metric and of its paired difference vs the first rule set."""
    if not comparisons:
        raise ValueError("nothing to summarise")
    names = [r.rule_set.name for r in comparisons[0].results]
    for comparison in comparisons:
        if [r.rule_set.name for r in comparison.results] != names:
            raise ValueError("every seed must compare the same rule sets in the same order")
    per_seed = [[run_metrics(r.metrics) for r in c.results] for c in comparisons]
    metric_names = [k for k in per_seed[0][0] if all(k in runs[0] for runs in per_seed)]

    metric_intervals: dict[str, dict[str, Interval]] = {}
    difference_intervals: dict[str, dict[str, Interval]] = {}
    for position, name in enumerate(names):
        values = {m: np.array([runs[position][m] for runs in per_seed]) for m in metric_names}
        metric_intervals[name] = {m: interval(v, confidence) for m, v in values.items()}
        baseline = {m: np.array([runs[0][m] for runs in per_seed]) for m in metric_names}
        difference_intervals[name] = {
            m: interval(values[m] - baseline[m], confidence) for m in metric_names
        }
    return Replicated(
        list(seeds), list(comparisons), metric_intervals, difference_intervals, confidence
    )


def run_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """The numeric metrics of one run plus the derived served share."""
    numeric = {
        key: float(value)
        for key, value in metrics.items()
        if isinstance(value, int | float | np.number) and not isinstance(value, bool)
    }
    orders = numeric.get("orders", 0.0)
    numeric[SERVED_SHARE] = numeric.get("served", 0.0) / orders if orders else 0.0
    return numeric


def _run_seed(
    rule_sets: Sequence[RuleSet],
    inputs: Inputs,
    seed: int,
    config: SimulationConfig,
    progress: ProgressCallback | None = None,
) -> Comparison:
    orders, fleet = inputs(seed) if callable(inputs) else inputs
    return compare(rule_sets, orders, fleet, seed, config, progress=progress)


def _run_in_processes(
    rule_sets: list[RuleSet],
    inputs: Inputs,
    seeds: list[int],
    config: SimulationConfig,
    processes: int,
    progress: ProgressCallback | None,
) -> list[Comparison]:
    # Never fork: callers may be Django processes whose open DB connections and threads must
    # not be copied into children.
    with ProcessPoolExecutor(max_workers=processes, mp_context=_process_context()) as pool:
        futures = [pool.submit(_run_seed, rule_sets, inputs, s, config) for s in seeds]
        comparisons = []
        for done, future in enumerate(futures, start=1):
            comparisons.append(future.result())
            if progress is not None:
                progress(done / len(seeds))
    return comparisons


def _process_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _seed_progress(progress: ProgressCallback, index: int, total: int) -> ProgressCallback:
    return lambda fraction: progress((index + fraction) / total)


def _intervals_dict(intervals: dict[str, dict[str, Interval]]) -> dict[str, Any]:
    return {
        rule: {metric: iv.to_dict() for metric, iv in by_metric.items()}
        for rule, by_metric in intervals.items()
    }


def _json_float(value: float) -> float | None:
    """NaN is not valid JSON; an undefined bound is exported as null."""
    return None if math.isnan(value) else value
