"""Fleet sizing: the smallest fleet that serves a target share of a demand.

The fleet grows by bisection (`engine.sizing.size_fleet`); every candidate fleet is built the way
the run's synthetic fleets are, so a sized fleet can be simulated again as a run.

In the sandbox a sizing is stored (`FleetSizing`) queued and executed by the
`run_fleet_sizing` task through `sizing_execute`, a transition of `SIZING` at each step. The
search stays within the requested bounds: the largest fleet is simulated first, and only when
it reaches the target does the bisection run (so the engine never doubles beyond the bounds).
The answer's served share comes with its 95 % interval over the seeds.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor, require
from redwheel.dispatch import engine
from redwheel.dispatch.engine import demand as engine_demand
from redwheel.dispatch.engine import uncertainty
from redwheel.dispatch.engine.demand import BoundingBox
from redwheel.dispatch.engine.sizing import SizingResult, size_fleet
from redwheel.dispatch.models import FleetSizing, FleetSizingActivity, RuleSet, SimulationRun
from redwheel.dispatch.permissions import SANDBOX_ACTION, city_for, city_platforms
from redwheel.dispatch.services import real_fleet
from redwheel.dispatch.services.inputs import demand_build, period_fleet
from redwheel.dispatch.services.rule_sets import _user
from redwheel.dispatch.services.runs import (
    MAX_DRIVERS,
    MAX_SEEDS,
    _check_sizes,
    background_job_machine,
    progress_writer,
    sim_config,
    sim_params_clean,
)

log = logging.getLogger(__name__)

FLEET_PLACEMENTS = ("demand", "random")
MIN_TARGET, MAX_TARGET = 0.5, 0.99
DEFAULT_TARGET = 0.95
DEFAULT_SIZING_SEEDS = 3
# Simulation parameters a sizing keeps in columns of its own, not in its sim_params.
SIZING_COLUMNS = ("seeds", "idle_policy")
# The bisection stops when the bracket is within 2 % of its upper end.
TOLERANCE = 0.02
# Metrics reported, with their intervals, for the fleet found.
SIZED_METRICS = ("served_share", "mean_wait_s", "mean_pickup_m", "driver_utilisation")

# Outcomes of a sizing (stored in its result).
REACHED = "reached"
AT_MINIMUM = "at_minimum"  # the fewest drivers allowed already reach the target
UNREACHABLE = "unreachable"  # the most drivers allowed do not

A = FleetSizingActivity.Action
SYSTEM = SystemActor.operator("dispatch sizing")

SIZING = background_job_machine(FleetSizingActivity, "sizing", "dispatch.sizing")


def fleet_factory(
    placement: str, orders: engine.Orders, bbox: BoundingBox, t0: float, t1: float
) -> Callable[[int, int], engine.Fleet]:
    """`make_fleet(n, seed)` for the period [t0, t1): drivers placed and shifted after the
    orders ("demand"), or at random hotspots of `bbox` with random shifts ("random")."""
    if placement == "demand":
        return lambda n, seed: period_fleet(
            engine_demand.demand_following_fleet(orders, n, seed), 0.0, t1 - t0
        )
    if placement == "random":
        return lambda n, seed: period_fleet(engine.synthetic_fleet(n, bbox, seed), t0, t1)
    raise ValueError(f"fleet placement must be one of: {', '.join(FLEET_PLACEMENTS)}")


def fleet_size(
    rule_set: engine.RuleSet,
    orders: engine.Orders,
    make_fleet: Callable[[int, int], engine.Fleet],
    *,
    target: float,
    seeds: list[int],
    config: engine.SimulationConfig,
    progress=None,
    low: int = 1,
    high: int | None = None,
    tolerance: float = TOLERANCE,
) -> SizingResult:
    """The smallest fleet whose mean served share over `seeds` reaches `target` (0–1)."""
    return size_fleet(
        rule_set,
        orders,
        make_fleet,
        target_served=target,
        seeds=seeds,
        low=low,
        high=high,
        tolerance=tolerance,
        config=config,
        progress=progress,
    )


def _span(progress, start: float, end: float):
    """`progress` rescaled so that a phase's 0–1 lands in [start, end] of the whole."""
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * max(0.0, min(1.0, fraction)))


def _replicate_at(rule_set, orders, make_fleet, n, seeds, config, progress=None) -> list[dict]:
    """Each seed's metrics (with the served share) for a fleet of `n`, simulated like the
    engine's sizing does, so the means agree with its steps."""
    per_seed = []
    for i, seed in enumerate(seeds):
        result = engine.simulate(rule_set, orders, make_fleet(n, seed), seed, config=config)
        metrics = uncertainty.run_metrics(result.metrics)
        metrics["served_share"] = result.metrics["served"] / len(orders)
        per_seed.append(metrics)
        if progress is not None:
            progress((i + 1) / len(seeds))
    return per_seed


