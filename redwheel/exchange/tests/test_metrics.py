"""Driver metrics: each counter's exact value, the member comparison, scope, and the proof that
the stored snapshots equal a from-scratch recomputation on a generated month."""

import importlib.util
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from redwheel import testing
from redwheel.exchange import metrics, selectors
from redwheel.exchange.models import (
    Complaint,
    DriverMonthMetric,
    OnlineEvent,
    Punishment,
    Rating,
    TrainingRecord,
    Trip,
)

TZ = ZoneInfo("Asia/Shanghai")
OCT = date(2026, 10, 1)


def at(day, hour=12, minute=0, month=10):
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


class Facts:
    """Writes fact rows directly (the ingestion path is tested with the ingestion service)."""

    def __init__(self):
        self.seq = 0

    def trip(self, driver, platform, arrived, fare="30.00", cancelled=None, order_id=None):
        self.seq += 1
        return Trip.objects.create(
            platform=platform,
            order_id=order_id or f"O{self.seq}",
            license_index=driver.license_index,
            driver=driver,
            arrived_at=arrived,
            departed_at=arrived,
            fare_yuan=Decimal(fare) if fare is not None else None,
            cancelled_at=cancelled,
        )

    @staticmethod
    def rating(trip, score, when):
        return Rating.objects.create(
            platform=trip.platform, order_id=trip.order_id, evaluated_at=when, service_score=score
        )

    @staticmethod
    def complaint(trip, when):
        return Complaint.objects.create(
            platform=trip.platform, order_id=trip.order_id, complained_at=when, detail="绕路"
        )

    @staticmethod
    def event(driver, platform, kind, when):
        return OnlineEvent.objects.create(
            platform=platform, license_index=driver.license_index, driver=driver, kind=kind, at=when
        )


@pytest.fixture
def facts():
    return Facts()


def test_each_counter_has_its_exact_value(city, facts):
    d = city.driver("甲")
    pa = city.platform_a
    t1 = facts.trip(d, pa, at(3), "25.50")
    t2 = facts.trip(d, pa, at(31, 23, 59), "10.00")
    facts.trip(d, pa, at(4), "99.00", cancelled=at(4))  # cancelled: not completed
    facts.trip(d, pa, at(30, 12, month=9), "99.00")  # September
    facts.trip(d, pa, at(1, 0, 0, month=11), "99.00")  # 2026-11-01 00:00 local: November
    facts.trip(d, pa, at(5), fare=None)  # arrived, no payment yet: an order, no revenue
    facts.rating(t1, 5, at(3, 13))
    facts.rating(t2, 3, at(31, 23, 59))
    facts.rating(t1, 1, at(2, 1, month=11))  # November
    facts.complaint(t1, at(4))
    facts.complaint(t2, at(2, month=11))  # November
    Punishment.objects.create(
        platform=pa, license_index=d.license_index, driver=d, punished_at=at(9), reason="超速"
    )
    Punishment.objects.create(
        platform=pa, license_index=d.license_index, driver=d, punished_at=at(9, month=9)
    )
    TrainingRecord.objects.create(
        platform=pa,
        license_index=d.license_index,
        driver=d,
        course_name="安全驾驶",
        course_date=date(2026, 10, 15),
        minutes=45,
    )
    TrainingRecord.objects.create(
        platform=pa,
        license_index=d.license_index,
        driver=d,
        course_name="服务规范",
        course_date=date(2026, 10, 31),
        minutes=30,
    )
    TrainingRecord.objects.create(
        platform=pa,
        license_index=d.license_index,
        driver=d,
        course_name="急救",
        course_date=date(2026, 11, 1),
        minutes=60,
    )
    # Sessions: 2 h; a login followed by another login (unpaired, ignored) then 1 h;
    # one crossing into the month from September (clipped to 30 min); one crossing out
    # (clipped to 15 min); a logout over 24 h after its login (ignored).
    ev = OnlineEvent.Kind
    facts.event(d, pa, ev.LOGIN, at(10, 8))
    facts.event(d, pa, ev.LOGOUT, at(10, 10))
    facts.event(d, pa, ev.LOGIN, at(11, 8))
    facts.event(d, pa, ev.LOGIN, at(11, 9))
    facts.event(d, pa, ev.LOGOUT, at(11, 10))
    facts.event(d, pa, ev.LOGIN, at(30, 23, 30, month=9))
    facts.event(d, pa, ev.LOGOUT, at(1, 0, 30))
    facts.event(d, pa, ev.LOGIN, at(31, 23, 45))
    facts.event(d, pa, ev.LOGOUT, at(1, 2, 0, month=11))
    facts.event(d, pa, ev.LOGIN, at(20, 8))
    facts.event(d, pa, ev.LOGOUT, at(21, 9))

    assert metrics.recompute_month(OCT) == 1
    m = DriverMonthMetric.objects.get()
    assert (m.platform_id, m.license_index, m.driver_id, m.month) == (
        pa.id,
        d.license_index,
        d.id,
        OCT,
    )
    assert m.completed_orders == 3
    assert m.revenue_yuan == Decimal("35.50")
    assert m.online_seconds == 2 * 3600 + 3600 + 30 * 60 + 15 * 60
    assert (m.rating_count, m.rating_sum) == (2, 8)
    assert m.complaints == 1
    assert m.punishments == 1
    assert m.training_minutes == 75
    assert metrics.stored_month(OCT) == metrics.compute_month_pure(OCT)


