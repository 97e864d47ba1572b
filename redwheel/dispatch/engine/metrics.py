"""Outcome metrics of a simulated day and comparisons between rule sets.

Every metric is defined in docs/dispatch.md; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .matcher import plain_scalar

if TYPE_CHECKING:
    from .simulator import Comparison, SimulationResult

# Order outcomes recorded by the simulator.
OPEN = 0
SERVED = 1
CANCELLED_UNMATCHED = 2  # nobody matched before the passenger's patience ran out
CANCELLED_LONG_PICKUP = 3  # matched, but the passenger would not wait for the predicted pickup


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 = all equal, -> 1 = one holder has it all."""
    values = np.sort(np.asarray(values, dtype=float))
    n = len(values)
    total = values.sum()
    if n == 0 or total <= 0:
        return 0.0
    if values[0] < 0:
        raise ValueError("gini is defined for non-negative values only")
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.sum(ranks * values) / (n * total)) - (n + 1.0) / n)


def compute_metrics(
    *,
    order_status: np.ndarray,
    wait_s: np.ndarray,
    pickup_m: np.ndarray,
    bonus_m: np.ndarray,
    served_driver: np.ndarray,
    driver_income: np.ndarray,
    driver_busy_s: np.ndarray,
    driver_online_s: np.ndarray,
    driver_score: np.ndarray,
    driver_is_party_member: np.ndarray,
) -> dict[str, Any]:
    """Metrics dict (plain floats/ints, JSON-serialisable).

    ``wait_s``, ``pickup_m``, ``bonus_m`` and ``served_driver`` describe served orders only.
    Driver-level figures cover drivers with any online time.
    """
    n_orders = len(order_status)
    served = int(np.count_nonzero(order_status == SERVED))
    online = driver_online_s > 0
    income = driver_income[online]
    online_hours = driver_online_s[online].sum() / 3600.0

    top_cutoff = np.quantile(driver_score, 0.8) if len(driver_score) else 0.0
    to_top = np.count_nonzero(driver_score[served_driver] >= top_cutoff) if served else 0
    party = driver_is_party_member[online].astype(bool)

    return {
        "orders": n_orders,
        "served": served,
        "unserved_pct": _pct(n_orders - served, n_orders),
        "cancelled_unmatched_pct": _pct(
            np.count_nonzero(order_status == CANCELLED_UNMATCHED), n_orders
        ),
        "cancelled_long_pickup_pct": _pct(
            np.count_nonzero(order_status == CANCELLED_LONG_PICKUP), n_orders
        ),
        "mean_wait_s": _mean(wait_s),
        "p90_wait_s": float(np.percentile(wait_s, 90)) if len(wait_s) else 0.0,
        "mean_pickup_m": _mean(pickup_m),
        "mean_bonus_m": _mean(bonus_m),
        "driver_utilisation": float(
            driver_busy_s[online].sum() / max(driver_online_s[online].sum(), 1e-9)
        ),
        "income_per_driver": _mean(income),
        "income_per_online_hour": float(income.sum() / online_hours) if online_hours else 0.0,
        "income_gini": gini(income),
        "top_quintile_order_share_pct": _pct(to_top, served),
        "party_member_mean_income": _mean(income[party]),
        "other_driver_mean_income": _mean(income[~party]),
    }


def phase_metrics(
    *,
    online_s: float,
    pickup_s: float,
    ride_s: float,
    idle_road_m: float,
    pickup_road_m: float,
    ride_road_m: float,
) -> dict[str, float]:
    """The fleet's time and road distance by driver phase, as ride-hailing studies report them.

    Phase 1 is online without an order (waiting or repositioning), phase 2 on the way to a
    pickup (from the match, response time included), phase 3 with a passenger aboard. Shares are
    of online time and of all road distance driven online.
    """
    idle_s = max(online_s - pickup_s - ride_s, 0.0)
    driven_m = idle_road_m + pickup_road_m + ride_road_m
    return {
        "idle_time_share": _ratio(idle_s, online_s),
        "pickup_time_share": _ratio(pickup_s, online_s),
        "passenger_time_share": _ratio(ride_s, online_s),
        "idle_distance_share": _ratio(idle_road_m, driven_m),
        "pickup_distance_share": _ratio(pickup_road_m, driven_m),
        "passenger_distance_share": _ratio(ride_road_m, driven_m),
        "empty_km_per_passenger_km": _ratio(idle_road_m + pickup_road_m, ride_road_m),
    }


