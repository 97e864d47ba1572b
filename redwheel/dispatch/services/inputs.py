"""What a run simulates: its demand (synthetic, an uploaded CSV or a day of ingested orders)
and its fleet (synthetic or the city's drivers with their scores), cut to the run's period.

Building inputs reads the city's orders and drivers, so the actor must use that city's sandbox.
"""

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db.models import Max
from django.utils.translation import gettext as _

from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import is_unscoped, require, scope
from redwheel.dispatch import engine
from redwheel.dispatch.engine import demand as engine_demand
from redwheel.dispatch.engine.demand import DAY_S, BoundingBox, demand_intensity
from redwheel.dispatch.models import RuleSet, SimulationRun
from redwheel.dispatch.permissions import (
    SANDBOX_ACTION,
    city_for,
    city_platforms,
    city_rows,
    sandbox_cities,
)
from redwheel.dispatch.services import real_fleet
from redwheel.orgs.models import OrgUnit


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
    """Online windows (and sessions) clipped to [t0, t1) and shifted like the orders; drivers
    off-shift for the whole period get an empty window, so they do not count as online."""
    start = np.clip(fleet.online_start_s, t0, t1) - t0
    end = np.clip(fleet.online_end_s, t0, t1) - t0
    changes = {"online_start_s": start, "online_end_s": end}
    sessions = fleet.sessions
    if sessions is not None:
        s_start = np.clip(sessions.start_s, t0, t1) - t0
        s_end = np.clip(sessions.end_s, t0, t1) - t0
        keep = s_end > s_start
        changes["sessions"] = dataclasses.replace(
            sessions, driver=sessions.driver[keep], start_s=s_start[keep], end_s=s_end[keep]
        )
    return dataclasses.replace(fleet, **changes)


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
    # SimulationConfig fields derived from the city's data (e.g. "speed_profile_kmh").
    config_overrides: dict = dataclasses.field(default_factory=dict)


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


def _following_fleet(orders: engine.Orders, n: int, seed: int, party_share: float = 0.3):
    """A fleet of `n` drivers placed and shifted after `orders` (times from the period start)."""
    return engine_demand.demand_following_fleet(orders, n, seed, party_share=party_share)


def _real_fleet(run: SimulationRun, orders: engine.Orders, t0: float, t1: float, *, actor):
    """The drivers online during the replayed period, or None when the day has no sessions."""
    p, d = run.fleet_params, run.demand_params
    day, platform_id = date.fromisoformat(d["day"]), d.get("platform_id")
    score_day = date.fromisoformat(p["score_day"]) if p.get("score_day") else None
    rows, score_day = drivers_fleet_rows(actor, score_day, city=run.city)
    known = {r[0]: r for r in rows}
    sessions = real_fleet.day_sessions(run.city, day, platform_id, list(known)).clipped(t0, t1)
    if not sessions.intervals:
        return None
    ids = sorted(sessions.intervals)
    positions = real_fleet.first_positions(run.city, day, platform_id, ids)
    # Drivers with no position that day start at an origin of the demand, drawn from the seed.
    rng = np.random.default_rng(run.seed)
    fallback = rng.integers(0, len(orders), size=len(ids))
    start = [
        positions.get(i, (orders.origin_lng[f], orders.origin_lat[f]))
        for i, f in zip(ids, fallback, strict=True)
    ]
    index = [k for k, i in enumerate(ids) for _ in sessions.intervals[i]]
    spans = np.array([s for i in ids for s in sessions.intervals[i]], dtype=float) - t0
    fields = {
        "ids": np.array(ids),
        "lng": np.array([p[0] for p in start], dtype=float),
        "lat": np.array([p[1] for p in start], dtype=float),
        "score": np.array([known[i][1] or 0.0 for i in ids], dtype=float),
        "is_party_member": np.array([known[i][2] for i in ids], dtype=bool),
        "online_start_s": np.array([sessions.intervals[i][0][0] - t0 for i in ids]),
        "online_end_s": np.array([sessions.intervals[i][-1][1] - t0 for i in ids]),
    }
    fields["sessions"] = engine_demand.Sessions(
        driver=np.array(index, dtype=int), start_s=spans[:, 0], end_s=spans[:, 1]
    )
    notes = {
        "fleet": "real",
        "drivers": len(ids),
        "sessions": sessions.count(),
        "positioned": sum(i in positions for i in ids),
        "scored": sum(known[i][1] is not None for i in ids),
        "party_members": int(fields["is_party_member"].sum()),
        "score_day": score_day.isoformat() if score_day else None,
    }
    return engine.Fleet(**fields), notes


def fleet_build(
    run: SimulationRun,
    bbox: BoundingBox,
    t0: float,
    t1: float,
    *,
    actor,
    orders: engine.Orders | None = None,
):
    """The run's fleet for the period (times from its start), and notes on where it came from.

    A replay of ingested orders with the city's drivers uses the real drivers online that day;
    every other run (what-if) places and shifts its drivers after `orders` (the period's
    demand; without them, random hotspots in `bbox`)."""
    _require_inputs(actor, run)
    p = run.fleet_params
    is_replay = run.demand_source == SimulationRun.Demand.EXCHANGE

    def following(n: int, party_share: float = 0.3):
        if orders is None or not len(orders):
            fleet = engine.synthetic_fleet(n, bbox, run.seed, party_share=party_share)
            return period_fleet(fleet, t0, t1)
        return period_fleet(_following_fleet(orders, n, run.seed, party_share), 0.0, t1 - t0)

    if run.fleet_source == SimulationRun.FleetSource.SYNTHETIC:
        n = int(p["drivers"])
        fleet = following(n, float(p.get("party_share", 0.3)))
        return fleet, {"fleet": "demand_following", "drivers": n}
    if run.city_id is None:
        raise ValidationFailed(_("This run belongs to no city, so it has no drivers."))
    fallback_note = {}
    if is_replay and orders is not None and len(orders):
        real = _real_fleet(run, orders, t0, t1, actor=actor)
        if real is not None:
            return real
        fallback_note = {"real_fleet_missing": True}
    score_day = date.fromisoformat(p["score_day"]) if p.get("score_day") else None
    rows, score_day = drivers_fleet_rows(actor, score_day, city=run.city)
    if not rows:
        raise ValidationFailed(_("There are no drivers to simulate."))
    base = following(len(rows))  # positions and shifts only
    fleet = dataclasses.replace(
        base,
        ids=np.array([r[0] for r in rows]),
        score=np.array([0.0 if r[1] is None else r[1] for r in rows]),
        is_party_member=np.array([r[2] for r in rows], dtype=bool),
    )
    notes = {
        "fleet": "demand_following",
        "drivers": len(rows),
        "scored": sum(r[1] is not None for r in rows),
        "party_members": sum(r[2] for r in rows),
        "score_day": score_day.isoformat() if score_day else None,
        **fallback_note,
    }
    return fleet, notes


def inputs_build(run: SimulationRun, *, actor) -> Inputs:
    _require_inputs(actor, run)
    orders, t0, t1, bbox = demand_build(run)
    if not len(orders):
        raise ValidationFailed(_("The chosen period has no orders."))
    fleet, notes = fleet_build(run, bbox, t0, t1, actor=actor, orders=orders)
    overrides = {}
    profile = real_fleet.city_speed_profile(run.city) if run.city_id else None
    if profile is not None:
        overrides["speed_profile_kmh"] = profile
    notes["speed_profile"] = "trips" if profile is not None else "constant"
    return Inputs(orders, fleet, (t0, t1), notes, overrides)


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