def test_recompute_replaces_stale_rows_and_is_per_platform(city, facts):
    d1, d2 = city.driver(), city.driver(platform=city.platform_b)
    t = facts.trip(d1, city.platform_a, at(5))
    facts.trip(d2, city.platform_b, at(5))
    metrics.recompute_month(OCT)
    assert DriverMonthMetric.objects.count() == 2
    t.delete()
    assert metrics.recompute_month(OCT, platform=city.platform_a) == 0
    assert list(DriverMonthMetric.objects.values_list("platform_id", flat=True)) == [
        city.platform_b.id
    ]
    metrics.recompute_month(OCT)  # running twice changes nothing
    assert DriverMonthMetric.objects.count() == 1


def test_member_comparison_has_exact_numbers(city, facts):
    members = [city.member("党员") for _ in range(2)]
    probationary = city.member("预备", category="probationary")
    declared = city.member("未核实", verified=False)  # declared only: counts as "all"
    activist = city.member("积极分子", category="activist")  # verified, not a party member
    others = [city.driver("司机") for _ in range(2)]
    orders = {
        members[0]: 6,
        members[1]: 4,
        probationary: 5,
        declared: 3,
        activist: 2,
        others[0]: 1,
        others[1]: 3,
    }
    complaints = {members[0]: 1, others[0]: 1, others[1]: 2}
    for driver, n in orders.items():
        for i in range(n):
            trip = facts.trip(driver, city.platform_a, at(2 + i), "20.00")
            facts.rating(trip, 5 if driver in (*members, probationary) else 4, at(2 + i, 13))
            if i < complaints.get(driver, 0):
                facts.complaint(trip, at(2 + i, 14))
        facts.event(driver, city.platform_a, "login", at(1, 8))
        facts.event(driver, city.platform_a, "logout", at(1, 8 + n))
    city.driver("闲置")  # no activity: no row at all
    metrics.recompute_month(OCT)

    report = selectors.comparison_report(city.admin, month=OCT)
    c = report.comparison
    assert (c.members.active, c.members.orders) == (3, 15)
    assert (c.everyone.active, c.everyone.orders) == (7, 24)
    assert c.members.orders_per_active == 5
    assert c.order_ratio == pytest.approx(5 / (24 / 7))
    assert c.members.complaints_per_10k == pytest.approx(1 * 10000 / 15)
    assert c.everyone.complaints_per_10k == pytest.approx(4 * 10000 / 24)
    assert c.complaint_ratio == pytest.approx((1 / 15) / (4 / 24))
    assert c.members.rating == 5
    assert c.everyone.rating == pytest.approx((15 * 5 + 9 * 4) / 24)
    assert c.rating_difference == pytest.approx(5 - (15 * 5 + 9 * 4) / 24)
    assert c.members.revenue_per_hour == pytest.approx(20.0)  # 20 yuan per order, 1 h per order
    assert c.revenue_per_hour_ratio == pytest.approx(1.0)
    assert c.too_few  # 3 members, 15 orders: nobody should read a trend into this
    assert c.rating_bins[-1] == "4.9–5.0"
    assert c.rating_members == [0, 0, 0, 0, 100.0]
    assert c.rating_everyone == pytest.approx([0, 100 * 4 / 7, 0, 0, 100 * 3 / 7], abs=0.1)
    assert [t.label for t in report.by_platform] == [city.platform_a.name]
    assert report.total.orders == 24


