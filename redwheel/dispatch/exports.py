"""Run exports: the stored results as JSON, and a workbook (core.exports) for people who read
reports in a spreadsheet. Runs hold no personal data beyond driver ids and scores. A fleet
sizing exports its request and result as JSON.

Every metric is exported as the page shows it: the mean over the run's seeds with its 95 %
interval (low, high) and the number of seeds. Runs stored before seeds existed have one value
per metric, exported as the mean of one seed with no interval (null / empty bounds).

Every export says what was simulated: the environment (idle policy, balancing forecast, response
and boarding time, centroid spread) as `services.runs.sim_environment` reads it from the stored
parameters, so a run or sizing stored before a setting existed shows what it replays with.

Each export checks itself that the viewer may use the run's city sandbox (NotFound otherwise)."""

from django.utils.translation import gettext as _

from redwheel.core.dates import local_text
from redwheel.core.exports import Column, Sheet, xlsx_bytes
from redwheel.core.permissions import require
from redwheel.dispatch import selectors
from redwheel.dispatch.models import FleetSizing, SimulationRun
from redwheel.dispatch.permissions import SANDBOX_ACTION
from redwheel.dispatch.services.runs import sim_environment

# Counts and shares exported besides the report's metric rows.
EXTRA_METRICS = (
    "orders",
    "served",
    "served_share",
    "cancelled_unmatched_pct",
    "cancelled_long_pickup_pct",
)


def seed_count(results: dict) -> int:
    """How many seeds a run's results average over (1 for runs stored before seeds)."""
    if not results.get("rule_sets"):
        return 0
    return len(results.get("seeds") or []) or 1


def metric_keys() -> list[str]:
    return [key for key, *_rest in selectors.METRIC_ROWS] + list(EXTRA_METRICS)


def metric_interval(entry: dict, key: str) -> dict | None:
    """{"mean", "low", "high", "seeds"} of one rule set's metric; None when it has no such
    metric. Without a stored interval the one value is the mean and the bounds are unknown."""
    iv = (entry.get("intervals") or {}).get(key)
    if iv is not None:
        return {"mean": iv["mean"], "low": iv["low"], "high": iv["high"], "seeds": iv["n"]}
    value = (entry.get("metrics") or {}).get(key)
    if value is None and key == "served_share":
        metrics = entry.get("metrics") or {}
        if metrics.get("orders"):
            value = metrics.get("served", 0) / metrics["orders"]
    if value is None:
        return None
    return {"mean": value, "low": None, "high": None, "seeds": 1}


def _rule_label(entry: dict) -> str:
    return f"{entry['name']} v{entry['version']}"


def run_metrics(results: dict) -> list[dict]:
    """Per rule set (baseline first): every metric's mean, 95 % bounds and seed count."""
    out = []
    for entry in results.get("rule_sets") or []:
        metrics = {}
        for key in metric_keys():
            iv = metric_interval(entry, key)
            if iv is not None:
                metrics[key] = iv
        out.append({"id": entry.get("id"), "rule_set": _rule_label(entry), "metrics": metrics})
    return out


def run_json(viewer, run: SimulationRun) -> dict:
    require(viewer, SANDBOX_ACTION, run)
    return {
        "id": run.pk,
        "title": run.title,
        "description": run.description,
        "status": run.status,
        "seed": run.seed,
        "demand": {"source": run.demand_source, **run.demand_params},
        "fleet": {"source": run.fleet_source, **run.fleet_params},
        "environment": sim_environment(run.sim_params),
        "rule_sets": [
            {"id": r.pk, "name": r.name, "version": r.version, "status": r.status}
            for r in run.ordered_rule_sets()
        ],
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "summary": selectors.summary_sentences(run.results or {}),
        "seeds": seed_count(run.results or {}),
        "confidence": (run.results or {}).get("confidence"),
        "metrics": run_metrics(run.results or {}),
        "results": run.results,
    }


def _sheet(title, header, rows) -> Sheet:
    return Sheet(title, [Column(header[0], width=40), *header[1:]], rows)


def _environment_rows(sim_params: dict | None) -> list[tuple]:
    """The summary sheet's rows of the simulated environment, codes as the JSON has them."""
    env = sim_environment(sim_params)
    return [
        (_("Idle drivers"), env["idle_policy"]),
        (_("Forecast"), env["balance_forecast"]),
        (_("Driver response time (s)"), env["response_s"]),
        (_("Boarding time (s)"), env["boarding_s"]),
        (_("Centroid spread"), env["centroid_spread"]),
        (_("Pickup patience (s)"), env["pickup_patience_s"]),
    ]


