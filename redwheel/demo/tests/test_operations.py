"""The demo month has realistic volumes: the member comparison has its sample, and every driver
drives 8–15 completed trips on a day they drive (counted from the stored trips)."""

import io
import itertools
import random
from collections import Counter
from datetime import date
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate

from redwheel.core.dates import LOCAL_TZ
from redwheel.demo import operations
from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext
from redwheel.demo.trips import Feed, FeedDriver, driving_day
from redwheel.exchange import selectors
from redwheel.exchange.models import OnlineEvent, Trip

# The smallest city scale with at least 30 verified members (12 + 35 + 6 at full size).
CITY_SCALE = 0.65
MONTH = date(2026, 10, 1)


@pytest.fixture(scope="module")
def demo_month(django_db_setup, django_db_blocker):
    """City and month built once for the module; the verified members and a few others drive."""
    with django_db_blocker.unblock():
        from django.conf import settings

        hashers = settings.PASSWORD_HASHERS
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        saved = operations.DRIVING_DRIVERS
        operations.DRIVING_DRIVERS = 60
        # One transaction around the module, rolled back at the end: the tests' own
        # transactions nest inside it, and the next module finds the database as it was.
        with transaction.atomic():
            try:
                build_demo_city(seed=7, stdout=io.StringIO(), scale=CITY_SCALE)
                summary = operations.generate_month(7, MONTH, stdout=io.StringIO(), scale=1.0)
            finally:
                operations.DRIVING_DRIVERS = saved
                settings.PASSWORD_HASHERS = hashers
            yield summary
            transaction.set_rollback(True)


@pytest.mark.slow
@pytest.mark.django_db
def test_the_default_member_comparison_has_enough_members(demo_month):
    committee = DemoContext(seed=7, out=io.StringIO()).committee
    months = selectors.available_months(committee)
    assert months[0] == MONTH  # the view's default month
    comparison = selectors.comparison_report(committee, month=months[0]).comparison
    assert comparison.members.active >= 30
    assert comparison.members.orders >= 1000
    assert comparison.too_few is False
    # the planted effect shows: members drive more per active driver
    assert comparison.order_ratio > 1.0


@pytest.mark.slow
@pytest.mark.django_db
def test_drivers_drive_8_to_15_completed_trips_on_each_day_they_drive(demo_month):
    per_day = (
        Trip.objects.filter(
            driver__isnull=False, arrived_at__isnull=False, cancelled_at__isnull=True
        )
        .annotate(day=TruncDate("arrived_at", tzinfo=LOCAL_TZ))
        .values("driver_id", "day")
        .annotate(n=Count("pk"))
    )
    counts = [row["n"] for row in per_day]
    assert len(counts) > 300
    assert min(counts) >= 8
    assert max(counts) <= 15
    spread = Counter(counts)
    assert spread[8] and spread[15]  # the whole range occurs


@pytest.mark.slow
@pytest.mark.django_db
def test_the_last_two_weeks_are_busier_than_the_rest(demo_month):
    days = Counter(
        d.day
        for d in Trip.objects.filter(
            driver__isnull=False, arrived_at__isnull=False, cancelled_at__isnull=True
        ).values_list("arrived_at", flat=True)
        for d in [d.astimezone(LOCAL_TZ)]
    )
    late = sum(n for day, n in days.items() if day >= 18) / 14
    early = sum(n for day, n in days.items() if day < 18) / 17
    assert late > 4 * early > 0


@pytest.mark.slow
@pytest.mark.django_db
def test_busy_time_is_30_to_60_percent_of_online_time(demo_month):
    trips = Trip.objects.filter(
        driver__isnull=False, departed_at__isnull=False, cancelled_at__isnull=True
    ).values_list("matched_at", "departed_at", "arrived_at")
    busy = sum((a - m).total_seconds() for m, _d, a in trips)
    pickups = [(d - m).total_seconds() / 60 for m, d, _a in trips]
    rides = [(a - d).total_seconds() / 60 for _m, d, a in trips]
    assert min(pickups) >= 2 and max(pickups) <= 8
    assert min(rides) >= 10 and max(rides) <= 30
    events = sorted(
        OnlineEvent.objects.filter(driver__isnull=False).values_list("driver_id", "at", "kind")
    )
    online = 0.0
    for (driver, at, kind), (next_driver, next_at, next_kind) in itertools.pairwise(events):
        if driver == next_driver and kind == "login" and next_kind == "logout":
            online += (next_at - at).total_seconds()
    assert 0.30 <= busy / online <= 0.60


@pytest.mark.parametrize("per_hour", [0.7, 1.15, 1.6])
def test_a_driving_day_keeps_its_count_and_ends_on_that_day(per_hour):
    rng = random.Random(per_hour)
    for _i in range(300):
        feed = Feed(SimpleNamespace(company_id="TEST"), encrypt=1)
        driver = FeedDriver(
            "510108198501011234", "", "", "", "510104", "", False, [], per_hour=per_hour
        )
        day, count = rng.randint(1, 30), rng.randint(8, 15)
        completed, _complaints = driving_day(rng, feed, MONTH, driver, day, count)
        arrivals = [r["DestTime"] for r in feed.records["operateArrive"]]
        assert completed == len(arrivals) == count
        assert {a[:8] for a in arrivals} == {f"{MONTH:%Y%m}{day:02d}"}
