"""Simulation runs: stored queued, executed by the `run_simulation` task (or synchronously by
the CLI and the demo) through `run_execute`. Each step is a transition of `RUN`."""

import logging
from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor, require
from redwheel.core.states import StateMachine, Transition
from redwheel.dispatch import engine
from redwheel.dispatch.models import RuleSet, RunRuleSet, SimulationRun, SimulationRunActivity
from redwheel.dispatch.permissions import SANDBOX_ACTION, city_for, city_platforms
from redwheel.dispatch.results import results_build
from redwheel.dispatch.services.inputs import _csv_orders, engine_rule_sets, inputs_build
from redwheel.dispatch.services.rule_sets import _user
from redwheel.orgs.models import OrgUnit

log = logging.getLogger(__name__)

MIN_RULE_SETS, MAX_RULE_SETS = 2, 4
MAX_ORDERS = 200_000
MAX_DRIVERS = 20_000
MAX_CSV_BYTES = 20 * 1024 * 1024

A = SimulationRunActivity.Action
_Status = SimulationRun.Status
SYSTEM = SystemActor.operator("dispatch")

# A finished run may be run again (same inputs, same seed, same results).
RUN = StateMachine(
    activity_model=SimulationRunActivity,
    parent_field="run",
    audit_prefix="dispatch.run",
    state_field="status",
    from_field="from_status",
    to_field="to_status",
    # The task writes the progress meanwhile; a step writes only what it changes.
    save_changes_only=True,
    audit_summary=lambda run: run.title,
    # A failure's note is the error, already the audit entry's summary.
    note_in_audit=False,
    transitions={
        A.CREATE: Transition({None}, _Status.QUEUED),
        A.START: Transition(
            {_Status.QUEUED, _Status.SUCCEEDED, _Status.FAILED}, _Status.RUNNING, audit=False
        ),
        A.SUCCEED: Transition({_Status.RUNNING}, _Status.SUCCEEDED),
        A.FAIL: Transition({_Status.RUNNING}, _Status.FAILED),
    },
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
    if not -(2**63) <= int(seed) < 2**63:
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
        created_by=_user(actor),
    )
    RUN.apply(
        run,
        A.CREATE,
        actor=actor,
        audit_action="dispatch.run_create",
        audit_data={"rule_sets": [r.pk for r in rule_sets], "seed": run.seed},
    )
    RunRuleSet.objects.bulk_create(
        RunRuleSet(run=run, rule_set=r, position=i) for i, r in enumerate(rule_sets)
    )
    if enqueue:
        from redwheel.dispatch.tasks import run_simulation

        run_simulation.enqueue(run.pk)
    return run


def _progress_writer(run_id: int, extra: Callable[[float], None] | None = None):
    last = [-1]

    def report(fraction: float) -> None:
        pct = max(0, min(100, int(fraction * 100)))
        if pct >= last[0] + 2 or (pct == 100 and last[0] != 100):
            last[0] = pct
            SimulationRun.objects.filter(pk=run_id).update(progress=min(pct, 99))
        if extra is not None:
            extra(fraction)

    return report


def run_execute(
    *, run_id: int, progress: Callable[[float], None] | None = None, raise_errors: bool = False
) -> engine.Comparison | None:
    """Simulate a stored run and store its results; returns the engine comparison (None if the
    run failed, with the error stored on the row)."""
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
        comparison = engine.compare(
            engine_rule_sets(rule_sets),
            inputs.orders,
            inputs.fleet,
            seed=run.seed,
            progress=_progress_writer(run.pk, progress),
        )
        results = results_build(comparison, rule_sets, inputs)
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
    return comparison