def test_too_few_flag_thresholds():
    members = metrics.Totals(active=30, orders=1000)
    everyone = metrics.Totals(active=100, orders=5000)
    assert not metrics.Comparison(members, everyone).too_few
    assert metrics.Comparison(metrics.Totals(active=29, orders=5000), everyone).too_few
    assert metrics.Comparison(metrics.Totals(active=300, orders=999), everyone).too_few


def test_scope_platform_staff_and_drivers(city, facts):
    a_driver = city.driver("甲司机")
    b_driver = city.driver("乙司机", platform=city.platform_b)
    facts.trip(a_driver, city.platform_a, at(3))
    facts.trip(b_driver, city.platform_b, at(3))
    metrics.recompute_month(OCT)

    staff_b = testing.staff(city.committee_b)
    rows = selectors.metric_rows(staff_b, month=OCT)
    assert [r.driver_id for r in rows] == [b_driver.id]
    staff_a = testing.staff(city.branch_a, role="secretary")
    assert [r.driver_id for r in selectors.metric_rows(staff_a, month=OCT)] == [a_driver.id]
    committee = testing.staff(city.root)
    assert selectors.metric_rows(committee, month=OCT).count() == 2
    report = selectors.comparison_report(staff_b, month=OCT)
    assert report.comparison.everyone.orders == 1
    # A driver sees their own metrics and nothing else, and no staff list.
    assert [m.driver_id for m in selectors.my_metrics(a_driver.user)] == [a_driver.id]
    assert not selectors.metric_rows(a_driver.user, month=OCT).exists()


def test_shared_driver_is_seen_only_with_the_platform_in_scope(city, facts):
    """A driver on both platforms: platform B staff do not see what they did on platform A."""
    from redwheel.drivers.services import affiliation_add

    shared = city.driver("兼职")
    affiliation_add(actor=city.admin, driver=shared, platform=city.platform_b)
    facts.trip(shared, city.platform_a, at(3))
    facts.trip(shared, city.platform_b, at(4))
    metrics.recompute_month(OCT)
    staff_b = testing.staff(city.committee_b)
    assert [r.platform_id for r in selectors.metric_rows(staff_b, month=OCT)] == [
        city.platform_b.id
    ]


def test_unknown_driver_rows_are_kept_and_seen_by_the_platform(city, facts):
    Trip.objects.create(
        platform=city.platform_a,
        order_id="X1",
        license_index="unknownidx",
        arrived_at=at(6),
        fare_yuan=Decimal("12.00"),
    )
    metrics.recompute_month(OCT)
    m = DriverMonthMetric.objects.get()
    assert m.driver_id is None and m.completed_orders == 1
    assert selectors.metric_rows(testing.staff(city.committee_a), month=OCT).count() == 1
    assert selectors.metric_rows(testing.staff(city.committee_b), month=OCT).count() == 0


def test_recompute_recent_covers_current_and_previous_month(city, facts):
    d = city.driver()
    facts.trip(d, city.platform_a, at(3, month=10))
    facts.trip(d, city.platform_a, at(3, month=11))
    done = metrics.recompute_recent(today=date(2026, 11, 15))
    assert done == {date(2026, 10, 1): 1, date(2026, 11, 1): 1}


