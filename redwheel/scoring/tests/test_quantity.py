"""`points_grant(quantity=...)`: several units of a rule in one entry, clipped to the caps."""

from datetime import datetime, timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import Conflict, ValidationFailed
from redwheel.core.models import AuditEntry
from redwheel.core.permissions import SystemActor
from redwheel.scoring import selectors, services
from redwheel.scoring.models import PointsEntry
from redwheel.scoring.tests.helpers import published_book

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 1, 5, 9, tzinfo=LOCAL_TZ)  # volunteer_hour: 2 points, caps 8/day, 40/month


def _grant(driver, quantity, at=BASE, code="volunteer_hour", **kwargs):
    return services.points_grant(
        actor=SystemActor.operator("test"),
        driver=driver,
        rule_code=code,
        occurred_at=at,
        quantity=quantity,
        **kwargs,
    )


def test_quantity_multiplies_the_rule_points(city):
    published_book(city.admin, days_ago=900)
    driver = city.driver()
    entry = _grant(driver, 3, note="3 h at the airport")
    assert entry.amount == 6 and entry.note == "3 h at the airport"
    assert _grant(driver, 1, at=BASE + timedelta(hours=1)).amount == 2  # the default unit
    audit = AuditEntry.objects.filter(action="points.grant").order_by("id").first()
    assert audit.data["quantity"] == 3 and audit.data["units_granted"] == 3
    assert selectors.balances(driver)["total"] == 8


def test_quantity_is_clipped_to_the_daily_cap_and_the_clipping_is_noted(city):
    published_book(city.admin, days_ago=900)
    driver = city.driver()
    assert _grant(driver, 3).amount == 6
    clipped = _grant(driver, 3, at=BASE + timedelta(hours=2), note="exam-day rides")
    assert clipped.amount == 2  # only one hour (2 points) fits under the cap of 8 a day
    assert clipped.note.startswith("exam-day rides ") and len(clipped.note) > len("exam-day rides ")
    audit = AuditEntry.objects.filter(action="points.grant").order_by("id").last()
    assert audit.data["quantity"] == 3 and audit.data["units_granted"] == 1
    with pytest.raises(Conflict) as err:
        _grant(driver, 1, at=BASE + timedelta(hours=3))
    assert err.value.code == "points_cap_reached" and err.value.details["period"]
    assert PointsEntry.objects.filter(driver=driver).count() == 2
    # the next day starts afresh, clipped again at 8
    assert _grant(driver, 10, at=BASE + timedelta(days=1)).amount == 8


def test_quantity_is_clipped_to_the_monthly_cap(city):
    published_book(city.admin, days_ago=900)
    driver = city.driver()
    for day in range(4):
        assert _grant(driver, 4, at=BASE + timedelta(days=day)).amount == 8
    assert _grant(driver, 3, at=BASE + timedelta(days=4)).amount == 6  # 38 this month
    entry = _grant(driver, 4, at=BASE + timedelta(days=5))
    assert entry.amount == 2 and entry.note  # the month allows one more hour only
    with pytest.raises(Conflict):
        _grant(driver, 1, at=BASE + timedelta(days=6))
    month = PointsEntry.objects.filter(driver=driver).aggregate(n=Sum("amount"))["n"]
    assert month == 40
    # a new month starts afresh
    assert _grant(driver, 2, at=BASE + timedelta(days=31)).amount == 4


def test_clipping_grants_whole_units_only(city):
    v1 = published_book(city.admin, days_ago=900)
    draft = services.rulebook_draft(actor=city.admin, title="v2", based_on=v1)
    services.rule_set(
        actor=city.admin,
        book=draft,
        code="night_shift",
        name="夜间保障",
        category="emergency",
        points=3,
        evidence="x",
        daily_cap=7,
    )
    services.rulebook_publish(actor=city.admin, book=draft, now=BASE - timedelta(days=30))
    driver = city.driver()
    assert _grant(driver, 5, code="night_shift").amount == 6  # 2 units of 3 fit under 7
    with pytest.raises(Conflict):  # 1 point left: not a whole unit
        _grant(driver, 1, at=BASE + timedelta(hours=1), code="night_shift")


