"""Volunteer hours and emergency arrivals earn points through the scoring ledger, in the same
transaction as their service record; a record stands without points when they cannot be
granted (no rule book, out of the actor's reach, cap used up)."""

import contextlib
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db.models import Sum
from django.utils import timezone

from redwheel.accounts.models import Grant
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import InvalidTransition, ValidationFailed
from redwheel.core.permissions import SystemActor
from redwheel.mobilization import services
from redwheel.mobilization.models import ServiceRecord, SignUp
from redwheel.mobilization.tests import factories
from redwheel.scoring import defaults
from redwheel.scoring import services as scoring
from redwheel.scoring.models import PointsEntry

pytestmark = pytest.mark.django_db

RECORD = "mobilization.servicerecord"


def _rule_book(city):
    """The default rule book (volunteer_hour 2/h, caps 8/day 40/month; emergency_call 5 per
    arrival, caps 10/day 30/month), in force since well before the tests' events."""
    book = defaults.draft_default(actor=city.admin)
    return scoring.rulebook_publish(
        actor=city.admin, book=book, now=timezone.now() - timedelta(days=400)
    )


@contextlib.contextmanager
def _clock(at):
    with mock.patch("django.utils.timezone.now", lambda: at):
        yield


def _last_month(day: int, hour: int = 9) -> datetime:
    """A time on `day` of the previous calendar month (Asia/Shanghai): all in one month."""
    first = timezone.localtime(timezone.now(), LOCAL_TZ).date().replace(day=1)
    d = (first - timedelta(days=1)).replace(day=day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=LOCAL_TZ)


def _served(city, driver, start, hours, *, organiser=None, confirm=None, title="爱心送考"):
    """Sign up, check in at `start`, check out `hours` later; the organiser confirms (with
    `confirm` hours, or the checked time). Returns the service record."""
    organiser = organiser or city.admin
    opportunity = services.opportunity_create(
        actor=organiser,
        unit=city.committee_a,
        title=title,
        kind="exam",
        role="送考司机",
        place="成都七中",
        starts_at=start,
        ends_at=start + timedelta(hours=12),
        places=5,
    )
    with _clock(start - timedelta(days=1)):
        signup = services.signup_create(actor=driver.user, opportunity=opportunity)
    with _clock(start):
        services.signup_check_in(actor=driver.user, signup=signup)
    with _clock(start + timedelta(hours=hours)):
        services.signup_check_out(actor=driver.user, signup=signup)
    return services.signup_confirm(actor=organiser, signup=signup, hours=confirm)


def _points(driver, rule_code=None) -> int:
    entries = PointsEntry.objects.filter(driver=driver)
    if rule_code:
        entries = entries.filter(rule_code=rule_code)
    return entries.aggregate(n=Sum("amount"))["n"] or 0


def test_confirming_3_5_hours_grants_3_hours_of_points_with_the_record_as_source(city):
    _rule_book(city)
    driver = city.driver()
    record = _served(city, driver, _last_month(3), 3.5)
    assert record.hours == Decimal("3.5")
    entry = PointsEntry.objects.get(driver=driver)
    assert record.points_entry == entry
    assert (entry.rule_code, entry.amount) == ("volunteer_hour", 6)  # 3 whole hours × 2
    assert (entry.source_type, entry.source_id) == (RECORD, str(record.pk))
    assert entry.granted_by == city.admin
    assert entry.occurred_at == record.signup.checked_out_at
    # confirming again is refused by the sign-up's state machine, and earns nothing more
    with pytest.raises(InvalidTransition):
        services.signup_confirm(actor=city.admin, signup=record.signup)
    assert ServiceRecord.objects.filter(driver=driver).count() == 1
    assert _points(driver) == 6


def test_under_one_confirmed_hour_writes_the_record_without_points(city):
    _rule_book(city)
    driver = city.driver()
    record = _served(city, driver, _last_month(3), 2, confirm=Decimal("0.9"))
    assert record.hours == Decimal("0.9") and record.points_entry is None
    assert not PointsEntry.objects.filter(driver=driver).exists()


def test_volunteer_caps_hold_across_two_days(city):
    _rule_book(city)
    driver = city.driver()
    day1, day2, day3 = _last_month(3), _last_month(4), _last_month(5)
    assert _served(city, driver, day1, 3.5).points_entry.amount == 6
    clipped = _served(city, driver, day1 + timedelta(hours=4), 2).points_entry
    assert clipped.amount == 2 and clipped.note  # 4 asked, 8 a day: clipped, and noted
    full = _served(city, driver, day1 + timedelta(hours=7), 1.5)
    assert full.points_entry is None  # the day's cap is used up: record kept, no points
    assert ServiceRecord.objects.filter(driver=driver).count() == 3
    # three earlier days of the month already hold 24 points: 32 with day 1
    for day in (10, 11, 12):
        scoring.points_grant(
            actor=SystemActor.operator("test"),
            driver=driver,
            rule_code="volunteer_hour",
            occurred_at=_last_month(day),
            quantity=4,
        )
    # day 2 starts a fresh day (5 h asked, 8 points allowed a day) and fills the month to 40
    assert _served(city, driver, day2, 5).points_entry.amount == 8
    assert _served(city, driver, day3, 2).points_entry is None  # the month is full
    by_day = PointsEntry.objects.filter(driver=driver).values("day").annotate(n=Sum("amount"))
    assert all(row["n"] <= 8 for row in by_day)
    assert _points(driver) == 40


