"""How far a replay is from the real day: the simulated baseline's served share, pickup
distance, wait and utilisation beside the same figures computed from the exchange facts of the
replayed period, in the run's city (and platform) only.

Real definitions (same orders as the replay: created in the period, with origin and
destination):
- served share: orders with an operateArrive or operatePay / orders created;
- mean pickup: straight-line distance from the orderMatch point to the origin (the simulator's
  pickups are straight lines too; WaitMile is a road distance, so it is not mixed in);
- mean wait: OrderTime → DepTime (matching plus pickup), over served orders with both;
- utilisation: Σ time from match to arrival of the online drivers' trips / Σ their online
  session time, both clipped to the period; split into the time to the pickup (match →
  departure) and with a passenger (departure → arrival), the phases the simulator reports.
A figure with no data behind it is None and shown as "—".
"""

from datetime import date, timedelta

import numpy as np

from redwheel.core.permissions import SystemActor
from redwheel.dispatch.engine.geo import haversine_m
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.services import real_fleet
from redwheel.dispatch.services.inputs import Inputs, drivers_fleet_rows

# (key, metric of the simulation, how the simulated value is read from it)
FIGURES = (
    "served_pct",
    "mean_pickup_m",
    "mean_wait_s",
    "driver_utilisation",
    "pickup_time_share",
    "passenger_time_share",
)
# Figures that are shares of online time (0-1), shown with three decimals.
SHARE_FIGURES = ("driver_utilisation", "pickup_time_share", "passenger_time_share")


def _simulated(simulated: dict) -> dict:
    unserved = simulated.get("unserved_pct")
    return {
        "served_pct": None if unserved is None else 100.0 - float(unserved),
        "mean_pickup_m": simulated.get("mean_pickup_m"),
        "mean_wait_s": simulated.get("mean_wait_s"),
        "driver_utilisation": simulated.get("driver_utilisation"),
        # Absent from runs stored before the simulator reported phases.
        "pickup_time_share": simulated.get("pickup_time_share"),
        "passenger_time_share": simulated.get("passenger_time_share"),
    }


def _mean(values) -> float | None:
    return float(np.mean(values)) if len(values) else None


def real_day_figures(run: SimulationRun, t0: float, t1: float) -> dict:
    """The real values of the replayed period [t0, t1) (seconds since the day's start)."""
    from redwheel.exchange.models import Trip

    day, platform_id = (
        date.fromisoformat(run.demand_params["day"]),
        run.demand_params.get("platform_id"),
    )
    start = real_fleet.day_start(day)
    begin, end = start + timedelta(seconds=t0), start + timedelta(seconds=t1)
    platforms = real_fleet.scope_platforms(run.city, platform_id)
    trips = list(
        Trip.objects.filter(
            platform__in=platforms,
            order_time__gte=begin,
            order_time__lt=end,
            origin_lng__isnull=False,
            origin_lat__isnull=False,
            dest_lng__isnull=False,
            dest_lat__isnull=False,
        ).values_list(
            "order_time",
            "matched_at",
            "departed_at",
            "arrived_at",
            "paid_at",
            "match_lng",
            "match_lat",
            "origin_lng",
            "origin_lat",
        )
    )
    served = [t for t in trips if t[3] is not None or t[4] is not None]
    with_match = [t for t in served if t[5] is not None]
    pickups = (
        haversine_m(
            np.array([t[5] for t in with_match]),
            np.array([t[6] for t in with_match]),
            np.array([t[7] for t in with_match]),
            np.array([t[8] for t in with_match]),
        )
        if with_match
        else []
    )
    waits = [(t[2] - t[0]).total_seconds() for t in served if t[2] is not None]
    return {
        "served_pct": 100.0 * len(served) / len(trips) if trips else None,
        "mean_pickup_m": _mean(pickups),
        "mean_wait_s": _mean(waits),
        **_real_phases(run, day, platform_id, t0, t1),
    }


def _real_phases(run, day, platform_id, t0: float, t1: float) -> dict:
    """Utilisation and its two phases over the online drivers' session time in the period."""
    from redwheel.exchange.models import Trip

    actor = SystemActor.operator(f"dispatch calibration {run.pk}")
    rows, _ = drivers_fleet_rows(actor, city=run.city)
    sessions = real_fleet.day_sessions(run.city, day, platform_id, [r[0] for r in rows])
    sessions = sessions.clipped(t0, t1)
    online = sessions.total_s()
    if online <= 0:
        return dict.fromkeys(SHARE_FIGURES)
    start = real_fleet.day_start(day)
    begin, end = start + timedelta(seconds=t0), start + timedelta(seconds=t1)

    def within(a, b) -> float:
        return max(0.0, (min(b, end) - max(a, begin)).total_seconds())

    busy = to_pickup = with_passenger = 0.0
    for matched, departed, arrived in Trip.objects.filter(
        platform__in=real_fleet.scope_platforms(run.city, platform_id),
        driver_id__in=list(sessions.intervals),
        matched_at__lt=end,
        arrived_at__gt=begin,
    ).values_list("matched_at", "departed_at", "arrived_at"):
        busy += within(matched, arrived)
        if departed is not None:
            to_pickup += within(matched, departed)
            with_passenger += within(departed, arrived)
    return {
        "driver_utilisation": busy / online,
        "pickup_time_share": to_pickup / online,
        "passenger_time_share": with_passenger / online,
    }


def calibration_build(run: SimulationRun, inputs: Inputs, simulated: dict) -> dict | None:
    """Real against simulated figures for a replay of ingested orders; None for other runs.
    `simulated` is the baseline rule set's metrics dict. JSON-safe, for the run's results."""
    if run.demand_source != SimulationRun.Demand.EXCHANGE or run.city_id is None:
        return None
    t0, t1 = inputs.period
    real = real_day_figures(run, t0, t1)
    sim = _simulated(simulated)
    rows = []
    for key in FIGURES:
        r, s = real[key], sim[key]
        r = None if r is None else round(float(r), 4)
        s = None if s is None else round(float(s), 4)
        difference = None if r is None or s is None else round(s - r, 4)
        rows.append(
            {
                "key": key,
                "share": key in SHARE_FIGURES,
                "real": r,
                "simulated": s,
                "difference": difference,
                "abs_difference": None if difference is None else abs(difference),
            }
        )
    return {"rows": rows, "day": run.demand_params["day"], "period_s": [t0, t1]}
