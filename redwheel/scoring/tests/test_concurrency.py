"""Two concurrent grants cannot exceed a cap: real threads on PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.utils import timezone

from redwheel import testing
from redwheel.core.errors import Conflict
from redwheel.scoring import services
from redwheel.scoring.models import PointsEntry
from redwheel.scoring.tests.helpers import published_book


@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_never_exceed_the_daily_cap():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every write; row locks are tested on PostgreSQL")
    city = testing.city()
    published_book(city.admin)
    driver = city.driver()
    at = timezone.now() - timedelta(minutes=5)
    threads, outcomes, barrier = [], [], threading.Barrier(8)

    def grant():
        try:
            barrier.wait()
            services.points_grant(
                actor=city.admin, driver=driver, rule_code="lost_property", occurred_at=at
            )  # 5 points, at most 10 a day
            outcomes.append("ok")
        except Conflict:
            outcomes.append("cap")
        finally:
            connections.close_all()

    for _ in range(8):
        threads.append(threading.Thread(target=grant))
        threads[-1].start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["cap"] * 6 + ["ok"] * 2
    total = PointsEntry.objects.filter(driver=driver).aggregate(n=Sum("amount"))["n"]
    assert total == 10