def run_workbook(viewer, run: SimulationRun) -> bytes:
    require(viewer, SANDBOX_ACTION, run)
    results = run.results or {}
    sets = results.get("rule_sets") or []
    names = [f"{s['name']} v{s['version']}" for s in sets]
    summary = _sheet(
        _("Summary"),
        [_("Run"), run.title],
        [
            (_("Status"), run.get_status_display()),
            (_("Seed"), run.seed),
            (_("Number of seeds"), seed_count(results)),
            (_("Demand"), run.get_demand_source_display()),
            (_("Fleet"), run.get_fleet_source_display()),
            *_environment_rows(run.sim_params),
            (_("Orders"), results.get("orders")),
            (_("Drivers"), results.get("drivers")),
            (_("Finished at"), local_text(run.finished_at, "%Y-%m-%d %H:%M:%S")),
            (_("Description"), run.description),
            (),
            *[(sentence,) for sentence in selectors.summary_sentences(results)],
        ],
    )
    labels = {key: str(label) for key, label, *_rest in selectors.METRIC_ROWS}
    rows, interval_rows = [], []
    for key in metric_keys():
        ivs = [metric_interval(s, key) for s in sets]
        rows.append([labels.get(key, key), *[iv and iv["mean"] for iv in ivs]])
        for name, iv in zip(names, ivs, strict=True):
            if iv is not None:
                interval_rows.append(
                    [name, labels.get(key, key), iv["mean"], iv["low"], iv["high"], iv["seeds"]]
                )
    # The page's figures: means over the seeds, their intervals on the next sheet.
    metrics = _sheet(_("Metrics"), [_("Metric"), *names], rows)
    intervals = _sheet(
        _("Intervals"),
        [
            _("Rule set"),
            Column(_("Metric"), width=36),
            _("Mean"),
            _("95% low"),
            _("95% high"),
            _("Seeds"),
        ],
        interval_rows,
    )
    loser_rows = []
    for entry, name in zip(sets[1:], names[1:], strict=True):
        for loser in entry.get("losers") or []:
            loser_rows.append(
                [
                    name,
                    loser["driver_id"],
                    loser["score"],
                    _("yes") if loser["is_party_member"] else _("no"),
                    loser["baseline_income"],
                    loser["income"],
                    loser["loss"],
                    loser["loss_pct"],
                ]
            )
    losers = _sheet(
        _("Income losers"),
        [
            _("Rule set"),
            _("Driver id"),
            _("Score"),
            _("Party member"),
            _("Baseline income"),
            _("Income"),
            _("Loss"),
            _("Loss (%)"),
        ],
        loser_rows,
    )
    bins = results.get("income_bins") or []
    income = _sheet(
        _("Income distribution"),
        [_("From (yuan)"), _("To (yuan)"), *names],
        [
            [bins[i], bins[i + 1], *[s["income_hist"][i] for s in sets]]
            for i in range(len(bins) - 1)
        ],
    )
    bins = results.get("wait_bins") or []
    wait = _sheet(
        _("Wait distribution"),
        [_("From (s)"), _("To (s)"), *names],
        [[bins[i], bins[i + 1], *[s["wait_hist"][i] for s in sets]] for i in range(len(bins) - 1)],
    )
    param_keys = sorted({k for s in sets for k in s["parameters"] if k != "fatigue"})
    fatigue_keys = sorted({k for s in sets for k in (s["parameters"].get("fatigue") or {})})
    parameters = _sheet(
        _("Rule sets"),
        [_("Parameter"), *names],
        [[k, *[s["parameters"].get(k) for s in sets]] for k in param_keys]
        + [
            [f"fatigue.{k}", *[(s["parameters"].get("fatigue") or {}).get(k) for s in sets]]
            for k in fatigue_keys
        ],
    )
    return xlsx_bytes([summary, metrics, intervals, losers, income, wait, parameters])


def sizing_json(viewer, sizing: FleetSizing) -> dict:
    """A fleet sizing's request and result (fleet size, served share with its 95 % interval,
    every step of the search)."""
    require(viewer, SANDBOX_ACTION, sizing)
    return {
        "id": sizing.pk,
        "title": sizing.title,
        "status": sizing.status,
        "rule_set": {
            "id": sizing.rule_set_id,
            "name": sizing.rule_set.name,
            "version": sizing.rule_set.version,
        },
        "source_run": sizing.source_run_id,
        "demand": {"source": sizing.demand_source, **sizing.demand_params},
        "placement": sizing.placement,
        "idle_policy": sizing.idle_policy,
        "environment": sim_environment(sizing.as_run().sim_params),
        "target": sizing.target,
        "bounds": [sizing.min_drivers, sizing.max_drivers],
        "seed": sizing.seed,
        "seeds": sizing.seeds,
        "created_at": sizing.created_at.isoformat(),
        "finished_at": sizing.finished_at.isoformat() if sizing.finished_at else None,
        "error": sizing.error,
        "result": sizing.result,
    }