def size_within_bounds(
    rule_set: engine.RuleSet,
    orders: engine.Orders,
    make_fleet: Callable[[int, int], engine.Fleet],
    *,
    target: float,
    low: int,
    high: int,
    seeds: list[int],
    config: engine.SimulationConfig,
    progress=None,
) -> dict:
    """The smallest fleet in [low, high] reaching `target`, as a JSON-ready result: outcome,
    fleet size, served share with its interval over the seeds, a few metrics at that size and
    every step simulated (drivers, mean served share) in order."""
    at_high = _replicate_at(
        rule_set, orders, make_fleet, high, seeds, config, _span(progress, 0.0, 0.1)
    )
    share_high = uncertainty.interval([m["served_share"] for m in at_high]).mean
    steps = [(high, share_high)]
    per_seed = at_high
    if share_high < target:
        outcome, size = UNREACHABLE, high
    else:
        found = fleet_size(
            rule_set,
            orders,
            make_fleet,
            target=target,
            seeds=seeds,
            config=config,
            low=low,
            high=high,
            progress=_span(progress, 0.1, 0.9),
        )
        seen = {high}
        for n, share in found.steps:
            if n not in seen:
                seen.add(n)
                steps.append((n, share))
        # The engine caps its upper end at twice the orders: above that, the bound reached.
        size = found.n_drivers if found.reached else high
        outcome = AT_MINIMUM if size == low else REACHED
        if size != high:
            per_seed = _replicate_at(
                rule_set, orders, make_fleet, size, seeds, config, _span(progress, 0.9, 1.0)
            )
    if progress is not None:
        progress(1.0)
    intervals = {
        key: uncertainty.interval([m[key] for m in per_seed]).to_dict()
        for key in SIZED_METRICS
        if all(key in m for m in per_seed)
    }
    return {
        "outcome": outcome,
        "reached": outcome != UNREACHABLE,
        "n_drivers": int(size),
        "target": float(target),
        "bounds": [int(low), int(high)],
        "tolerance": TOLERANCE,
        "seeds": list(seeds),
        "confidence": uncertainty.DEFAULT_CONFIDENCE,
        "orders": len(orders),
        "served_share": intervals["served_share"],
        "intervals": intervals,
        "steps": [[int(n), float(share)] for n, share in steps],
    }


@transaction.atomic
def sizing_create(
    *,
    actor,
    rule_set: RuleSet,
    target: float,
    min_drivers: int,
    max_drivers: int,
    demand_source: str,
    seed: int,
    demand_params: dict | None = None,
    orders_csv: str = "",
    seeds: int | None = None,
    idle_policy: str | None = None,
    balance_forecast: str | None = None,
    response_s: float | None = None,
    boarding_s: float | None = None,
    centroid_spread: float | None = None,
    placement: str = "demand",
    title: str = "",
    source_run: SimulationRun | None = None,
    enqueue: bool = True,
) -> FleetSizing:
    """Store a queued fleet sizing of the rule set's city and enqueue it on commit.

    `source_run` (one of the city's runs) records where the inputs came from; a CSV demand with
    no file of its own replays that run's orders. The environment (idle policy, forecast,
    response and boarding time, centroid spread) is checked like a run's (`sim_params_clean`)."""
    require(actor, SANDBOX_ACTION, rule_set)
    city = city_for(actor, rule_set.city)
    try:
        rule_set.engine_rules()
    except (TypeError, ValueError) as exc:
        message = _("Rule set %(rule_set)s is not valid: %(error)s")
        raise ValidationFailed(message % {"rule_set": rule_set, "error": exc}) from exc
    if source_run is not None:
        require(actor, SANDBOX_ACTION, source_run)
        if source_run.city_id != city.pk:
            raise NotFound()
        if demand_source == SimulationRun.Demand.CSV and not orders_csv.strip():
            orders_csv = source_run.orders_csv
    target = float(target)
    if not MIN_TARGET <= target <= MAX_TARGET:
        raise ValidationFailed(
            _("The target served share must be between %(min).2f and %(max).2f.")
            % {"min": MIN_TARGET, "max": MAX_TARGET},
            code="sizing_target",
        )
    min_drivers, max_drivers = int(min_drivers), int(max_drivers)
    if not 1 <= min_drivers < max_drivers <= MAX_DRIVERS:
        raise ValidationFailed(
            _(
                "The fewest drivers must be at least 1 and below the most drivers, which may be "
                "at most %(max)d."
            )
            % {"max": MAX_DRIVERS},
            code="sizing_bounds",
        )
    if placement not in FLEET_PLACEMENTS:
        raise ValidationFailed(_("Unknown fleet placement."))
    demand_params = dict(demand_params or {})
    _check_sizes(
        demand_source,
        demand_params,
        orders_csv,
        SimulationRun.FleetSource.SYNTHETIC,
        {"drivers": max_drivers},
    )
    platform_id = demand_params.get("platform_id") if demand_source == "exchange" else None
    if platform_id and not city_platforms(city).filter(pk=platform_id).exists():
        raise NotFound()  # replays use only the city's own platforms' orders
    sim_params = sim_params_clean(
        DEFAULT_SIZING_SEEDS if seeds is None else seeds,
        idle_policy,
        balance_forecast,
        response_s,
        boarding_s,
        centroid_spread,
    )
    if not -(2**63) <= int(seed) < 2**63 - MAX_SEEDS:
        raise ValidationFailed(_("The seed is out of range."))
    default_title = _("%(rule_set)s at %(target).0f%% served") % {
        "rule_set": rule_set,
        "target": target * 100,
    }
    sizing = FleetSizing(
        city=city,
        title=title.strip() or default_title,
        rule_set=rule_set,
        source_run=source_run,
        demand_source=demand_source,
        demand_params=demand_params,
        orders_csv=orders_csv,
        placement=placement,
        target=target,
        min_drivers=min_drivers,
        max_drivers=max_drivers,
        seed=int(seed),
        seeds=sim_params["seeds"],
        idle_policy=sim_params["idle_policy"],
        sim_params={k: v for k, v in sim_params.items() if k not in SIZING_COLUMNS},
        created_by=_user(actor),
    )
    SIZING.apply(
        sizing,
        A.CREATE,
        actor=actor,
        audit_action="dispatch.sizing_create",
        audit_data={
            "rule_set": rule_set.pk,
            "target": target,
            "bounds": [min_drivers, max_drivers],
            "seed": sizing.seed,
            **sim_params,
        },
    )
    if enqueue:
        from redwheel.dispatch.tasks import run_fleet_sizing

        run_fleet_sizing.enqueue(sizing.pk)
    return sizing


