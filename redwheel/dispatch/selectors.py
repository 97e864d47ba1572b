"""Reads for the dispatch sandbox, and the one rule for who may use it.

The sandbox is a city-level tool: a city's rule sets and runs are read by the people who may
use that city's sandbox (`dispatch.permissions`: regulators and staff granted on the city's
committee, the root unit); everyone else, and everyone for another city's rows, is answered
"not found".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.core.errors import NotFound
from redwheel.core.permissions import get_or_404, scope
from redwheel.dispatch import permissions
from redwheel.dispatch.models import RuleSet, SimulationRun
from redwheel.dispatch.permissions import SANDBOX_ACTION
from redwheel.orgs.models import Platform
from redwheel.orgs.permissions import platforms_led_within

# With no bonus the top score quintile takes ~20% of orders; far more means tied scores.
TIED_SCORES_SHARE = 50.0


def may_use_sandbox(user) -> bool:
    """May the user use the sandbox of at least one city (menus, the pages' guard)?"""
    cache = getattr(user, "__dict__", {})
    if "_may_use_sandbox" not in cache:
        cache["_may_use_sandbox"] = permissions.may_use_sandbox(user)
    return cache["_may_use_sandbox"]


def sandbox_cities(viewer) -> QuerySet:
    """The cities whose sandbox the viewer uses, for the forms' city choice."""
    return permissions.sandbox_cities(viewer).order_by("path")


def _require(viewer) -> None:
    if not may_use_sandbox(viewer):
        raise Http404


def _one(viewer, queryset: QuerySet, pk: int):
    try:
        return get_or_404(viewer, SANDBOX_ACTION, queryset, pk=pk)
    except NotFound:
        raise Http404 from None


def replay_platforms(viewer) -> QuerySet:
    """The platforms whose ingested orders the viewer may replay: their cities' own."""
    paths = list(permissions.sandbox_cities(viewer).values_list("path", flat=True))
    return Platform.objects.filter(pk__in=platforms_led_within(paths))


def rule_sets(viewer, status: str | None = None):
    _require(viewer)
    qs = scope(viewer, SANDBOX_ACTION, RuleSet.objects.select_related("created_by", "city"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("name", "-created_at")


def rule_set(viewer, pk: int) -> RuleSet:
    _require(viewer)
    return _one(viewer, RuleSet.objects.select_related("created_by", "city"), pk)


def rule_set_runs(viewer, rule_set: RuleSet, limit: int = 10):
    """The latest runs that compared `rule_set`, among those the viewer may see."""
    return scope(viewer, SANDBOX_ACTION, rule_set.runs.all()).order_by("-created_at")[:limit]


def runs(viewer):
    _require(viewer)
    return (
        scope(viewer, SANDBOX_ACTION, SimulationRun.objects.select_related("created_by", "city"))
        .prefetch_related("links__rule_set")
        .defer("results", "orders_csv")
        .order_by("-created_at", "-id")
    )


def run(viewer, pk: int) -> SimulationRun:
    _require(viewer)
    return _one(viewer, SimulationRun.objects.select_related("created_by", "city"), pk)


# Report --------------------------------------------------------------------------------------

# (metric key, label, format, "lower is better" True / False / None for neutral)
METRIC_ROWS = (
    ("mean_wait_s", gettext_lazy("Mean passenger wait (s)"), "{:.0f}", True),
    ("p90_wait_s", gettext_lazy("90th percentile wait (s)"), "{:.0f}", True),
    ("mean_pickup_m", gettext_lazy("Mean pickup distance (m)"), "{:.0f}", True),
    ("mean_bonus_m", gettext_lazy("Mean score bonus (m)"), "{:.0f}", None),
    ("unserved_pct", gettext_lazy("Orders not served (%)"), "{:.1f}", True),
    ("driver_utilisation", gettext_lazy("Driver utilisation (%)"), "pct", False),
    ("income_per_driver", gettext_lazy("Income per driver (yuan)"), "{:.0f}", False),
    ("income_per_online_hour", gettext_lazy("Income per online hour (yuan)"), "{:.1f}", False),
    ("income_gini", gettext_lazy("Income gap (Gini, 0 = equal)"), "{:.3f}", True),
    (
        "top_quintile_order_share_pct",
        gettext_lazy("Orders to top-fifth scores (%)"),
        "{:.1f}",
        None,
    ),
    ("party_member_mean_income", gettext_lazy("Party members' mean income (yuan)"), "{:.0f}", None),
    ("other_driver_mean_income", gettext_lazy("Other drivers' mean income (yuan)"), "{:.0f}", None),
)


def _fmt(value: float, fmt: str) -> str:
    if fmt == "pct":
        return f"{100.0 * value:.1f}"
    return fmt.format(value)


@dataclass
class Report:
    run: SimulationRun
    names: list[str]
    rows: list[dict] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    losers: list[dict] = field(default_factory=list)
    charts: dict = field(default_factory=dict)
    rule_sets: list[dict] = field(default_factory=list)


def _means(entry: dict) -> dict:
    """A rule set's metrics: the mean over the seeds where stored, else the one run's value."""
    means = {k: iv["mean"] for k, iv in (entry.get("intervals") or {}).items()}
    return {**entry["metrics"], **{k: v for k, v in means.items() if v is not None}}


def _seed_count(results: dict) -> int:
    return len(results.get("seeds") or [])


def _within_noise(results: dict, entry: dict, key: str) -> bool:
    """True when the run has several seeds and the difference of `key` against the baseline is
    not significant (its paired 95 % interval includes zero). Runs of one seed, or stored before
    seeds existed, cannot tell and are never said to be within the noise."""
    significant = entry.get("significant")
    if _seed_count(results) < 2 or not significant or key not in significant:
        return False
    return not significant[key]


def _noise_sentence(name: str, what, a: float, b: float, fmt: str, seeds: int) -> str:
    return _(
        "Under %(name)s, %(what)s (%(a)s → %(b)s) differs from the baseline by no more than the "
        "noise of %(seeds)d seeds: the difference is not significant."
    ) % {"name": name, "what": what, "a": fmt.format(a), "b": fmt.format(b), "seeds": seeds}


def _difference_sentences(b: dict, m: dict) -> list[tuple[str, str]]:
    """(metric, sentence) for the unserved share and the Gini, baseline `b` against `m`."""
    return [
        (
            "unserved_pct",
            _direction(
                m["unserved_pct"] - b["unserved_pct"],
                0.05,
                _("The share of orders nobody served rises from %(a).1f%% to %(b).1f%%."),
                _("The share of orders nobody served falls from %(a).1f%% to %(b).1f%%."),
                _("The share of orders nobody served stays at %(a).1f%%."),
            )
            % {"a": b["unserved_pct"], "b": m["unserved_pct"]},
        ),
        (
            "income_gini",
            _direction(
                m["income_gini"] - b["income_gini"],
                0.0005,
                _("The income gap between drivers (Gini) rises from %(a).3f to %(b).3f."),
                _("The income gap between drivers (Gini) falls from %(a).3f to %(b).3f."),
                _("The income gap between drivers (Gini) stays at %(a).3f."),
            )
            % {"a": b["income_gini"], "b": m["income_gini"]},
        ),
    ]


def _label(entry: dict) -> str:
    return f"{entry['name']} v{entry['version']}"


def _direction(delta: float, tolerance: float, up: str, down: str, same: str) -> str:
    if abs(delta) <= tolerance:
        return same
    return up if delta > 0 else down


def summary_sentences(results: dict) -> list[str]:
    """Plain-language findings generated from the stored numbers, baseline first."""
    sets = results.get("rule_sets") or []
    if len(sets) < 2:
        return []
    base = sets[0]
    b = _means(base)
    seeds = _seed_count(results)
    out = [
        _(
            "All rule sets replay the same %(orders)s orders with the same %(drivers)s drivers "
            "(%(online)s of them online in the period) and the same passengers; the only "
            "difference is the dispatch rule. The baseline is %(baseline)s."
        )
        % {
            "orders": results.get("orders"),
            "drivers": results.get("drivers"),
            "online": results.get("online_drivers"),
            "baseline": _label(base),
        }
    ]
    if seeds >= 2:
        out.append(
            _(
                "Every figure is the mean over %(seeds)d seeds (different passengers' patience); "
                "a difference is called significant only when its paired 95%% interval "
                "excludes zero."
            )
            % {"seeds": seeds}
        )
    elif seeds == 1:
        out.append(_("This run used one seed, so it cannot tell real differences from noise."))
    for entry in sets[1:]:
        m = _means(entry)
        name = _label(entry)
        delta = m["mean_wait_s"] - b["mean_wait_s"]
        if _within_noise(results, entry, "mean_wait_s"):
            out.append(
                _(
                    "Under %(name)s, passengers wait on average %(b).0f s (baseline: %(a).0f s); "
                    "the difference is within the noise of %(seeds)d seeds, not significant."
                )
                % {"name": name, "a": b["mean_wait_s"], "b": m["mean_wait_s"], "seeds": seeds}
            )
        elif abs(delta) < 0.5:
            out.append(
                _(
                    "Under %(name)s, passengers wait on average as long as under the baseline "
                    "(%(wait).0f s)."
                )
                % {"name": name, "wait": m["mean_wait_s"]}
            )
        else:
            out.append(
                (
                    _(
                        "Under %(name)s, passengers wait on average %(delta).0f s longer than "
                        "under the baseline (%(a).0f s → %(b).0f s)."
                    )
                    if delta > 0
                    else _(
                        "Under %(name)s, passengers wait on average %(delta).0f s less than "
                        "under the baseline (%(a).0f s → %(b).0f s)."
                    )
                )
                % {
                    "name": name,
                    "delta": abs(delta),
                    "a": b["mean_wait_s"],
                    "b": m["mean_wait_s"],
                }
            )
        noise_keys = {
            key for key in ("unserved_pct", "income_gini") if _within_noise(results, entry, key)
        }
        for key, what, fmt in (
            ("unserved_pct", _("the share of orders nobody served"), "{:.1f}%"),
            ("income_gini", _("the income gap between drivers (Gini)"), "{:.3f}"),
        ):
            if key in noise_keys:
                out.append(_noise_sentence(name, what, b[key], m[key], fmt, seeds))
        out.extend(
            sentence for key, sentence in _difference_sentences(b, m) if key not in noise_keys
        )
        shares = {"a": b["top_quintile_order_share_pct"], "b": m["top_quintile_order_share_pct"]}
        if shares["a"] > TIED_SCORES_SHARE:
            # Many drivers share the 80th-percentile score, so "the top fifth" is most of them.
            out.append(
                _(
                    "Most drivers have the same score, so the top fifth by score cannot be told "
                    "apart (they take %(b).1f%% of the orders, %(a).1f%% under the baseline)."
                )
                % shares
            )
        else:
            out.append(
                _(
                    "Drivers in the top fifth by score take %(b).1f%% of the orders "
                    "(%(a).1f%% under the baseline)."
                )
                % shares
            )
        out.append(
            _(
                "Party members earn on average %(pm).0f yuan and other drivers %(other).0f yuan "
                "(baseline: %(pm0).0f and %(other0).0f yuan)."
            )
            % {
                "pm": m["party_member_mean_income"],
                "other": m["other_driver_mean_income"],
                "pm0": b["party_member_mean_income"],
                "other0": b["other_driver_mean_income"],
            }
        )
        losing, gaining = (
            entry.get("drivers_losing_10pct", 0),
            entry.get("drivers_gaining_10pct", 0),
        )
        out.append(
            _(
                "%(losing)s drivers earn more than 10%% less than under the baseline and "
                "%(gaining)s earn more than 10%% more (out of %(total)s drivers who earned "
                "anything under the baseline)."
            )
            % {"losing": losing, "gaining": gaining, "total": entry.get("drivers_compared", 0)}
        )
        losers = entry.get("losers") or []
        if losers:
            worst = losers[0]
            out.append(
                _(
                    "The biggest single loss is %(loss).0f yuan (%(pct).0f%%), for a driver with "
                    "score %(score).0f."
                )
                % {"loss": worst["loss"], "pct": worst["loss_pct"], "score": worst["score"]}
            )
        cap = float(entry["parameters"].get("bonus_cap_m", 0))
        if cap > 0:
            out.append(
                _(
                    "Guarantee: under %(name)s no order goes to a driver more than %(cap).0f m "
                    "farther away than an idle closer candidate (the published bonus cap)."
                )
                % {"name": name, "cap": cap}
            )
    return out


def _spread(entry: dict, key: str, fmt: str) -> str:
    """ "± half-width [low, high]" of the 95 % interval over the seeds, "" when unknown."""
    iv = (entry.get("intervals") or {}).get(key)
    if not iv or iv.get("low") is None or iv.get("high") is None:
        return ""
    half = (iv["high"] - iv["low"]) / 2.0
    return f"± {_fmt(half, fmt)} [{_fmt(iv['low'], fmt)}, {_fmt(iv['high'], fmt)}]"


def report(run: SimulationRun) -> Report:
    results = run.results or {}
    sets = results.get("rule_sets") or []
    rep = Report(run=run, names=[_label(s) for s in sets])
    if not sets:
        return rep
    for key, label, fmt, lower_better in METRIC_ROWS:
        values = [_means(s).get(key, 0.0) for s in sets]
        cells = []
        for i, value in enumerate(values):
            cell = {"text": _fmt(value, fmt), "delta": "", "spread": _spread(sets[i], key, fmt)}
            if i:
                diff = value - values[0]
                shown = _fmt(abs(diff), fmt)
                if _within_noise(results, sets[i], key):
                    if shown.strip("0."):
                        cell["delta"] = ("+" if diff > 0 else "−") + shown
                    cell["class"] = "noise"
                    cell["title"] = _("Not significant: within the noise of the seeds.")
                elif shown.strip("0.") and lower_better is not None:
                    better = (diff < 0) == lower_better
                    cell["delta"] = ("+" if diff > 0 else "−") + shown
                    cell["class"] = "better" if better else "worse"
                elif shown.strip("0."):
                    cell["delta"] = ("+" if diff > 0 else "−") + shown
            cells.append(cell)
        rep.rows.append({"label": label, "cells": cells})
    rep.summary = summary_sentences(results)
    for entry in sets[1:]:
        rep.losers.append(
            {
                "name": _label(entry),
                "rows": entry.get("losers") or [],
                "losing": entry.get("drivers_losing_10pct", 0),
            }
        )
    rep.rule_sets = [
        {"label": _label(s), "id": s["id"], "status": s["status"], "parameters": s["parameters"]}
        for s in sets
    ]
    rep.charts = {
        "names": rep.names,
        "income_bins": results["income_bins"],
        "income": [s["income_hist"] for s in sets],
        "wait_bins": results["wait_bins"],
        "wait": [s["wait_hist"] for s in sets],
        "scatter": [s["bonus_sample"] for s in sets],
        "labels": {
            "income": _("Drivers"),
            "income_axis": _("Income in the period (yuan)"),
            "wait": _("Orders"),
            "wait_axis": _("Passenger wait (s)"),
            "bonus": _("Score bonus (m)"),
            "pickup": _("Pickup distance (m)"),
        },
    }
    return rep
