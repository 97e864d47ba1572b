"""Writes for the dispatch sandbox: rule sets (draft → published, immutable) and simulation runs.

A run is created queued and executed by the `run_simulation` task (or synchronously by the CLI
and the demo) through `run_execute`, which rebuilds the demand and the fleet from the run's
stored sources and seed, calls the engine's `compare`, and stores compact results (metrics,
histograms, samples, losers), never raw per-order arrays.

Rule sets and runs belong to one city. Every function taking an `actor` checks itself that the
actor may use that city's sandbox (`dispatch.permissions.SANDBOX_ACTION`) and answers NotFound
otherwise; a run only ever reads its own city's platforms' orders and its own city's drivers.

Split by entity (`rule_sets`, `inputs`, `runs`); import from this package.
"""

from redwheel.core.errors import ValidationFailed
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.results import SCATTER_POINTS, results_build
from redwheel.dispatch.services.inputs import (
    Inputs,
    demand_build,
    drivers_fleet_rows,
    engine_rule_sets,
    fleet_build,
    inputs_build,
    period_fleet,
    period_orders,
    synthetic_day_size,
    synthetic_demand,
)
from redwheel.dispatch.services.rule_sets import (
    RULE_SET,
    parameters_clean,
    ruleset_create,
    ruleset_import,
    ruleset_new_version,
    ruleset_publish,
    ruleset_update,
)
from redwheel.dispatch.services.runs import (
    DEFAULT_IDLE_POLICY,
    DEFAULT_SEEDS,
    IDLE_POLICIES,
    MAX_CSV_BYTES,
    MAX_DRIVERS,
    MAX_ORDERS,
    MAX_RULE_SETS,
    MAX_SEEDS,
    MIN_RULE_SETS,
    MIN_SEEDS,
    RUN,
    replicate_run,
    run_config,
    run_create,
    run_execute,
    run_seeds,
    sim_params_clean,
)

__all__ = [
    "DEFAULT_IDLE_POLICY",
    "DEFAULT_SEEDS",
    "IDLE_POLICIES",
    "MAX_CSV_BYTES",
    "MAX_DRIVERS",
    "MAX_ORDERS",
    "MAX_RULE_SETS",
    "MAX_SEEDS",
    "MIN_RULE_SETS",
    "MIN_SEEDS",
    "RULE_SET",
    "RUN",
    "SCATTER_POINTS",
    "Inputs",
    "SimulationRun",
    "ValidationFailed",
    "demand_build",
    "drivers_fleet_rows",
    "engine_rule_sets",
    "fleet_build",
    "inputs_build",
    "parameters_clean",
    "period_fleet",
    "period_orders",
    "replicate_run",
    "results_build",
    "ruleset_create",
    "ruleset_import",
    "ruleset_new_version",
    "ruleset_publish",
    "ruleset_update",
    "run_config",
    "run_create",
    "run_execute",
    "run_seeds",
    "sim_params_clean",
    "synthetic_day_size",
    "synthetic_demand",
]
