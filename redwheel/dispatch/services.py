"""Writes for the dispatch sandbox: rule sets (draft → published, immutable) and simulation runs.

A run is created queued and executed by the `run_simulation` task (or synchronously by the CLI
and the demo) through `run_execute`, which rebuilds the demand and the fleet from the run's
stored sources and seed, calls the engine's `compare`, and stores compact results (metrics,
histograms, samples, losers), never raw per-order arrays.

Rule sets and runs belong to one city. Every function taking an `actor` checks itself that the
actor may use that city's sandbox (`dispatch.permissions.SANDBOX_ACTION`) and answers NotFound
otherwise; a run only ever reads its own city's platforms' orders and its own city's drivers.
"""

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor, is_unscoped, require, scope
from redwheel.dispatch import engine
from redwheel.dispatch.engine.demand import DAY_S, BoundingBox, demand_intensity
from redwheel.dispatch.models import RuleSet, RunRuleSet, SimulationRun
from redwheel.dispatch.permissions import (
    SANDBOX_ACTION,
    city_for,
    city_platforms,
    city_rows,
    sandbox_cities,
)
from redwheel.dispatch.results import SCATTER_POINTS, results_build  # noqa: F401 (re-exported)
from redwheel.exchange.metrics import LOCAL_TZ
from redwheel.orgs.models import OrgUnit

log = logging.getLogger(__name__)

MIN_RULE_SETS, MAX_RULE_SETS = 2, 4
MAX_ORDERS = 200_000
MAX_DRIVERS = 20_000
MAX_CSV_BYTES = 20 * 1024 * 1024


# Rule sets -----------------------------------------------------------------------------------


def parameters_clean(name: str, version: str, parameters: dict) -> dict:
    """Validate with the engine's loader; returns the full parameter dict (defaults filled in)."""
    if not isinstance(parameters, dict):
        raise ValidationFailed(_("Rule set parameters must be a JSON object."))
    data = {k: v for k, v in parameters.items() if k not in ("name", "version")}
    try:
        rules = engine.RuleSet.from_dict({**data, "name": name, "version": version})
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            _("Invalid rule set parameters: %(error)s") % {"error": exc},
            details={"parameters": str(exc)},
        ) from exc
    out = rules.to_dict()
    out.pop("name")
    out.pop("version")
    return out


def _check_unique(city_id: int, name: str, version: str, exclude_pk=None) -> None:
    clash = RuleSet.objects.filter(city_id=city_id, name=name, version=version).exclude(
        pk=exclude_pk
    )
    if clash.exists():
        raise ValidationFailed(
            _("A rule set named %(name)s with version %(version)s already exists.")
            % {"name": name, "version": version},
            details={"version": "duplicate"},
        )


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _locked(actor, rule_set: RuleSet) -> RuleSet:
    """The stored rule set, locked for the transaction; NotFound outside the actor's sandbox."""
    require(actor, SANDBOX_ACTION, rule_set)
    return RuleSet.objects.select_for_update().get(pk=rule_set.pk)


@transaction.atomic
def ruleset_create(
    *,
    actor,
    name: str,
    version: str,
    parameters: dict,
    description: str = "",
    city: OrgUnit | None = None,
) -> RuleSet:
    """A draft rule set of `city` (by default the one city whose sandbox the actor uses)."""
    city = city_for(actor, city)
    name, version = name.strip(), version.strip()
    if not name or not version:
        raise ValidationFailed(_("A rule set needs a name and a version."))
    params = parameters_clean(name, version, parameters)
    _check_unique(city.pk, name, version)
    rule_set = RuleSet.objects.create(
        city=city,
        name=name,
        version=version,
        description=description,
        parameters=params,
        created_by=_user(actor),
    )
    audit.record(actor=actor, action="dispatch.ruleset_create", obj=rule_set, summary=str(rule_set))
    return rule_set


@transaction.atomic
def ruleset_update(
    *, actor, rule_set: RuleSet, name: str, version: str, parameters: dict, description: str = ""
) -> RuleSet:
    rule_set = _locked(actor, rule_set)
    if rule_set.is_published:
        raise InvalidTransition(
            _("A published rule set cannot be changed; create a new version instead.")
        )
    name, version = name.strip(), version.strip()
    if not name or not version:
        raise ValidationFailed(_("A rule set needs a name and a version."))
    params = parameters_clean(name, version, parameters)
    _check_unique(rule_set.city_id, name, version, exclude_pk=rule_set.pk)
    rule_set.name, rule_set.version = name, version
    rule_set.parameters, rule_set.description = params, description
    rule_set.save()
    audit.record(actor=actor, action="dispatch.ruleset_update", obj=rule_set, summary=str(rule_set))
    return rule_set


