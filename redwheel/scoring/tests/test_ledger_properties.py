"""Property tests of the ledger through the real services (SQLite or PostgreSQL)."""

import contextlib
from datetime import datetime, timedelta

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import Conflict
from redwheel.scoring import services
from redwheel.scoring.models import PointsEntry
from redwheel.scoring.tests.helpers import published_book

RULES = ["learning_course", "volunteer_hour", "emergency_call", "brave_deed", "accepted_report"]
BASE = datetime(2026, 1, 1, 9, tzinfo=LOCAL_TZ)

grants = st.lists(
    st.tuples(st.sampled_from(RULES), st.integers(0, 40)),  # rule, day offset (two months)
    min_size=1,
    max_size=40,
)


class LedgerProperties(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.city = testing.city()
        cls.book = published_book(cls.city.admin, days_ago=900)
        cls.driver = cls.city.driver()

    def _grant_all(self, plan):
        granted = []
        for code, offset in plan:
            with contextlib.suppress(Conflict):
                granted.append(
                    services.points_grant(
                        actor=self.city.admin,
                        driver=self.driver,
                        rule_code=code,
                        occurred_at=BASE + timedelta(days=offset, minutes=len(granted)),
                    )
                )
        return granted

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(grants)
    def test_caps_are_never_exceeded(self, plan):
        self._grant_all(plan)
        rules = {r.code: r for r in self.book.rules.all()}
        entries = PointsEntry.objects.filter(driver=self.driver)
        for row in entries.values("rule_code", "day").annotate(n=Sum("amount")):
            cap = rules[row["rule_code"]].daily_cap
            assert cap is None or row["n"] <= cap
        for row in entries.values("rule_code", "month").annotate(n=Sum("amount")):
            cap = rules[row["rule_code"]].monthly_cap
            assert cap is None or row["n"] <= cap

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(grants)
    def test_reversing_every_entry_returns_the_balance_to_zero(self, plan):
        granted = self._grant_all(plan)
        for entry in granted:
            services.points_reverse(actor=self.city.admin, entry=entry, reason="test")
        total = PointsEntry.objects.filter(driver=self.driver).aggregate(n=Sum("amount"))["n"]
        assert (total or 0) == 0
        months = (
            PointsEntry.objects.filter(driver=self.driver).values("month").annotate(n=Sum("amount"))
        )
        assert all(row["n"] == 0 for row in months)


pytestmark = pytest.mark.django_db