def test_month_helpers():
    assert metrics.parse_month("2026-10") == OCT
    assert metrics.parse_month("202612") == date(2026, 12, 1)
    with pytest.raises(ValueError):
        metrics.parse_month("2026-13")
    assert metrics.previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert metrics.next_month(date(2026, 12, 1)) == date(2027, 1, 1)


HAS_INGEST = importlib.util.find_spec("redwheel.exchange.services") is not None


@pytest.mark.skipif(
    not HAS_INGEST,
    reason="depends on redwheel.exchange.services.ingest, "
    "written by the ingestion helper; not present yet",
)
def test_snapshot_equals_recomputation_on_a_generated_month(city):
    from redwheel.demo import operations

    for i in range(8):
        city.member(f"党员{i}") if i < 3 else city.driver(f"司机{i}")
        city.driver(f"乙司机{i}", platform=city.platform_b)
    summary = operations.generate_month(seed=11, month_start=OCT, scale=0.02)
    assert summary.accepted > 500 and summary.rejected > 0
    assert Trip.objects.exclude(arrived_at=None).count() > 50
    assert OnlineEvent.objects.exists() and Rating.objects.exists()
    stored = metrics.stored_month(OCT)
    assert stored, "generate_month computes the snapshots"
    assert stored == metrics.compute_month_pure(OCT)
    # and again after more facts arrive and a recompute
    trip = Trip.objects.exclude(license_index="").exclude(arrived_at=None).first()
    Complaint.objects.create(
        platform=trip.platform, order_id=trip.order_id, complained_at=at(20), detail="x"
    )
    metrics.recompute_month(OCT)
    assert metrics.stored_month(OCT) == metrics.compute_month_pure(OCT)

    # the demo's operations step is idempotent: the month is loaded already
    from io import StringIO

    from redwheel.demo.context import DemoContext
    from redwheel.exchange.models import IngestBatch

    batches = IngestBatch.objects.count()
    out = StringIO()
    assert operations.build_demo(DemoContext(month=OCT, scale=0.02, out=out)) is False
    assert "already loaded" in out.getvalue()
    assert IngestBatch.objects.count() == batches


def test_generated_records_are_deterministic_and_well_formed(city):
    from redwheel.demo import operations

    for i in range(4):
        city.member(f"党员{i}") if i == 0 else city.driver(f"司机{i}")
    first, n = operations.build_records(5, OCT, scale=1.0)
    second, _n = operations.build_records(5, OCT, scale=1.0)
    assert n == 4
    assert [dict(f.records) for f in first] == [dict(f.records) for f in second]
    records = first[0].records
    assert {"baseInfoDriver", "orderCreate", "operatePay", "operateLogin"} <= set(records)
    from redwheel.drivers.models import Driver

    licences = {d.license_no for d in Driver.objects.all()}
    assert {r["LicenseId"] for r in records["baseInfoDriver"]} <= licences
    create = next(
        r
        for r in records["orderCreate"]
        if isinstance(r["DepLongitude"], int) and r["DepLongitude"] < 180_000_000
    )
    assert 103_900_000 <= create["DepLongitude"] <= 104_200_000
    assert 30_500_000 <= create["DepLatitude"] <= 30_800_000
    assert create["Encrypt"] == 1 and len(create["OrderTime"]) == 14
    assert create["OrderTime"].startswith("202610")


def test_compute_metrics_command(city):
    from io import StringIO

    from django.core.management import call_command

    d = city.driver()
    Trip.objects.create(
        platform=city.platform_a,
        order_id="C1",
        license_index=d.license_index,
        driver=d,
        arrived_at=at(7),
        fare_yuan=Decimal("9.90"),
    )
    out = StringIO()
    call_command("compute_metrics", "--month", "2026-10", stdout=out)
    assert "2026-10: 1" in out.getvalue()
    assert DriverMonthMetric.objects.get().revenue_yuan == Decimal("9.90")