@transaction.atomic
def ruleset_publish(*, actor, rule_set: RuleSet, now: datetime | None = None) -> RuleSet:
    rule_set = _locked(actor, rule_set)
    if rule_set.is_published:
        raise InvalidTransition(_("This rule set is already published."))
    parameters_clean(rule_set.name, rule_set.version, rule_set.parameters)
    rule_set.status = RuleSet.Status.PUBLISHED
    rule_set.published_at = now or timezone.now()
    rule_set.save()
    audit.record(
        actor=actor, action="dispatch.ruleset_publish", obj=rule_set, summary=str(rule_set)
    )
    return rule_set


def _next_version(city_id: int, name: str, version: str) -> str:
    taken = set(
        RuleSet.objects.filter(city_id=city_id, name=name).values_list("version", flat=True)
    )
    if version.isdigit():
        candidate = int(version) + 1
        while str(candidate) in taken:
            candidate += 1
        return str(candidate)
    n = 2
    while f"{version}.{n}" in taken:
        n += 1
    return f"{version}.{n}"


@transaction.atomic
def ruleset_new_version(*, actor, rule_set: RuleSet) -> RuleSet:
    """A draft copy of `rule_set` with the next free version, to edit and publish."""
    rule_set = _locked(actor, rule_set)
    copy = RuleSet.objects.create(
        city_id=rule_set.city_id,
        name=rule_set.name,
        version=_next_version(rule_set.city_id, rule_set.name, rule_set.version),
        description=rule_set.description,
        parameters=dict(rule_set.parameters),
        created_by=_user(actor),
    )
    audit.record(
        actor=actor,
        action="dispatch.ruleset_new_version",
        obj=copy,
        summary=f"{rule_set} → {copy}",
    )
    return copy


@transaction.atomic
def ruleset_import(
    *, actor, rules: engine.RuleSet, description: str = "", city: OrgUnit | None = None
) -> RuleSet:
    """The stored rule set of `city` for an engine rule set (CLI `--save`): reused if name,
    version and parameters match, refused if the name and version exist with other parameters."""
    city = city_for(actor, city)
    params = parameters_clean(rules.name, rules.version, rules.to_dict())
    existing = RuleSet.objects.filter(city=city, name=rules.name, version=rules.version).first()
    if existing is not None:
        if existing.parameters != params:
            raise ValidationFailed(
                _(
                    "Rule set %(name)s v%(version)s is already stored with other parameters; "
                    "give the changed rules a new version."
                )
                % {"name": rules.name, "version": rules.version}
            )
        return existing
    return ruleset_create(
        actor=actor,
        name=rules.name,
        version=rules.version,
        parameters=params,
        description=description,
        city=city,
    )


# Engine inputs -------------------------------------------------------------------------------


def synthetic_day_size(orders: int, start_hour: float, hours: float) -> int:
    """How many orders a whole synthetic day needs so that ~`orders` fall in the period."""
    minute_hours = (np.arange(1440) + 0.5) / 60.0
    weights = demand_intensity(minute_hours)
    inside = (minute_hours >= start_hour) & (minute_hours < start_hour + hours)
    share = weights[inside].sum() / weights.sum()
    return max(round(orders / max(share, 1e-9)), orders)


def period_orders(orders: engine.Orders, t0: float, t1: float) -> engine.Orders:
    """Orders placed in [t0, t1), with times shifted so that t0 becomes 0."""
    inside = np.flatnonzero((orders.time_s >= t0) & (orders.time_s < t1))
    part = orders.take(inside)
    return dataclasses.replace(part, time_s=part.time_s - t0)


def period_fleet(fleet: engine.Fleet, t0: float, t1: float) -> engine.Fleet:
    """Online windows clipped to [t0, t1) and shifted like the orders; drivers off-shift for the
    whole period get an empty window, so they do not count as online drivers."""
    start = np.clip(fleet.online_start_s, t0, t1) - t0
    end = np.clip(fleet.online_end_s, t0, t1) - t0
    return dataclasses.replace(fleet, online_start_s=start, online_end_s=end)


def synthetic_demand(
    *, orders: int, start_hour: float, hours: float, seed: int, bbox: BoundingBox | None = None
) -> tuple[engine.Orders, float, float]:
    """About `orders` synthetic orders in [start_hour, start_hour + hours) of a seeded day."""
    bbox = bbox or engine.DEFAULT_CITY
    day = engine.synthetic_orders(synthetic_day_size(orders, start_hour, hours), bbox, seed)
    t0, t1 = start_hour * 3600.0, min((start_hour + hours) * 3600.0, DAY_S)
    return period_orders(day, t0, t1), t0, t1


