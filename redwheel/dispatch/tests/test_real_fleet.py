"""Replays of ingested orders use the real drivers online that day, exactly."""

import random
from datetime import datetime, timedelta

import pytest

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ
from redwheel.dispatch import services
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.services import real_fleet
from redwheel.exchange.models import OnlineEvent, Trip

pytestmark = pytest.mark.django_db

DAY = datetime(2025, 3, 3, tzinfo=LOCAL_TZ)


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def event(driver, platform, kind, hour, lng=None, lat=None):
    OnlineEvent.objects.create(
        platform=platform,
        license_index=f"L{driver.pk}",
        driver=driver,
        kind=kind,
        at=at(hour),
        lng=lng,
        lat=lat,
    )


def orders(platform, hours, prefix="O"):
    Trip.objects.bulk_create(
        Trip(
            platform=platform,
            order_id=f"{prefix}{i}",
            order_time=at(h),
            origin_lng=104.06 + i * 0.001,
            origin_lat=30.65,
            dest_lng=104.08,
            dest_lat=30.66,
        )
        for i, h in enumerate(hours)
    )


def replay(city, platform=None, fleet_source=SimulationRun.FleetSource.DRIVERS, hours=1):
    rules = [
        services.ruleset_create(
            actor=city.admin, name=n, version="1", parameters={}, city=city.root
        )
        for n in ("base", "other")
    ]
    demand = {"day": "2025-03-03", "hours": hours}
    if platform is not None:
        demand["platform_id"] = platform.pk
    run = services.run_create(
        actor=city.admin,
        title="replay",
        rule_sets=rules,
        demand_source=SimulationRun.Demand.EXCHANGE,
        demand_params=demand,
        fleet_source=fleet_source,
        fleet_params={"drivers": 7},
        seed=5,
        enqueue=False,
    )
    return services.inputs_build(run, actor=city.admin)


@pytest.fixture
def day(city):
    """Period 08:00–09:00. a1 08:00–10:00, a2 logout 08:30 only (from midnight), b1 login
    08:30 never closed, late 20:00–21:00 (outside), idle has no events; a driver of another
    city with a session on its own platform."""
    drivers = {
        "a1": city.driver(),
        "a2": city.driver(),
        "b1": city.driver(platform=city.platform_b),
        "late": city.driver(),
        "idle": city.driver(),
    }
    login, logout = OnlineEvent.Kind.LOGIN, OnlineEvent.Kind.LOGOUT
    event(drivers["a1"], city.platform_a, login, 8.0, 104.1, 30.7)
    event(drivers["a1"], city.platform_a, logout, 10.0)
    event(drivers["a2"], city.platform_a, logout, 8.5)
    event(drivers["b1"], city.platform_b, login, 8.5)
    event(drivers["late"], city.platform_a, login, 20.0)
    event(drivers["late"], city.platform_a, logout, 21.0)
    other = testing.city()
    stranger = other.driver()
    event(stranger, other.platform_a, login, 7.0)
    event(stranger, other.platform_a, logout, 12.0)
    orders(other.platform_a, [8.1, 8.2], prefix="X")
    orders(city.platform_a, [8.0, 8.25, 8.5, 8.75])
    orders(city.platform_b, [8.1, 8.6], prefix="B")
    drivers["stranger"] = stranger
    return drivers


def test_replay_uses_exactly_the_drivers_online_in_the_period(city, day):
    inputs = replay(city)
    assert set(inputs.fleet.ids.tolist()) == {day["a1"].pk, day["a2"].pk, day["b1"].pk}
    assert inputs.notes["fleet"] == "real"
    assert inputs.notes["drivers"] == 3 and inputs.notes["sessions"] == 3
    a1 = inputs.fleet.ids.tolist().index(day["a1"].pk)
    assert (inputs.fleet.lng[a1], inputs.fleet.lat[a1]) == (104.1, 30.7)  # login position
    # Windows from the period start (08:00): a2 until 08:30, b1 from 08:30 to the end.
    a2 = inputs.fleet.ids.tolist().index(day["a2"].pk)
    b1 = inputs.fleet.ids.tolist().index(day["b1"].pk)
    assert (inputs.fleet.online_start_s[a2], inputs.fleet.online_end_s[a2]) == (0.0, 1800.0)
    assert (inputs.fleet.online_start_s[b1], inputs.fleet.online_end_s[b1]) == (1800.0, 3600.0)


def test_one_platform_replay_excludes_the_other_platforms_drivers(city, day):
    inputs = replay(city, platform=city.platform_a)
    assert set(inputs.fleet.ids.tolist()) == {day["a1"].pk, day["a2"].pk}


def test_a_day_without_sessions_falls_back_to_the_demand_following_fleet(city):
    drivers = [city.driver(), city.driver()]
    orders(city.platform_a, [8.0, 8.5])
    inputs = replay(city)
    assert inputs.notes["fleet"] == "demand_following"
    assert inputs.notes["real_fleet_missing"] is True
    assert set(inputs.fleet.ids.tolist()) == {d.pk for d in drivers}


def test_what_if_runs_keep_their_synthetic_fleet_size(city, day):
    inputs = replay(city, fleet_source=SimulationRun.FleetSource.SYNTHETIC)
    assert len(inputs.fleet) == 7 and inputs.notes["fleet"] == "demand_following"


def test_random_sessions_select_exactly_the_overlapping_drivers(city):
    rng = random.Random(11)
    drivers = [city.driver() for _ in range(12)]
    expected = set()
    t0, t1 = 8.0, 10.0
    for d in drivers:
        start = rng.uniform(0, 22)
        end = start + rng.uniform(0.1, 2)
        event(d, city.platform_a, OnlineEvent.Kind.LOGIN, start)
        event(d, city.platform_a, OnlineEvent.Kind.LOGOUT, end)
        if start < t1 and end > t0:
            expected.add(d.pk)
    orders(city.platform_a, [t0, 9.0, 9.9])
    inputs = replay(city, hours=t1 - t0)
    if expected:
        assert set(inputs.fleet.ids.tolist()) == expected
    else:
        assert inputs.notes["fleet"] == "demand_following"


def test_an_unclosed_login_ends_at_the_last_activity(city):
    d = city.driver()
    event(d, city.platform_a, OnlineEvent.Kind.LOGIN, 6.0)
    Trip.objects.create(
        platform=city.platform_a, order_id="T", driver=d, matched_at=at(7), arrived_at=at(7.5)
    )
    sessions = real_fleet.day_sessions(city.root, DAY.date(), None, [d.pk])
    assert sessions.intervals == {d.pk: [(6 * 3600.0, 7.5 * 3600.0)]}


def test_speed_profile_needs_enough_trips(city):
    assert real_fleet.city_speed_profile(city.root) is None
