from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from redwheel.accounts.permissions import SystemActor
from redwheel.core import testing
from redwheel.scoring import services
from redwheel.scoring.models import PointsEntry
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
    response = _client().get("/scoring/rules/")
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
    page = client.get("/scoring/me/points/").content.decode()
    assert "归还钱包" in page and "+5" in page
    response = client.get("/scoring/me/")
    assert response.status_code == 200
    assert response.context["explanation"]["credit"]["grade"] == "AAA"
    assert _client(testing.user()).get("/scoring/me/").status_code == 404


def test_staff_grant_and_reverse_in_scope_only(city):
    published_book(city.admin)
    driver = city.driver(platform=city.platform_a)
    staff = testing.staff(city.committee_a)
    client = _client(staff)
    url = f"/scoring/staff/drivers/{driver.pk}/"
    assert client.get(url).status_code == 200
    when = timezone.localtime(timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url + "grant/", {"rule_code": "volunteer_hour", "occurred_at": when, "note": "机场保障"}
    )
    assert response.status_code == 302
    entry = PointsEntry.objects.get(driver=driver)
    assert entry.granted_by == staff and entry.amount == 2
    response = client.post(f"/scoring/staff/entries/{entry.pk}/reverse/", {"reason": "重复"})
    assert response.status_code == 302 and entry.reversed_by.amount == -2
    outsider = _client(testing.staff(city.committee_b))
    assert outsider.get(url).status_code == 404
    assert (
        outsider.post(
            url + "grant/", {"rule_code": "volunteer_hour", "occurred_at": when}
        ).status_code
        == 404
    )
    assert (
        outsider.post(f"/scoring/staff/entries/{entry.pk}/reverse/", {"reason": "x"}).status_code
        == 404
    )
    assert _client(driver.user).get(url).status_code == 404


def test_staff_overview_shows_distribution(city):
    published_book(city.admin)
    for _ in range(3):
        city.driver()
    services.scores_snapshot(actor=SystemActor("t"))
    response = _client(testing.staff(city.committee_a)).get("/scoring/staff/")
    assert response.status_code == 200
    distribution = response.context["distribution"]
    assert distribution["count"] == 3
    assert [p["name"] for p in distribution["platforms"]] == [city.platform_a.name]
    assert "echarts.min.js" in response.content.decode()