def _bbox_of(orders: engine.Orders) -> BoundingBox:
    lng = np.concatenate((orders.origin_lng, orders.dest_lng))
    lat = np.concatenate((orders.origin_lat, orders.dest_lat))
    return BoundingBox(float(lng.min()), float(lat.min()), float(lng.max()), float(lat.max()))


def _csv_orders(text: str) -> engine.Orders:
    try:
        return engine.load_orders_csv(text.splitlines())
    except ValueError as exc:
        raise ValidationFailed(
            _("The orders file is not valid: %(error)s") % {"error": exc}
        ) from exc


def _exchange_orders(day: date, platform_id: int | None, city_id: int | None) -> engine.Orders:
    """The day's ingested orders of the city's own platforms (of one of them if given)."""
    from redwheel.exchange.models import Trip

    if city_id is None:
        raise ValidationFailed(_("This run belongs to no city, so it cannot replay orders."))
    start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ)
    trips = Trip.objects.filter(
        platform__in=city_platforms(OrgUnit.objects.get(pk=city_id)),
        order_time__gte=start,
        order_time__lt=start + timedelta(days=1),
        origin_lng__isnull=False,
        origin_lat__isnull=False,
        dest_lng__isnull=False,
        dest_lat__isnull=False,
    )
    if platform_id:
        trips = trips.filter(platform_id=platform_id)
    rows = list(
        trips.order_by("order_time", "pk").values_list(
            "pk", "order_time", "origin_lng", "origin_lat", "dest_lng", "dest_lat"
        )
    )
    if not rows:
        raise ValidationFailed(
            _("No ingested orders with a time, origin and destination on %(day)s.")
            % {"day": day.isoformat()}
        )
    coords = np.array([r[2:] for r in rows], dtype=float)
    return engine.Orders(
        ids=np.array([r[0] for r in rows]),
        time_s=np.array([(r[1] - start).total_seconds() for r in rows]),
        origin_lng=coords[:, 0],
        origin_lat=coords[:, 1],
        dest_lng=coords[:, 2],
        dest_lat=coords[:, 3],
    )


@dataclasses.dataclass
class Inputs:
    orders: engine.Orders
    fleet: engine.Fleet
    period: tuple[float, float]
    notes: dict


def demand_build(run: SimulationRun) -> tuple[engine.Orders, float, float, BoundingBox]:
    """The run's orders (times from the period start) and the period in day seconds."""
    p = run.demand_params
    if run.demand_source == SimulationRun.Demand.SYNTHETIC:
        orders, t0, t1 = synthetic_demand(
            orders=int(p["orders"]),
            start_hour=float(p.get("start_hour", 0)),
            hours=float(p.get("hours", 24)),
            seed=run.seed,
        )
        return orders, t0, t1, engine.DEFAULT_CITY
    if run.demand_source == SimulationRun.Demand.CSV:
        raw = _csv_orders(run.orders_csv)
    else:
        raw = _exchange_orders(date.fromisoformat(p["day"]), p.get("platform_id"), run.city_id)
    if not len(raw):
        raise ValidationFailed(_("The orders file has no orders."))
    t0 = float(raw.time_s.min())
    hours = p.get("hours")
    t1 = t0 + float(hours) * 3600.0 if hours else float(raw.time_s.max()) + 1.0
    return period_orders(raw, t0, t1), t0, t1, _bbox_of(raw)


def drivers_fleet_rows(
    actor, score_day: date | None = None, *, city: OrgUnit | None = None
) -> tuple[list, date | None]:
    """(driver id, composite score or None, verified party member) for every driver of `city`
    (by default the actor's one sandbox city) that the actor may see, with scores from the
    latest score snapshot day of those drivers (or `score_day`)."""
    from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Driver, Membership
    from redwheel.scoring.models import ScoreSnapshot

    city = city_for(actor, city)
    drivers = city_rows(scope(actor, "view", Driver.objects.all()), city)
    ids = list(drivers.order_by("pk").values_list("pk", flat=True))
    if score_day is None:
        score_day = ScoreSnapshot.objects.filter(driver__in=drivers).aggregate(d=Max("day"))["d"]
    scores = {}
    if score_day is not None:
        scores = dict(
            ScoreSnapshot.objects.filter(day=score_day, driver__in=drivers).values_list(
                "driver_id", "score"
            )
        )
    members = set(
        Membership.objects.filter(
            driver__in=drivers,
            state=Membership.State.VERIFIED,
            category__in=PARTY_MEMBER_CATEGORIES,
        ).values_list("driver_id", flat=True)
    )
    rows = [(pk, float(scores[pk]) if pk in scores else None, pk in members) for pk in ids]
    return rows, score_day


