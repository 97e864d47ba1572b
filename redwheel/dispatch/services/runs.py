"""Simulation runs: stored queued, executed by the `run_simulation` task (or synchronously by
the CLI and the demo) through `run_execute`. Each step is a transition of `RUN`."""

import logging
import os
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor, require
from redwheel.core.states import StateMachine, Transition
from redwheel.dispatch import engine
from redwheel.dispatch.engine import uncertainty
from redwheel.dispatch.engine.environment import BALANCE_FORECASTS
from redwheel.dispatch.models import RuleSet, RunRuleSet, SimulationRun, SimulationRunActivity
from redwheel.dispatch.permissions import SANDBOX_ACTION, city_for, city_platforms
from redwheel.dispatch.results import replicated_build, results_build
from redwheel.dispatch.services.inputs import _csv_orders, engine_rule_sets, inputs_build
from redwheel.dispatch.services.rule_sets import _user
from redwheel.orgs.models import OrgUnit

log = logging.getLogger(__name__)

MIN_RULE_SETS, MAX_RULE_SETS = 2, 4
MAX_ORDERS = 200_000
MAX_DRIVERS = 20_000
MAX_CSV_BYTES = 20 * 1024 * 1024
MIN_SEEDS, MAX_SEEDS = 1, 20
DEFAULT_SEEDS = uncertainty.DEFAULT_SEEDS
# `observed` is the policy whose sized fleet matches published utilisation and pickups
# (docs/dispatch.md, "A public real-demand sample").
DEFAULT_IDLE_POLICY = "observed"
# No station model exists yet, so "station" (return to the nearest driver station) is hidden.
IDLE_POLICIES = ("stay", "cruise", "demand", "balance", "observed")
DEFAULT_BALANCE_FORECAST = "profile"
# Longer than two minutes is no longer a response time but a driver who is not there.
MAX_RESPONSE_S = 120
# Five minutes covers a wheelchair or a boot full of luggage; longer is a no-show, not boarding.
MAX_BOARDING_S = 300
DEFAULT_BOARDING_S = engine.SimulationConfig.boarding_s
# At 1 a spread end can already reach the nearest other centroid; past 2 it no longer says
# which area the trip started or ended in.
MAX_CENTROID_SPREAD = 2.0
# What a run stored before a setting existed simulated; absent keys replay with these, so its
# results do not change when a new run's defaults do.
STORED_BEFORE = {
    "idle_policy": "stay",
    "balance_forecast": "profile",
    "response_s": 0.0,
    "boarding_s": 0.0,
    "centroid_spread": 0.0,
    "pickup_patience_s": 480.0,
}
# The simulation parameters a user chooses (`sim_params_clean`'s arguments).
SIM_CHOICES = (
    "seeds",
    "idle_policy",
    "balance_forecast",
    "response_s",
    "boarding_s",
    "centroid_spread",
)
# Below this much work (orders × seeds) starting worker processes costs more than it saves.
PARALLEL_MIN_WORK = 50_000

A = SimulationRunActivity.Action
SYSTEM = SystemActor.operator("dispatch")


def background_job_machine(activity_model, parent_field: str, audit_prefix: str) -> StateMachine:
    """The life of a sandbox job run by a task (a simulation run, a fleet sizing): queued,
    running, then succeeded or failed; a finished job may be run again (same inputs, same seed,
    same results)."""
    status = activity_model._meta.get_field(parent_field).related_model.Status
    action = activity_model.Action
    return StateMachine(
        activity_model=activity_model,
        parent_field=parent_field,
        audit_prefix=audit_prefix,
        state_field="status",
        from_field="from_status",
        to_field="to_status",
        # The task writes the progress meanwhile; a step writes only what it changes.
        save_changes_only=True,
        audit_summary=lambda job: job.title,
        # A failure's note is the error, already the audit entry's summary.
        note_in_audit=False,
        transitions={
            action.CREATE: Transition({None}, status.QUEUED),
            action.START: Transition(
                {status.QUEUED, status.SUCCEEDED, status.FAILED}, status.RUNNING, audit=False
            ),
            action.SUCCEED: Transition({status.RUNNING}, status.SUCCEEDED),
            action.FAIL: Transition({status.RUNNING}, status.FAILED),
        },
    )


RUN = background_job_machine(SimulationRunActivity, "run", "dispatch.run")


