"""Order streams: CSV loading and the synthetic city."""

import io

import numpy as np
import pytest

from redwheel.dispatch.engine import (
    DEFAULT_CITY,
    demand_intensity,
    load_orders_csv,
    synthetic_fleet,
    synthetic_orders,
)

HEADER = "order_id,time,origin_lng,origin_lat,dest_lng,dest_lat\n"


def test_csv_with_seconds(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "a,10,104.0,30.6,104.1,30.7\nb,5.5,104.02,30.61,104.0,30.6\n")
    orders = load_orders_csv(path)
    assert list(orders.ids) == ["a", "b"]
    np.testing.assert_allclose(orders.time_s, [10.0, 5.5])
    np.testing.assert_allclose(orders.dest_lat, [30.7, 30.6])
    assert orders.required_vehicle_type is None


def test_csv_with_iso_times_is_measured_from_midnight():
    text = (
        HEADER + "1,2025-03-01T08:00:00,104,30.6,104.1,30.7\n"
        "2,2025-03-01T08:00:30+08:00,104,30.6,104.1,30.7\n"
        "\n"
        "3,2025-03-02T00:00:01,104,30.6,104.1,30.7\n"
    )
    orders = load_orders_csv(io.StringIO(text))
    np.testing.assert_allclose(orders.time_s, [8 * 3600, 8 * 3600 + 30, 86_401])


def test_csv_with_vehicle_type_column():
    text = (
        HEADER.strip() + ",vehicle_type\n1,0,104,30.6,104.1,30.7,comfort\n2,1,104,30.6,104,30.6,\n"
    )
    orders = load_orders_csv(io.StringIO(text))
    assert list(orders.required_vehicle_type) == ["comfort", ""]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a,10,104,30.6,104.1\n", "line 2: expected 6 fields, got 5"),
        ("a,10,104,30.6,104.1,30.7\nb,11,east,30.6,104.1,30.7\n", "line 3: coordinates"),
        ("a,soon,104,30.6,104.1,30.7\n", "line 2: time 'soon'"),
        ("a,10,104,95,104.1,30.7\n", "line 2: coordinates out of range"),
        ("a,-5,104,30.6,104.1,30.7\n", "line 2: time must be"),
        ("a,10,104,30.6,104.1,30.7\nb,2025-03-01T08:00,104,30.6,104.1,30.7\n", "mix"),
    ],
)
def test_malformed_csv_rows_name_the_line(body, message):
    with pytest.raises(ValueError, match=message):
        load_orders_csv(io.StringIO(HEADER + body))


def test_csv_header_is_checked(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,t,x,y\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"bad\.csv: line 1: expected header"):
        load_orders_csv(path)
    with pytest.raises(ValueError, match="empty file"):
        load_orders_csv(io.StringIO(""))


def test_demand_curve_has_commute_peaks_and_a_night_trough():
    hours = np.arange(24) + 0.5
    rate = demand_intensity(hours)
    assert rate.argmin() in (2, 3, 4)
    assert rate[8] > 3 * rate[3] and rate[18] > 3 * rate[3]
    assert rate[8] > rate[11] and rate[18] > rate[15]