def _require_inputs(actor, run: SimulationRun) -> None:
    """Building a run's inputs may read its city's orders and drivers: the actor must use that
    city's sandbox. An unsaved run of no city (CLI without --save) reads no stored data."""
    if run.pk is not None:
        require(actor, SANDBOX_ACTION, run)
    elif run.city_id is not None:
        city_for(actor, run.city)
    elif not is_unscoped(actor) and not sandbox_cities(actor).exists():
        raise NotFound()


def fleet_build(run: SimulationRun, bbox: BoundingBox, t0: float, t1: float, *, actor):
    """The run's fleet clipped to the period, and notes on where it came from."""
    _require_inputs(actor, run)
    p = run.fleet_params
    if run.fleet_source == SimulationRun.FleetSource.SYNTHETIC:
        fleet = engine.synthetic_fleet(
            int(p["drivers"]), bbox, run.seed, party_share=float(p.get("party_share", 0.3))
        )
        return period_fleet(fleet, t0, t1), {"drivers": len(fleet)}
    score_day = date.fromisoformat(p["score_day"]) if p.get("score_day") else None
    if run.city_id is None:
        raise ValidationFailed(_("This run belongs to no city, so it has no drivers."))
    rows, score_day = drivers_fleet_rows(actor, score_day, city=run.city)
    if not rows:
        raise ValidationFailed(_("There are no drivers to simulate."))
    base = engine.synthetic_fleet(len(rows), bbox, run.seed)  # positions and shifts only
    fleet = dataclasses.replace(
        base,
        ids=np.array([r[0] for r in rows]),
        score=np.array([0.0 if r[1] is None else r[1] for r in rows]),
        is_party_member=np.array([r[2] for r in rows], dtype=bool),
    )
    notes = {
        "drivers": len(rows),
        "scored": sum(r[1] is not None for r in rows),
        "party_members": sum(r[2] for r in rows),
        "score_day": score_day.isoformat() if score_day else None,
    }
    return period_fleet(fleet, t0, t1), notes


def inputs_build(run: SimulationRun, *, actor) -> Inputs:
    _require_inputs(actor, run)
    orders, t0, t1, bbox = demand_build(run)
    if not len(orders):
        raise ValidationFailed(_("The chosen period has no orders."))
    fleet, notes = fleet_build(run, bbox, t0, t1, actor=actor)
    return Inputs(orders, fleet, (t0, t1), notes)


def engine_rule_sets(rule_sets: Sequence[RuleSet], window_s: float | None = None):
    """Engine rule sets with distinct names (name, or name@version when names repeat)."""
    names = [r.name for r in rule_sets]
    out = []
    for r in rule_sets:
        label = r.name if names.count(r.name) == 1 else f"{r.name}@{r.version}"
        rules = r.engine_rules(label)
        if window_s:
            rules = dataclasses.replace(rules, window_s=float(window_s))
        out.append(rules)
    return out


# Runs ----------------------------------------------------------------------------------------


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
    run = SimulationRun.objects.create(
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
    RunRuleSet.objects.bulk_create(
        RunRuleSet(run=run, rule_set=r, position=i) for i, r in enumerate(rule_sets)
    )
    audit.record(
        actor=actor,
        action="dispatch.run_create",
        obj=run,
        summary=run.title,
        data={"rule_sets": [r.pk for r in rule_sets], "seed": run.seed},
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
        run.status, run.progress, run.error = SimulationRun.Status.RUNNING, 0, ""
        run.started_at, run.finished_at, run.results = timezone.now(), None, {}
        run.save(
            update_fields=["status", "progress", "error", "started_at", "finished_at", "results"]
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
        SimulationRun.objects.filter(pk=run_id).update(
            status=SimulationRun.Status.FAILED,
            error=str(message)[:2000],
            finished_at=timezone.now(),
        )
        audit.record(
            actor=SystemActor.operator("dispatch"),
            action="dispatch.run_failed",
            obj=run,
            summary=str(message)[:300],
        )
        if raise_errors:
            raise
        return None
    with transaction.atomic():
        fleet_params = dict(run.fleet_params)
        if run.fleet_source == SimulationRun.FleetSource.DRIVERS and inputs.notes.get("score_day"):
            fleet_params["score_day"] = inputs.notes["score_day"]  # replays use the same scores
        SimulationRun.objects.filter(pk=run_id).update(
            status=SimulationRun.Status.SUCCEEDED,
            progress=100,
            results=results,
            fleet_params=fleet_params,
            finished_at=timezone.now(),
        )
        audit.record(
            actor=SystemActor.operator("dispatch"),
            action="dispatch.run_succeeded",
            obj=run,
            summary=run.title,
        )
    return comparison
