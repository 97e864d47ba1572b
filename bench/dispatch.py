"""Dispatch engine benchmark: one large window, a simulated city day, a 5-seed comparison.

Usage: .venv/bin/python bench/dispatch.py [--quick]

Every figure is printed beside its baseline and target: the window against a dense end-to-end
solve and the last recorded figure; the city day, run with demand-following repositioning on
(idle_policy="demand", the target's condition), against the last recorded figure and against a
run whose idle drivers stay where their trip ended. The machine may be shared, so the city day
reports wall-clock and process CPU time and the load average around the run. Writes
bench/results/dispatch.json. --quick shrinks every part for a smoke test; targets are only checked
at full size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redwheel.dispatch.engine import (  # noqa: E402
    DEFAULT_CITY,
    DriverPool,
    OrderBatch,
    RuleSet,
    SimulationConfig,
    match_window,
    replicate,
    seeds_from,
    simulate,
    synthetic_fleet,
    synthetic_orders,
)

RESULTS = ROOT / "bench" / "results" / "dispatch.json"
SPARSE_TARGET_S = 0.010
SPEEDUP_TARGET = 50.0
CITY_DAY_TARGET_S = 30.0
# Last figures recorded before the issue-16 speed work (both on a loaded 2-core machine).
PREVIOUS_WINDOW_S = 0.0094  # before the second pass; after it 0.0080 (2026-12-02)
PREVIOUS_CITY_DAY_S = 48.6
CITY_DAY_POLICY = "demand"
PUBLISHED_RULES = RuleSet(name="bench", version="1", score_weight=1.0, bonus_cap_m=500.0)
# Any finite value above every real cost: marks infeasible pairs for the dense solver.
INFEASIBLE = 1e9


def median_time(fn, repeats: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times)), value


def dense_match(orders: OrderBatch, drivers: DriverPool, rules: RuleSet) -> tuple[float, float]:
    """The dense alternative end to end: every order-driver distance, infeasible pairs (beyond
    max pickup) set to a big value, one dummy column per order, Hungarian algorithm.

    Returns (total cost, seconds spent in linear_sum_assignment alone)."""
    n_orders, n_drivers = len(orders), len(drivers)
    cost = np.full((n_orders, n_drivers + n_orders), INFEASIBLE)
    distance = cdist(orders.xy, drivers.xy)
    pair_cost = distance - rules.bonus_m(drivers.score)[None, :]
    np.copyto(cost[:, :n_drivers], pair_cost, where=distance <= rules.max_pickup_m)
    cost[np.arange(n_orders), n_drivers + np.arange(n_orders)] = rules.unassigned_penalty_m
    started = time.perf_counter()
    rows, cols = linear_sum_assignment(cost)
    solve_s = time.perf_counter() - started
    return float(cost[rows, cols].sum()), solve_s


def bench_window(n_orders: int, n_drivers: int, repeats: int, dense_repeats: int) -> dict:
    orders = synthetic_orders(n_orders, DEFAULT_CITY, seed=11)
    fleet = synthetic_fleet(n_drivers, DEFAULT_CITY, seed=11)
    projection = DEFAULT_CITY.projection
    batch = OrderBatch(orders.ids, projection.to_xy(orders.origin_lng, orders.origin_lat))
    pool = DriverPool(fleet.ids, projection.to_xy(fleet.lng, fleet.lat), fleet.score)

    sparse_s, result = median_time(
        lambda: match_window(batch, pool, PUBLISHED_RULES, solver="sparse"), repeats
    )
    dense_s, (_, dense_solve_s) = median_time(
        lambda: dense_match(batch, pool, PUBLISHED_RULES), dense_repeats
    )

    zero_bonus = PUBLISHED_RULES.without_bonus()
    sparse_zero = match_window(batch, pool, zero_bonus, solver="sparse")
    dense_zero_cost, _ = dense_match(batch, pool, zero_bonus)
    same_cost = bool(np.isclose(sparse_zero.total_cost_m, dense_zero_cost, rtol=1e-9, atol=1e-6))
    return {
        "orders": n_orders,
        "drivers": n_drivers,
        "rule_set": PUBLISHED_RULES.to_dict(),
        "candidate_edges": len(result.candidates.driver_index),
        "unassigned": result.n_unassigned,
        "sparse_matcher_median_s": sparse_s,
        "dense_end_to_end_median_s": dense_s,
        "dense_solver_only_s": dense_solve_s,
        "speedup_end_to_end": dense_s / sparse_s,
        "speedup_solver_only_vs_sparse_matcher": dense_solve_s / sparse_s,
        "zero_bonus_sparse_total_cost_m": sparse_zero.total_cost_m,
        "zero_bonus_dense_total_cost_m": dense_zero_cost,
        "zero_bonus_same_total_cost": same_cost,
    }


def bench_city_day(n_orders: int, n_drivers: int, idle_policy: str) -> dict:
    orders = synthetic_orders(n_orders, DEFAULT_CITY, seed=3)
    fleet = synthetic_fleet(n_drivers, DEFAULT_CITY, seed=3)
    config = SimulationConfig(idle_policy=idle_policy)

    reported = [-1]

    def report(fraction: float) -> None:
        tenth = int(fraction * 10)
        if tenth > reported[0]:
            reported[0] = tenth
            print(f"  {idle_policy}: simulating... {tenth * 10}%", file=sys.stderr, flush=True)

    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    result = simulate(PUBLISHED_RULES, orders, fleet, seed=3, progress=report, config=config)
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    # ru_maxrss is KiB on Linux; this is measured before the window benchmark's big matrices.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "orders": n_orders,
        "drivers": n_drivers,
        "idle_policy": idle_policy,
        "repositioning": idle_policy != "stay",
        "window_s": PUBLISHED_RULES.window_s,
        "windows_in_day": int(86_400 / PUBLISHED_RULES.window_s),
        "windows_solved": result.windows_solved,
        "elapsed_s": elapsed,
        "process_cpu_s": cpu_s,
        "load_average_1min_before": load_before,
        "load_average_1min_after": os.getloadavg()[0],
        "peak_rss_mib": peak_mib,
        "metrics": result.metrics,
    }


def bench_replicate(n_orders: int, n_drivers: int, n_seeds: int) -> dict:
    orders = synthetic_orders(n_orders, DEFAULT_CITY, seed=5)
    fleet = synthetic_fleet(n_drivers, DEFAULT_CITY, seed=5)
    rule_sets = [PUBLISHED_RULES.without_bonus(), PUBLISHED_RULES]
    seeds = seeds_from(0, n_seeds)
    timings = {}
    for processes in (1, None):
        started = time.perf_counter()
        result = replicate(rule_sets, (orders, fleet), seeds, processes=processes)
        timings["serial_s" if processes == 1 else "parallel_s"] = time.perf_counter() - started
    gini = result.difference_intervals[PUBLISHED_RULES.name]["income_gini"]
    return {
        "orders": n_orders,
        "drivers": n_drivers,
        "seeds": n_seeds,
        "rule_sets": [r.name for r in rule_sets],
        **timings,
        "income_gini_difference": gini.to_dict(),
        "income_gini_difference_significant": result.significant(
            PUBLISHED_RULES.name, "income_gini"
        ),
    }


def print_day(label: str, day: dict) -> None:
    m = day["metrics"]
    print(
        f"  {label}: {day['elapsed_s']:.1f} s wall, {day['process_cpu_s']:.1f} s process CPU, "
        f"load average {day['load_average_1min_before']:.1f} -> "
        f"{day['load_average_1min_after']:.1f}; windows solved {day['windows_solved']} of "
        f"{day['windows_in_day']}, peak RSS {day['peak_rss_mib']:.0f} MiB"
    )
    print(
        f"    served {m['served']}/{m['orders']}, mean wait {m['mean_wait_s']:.0f} s, "
        f"p90 {m['p90_wait_s']:.0f} s, utilisation {m['driver_utilisation']:.2f}, "
        f"Gini {m['income_gini']:.3f}"
    )


def verdict(ok: bool, checked: bool) -> str:
    if not checked:
        return "(not checked in --quick)"
    return "OK" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down smoke run")
    args = parser.parse_args()
    full = not args.quick

    print("City day" + (" (200k orders, 10k drivers, 2 s windows)" if full else " (quick)"))
    size = (200_000, 10_000) if full else (10_000, 500)
    day = bench_city_day(*size, idle_policy=CITY_DAY_POLICY)
    print_day(f"repositioning ON (idle_policy={CITY_DAY_POLICY!r})", day)
    baseline_day = bench_city_day(*size, idle_policy="stay")
    print_day("repositioning off (idle drivers stay), for comparison", baseline_day)
    print(
        f"  city day with repositioning: {day['elapsed_s']:.1f} s wall "
        f"({day['process_cpu_s']:.1f} s CPU) vs last recorded {PREVIOUS_CITY_DAY_S:.1f} s and "
        f"{baseline_day['elapsed_s']:.1f} s without repositioning "
        f"(target <= {CITY_DAY_TARGET_S:.0f} s) "
        f"{verdict(day['elapsed_s'] <= CITY_DAY_TARGET_S, full)}"
    )

    print("One window" + (" (2,000 orders x 20,000 drivers, ~30 km city)" if full else " (quick)"))
    window = bench_window(2_000, 20_000, 9, 3) if full else bench_window(200, 2_000, 5, 1)
    sparse_s = window["sparse_matcher_median_s"]
    print(
        f"  sparse matcher (candidates + solve), median: {sparse_s * 1000:.1f} ms vs dense "
        f"baseline {window['dense_end_to_end_median_s'] * 1000:.0f} ms, last recorded "
        f"{PREVIOUS_WINDOW_S * 1000:.1f} ms "
        f"(target <= {SPARSE_TARGET_S * 1000:.0f} ms) {verdict(sparse_s <= SPARSE_TARGET_S, full)}"
    )
    print(
        f"  dense end to end (cost matrix + linear_sum_assignment): "
        f"{window['dense_end_to_end_median_s'] * 1000:.0f} ms, "
        f"of which linear_sum_assignment {window['dense_solver_only_s'] * 1000:.0f} ms"
    )
    speedup = window["speedup_end_to_end"]
    print(
        f"  speed-up end to end: {speedup:.0f}x  (target >= {SPEEDUP_TARGET:.0f}x) "
        f"{verdict(speedup >= SPEEDUP_TARGET, full)}; dense solver alone vs sparse matcher: "
        f"{window['speedup_solver_only_vs_sparse_matcher']:.0f}x"
    )
    print(
        f"  zero-bonus total cost: sparse {window['zero_bonus_sparse_total_cost_m']:.3f} m, "
        f"dense {window['zero_bonus_dense_total_cost_m']:.3f} m -> "
        f"{'same' if window['zero_bonus_same_total_cost'] else 'DIFFERENT'}"
    )

    n_seeds = 5
    print(
        f"Replicate over {n_seeds} seeds (2 rule sets"
        + (", 20k orders, 1k drivers)" if full else ", quick)")
    )
    replicated = (
        bench_replicate(20_000, 1_000, n_seeds) if full else bench_replicate(500, 50, n_seeds)
    )
    print(
        f"  one process {replicated['serial_s']:.1f} s, parallel processes "
        f"{replicated['parallel_s']:.1f} s; income Gini difference significant: "
        f"{replicated['income_gini_difference_significant']}"
    )

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "mode": "full" if full else "quick",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "targets": {
            "sparse_matcher_s": SPARSE_TARGET_S,
            "speedup": SPEEDUP_TARGET,
            "city_day_s": CITY_DAY_TARGET_S,
            "city_day_idle_policy": CITY_DAY_POLICY,
            "load_average_1min": os.getloadavg()[0],
        },
        "previous": {"window_s": PREVIOUS_WINDOW_S, "city_day_s": PREVIOUS_CITY_DAY_S},
        "window": window,
        "city_day": day,
        "city_day_baseline": baseline_day,
        "replicate": replicated,
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