def test_a_long_note_keeps_the_clipping_record_within_the_field(city):
    published_book(city.admin, days_ago=900)
    driver = city.driver()
    _grant(driver, 3)
    entry = _grant(driver, 3, at=BASE + timedelta(hours=1), note="x" * 400)
    assert entry.amount == 2 and len(entry.note) <= 300
    assert not entry.note.endswith("x")  # the clipping text survives the truncation


@pytest.mark.parametrize("quantity", [0, -2, 1.5, True])
def test_invalid_quantities_are_refused(city, quantity):
    published_book(city.admin, days_ago=900)
    driver = city.driver()
    with pytest.raises(ValidationFailed) as err:
        _grant(driver, quantity)
    assert err.value.code == "invalid_quantity"
    assert not PointsEntry.objects.filter(driver=driver).exists()


def test_a_source_earns_once_whatever_the_quantity_and_reversal_frees_the_cap(city):
    published_book(city.admin, days_ago=900)
    driver = city.driver()
    staff = testing.staff(city.committee_a)
    first = _grant(driver, 4, source=city.root)
    assert _grant(driver, 2, source=city.root).pk == first.pk
    assert PointsEntry.objects.filter(driver=driver).count() == 1
    with pytest.raises(Conflict):
        _grant(driver, 1, at=BASE + timedelta(hours=1))
    reversal = services.points_reverse(actor=staff, entry=first, reason="wrong hours")
    assert reversal.amount == -8
    assert _grant(driver, 3, at=BASE + timedelta(hours=2)).amount == 6


def test_recent_grants_with_quantity(city):
    """The ordinary path: now-ish, staff actor in scope."""
    published_book(city.admin)
    driver = city.driver()
    staff = testing.staff(city.committee_a)
    entry = services.points_grant(
        actor=staff,
        driver=driver,
        rule_code="emergency_call",
        occurred_at=timezone.now() - timedelta(hours=1),
        quantity=3,
    )
    assert entry.amount == 10  # 3 × 5 asked, 10 a day allowed
    assert entry.granted_by == staff


RULES = ["volunteer_hour", "emergency_call", "learning_course", "accepted_report"]
plans = st.lists(
    st.tuples(st.sampled_from(RULES), st.integers(0, 40), st.integers(1, 12)),
    min_size=1,
    max_size=30,
)


class QuantityProperties(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.city = testing.city()
        cls.book = published_book(cls.city.admin, days_ago=900)
        cls.driver = cls.city.driver()

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(plans)
    def test_caps_are_never_exceeded_with_random_quantities(self, plan):
        rules = {r.code: r for r in self.book.rules.all()}
        model = {}  # (rule, "day" or "month", date) -> points granted, kept by the test
        for n, (code, offset, quantity) in enumerate(plan):
            rule, at = rules[code], BASE + timedelta(days=offset, minutes=n)
            day = at.date()
            keys = ((code, "day", day), (code, "month", day.replace(day=1)))
            fits = quantity
            for key, cap in zip(keys, (rule.daily_cap, rule.monthly_cap), strict=True):
                if cap is not None:
                    fits = min(fits, (cap - model.get(key, 0)) // rule.points)
            try:
                entry = services.points_grant(
                    actor=self.city.admin,
                    driver=self.driver,
                    rule_code=code,
                    occurred_at=at,
                    quantity=quantity,
                )
            except Conflict:
                assert fits < 1  # refused only when not one unit fits
                continue
            assert entry.amount == rule.points * fits  # as much as fits, never more
            for key in keys:
                model[key] = model.get(key, 0) + entry.amount
        entries = PointsEntry.objects.filter(driver=self.driver)
        for row in entries.values("rule_code", "day").annotate(n=Sum("amount")):
            cap = rules[row["rule_code"]].daily_cap
            assert cap is None or row["n"] <= cap
        for row in entries.values("rule_code", "month").annotate(n=Sum("amount")):
            cap = rules[row["rule_code"]].monthly_cap
            assert cap is None or row["n"] <= cap