def _bounded(value, high: float, message: str, default: float = 0.0) -> float:
    """`value` (empty: `default`) as a float in [0, high], else ValidationFailed(message)."""
    try:
        number = default if value in (None, "") else float(value)
    except (TypeError, ValueError):
        number = None
    # `not a <= x <= b` also refuses NaN, which compares false with everything.
    if number is None or not 0 <= number <= high:
        raise ValidationFailed(message)
    return number


def sim_params_clean(
    seeds: int | None,
    idle_policy: str | None,
    balance_forecast: str | None = None,
    response_s: float | None = None,
    boarding_s: float | None = None,
    centroid_spread: float | None = None,
) -> dict:
    """Validated simulation parameters of a new run (defaults: 5 seeds, idle drivers as observed
    between trips, repositioning on the time-of-day profile, no response time, a minute's
    boarding, trip ends where they are)."""
    seeds = DEFAULT_SEEDS if seeds is None else int(seeds)
    if not MIN_SEEDS <= seeds <= MAX_SEEDS:
        raise ValidationFailed(
            _("The number of seeds must be between %(min)d and %(max)d.")
            % {"min": MIN_SEEDS, "max": MAX_SEEDS}
        )
    idle_policy = idle_policy or DEFAULT_IDLE_POLICY
    if idle_policy not in IDLE_POLICIES:
        raise ValidationFailed(_("Unknown idle policy."))
    balance_forecast = balance_forecast or DEFAULT_BALANCE_FORECAST
    if balance_forecast not in BALANCE_FORECASTS:
        raise ValidationFailed(_("Unknown demand forecast for balancing idle drivers."))
    response_s = _bounded(
        response_s,
        MAX_RESPONSE_S,
        _("The driver response time must be between 0 and %(max)d seconds.")
        % {"max": MAX_RESPONSE_S},
    )
    boarding_s = _bounded(
        boarding_s,
        MAX_BOARDING_S,
        _("The boarding time must be between 0 and %(max)d seconds.") % {"max": MAX_BOARDING_S},
        DEFAULT_BOARDING_S,
    )
    centroid_spread = _bounded(
        centroid_spread,
        MAX_CENTROID_SPREAD,
        _("The centroid spread must be between 0 and %(max)g.") % {"max": MAX_CENTROID_SPREAD},
    )
    return {
        "seeds": seeds,
        "idle_policy": idle_policy,
        "balance_forecast": balance_forecast,
        "response_s": response_s,
        "boarding_s": boarding_s,
        "centroid_spread": centroid_spread,
        # Not a choice on the page: stored so that a later default cannot change this run.
        "pickup_patience_s": engine.SimulationConfig.pickup_patience_s,
    }


def run_seeds(run: SimulationRun) -> list[int]:
    """The seeds a run simulates: its seed first (so one seed replays runs stored before)."""
    return uncertainty.seeds_from(run.seed, int((run.sim_params or {}).get("seeds", 1)))


def sim_environment(sim_params: dict | None) -> dict:
    """The environment that stored simulation parameters simulate (idle policy, balancing
    forecast, response and boarding time, centroid spread): what they hold, else what runs
    simulated before the key existed."""
    stored = sim_params or {}
    return {key: stored.get(key, before) for key, before in STORED_BEFORE.items()}


def sim_config(sim_params: dict | None, overrides: dict | None = None) -> engine.SimulationConfig:
    """The engine configuration of stored simulation parameters (see `sim_environment`), with
    what the city's data says (`overrides`: the speed profile) on top."""
    wanted = sim_environment(sim_params)
    wanted.update(overrides or {})
    return engine.SimulationConfig(**wanted)


def run_config(run: SimulationRun, inputs) -> engine.SimulationConfig:
    """The engine configuration of a run: its stored environment and the city's speed profile."""
    return sim_config(run.sim_params, inputs.config_overrides)


def _processes(orders: int, seeds: int) -> int:
    if seeds < 2 or orders * seeds < PARALLEL_MIN_WORK:
        return 1
    return max(1, min(seeds, os.cpu_count() or 1))


def replicate_run(run: SimulationRun, rule_sets, inputs, progress=None):
    """Every rule set of `run` on the same inputs over the run's seeds (common random numbers)."""
    seeds = run_seeds(run)
    return uncertainty.replicate(
        engine_rule_sets(rule_sets),
        (inputs.orders, inputs.fleet),
        seeds,
        config=run_config(run, inputs),
        processes=_processes(len(inputs.orders), len(seeds)),
        progress=progress,
    )


