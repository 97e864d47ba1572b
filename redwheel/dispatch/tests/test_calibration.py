"""Calibration: a replay's real-day figures, computed by hand from hand-built exchange rows."""

import math
from datetime import datetime, timedelta

import pytest
from django.template.loader import render_to_string

from redwheel.core.dates import LOCAL_TZ
from redwheel.dispatch import services
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.services.calibration import calibration_build
from redwheel.exchange.models import OnlineEvent, Trip

pytestmark = pytest.mark.django_db

DAY = datetime(2025, 3, 3, tzinfo=LOCAL_TZ)
SIMULATED = {
    "unserved_pct": 10.0,
    "mean_pickup_m": 900.0,
    "mean_wait_s": 500.0,
    "driver_utilisation": 0.4,
    "pickup_time_share": 0.1,
    "passenger_time_share": 0.3,
}


def at(minutes: float) -> datetime:
    return DAY + timedelta(hours=8, minutes=minutes)


def make_run(city, demand_source=SimulationRun.Demand.EXCHANGE):
    rules = [
        services.ruleset_create(
            actor=city.admin, name=n, version="1", parameters={}, city=city.root
        )
        for n in ("base", "other")
    ]
    params = {"day": "2025-03-03", "hours": 1}
    if demand_source == SimulationRun.Demand.SYNTHETIC:
        params = {"orders": 50, "start_hour": 8, "hours": 1}
    return services.run_create(
        actor=city.admin,
        title="calibration",
        rule_sets=rules,
        demand_source=demand_source,
        demand_params=params,
        fleet_source=SimulationRun.FleetSource.DRIVERS,
        fleet_params={},
        seed=1,
        enqueue=False,
    )


@pytest.fixture
def real_day(city):
    """08:00–09:00: four orders, three served. Drivers a and b online 08:00–09:00."""
    a, b = city.driver(), city.driver()
    for d in (a, b):
        for kind, minute in ((OnlineEvent.Kind.LOGIN, 0), (OnlineEvent.Kind.LOGOUT, 60)):
            OnlineEvent.objects.create(
                platform=city.platform_a, license_index=f"L{d.pk}", driver=d, kind=kind,
                at=at(minute),
            )  # fmt: skip
    common = {"platform": city.platform_a, "dest_lng": 104.1, "dest_lat": 30.7}
    # (order, match, depart, arrive, driver, match point 0.01°/0.02° of latitude south)
    served = [
        ("S1", 0, 0, 5, 20, a, 0.01),
        ("S2", 10, 10, 20, 30, b, 0.02),
        ("S3", 20, 20, 35, 40, a, 0.01),
    ]
    for oid, created, matched, departed, arrived, driver, dlat in served:
        Trip.objects.create(
            order_id=oid,
            driver=driver,
            order_time=at(created),
            matched_at=at(matched),
            departed_at=at(departed),
            arrived_at=at(arrived),
            origin_lng=104.0,
            origin_lat=30.6,
            match_lng=104.0,
            match_lat=30.6 - dlat,
            **common,
        )
    Trip.objects.create(
        order_id="U1", order_time=at(30), origin_lng=104.0, origin_lat=30.6, **common
    )
    # Outside the period and without coordinates: not part of the replay.
    Trip.objects.create(
        order_id="LATE", order_time=at(90), origin_lng=104.0, origin_lat=30.6, **common
    )
    Trip.objects.create(order_id="NOXY", order_time=at(15), platform=city.platform_a)
    return a, b


def test_real_day_figures_beside_the_simulated_ones(city, real_day):
    run = make_run(city)
    inputs = services.inputs_build(run, actor=city.admin)
    calibration = calibration_build(run, inputs, SIMULATED)
    rows = {r["key"]: r for r in calibration["rows"]}
    metre_per_degree = 6_371_008.8 * math.pi / 180
    assert rows["served_pct"]["real"] == 75.0  # 3 of 4
    assert rows["served_pct"]["simulated"] == 90.0
    assert rows["served_pct"]["difference"] == 15.0
    # match points 0.01°, 0.02°, 0.01° south of the origin
    assert rows["mean_pickup_m"]["real"] == pytest.approx(metre_per_degree * 0.04 / 3, abs=1e-3)
    assert rows["mean_wait_s"]["real"] == 600.0  # order → depart: 5, 10 and 15 minutes
    # match → arrival: 20 + 20 + 20 minutes over 2 × 60 minutes online
    assert rows["driver_utilisation"]["real"] == 0.5
    assert rows["driver_utilisation"]["difference"] == -0.1
    # ... of which match → departure 5 + 10 + 15 minutes, departure → arrival 15 + 10 + 5
    assert rows["pickup_time_share"]["real"] == 0.25
    assert rows["passenger_time_share"]["real"] == 0.25
    assert rows["pickup_time_share"]["difference"] == -0.15
    assert rows["passenger_time_share"]["difference"] == 0.05


def test_no_real_data_gives_none_and_dashes(city):
    Trip.objects.create(
        platform=city.platform_a, order_id="U", order_time=at(0), origin_lng=104.0,
        origin_lat=30.6, dest_lng=104.1, dest_lat=30.7,
    )  # fmt: skip
    city.driver()
    run = make_run(city)
    inputs = services.inputs_build(run, actor=city.admin)
    calibration = calibration_build(run, inputs, SIMULATED)
    rows = {r["key"]: r for r in calibration["rows"]}
    assert rows["served_pct"]["real"] == 0.0
    assert rows["mean_pickup_m"]["real"] is None and rows["mean_pickup_m"]["difference"] is None
    assert rows["driver_utilisation"]["real"] is None
    assert rows["pickup_time_share"]["real"] is None
    html = render_to_string("dispatch/_calibration.html", {"calibration": calibration})
    assert "How far the model is from the real day" in html and "—" in html


def test_only_replays_are_calibrated(city):
    city.driver()
    run = make_run(city, SimulationRun.Demand.SYNTHETIC)
    inputs = services.inputs_build(run, actor=city.admin)
    assert calibration_build(run, inputs, SIMULATED) is None
    assert render_to_string("dispatch/_calibration.html", {"calibration": None}).strip() == ""


def test_the_table_says_the_difference_in_words(city, real_day):
    run = make_run(city)
    inputs = services.inputs_build(run, actor=city.admin)
    html = render_to_string(
        "dispatch/_calibration.html", {"calibration": calibration_build(run, inputs, SIMULATED)}
    )
    assert "the model is 15.0 higher" in html and "the model is 0.100 lower" in html
    assert "Share of online time on the way to pickups" in html
    assert "the model is 0.150 lower" in html and "the model is 0.050 higher" in html


def test_runs_stored_before_phases_show_dashes_for_them(city, real_day):
    run = make_run(city)
    inputs = services.inputs_build(run, actor=city.admin)
    old_metrics = {k: v for k, v in SIMULATED.items() if not k.endswith("_time_share")}
    rows = {r["key"]: r for r in calibration_build(run, inputs, old_metrics)["rows"]}
    assert rows["pickup_time_share"]["real"] == 0.25
    assert rows["pickup_time_share"]["simulated"] is None
    assert rows["pickup_time_share"]["difference"] is None
    # A calibration stored before rows said which are shares still shows utilisation as one.
    stored = calibration_build(run, inputs, SIMULATED)
    stored["rows"] = [
        {k: v for k, v in r.items() if k != "share"}
        for r in stored["rows"]
        if not r["key"].endswith("_time_share")
    ]
    html = render_to_string("dispatch/_calibration.html", {"calibration": stored})
    assert "the model is 0.100 lower" in html
