"""A run's stored results: compact, JSON-ready metrics, histograms, samples and losers (never
raw per-order arrays), built from the engine's comparison. Pure: no database access."""

import math
from collections.abc import Sequence

import numpy as np

from redwheel.dispatch import engine
from redwheel.dispatch.models import RuleSet

HIST_BINS = 20
SCATTER_POINTS = 400
LOSS_THRESHOLD = 0.10  # "earns more than 10% less than under the baseline"


def _nice_max(value: float, step: float) -> float:
    return max(step, math.ceil(value / step) * step)


def _histogram(values_per_set: list[np.ndarray], top: float) -> tuple[list[float], list[list]]:
    edges = np.linspace(0.0, top, HIST_BINS + 1)
    counts = []
    for values in values_per_set:
        clipped = np.clip(values, 0.0, top)  # the last bin also holds anything above `top`
        counts.append(np.histogram(clipped, bins=edges)[0].astype(int).tolist())
    return [round(float(e), 1) for e in edges], counts


def _changes(baseline: engine.SimulationResult, other: engine.SimulationResult) -> dict:
    base, now = baseline.driver_income, other.driver_income
    earning = base > 0
    change = np.zeros_like(base)
    change[earning] = (now[earning] - base[earning]) / base[earning]
    return {
        "drivers_losing_10pct": int(np.count_nonzero(change < -LOSS_THRESHOLD)),
        "drivers_gaining_10pct": int(np.count_nonzero(change > LOSS_THRESHOLD)),
        "drivers_compared": int(np.count_nonzero(earning)),
    }


def results_build(comparison: engine.Comparison, rule_sets: Sequence[RuleSet], inputs) -> dict:
    """Compact, JSON-ready results: per rule set metrics, histograms and a scatter sample."""
    runs = comparison.results
    online = [r.driver_online_s > 0 for r in runs]
    incomes = [r.driver_income[mask] for r, mask in zip(runs, online, strict=True)]
    income_top = _nice_max(max((float(i.max()) for i in incomes if i.size), default=0.0), 50.0)
    waits = [r.wait_s for r in runs]
    wait_top = _nice_max(
        max((float(np.percentile(w, 99)) for w in waits if w.size), default=0.0), 60.0
    )
    income_edges, income_counts = _histogram(incomes, income_top)
    wait_edges, wait_counts = _histogram(waits, wait_top)
    sets = []
    for i, (stored, result) in enumerate(zip(rule_sets, runs, strict=True)):
        sample = result.bonus_distance_sample[:SCATTER_POINTS]
        entry = {
            "id": stored.pk,
            "name": stored.name,
            "version": stored.version,
            "engine_name": result.rule_set.name,
            "status": stored.status,
            "parameters": stored.parameters,
            "metrics": result.metrics,
            "runtime_s": round(result.runtime_s, 2),
            "income_hist": income_counts[i],
            "wait_hist": wait_counts[i],
            "bonus_sample": [[round(float(b), 1), round(float(p), 1)] for b, p in sample],
        }
        if i:
            entry.update(_changes(runs[0], result))
            entry["losers"] = comparison.losers.get(result.rule_set.name, [])
        sets.append(entry)
    t0, t1 = inputs.period
    return {
        "orders": len(inputs.orders),
        "drivers": len(inputs.fleet),
        "online_drivers": int(np.count_nonzero(online[0])) if online else 0,
        "period_start_s": t0,
        "period_end_s": t1,
        "fleet": inputs.notes,
        "income_bins": income_edges,
        "wait_bins": wait_edges,
        "rule_sets": sets,
    }


def replicated_build(results: dict, replicated, *, idle_policy: str) -> dict:
    """Add, in place, each rule set's mean and 95 % interval per metric over the seeds, its
    paired difference interval against the baseline and whether that difference is
    significant (the interval excludes zero). Runs stored before this have none of these keys
    and still render."""
    summary = replicated.to_dict()
    names = [r.rule_set.name for r in replicated.comparisons[0].results]
    for entry, name in zip(results["rule_sets"], names, strict=True):
        entry["intervals"] = summary["metric_intervals"][name]
        entry["differences"] = summary["difference_intervals"][name]
        entry["significant"] = summary["significant"][name]
    results["seeds"] = summary["seeds"]
    results["confidence"] = summary["confidence"]
    results["idle_policy"] = idle_policy
    return results