def test_synthetic_orders_are_seeded_and_inside_the_city():
    first = synthetic_orders(3000, seed=4)
    second = synthetic_orders(3000, seed=4)
    np.testing.assert_array_equal(first.origin_lng, second.origin_lng)
    assert not np.array_equal(first.origin_lng, synthetic_orders(3000, seed=5).origin_lng)
    assert np.all(np.diff(first.time_s) >= 0) and first.time_s.max() < 86_400
    for lng, lat in ((first.origin_lng, first.origin_lat), (first.dest_lng, first.dest_lat)):
        assert (lng >= DEFAULT_CITY.min_lng - 1e-9).all() and (
            lng <= DEFAULT_CITY.max_lng + 1e-9
        ).all()
        assert (lat >= DEFAULT_CITY.min_lat - 1e-9).all() and (
            lat <= DEFAULT_CITY.max_lat + 1e-9
        ).all()
    hour = (first.time_s // 3600).astype(int)
    per_hour = np.bincount(hour, minlength=24)
    assert per_hour[8] > 3 * per_hour[3] and per_hour[18] > 3 * per_hour[3]


def test_synthetic_vehicle_requirements_and_fleet():
    orders = synthetic_orders(2000, seed=1, vehicle_type_shares={"comfort": 0.1})
    share = np.mean(orders.required_vehicle_type == "comfort")
    assert 0.05 < share < 0.15
    fleet = synthetic_fleet(2000, seed=1, vehicle_type_shares={"economy": 0.8, "comfort": 0.2})
    assert set(fleet.vehicle_type) == {"economy", "comfort"}
    assert ((fleet.score >= 0) & (fleet.score <= 100)).all()
    assert (fleet.online_end_s > fleet.online_start_s).all() and fleet.online_end_s.max() <= 86_400
    assert 0.2 < fleet.is_party_member.mean() < 0.4
    boosted = synthetic_fleet(2000, seed=1, party_score_shift=10.0)
    assert boosted.score[boosted.is_party_member].mean() > fleet.score[fleet.is_party_member].mean()


def _online_drivers(fleet, hour: float) -> int:
    sessions = fleet.sessions
    at = hour * 3600
    return int(np.count_nonzero((sessions.start_s <= at) & (sessions.end_s > at)))


def test_demand_following_fleet_follows_the_demand():
    from redwheel.dispatch.engine import BoundingBox, demand_following_fleet

    town = BoundingBox.around(113.26, 23.13, 8.0, 8.0)
    orders = synthetic_orders(5000, town, seed=3)
    fleet = demand_following_fleet(orders, 2000, seed=3)
    again = demand_following_fleet(orders, 2000, seed=3)
    np.testing.assert_array_equal(fleet.lng, again.lng)
    np.testing.assert_array_equal(fleet.sessions.start_s, again.sessions.start_s)
    assert (fleet.lng >= orders.origin_lng.min()).all()
    assert (fleet.lat <= orders.origin_lat.max()).all()
    # Every driver works one shift of 6-10 hours; one that runs past midnight goes on at the
    # start of the day, so it has two sessions.
    sessions = fleet.sessions
    worked_h = np.bincount(sessions.driver, sessions.end_s - sessions.start_s, 2000) / 3600
    assert (worked_h >= 6.0 - 1e-9).all() and (worked_h <= 10.0 + 1e-9).all()
    per_driver = np.bincount(sessions.driver, minlength=2000)
    assert set(per_driver) <= {1, 2} and (per_driver == 2).any()
    assert (sessions.start_s >= 0).all() and (sessions.end_s <= 86_400).all()
    # Drivers online follow the orders placed, hour by hour, small hours included.
    hours = np.arange(24)
    orders_per_hour = np.bincount((orders.time_s // 3600).astype(int), minlength=24)
    online = np.array(
        [np.mean([_online_drivers(fleet, h + f) for f in (0.25, 0.5, 0.75)]) for h in hours]
    )
    ratio = orders_per_hour / online
    # Shifts of 6-10 hours cannot follow a two-hour rush exactly, so the peaks run hotter...
    assert ratio.max() / ratio.min() < 3.0
    # ... but the hours after midnight are served like the rest of the day: shifts that start
    # in the evening go on past midnight (starts in proportion to the orders left them bare).
    assert 0.7 < ratio[0] / np.median(ratio) < 1.3
    assert 0.7 < np.median(ratio[1:6]) / np.median(ratio) < 1.3
    assert online[18] > 3 * online[4]
    with pytest.raises(ValueError):
        demand_following_fleet(orders.take(np.zeros(0, dtype=np.int64)), 5)


def test_shift_starts_lead_the_demand_by_part_of_a_shift():
    from redwheel.dispatch.engine.demand import SHIFT_SLOTS, shift_start_rate

    # Orders only from 18:00 to 22:00: with 4-hour shifts every start falls in 14:00-22:00,
    # and most of them before the orders begin would leave the evening's end bare.
    times = np.linspace(18 * 3600, 22 * 3600, 4000, endpoint=False)
    rate = shift_start_rate(times, (4.0, 4.0))
    assert rate.sum() == pytest.approx(1.0)
    slot_h = np.arange(SHIFT_SLOTS) * 24 / SHIFT_SLOTS
    assert rate[(slot_h < 13.5) | (slot_h >= 22.0)].sum() < 0.02
    assert rate[(slot_h >= 17.5) & (slot_h < 18.5)].sum() > 0.5
