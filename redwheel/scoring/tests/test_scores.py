import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from redwheel.core.dates import LOCAL_TZ
from redwheel.core.permissions import SystemActor
from redwheel.exchange.models import (
    Complaint,
    CreditLevel,
    DriverMonthMetric,
    DriverMonthStat,
    Punishment,
    Trip,
)
from redwheel.scoring import compute, services
from redwheel.scoring.models import ScoreSnapshot
from redwheel.scoring.tests.helpers import published_book

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 15)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ)


def _facts(
    city,
    driver,
    *,
    punish=(),
    complaints=(),
    orders=400,
    ratings=(100, 480),
    violations=0,
    level=None,
):
    p = city.platform_a
    li = driver.license_index
    DriverMonthMetric.objects.create(
        platform=p,
        license_index=li,
        driver=driver,
        month=date(2026, 2, 1),
        completed_orders=orders,
        rating_count=ratings[0],
        rating_sum=ratings[1],
        complaints=len(complaints),
        punishments=len(punish),
    )
    DriverMonthStat.objects.create(
        platform=p,
        license_index=li,
        driver=driver,
        month=date(2026, 2, 1),
        order_count=orders,
        traffic_violations=violations,
        complaints=len(complaints),
    )
    for n, (reason, result) in enumerate(punish):
        Punishment.objects.create(
            platform=p,
            license_index=li,
            driver=driver,
            punished_at=_at(date(2026, 2, 1 + n)),
            reason=reason,
            result=result,
        )
    for n, result in enumerate(complaints):
        order = f"{li[:8]}-{n}"
        Trip.objects.create(
            platform=p,
            license_index=li,
            driver=driver,
            order_id=order,
            arrived_at=_at(date(2026, 2, 2 + n)),
        )
        Complaint.objects.create(
            platform=p, order_id=order, complained_at=_at(date(2026, 2, 3 + n)), result=result
        )
    if level is not None:
        CreditLevel.objects.create(
            platform=p, license_index=li, driver=driver, level=level, tested_on=date(2026, 3, 1)
        )


def test_credit_deductions_from_the_published_table(city):
    published_book(city.admin)
    driver = city.driver()
    _facts(
        city,
        driver,
        punish=[("超速行驶", "警告"), ("车辆卫生不合格", "责令整改")],
        complaints=["已核实，对司机进行教育", "未核实，已向乘客解释"],
    )
    result = compute.for_driver(driver, DAY)
    credit = result.credit
    assert credit.deducted == 3 + 1 + 1  # speeding 3, fallback 1, one upheld complaint 1
    assert credit.points == 15 and credit.grade == "AA"
    assert [i["points"] for i in credit.items] == [3, 1, 1]


def test_points_earn_credit_bonus_and_reported_level_caps_the_grade(city):
    published_book(city.admin)
    driver = city.driver()
    _facts(city, driver, punish=[("超速", "")], level=3)
    for n in range(4):  # 4 × 5 = 20 points → bonus 2
        services.points_grant(
            actor=city.admin,
            driver=driver,
            rule_code="emergency_call",
            occurred_at=_at(date(2026, 1, 5 + n)),
        )
    credit = compute.for_driver(driver, DAY).credit
    assert (credit.bonus, credit.deducted, credit.points) == (2, 3, 19)
    assert credit.own_grade == "AA" and credit.reported_level == 3 and credit.grade == "A"


def test_score_explanation_adds_up(city):
    published_book(city.admin)
    driver = city.driver()
    _facts(city, driver, orders=1000, ratings=(200, 960), complaints=["已核实"], violations=1)
    result = compute.for_driver(driver, DAY)
    rows = {r["component"]: r for r in result.rows}
    assert rows["service"]["raw"]["rating_mean"] == 4.8
    assert rows["service"]["raw"]["complaints_per_10k"] == 10.0
    assert rows["safety"]["raw"] == {"punishments": 0, "traffic_violations": 1}
    assert abs(sum(r["contribution"] for r in result.rows) - result.score) < 0.05
    assert result.explanation()["book_version"] == 1


def test_snapshot_equals_recomputation(city):
    published_book(city.admin)
    drivers = [city.driver() for _ in range(4)]
    _facts(city, drivers[0], punish=[("酒后驾驶", "")])
    _facts(city, drivers[1], complaints=["已核实", "已核实"], violations=3, level=4)
    _facts(city, drivers[2], orders=50, ratings=(0, 0))
    services.points_grant(
        actor=SystemActor.operator("t"),
        driver=drivers[3],
        rule_code="brave_deed",
        occurred_at=_at(date(2026, 3, 1)),
    )
    run = services.scores_snapshot(actor=SystemActor.operator("t"), day=DAY)
    assert run.stored == ScoreSnapshot.objects.filter(day=DAY).count() >= 4
    for driver in drivers:
        snapshot = ScoreSnapshot.objects.get(driver=driver, day=DAY)
        again = compute.for_driver(driver, DAY)
        assert snapshot.score == Decimal(str(again.score)).quantize(Decimal("0.01"))
        assert snapshot.credit_grade == again.credit.grade
        assert snapshot.explanation == again.explanation()
        assert json.loads(snapshot.lookup_json) == {
            "score": again.score,
            "credit_grade": again.credit.grade,
            "as_of": DAY.isoformat(),
            "rule_book_version": again.book.version,
            "components": {row["component"]: row["contribution"] for row in again.rows},
        }
    assert ScoreSnapshot.objects.get(driver=drivers[0], day=DAY).credit_grade == "B"
    # running again upserts
    services.scores_snapshot(actor=SystemActor.operator("t"), day=DAY)
    assert ScoreSnapshot.objects.filter(day=DAY).count() == run.stored


def test_snapshot_refuses_a_lookup_answer_that_is_not_its_json_object(city):
    book = published_book(city.admin)
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreSnapshot.objects.create(
            driver=city.driver(), day=DAY, score=50, credit_points=20, credit_grade="AAA", book=book
        )
    assert not ScoreSnapshot.objects.exists()


def test_no_rule_book_no_score(city):
    assert compute.for_driver(city.driver(), timezone.localdate() - timedelta(days=1)) is None