def _mobilization_with_arrivals(city, arrived, others, the_hub=None, actor=None):
    m = factories.mobilization(city, the_hub=the_hub, actor=actor)
    services.mobilization_call(
        actor=actor or city.admin,
        mobilization=m,
        fleets=[factories.fleet(city, arrived + others, name=f"车队{m.pk}")],
    )
    for driver in arrived:
        services.response_record(actor=driver.user, mobilization=m, status="arrived")
    return m


def test_closing_grants_5_points_per_arrived_driver_only(city):
    _rule_book(city)
    arrived = [city.driver(), city.member()]
    coming, cant = city.driver(), city.driver()
    silent = city.driver()
    m = _mobilization_with_arrivals(city, arrived, [coming, cant, silent])
    services.response_record(actor=coming.user, mobilization=m, status="on_my_way")
    services.response_record(actor=cant.user, mobilization=m, status="cant_come")
    m = services.mobilization_close(actor=city.admin, mobilization=m)
    assert m.points == {"granted": 2, "skipped": 0, "total": 10}
    for driver in arrived:
        record = ServiceRecord.objects.get(mobilization=m, driver=driver)
        entry = PointsEntry.objects.get(driver=driver)
        assert (entry.rule_code, entry.amount) == ("emergency_call", 5)
        assert (entry.source_type, entry.source_id) == (RECORD, str(record.pk))
        assert entry.occurred_at == m.responses.get(driver=driver).arrived_at
    for driver in (coming, cant, silent):
        assert not PointsEntry.objects.filter(driver=driver).exists()
    assert m.summary == services.summary_compute(m)  # the frozen summary is unchanged
    with pytest.raises(InvalidTransition):
        services.mobilization_close(actor=city.admin, mobilization=m)
    assert PointsEntry.objects.filter(rule_code="emergency_call").count() == 2


def test_emergency_cap_leaves_the_third_mobilization_of_the_day_without_points(city):
    _rule_book(city)
    driver = city.driver()
    hub = factories.hub(city)
    results = []
    for _ in range(3):
        m = _mobilization_with_arrivals(city, [driver], [], the_hub=hub)
        results.append(services.mobilization_close(actor=city.admin, mobilization=m).points)
    assert [r["granted"] for r in results] == [1, 1, 0] and results[2]["skipped"] == 1
    assert ServiceRecord.objects.filter(driver=driver).count() == 3
    assert _points(driver) == 10  # 10 a day


def test_without_a_rule_book_records_are_written_and_no_points_granted(city):
    driver, other = city.driver(), city.driver()
    record = _served(city, driver, _last_month(3), 4)
    assert record.points_entry is None and record.hours == Decimal("4.0")
    m = _mobilization_with_arrivals(city, [driver, other], [])
    m = services.mobilization_close(actor=city.admin, mobilization=m)
    assert m.points == {"granted": 0, "skipped": 2, "total": 0}
    assert ServiceRecord.objects.filter(driver__in=[driver, other]).count() == 3
    assert not PointsEntry.objects.exists()


def test_a_rule_missing_from_the_book_leaves_records_without_points(city):
    book = scoring.rulebook_draft(actor=city.admin, title="只有学习积分")
    scoring.rule_set(
        actor=city.admin,
        book=book,
        code="learning_course",
        name="课程",
        category="learning",
        points=2,
        evidence="x",
    )
    scoring.rulebook_publish(actor=city.admin, book=book, now=timezone.now() - timedelta(days=400))
    driver = city.driver()
    assert _served(city, driver, _last_month(3), 4).points_entry is None
    m = services.mobilization_close(
        actor=city.admin, mobilization=_mobilization_with_arrivals(city, [driver], [])
    )
    assert m.points["skipped"] == 1
    assert ServiceRecord.objects.filter(driver=driver).count() == 2
    assert not PointsEntry.objects.exists()


def test_an_organiser_cannot_grant_their_own_points_but_their_record_stands(city):
    _rule_book(city)
    organiser = city.driver("组织者")  # a driver who is also staff on the committee
    Grant.objects.create(user=organiser.user, unit=city.root, role="staff")
    other = city.driver()
    m = _mobilization_with_arrivals(city, [organiser, other], [], actor=organiser.user)
    m = services.mobilization_close(actor=organiser.user, mobilization=m)
    assert m.points == {"granted": 1, "skipped": 1, "total": 5}
    assert ServiceRecord.objects.filter(mobilization=m).count() == 2
    assert not PointsEntry.objects.filter(driver=organiser).exists()
    assert PointsEntry.objects.get(driver=other).granted_by == organiser.user


def test_any_other_grant_error_rolls_back_the_record_with_it(city):
    _rule_book(city)
    driver = city.driver()
    broken = ValidationFailed("x", code="occurred_in_future")
    with mock.patch.object(services.common, "points_grant", side_effect=broken):
        with pytest.raises(ValidationFailed):
            _served(city, driver, _last_month(3), 3)
        m = _mobilization_with_arrivals(city, [driver], [])
        with pytest.raises(ValidationFailed):
            services.mobilization_close(actor=city.admin, mobilization=m)
    assert not ServiceRecord.objects.filter(driver=driver).exists()
    assert SignUp.objects.get(driver=driver).status == SignUp.Status.CHECKED_OUT
    m.refresh_from_db()
    assert m.status == "open" and m.closed_at is None
