from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from redwheel import testing
from redwheel.core.permissions import SystemActor
from redwheel.drivers.services import affiliation_add
from redwheel.scoring import selectors, services
from redwheel.scoring.lookup import snapshot_json
from redwheel.scoring.models import PointsEntry, ScoreSnapshot
from redwheel.scoring.tests.helpers import published_book

pytestmark = pytest.mark.django_db


def _client(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_rule_book_page_is_public_with_upcoming_and_history(city):
    published_book(city.admin)
    draft = services.rulebook_draft(actor=city.admin, title="第二版")
    services.rule_remove(actor=city.admin, book=draft, code="training_session")
    services.rulebook_publish(actor=city.admin, book=draft)
    response = _client().get(reverse("scoring:rules"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "第二版" in text and "lost_property" in text and "training_session" in text


def test_driver_sees_own_points_score_and_credit(city):
    published_book(city.admin)
    driver = city.driver()
    services.points_grant(
        actor=city.admin,
        driver=driver,
        rule_code="lost_property",
        occurred_at=timezone.now() - timedelta(hours=2),
        note="归还钱包",
    )
    client = _client(driver.user)
    page = client.get(reverse("scoring:my_points")).content.decode()
    assert "归还钱包" in page and "+5" in page
    response = client.get(reverse("scoring:my_score"))
    assert response.status_code == 200
    assert response.context["explanation"]["credit"]["grade"] == "AAA"
    assert _client(testing.user()).get(reverse("scoring:my_score")).status_code == 404


def test_staff_grant_and_reverse_in_scope_only(city):
    published_book(city.admin)
    driver = city.driver(platform=city.platform_a)
    staff = testing.staff(city.committee_a)
    client = _client(staff)
    url = reverse("scoring:staff_driver", args=[driver.pk])
    assert client.get(url).status_code == 200
    when = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url + "grant/", {"rule_code": "volunteer_hour", "occurred_at": when, "note": "机场保障"}
    )
    assert response.status_code == 302
    entry = PointsEntry.objects.get(driver=driver)
    assert entry.granted_by == staff and entry.amount == 2
    response = client.post(reverse("scoring:staff_reverse", args=[entry.pk]), {"reason": "重复"})
    assert response.status_code == 302 and entry.reversed_by.amount == -2
    outsider = _client(testing.staff(city.committee_b))
    assert outsider.get(url).status_code == 404
    assert (
        outsider.post(
            url + "grant/", {"rule_code": "volunteer_hour", "occurred_at": when}
        ).status_code
        == 404
    )
    reverse_url = reverse("scoring:staff_reverse", args=[entry.pk])
    assert outsider.post(reverse_url, {"reason": "x"}).status_code == 404
    assert _client(driver.user).get(url).status_code == 404


def test_staff_overview_shows_distribution(city):
    published_book(city.admin)
    for _ in range(3):
        city.driver()
    services.scores_snapshot(actor=SystemActor.operator("t"))
    response = _client(testing.staff(city.committee_a)).get(reverse("scoring:staff_index"))
    assert response.status_code == 200
    distribution = response.context["distribution"]
    assert distribution["count"] == 3
    assert [p["name"] for p in distribution["platforms"]] == [city.platform_a.name]
    assert "echarts.min.js" in response.content.decode()


def _snapshot(driver, day, score, book):
    ScoreSnapshot.objects.create(
        driver=driver,
        day=day,
        score=score,
        credit_points=20,
        credit_grade="AAA",
        book=book,
        lookup_json=snapshot_json(
            score=score, credit_grade="AAA", day=day, rule_book_version=1, components={}
        ),
    )


def test_distribution_bins_groups_and_scope(city):
    book = published_book(city.admin)
    day = date(2026, 11, 20)
    a_full, a_zero, a_both = city.driver(), city.driver(), city.driver()
    b_only = city.driver(platform=city.platform_b)
    affiliation_add(actor=city.admin, driver=a_both, platform=city.platform_b)
    for driver, score in ((a_full, 100), (a_zero, 0), (a_both, 55.5), (b_only, 89.99)):
        _snapshot(driver, day, score, book)
    _snapshot(a_full, day - timedelta(days=1), 10, book)  # an older day does not count

    everything = selectors.distribution(city.admin)
    assert everything["day"] == day and everything["count"] == 4
    platforms = {p["name"]: p for p in everything["platforms"]}
    a, b = platforms[city.platform_a.name], platforms[city.platform_b.name]
    assert a["counts"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]  # 100 falls into 90–100
    assert (a["count"], a["mean"]) == (3, 51.8)
    assert b["counts"] == [0, 0, 0, 0, 0, 1, 0, 0, 1, 0]  # a driver of both platforms counts twice
    assert (b["count"], b["mean"]) == (2, 72.7)
    branches = {g["name"]: g["count"] for g in everything["branches"]}
    assert branches == {city.branch_a.name: 3, city.branch_b.name: 1}

    platform_a_staff = selectors.distribution(testing.staff(city.committee_a))
    assert platform_a_staff["count"] == 3
    assert {p["name"]: p["count"] for p in platform_a_staff["platforms"]} == {
        city.platform_a.name: 3,
        city.platform_b.name: 1,  # its own driver's other platform, nobody else's drivers
    }
    platform_b_staff = selectors.distribution(testing.staff(city.committee_b))
    assert platform_b_staff["count"] == 2  # the drivers working for platform B
    assert {p["name"]: p["count"] for p in platform_b_staff["platforms"]} == {
        city.platform_a.name: 1,
        city.platform_b.name: 2,
    }
