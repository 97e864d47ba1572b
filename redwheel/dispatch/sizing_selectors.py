"""Reads for fleet sizings in the sandbox, and the plain-language report of one.

Same rule as every sandbox read (`dispatch.selectors`): only people who may use a city's
sandbox see its sizings; everyone else, and everyone for another city's, gets "not found"."""

from __future__ import annotations

import math

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.core.errors import NotFound
from redwheel.core.permissions import get_or_404, scope
from redwheel.dispatch.models import FleetSizing
from redwheel.dispatch.permissions import SANDBOX_ACTION
from redwheel.dispatch.selectors import may_use_sandbox
from redwheel.dispatch.services.sizing import AT_MINIMUM, REACHED, UNREACHABLE

# (metric key, label, format) for the fleet found.
SIZED_ROWS = (
    ("served_share", gettext_lazy("Orders served (%)"), "pct"),
    ("mean_wait_s", gettext_lazy("Mean passenger wait (s)"), "{:.0f}"),
    ("mean_pickup_m", gettext_lazy("Mean pickup distance (m)"), "{:.0f}"),
    ("driver_utilisation", gettext_lazy("Driver utilisation (%)"), "pct"),
)


def _require(viewer) -> None:
    if not may_use_sandbox(viewer):
        raise Http404


def fleet_sizings(viewer) -> QuerySet:
    """The sizings of the viewer's sandbox cities, newest first."""
    _require(viewer)
    return (
        scope(
            viewer,
            SANDBOX_ACTION,
            FleetSizing.objects.select_related("rule_set", "created_by", "city"),
        )
        .defer("orders_csv")
        .order_by("-created_at", "-id")
    )


def fleet_sizing(viewer, pk: int) -> FleetSizing:
    _require(viewer)
    queryset = FleetSizing.objects.select_related("rule_set", "created_by", "city", "source_run")
    try:
        return get_or_404(viewer, SANDBOX_ACTION, queryset, pk=pk)
    except NotFound:
        raise Http404 from None


def _fmt(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt == "pct":
        return f"{100.0 * value:.1f}"
    return fmt.format(value)


def _interval_text(iv: dict | None, fmt: str) -> tuple[str, str]:
    """(mean, "[low, high]") of a stored interval; the bracket is "" for one seed."""
    if not iv:
        return "–", ""
    mean = _fmt(iv.get("mean"), fmt)
    if iv.get("low") is None or iv.get("high") is None:
        return mean, ""
    return mean, f"[{_fmt(iv['low'], fmt)}, {_fmt(iv['high'], fmt)}]"


def headline(sizing: FleetSizing) -> str:
    """One sentence saying what the sizing found (or "" before it has)."""
    result = sizing.result or {}
    outcome = result.get("outcome")
    if outcome is None:
        return ""
    share = result.get("served_share") or {}
    low, high = result.get("bounds") or (sizing.min_drivers, sizing.max_drivers)
    values = {
        "n": result["n_drivers"],
        "rule_set": sizing.rule_set,
        "target": 100.0 * result["target"],
        "share": 100.0 * (share.get("mean") or 0.0),
        "orders": result.get("orders"),
        "low": low,
        "high": high,
    }
    if outcome == UNREACHABLE:
        return (
            _(
                "The target is not reachable within the bounds: even %(high)d drivers serve only "
                "%(share).1f%% of the %(orders)s orders under %(rule_set)s, below the target of "
                "%(target).0f%%. Raise the most drivers, or check the rule set's maximum pickup "
                "distance."
            )
            % values
        )
    if outcome == AT_MINIMUM:
        return (
            _(
                "The fewest drivers allowed, %(low)d, already serve %(share).1f%% of the "
                "%(orders)s orders under %(rule_set)s (target %(target).0f%%): fewer drivers may "
                "do. Lower the fewest drivers to search further."
            )
            % values
        )
    return (
        _(
            "Under %(rule_set)s, %(n)d drivers serve %(share).1f%% of the %(orders)s orders, "
            "reaching the target of %(target).0f%%; the bisection found no smaller fleet that "
            "does within its tolerance."
        )
        % values
    )


def sizing_report(sizing: FleetSizing) -> dict:
    """What the result page shows: the sentence, the figures at the fleet found (mean and 95 %
    interval over the seeds) and every step of the search in the order simulated."""
    result = sizing.result or {}
    if not result:
        return {}
    target = result["target"]
    rows = []
    for key, label, fmt in SIZED_ROWS:
        iv = (result.get("intervals") or {}).get(key)
        if iv is None:
            continue
        mean, bracket = _interval_text(iv, fmt)
        rows.append({"label": label, "mean": mean, "interval": bracket})
    steps = [
        {
            "number": i,
            "drivers": n,
            "served": _fmt(share, "pct"),
            "meets": share >= target,
            "chosen": n == result["n_drivers"] and result["outcome"] != UNREACHABLE,
        }
        for i, (n, share) in enumerate(result.get("steps") or [], start=1)
    ]
    share_mean, share_interval = _interval_text(result.get("served_share"), "pct")
    return {
        "headline": headline(sizing),
        "outcome": result["outcome"],
        "reached": result["outcome"] == REACHED,
        "n_drivers": result["n_drivers"],
        "served": share_mean,
        "served_interval": share_interval,
        "seeds": len(result.get("seeds") or []),
        "rows": rows,
        "steps": steps,
        "target_pct": f"{100.0 * target:.0f}",
        "tolerance_pct": f"{100.0 * result.get('tolerance', 0.0):.0f}",
    }