def income_losers(
    baseline: SimulationResult, other: SimulationResult, count: int = 10
) -> list[dict[str, Any]]:
    """Drivers whose income under ``other`` fell most relative to ``baseline`` (largest first).

    Both runs must replay the same orders and fleet with the same seed, so that the only
    difference is the rule set.
    """
    if baseline.seed != other.seed:
        raise ValueError("income losers need two runs with the same seed")
    if not np.array_equal(baseline.driver_ids, other.driver_ids):
        raise ValueError("income losers need two runs over the same fleet")
    loss = baseline.driver_income - other.driver_income
    losers = [i for i in np.argsort(-loss, kind="stable")[:count] if loss[i] > 0]
    return [
        {
            "driver_id": plain_scalar(baseline.driver_ids[i]),
            "score": float(baseline.driver_score[i]),
            "is_party_member": bool(baseline.driver_is_party_member[i]),
            "baseline_income": float(baseline.driver_income[i]),
            "income": float(other.driver_income[i]),
            "loss": float(loss[i]),
            "loss_pct": _pct(loss[i], baseline.driver_income[i]),
        }
        for i in losers
    ]


# (metric key, label, format) in the order the CLI prints them.
TABLE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("mean_wait_s", "mean wait (s)", "{:.1f}"),
    ("p90_wait_s", "p90 wait (s)", "{:.1f}"),
    ("mean_pickup_m", "mean pickup (m)", "{:.0f}"),
    ("mean_bonus_m", "mean bonus (m)", "{:.0f}"),
    ("unserved_pct", "unserved (%)", "{:.2f}"),
    ("driver_utilisation", "driver utilisation", "{:.3f}"),
    ("pickup_time_share", "share of online time to pickups", "{:.3f}"),
    ("passenger_time_share", "share of online time with passenger", "{:.3f}"),
    ("pickup_distance_share", "share of distance to pickups", "{:.3f}"),
    ("empty_km_per_passenger_km", "empty km per passenger km", "{:.3f}"),
    ("income_per_driver", "income per driver", "{:.1f}"),
    ("income_per_online_hour", "income per online hour", "{:.2f}"),
    ("income_gini", "income Gini", "{:.4f}"),
    ("top_quintile_order_share_pct", "orders to top score quintile (%)", "{:.2f}"),
    ("party_member_mean_income", "party member mean income", "{:.1f}"),
    ("other_driver_mean_income", "other drivers mean income", "{:.1f}"),
)


def format_comparison_table(
    results: Comparison | Sequence[SimulationResult], losers_shown: int = 5
) -> str:
    """Plain-text table of each rule set's metrics, then the biggest losers vs the first set."""
    runs = list(getattr(results, "results", results))
    if not runs:
        return "(no results)"
    names = [f"{r.rule_set.name} v{r.rule_set.version}" for r in runs]
    label_width = max(len(label) for _, label, _ in TABLE_ROWS)
    cells = [[fmt.format(r.metrics[key]) for r in runs] for key, _, fmt in TABLE_ROWS]
    col_width = max([len(n) for n in names] + [len(c) for row in cells for c in row])
    lines = [" " * label_width + "  " + "  ".join(n.rjust(col_width) for n in names)]
    for (_, label, _), row in zip(TABLE_ROWS, cells, strict=True):
        lines.append(label.ljust(label_width) + "  " + "  ".join(c.rjust(col_width) for c in row))

    baseline = runs[0]
    for run, name in zip(runs[1:], names[1:], strict=True):
        losers = income_losers(baseline, run, losers_shown)
        lines.append("")
        lines.append(f"Biggest income losers under {name} vs {names[0]}:")
        if not losers:
            lines.append("  (no driver earned less)")
        for loser in losers:
            party = "party" if loser["is_party_member"] else "non-party"
            lines.append(
                f"  driver {loser['driver_id']}: {loser['baseline_income']:.1f} -> "
                f"{loser['income']:.1f} (-{loser['loss_pct']:.1f}%), "
                f"score {loser['score']:.0f}, {party}"
            )
    return "\n".join(lines)


def _ratio(part: float, whole: float) -> float:
    return float(part / whole) if whole > 0 else 0.0


def _pct(part: float, whole: float) -> float:
    return float(100.0 * part / whole) if whole else 0.0


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else 0.0