def _check_sizes(demand_source, demand_params, orders_csv, fleet_source, fleet_params) -> None:
    if demand_source == SimulationRun.Demand.SYNTHETIC:
        n = int(demand_params.get("orders", 0))
        if not 1 <= n <= MAX_ORDERS:
            raise ValidationFailed(
                _("The number of orders must be between 1 and %(max)d.") % {"max": MAX_ORDERS}
            )
        start, hours = float(demand_params.get("start_hour", 0)), float(demand_params["hours"])
        if not (0 <= start < 24 and hours > 0 and start + hours <= 24):
            raise ValidationFailed(_("The period must lie within one day."))
    elif demand_source == SimulationRun.Demand.CSV:
        if not orders_csv.strip():
            raise ValidationFailed(_("Upload a CSV file of orders."))
        if len(orders_csv.encode()) > MAX_CSV_BYTES:
            raise ValidationFailed(_("The orders file is too large."))
        orders = _csv_orders(orders_csv)
        if not 1 <= len(orders) <= MAX_ORDERS:
            raise ValidationFailed(
                _("The number of orders must be between 1 and %(max)d.") % {"max": MAX_ORDERS}
            )
    elif demand_source == SimulationRun.Demand.EXCHANGE:
        if not demand_params.get("day"):
            raise ValidationFailed(_("Choose the day of ingested orders to replay."))
    else:
        raise ValidationFailed(_("Unknown demand source."))
    if fleet_source == SimulationRun.FleetSource.SYNTHETIC:
        n = int(fleet_params.get("drivers", 0))
        if not 1 <= n <= MAX_DRIVERS:
            raise ValidationFailed(
                _("The number of drivers must be between 1 and %(max)d.") % {"max": MAX_DRIVERS}
            )
    elif fleet_source != SimulationRun.FleetSource.DRIVERS:
        raise ValidationFailed(_("Unknown fleet source."))


@transaction.atomic
def run_create(
    *,
    actor,
    title: str,
    rule_sets: Sequence[RuleSet],
    demand_source: str,
    fleet_source: str,
    seed: int,
    demand_params: dict | None = None,
    fleet_params: dict | None = None,
    orders_csv: str = "",
    description: str = "",
    enqueue: bool = True,
    city: OrgUnit | None = None,
    seeds: int | None = None,
    idle_policy: str | None = None,
    balance_forecast: str | None = None,
    response_s: float | None = None,
    boarding_s: float | None = None,
    centroid_spread: float | None = None,
) -> SimulationRun:
    """Store a queued run of `city` (by default the rule sets' city); the first rule set is the
    baseline. All rule sets must be the city's. Enqueues the task on commit."""
    rule_sets = list(rule_sets)
    city = city_for(actor, city or (rule_sets[0].city if rule_sets else None))
    for r in rule_sets:
        require(actor, SANDBOX_ACTION, r)
        if r.city_id != city.pk:
            raise ValidationFailed(_("All rule sets of a run must be its city's."))
    if not MIN_RULE_SETS <= len(rule_sets) <= MAX_RULE_SETS:
        raise ValidationFailed(
            _("Compare between %(min)d and %(max)d rule sets.")
            % {"min": MIN_RULE_SETS, "max": MAX_RULE_SETS}
        )
    if len({r.pk for r in rule_sets}) != len(rule_sets):
        raise ValidationFailed(_("Each rule set can appear only once in a run."))
    for r in rule_sets:
        try:
            r.engine_rules()
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                _("Rule set %(rule_set)s is not valid: %(error)s") % {"rule_set": r, "error": exc}
            ) from exc
    demand_params, fleet_params = dict(demand_params or {}), dict(fleet_params or {})
    _check_sizes(demand_source, demand_params, orders_csv, fleet_source, fleet_params)
    platform_id = demand_params.get("platform_id") if demand_source == "exchange" else None
    if platform_id and not city_platforms(city).filter(pk=platform_id).exists():
        raise NotFound()  # replays use only the city's own platforms' orders
    sim_params = sim_params_clean(
        seeds, idle_policy, balance_forecast, response_s, boarding_s, centroid_spread
    )
    if not -(2**63) <= int(seed) < 2**63 - MAX_SEEDS:
        raise ValidationFailed(_("The seed is out of range."))
    run = SimulationRun(
        city=city,
        title=title.strip() or _("Simulation run"),
        description=description,
        demand_source=demand_source,
        demand_params=demand_params,
        orders_csv=orders_csv,
        fleet_source=fleet_source,
        fleet_params=fleet_params,
        seed=int(seed),
        sim_params=sim_params,
        created_by=_user(actor),
    )
    RUN.apply(
        run,
        A.CREATE,
        actor=actor,
        audit_action="dispatch.run_create",
        audit_data={"rule_sets": [r.pk for r in rule_sets], "seed": run.seed, **sim_params},
    )
    RunRuleSet.objects.bulk_create(
        RunRuleSet(run=run, rule_set=r, position=i) for i, r in enumerate(rule_sets)
    )
    if enqueue:
        from redwheel.dispatch.tasks import run_simulation

        run_simulation.enqueue(run.pk)
    return run


