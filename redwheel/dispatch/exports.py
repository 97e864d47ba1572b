"""Run exports: the stored results as JSON, and a workbook (core.exports) for people who read
reports in a spreadsheet. Runs hold no personal data beyond driver ids and scores.

Each export checks itself that the viewer may use the run's city sandbox (NotFound otherwise)."""

from django.utils.translation import gettext as _

from redwheel.core.dates import local_text
from redwheel.core.exports import Column, Sheet, xlsx_bytes
from redwheel.core.permissions import require
from redwheel.dispatch import selectors
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.permissions import SANDBOX_ACTION


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
        "rule_sets": [
            {"id": r.pk, "name": r.name, "version": r.version, "status": r.status}
            for r in run.ordered_rule_sets()
        ],
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "summary": selectors.summary_sentences(run.results or {}),
        "results": run.results,
    }


def _sheet(title, header, rows) -> Sheet:
    return Sheet(title, [Column(header[0], width=40), *header[1:]], rows)


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
            (_("Demand"), run.get_demand_source_display()),
            (_("Fleet"), run.get_fleet_source_display()),
            (_("Orders"), results.get("orders")),
            (_("Drivers"), results.get("drivers")),
            (_("Finished at"), local_text(run.finished_at, "%Y-%m-%d %H:%M:%S")),
            (_("Description"), run.description),
            (),
            *[(sentence,) for sentence in selectors.summary_sentences(results)],
        ],
    )
    rows = []
    for key, label, _fmt, _better in selectors.METRIC_ROWS:
        rows.append([str(label), *[s["metrics"].get(key) for s in sets]])
    for key in ("orders", "served", "cancelled_unmatched_pct", "cancelled_long_pickup_pct"):
        rows.append([key, *[s["metrics"].get(key) for s in sets]])
    metrics = _sheet(_("Metrics"), [_("Metric"), *names], rows)
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
    return xlsx_bytes([summary, metrics, losers, income, wait, parameters])