def sizing_execute(
    *, sizing_id: int, progress: Callable[[float], None] | None = None, raise_errors: bool = False
) -> dict | None:
    """Size the fleet of a stored sizing and store the result; returns it (None if the sizing
    failed, with the error stored on the row)."""
    with transaction.atomic():
        sizing = FleetSizing.objects.select_for_update().get(pk=sizing_id)
        if sizing.status == FleetSizing.Status.RUNNING:
            raise InvalidTransition(_("This fleet sizing is already running."))
        now = timezone.now()
        SIZING.apply(
            sizing,
            A.START,
            actor=SYSTEM,
            now=now,
            changes={
                "progress": 0,
                "error": "",
                "started_at": now,
                "finished_at": None,
                "result": {},
            },
        )
    try:
        # Demand is read for the system, bounded by the sizing's city (its platforms' orders).
        orders, t0, t1, bbox = demand_build(sizing.as_run())
        if not len(orders):
            raise ValidationFailed(_("The chosen period has no orders."))
        profile = real_fleet.city_speed_profile(sizing.city)
        overrides = {} if profile is None else {"speed_profile_kmh": profile}
        # Sizings stored before their sim_params replay the old defaults (runs.STORED_BEFORE).
        config = sim_config(sizing.as_run().sim_params, overrides)
        rule_set = sizing.rule_set
        result = size_within_bounds(
            rule_set.engine_rules(),
            orders,
            fleet_factory(sizing.placement, orders, bbox, t0, t1),
            target=sizing.target,
            low=sizing.min_drivers,
            high=sizing.max_drivers,
            seeds=uncertainty.seeds_from(sizing.seed, sizing.seeds),
            config=config,
            progress=progress_writer(FleetSizing, sizing.pk, progress),
        )
        result.update(
            {
                "period_start_s": t0,
                "period_end_s": t1,
                "speed_profile": "trips" if profile is not None else "constant",
                "rule_set": {"id": rule_set.pk, "name": rule_set.name, "version": rule_set.version},
            }
        )
    except Exception as exc:  # any failure is stored on the sizing for the page
        log.exception("dispatch fleet sizing %s failed", sizing_id)
        message = exc.message if hasattr(exc, "message") else f"{type(exc).__name__}: {exc}"
        SIZING.apply(
            sizing,
            A.FAIL,
            actor=SYSTEM,
            note=str(message)[:300],
            changes={"error": str(message)[:2000], "finished_at": timezone.now()},
            audit_action="dispatch.sizing_failed",
            audit_summary=str(message)[:300],
        )
        if raise_errors:
            raise
        return None
    SIZING.apply(
        sizing,
        A.SUCCEED,
        actor=SYSTEM,
        changes={"progress": 100, "result": result, "finished_at": timezone.now()},
        audit_action="dispatch.sizing_succeeded",
        audit_data={"outcome": result["outcome"], "n_drivers": result["n_drivers"]},
    )
    return result