def progress_writer(model, job_id: int, extra: Callable[[float], None] | None = None):
    """A progress callback that stores a job's percentage (in steps of 2, below 100 until its
    final step) for the page's polling, and passes the fraction on to `extra`."""
    last = [-1]

    def report(fraction: float) -> None:
        pct = max(0, min(100, int(fraction * 100)))
        if pct >= last[0] + 2 or (pct == 100 and last[0] != 100):
            last[0] = pct
            model.objects.filter(pk=job_id).update(progress=min(pct, 99))
        if extra is not None:
            extra(fraction)

    return report


def run_execute(
    *, run_id: int, progress: Callable[[float], None] | None = None, raise_errors: bool = False
) -> uncertainty.Replicated | None:
    """Simulate a stored run over its seeds and store its results; returns the replicated
    comparison (None if the run failed, with the error stored on the row)."""
    with transaction.atomic():
        run = SimulationRun.objects.select_for_update().get(pk=run_id)
        if run.status == SimulationRun.Status.RUNNING:
            raise InvalidTransition(_("This run is already running."))
        now = timezone.now()
        RUN.apply(
            run,
            A.START,
            actor=SYSTEM,
            now=now,
            changes={
                "progress": 0,
                "error": "",
                "started_at": now,
                "finished_at": None,
                "results": {},
            },
        )
    try:
        rule_sets = run.ordered_rule_sets()
        # The task runs for the system, bounded by the run's city (its orders and drivers).
        inputs = inputs_build(run, actor=SystemActor.operator(f"dispatch run {run.pk}"))
        replicated = replicate_run(
            run, rule_sets, inputs, progress=progress_writer(SimulationRun, run.pk, progress)
        )
        # Histograms, samples and losers come from the first seed (the run's own seed).
        results = results_build(replicated.comparisons[0], rule_sets, inputs)
        replicated_build(
            results, replicated, idle_policy=sim_environment(run.sim_params)["idle_policy"]
        )
        results["calibration"] = _calibration(run, inputs, results)
    except Exception as exc:  # any failure is stored on the run for the page
        log.exception("dispatch run %s failed", run_id)
        message = exc.message if hasattr(exc, "message") else f"{type(exc).__name__}: {exc}"
        RUN.apply(
            run,
            A.FAIL,
            actor=SYSTEM,
            note=str(message),
            changes={"error": str(message)[:2000], "finished_at": timezone.now()},
            audit_action="dispatch.run_failed",
            audit_summary=str(message)[:300],
        )
        if raise_errors:
            raise
        return None
    fleet_params = dict(run.fleet_params)
    if run.fleet_source == SimulationRun.FleetSource.DRIVERS and inputs.notes.get("score_day"):
        fleet_params["score_day"] = inputs.notes["score_day"]  # replays use the same scores
    RUN.apply(
        run,
        A.SUCCEED,
        actor=SYSTEM,
        changes={
            "progress": 100,
            "results": results,
            "fleet_params": fleet_params,
            "finished_at": timezone.now(),
        },
        audit_action="dispatch.run_succeeded",
    )
    return replicated


def _calibration(run: SimulationRun, inputs, results: dict) -> dict | None:
    from redwheel.dispatch.services import calibration

    baseline = results["rule_sets"][0]
    means = {k: iv["mean"] for k, iv in (baseline.get("intervals") or {}).items()}
    return calibration.calibration_build(run, inputs, means or baseline["metrics"])
