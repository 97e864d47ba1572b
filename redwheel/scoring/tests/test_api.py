import hashlib
import hmac
import json
from datetime import date
from unittest import mock

import pytest
from django.core.cache import cache

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.core.models import Notification
from redwheel.core.permissions import SystemActor
from redwheel.drivers import services as driver_services
from redwheel.scoring import services
from redwheel.scoring.tests.helpers import lookup_post, published_book

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _token(city, platform, scopes=("badges:read", "scores:read")):
    return token_create(actor=city.admin, platform=platform, name="app", scopes=list(scopes))[1]


def _consent(driver, on=True):
    return driver_services.badge_consent_set(actor=driver.user, driver=driver, consented=on)


def test_a_token_learns_nothing_about_other_platforms_drivers(city):
    published_book(city.admin)
    theirs = _consent(city.member(platform=city.platform_b))
    plain_b = city.driver(platform=city.platform_b)
    services.scores_snapshot(actor=SystemActor.operator("t"))
    secret_a = _token(city, city.platform_a)
    unknown = testing.id_number(987_654)
    for path in ("badges:lookup", "scores:lookup"):
        answers = {}
        for license_id in (theirs.license_no, plain_b.license_no, unknown):
            response = lookup_post(secret_a, path, [license_id])
            assert response.status_code == 200
            row = response.json()["results"][0]
            row.pop("license_id")
            answers[license_id] = (json.dumps(row, sort_keys=True), response["ETag"])
        # same shape and values as an unknown id
        assert (
            answers[theirs.license_no][0] == answers[plain_b.license_no][0] == answers[unknown][0]
        )
    # and the platform's own token sees them
    secret_b = _token(city, city.platform_b)
    row = lookup_post(secret_b, "scores:lookup", [theirs.license_no]).json()["results"][0]
    assert row["known"] is True and row["score"] is not None and row["credit_grade"] == "AAA"


def test_etag_and_304_and_immediate_invalidation_on_withdrawal(city):
    driver = _consent(city.member())
    secret = _token(city, city.platform_a)
    first = lookup_post(secret, "badges:lookup", [driver.license_no])
    assert first.json()["results"][0]["badge"] is True
    etag = first["ETag"]
    again = lookup_post(secret, "badges:lookup", [driver.license_no], HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag and again.content == b""
    _consent(driver, on=False)
    after = lookup_post(secret, "badges:lookup", [driver.license_no], HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and after["ETag"] != etag
    assert after.json()["results"][0]["badge"] is False


def test_cached_answers_follow_verification_and_affiliation_changes(
    city, django_assert_num_queries
):
    driver = _consent(city.member())
    secret = _token(city, city.platform_a)
    assert lookup_post(secret, "badges:lookup", [driver.license_no]).json()["results"][0]["badge"]
    with django_assert_num_queries(1):  # the look-up itself: the token comes from the cache
        lookup_post(secret, "badges:lookup", [driver.license_no])
    driver_services.membership_lapse(actor=city.admin, membership=driver.membership, reason="x")
    assert not lookup_post(secret, "badges:lookup", [driver.license_no]).json()["results"][0][
        "badge"
    ]
    affiliation = driver.affiliations.get()
    affiliation.is_active = False
    affiliation.save()
    row = lookup_post(secret, "badges:lookup", [driver.license_no]).json()["results"][0]
    assert row == {"license_id": driver.license_no, "known": False, "badge": False}


def test_scores_lookup_answers_the_latest_snapshot_and_follows_new_snapshots(city):
    published_book(city.admin)
    driver = city.driver()
    secret = _token(city, city.platform_a, scopes=["scores:read"])
    row = lookup_post(secret, "scores:lookup", [driver.license_no]).json()["results"][0]
    assert row["known"] is True and row["score"] is None
    services.points_grant(
        actor=city.admin, driver=driver, rule_code="brave_deed", occurred_at=driver.created_at
    )
    services.scores_snapshot(actor=SystemActor.operator("t"))
    row = lookup_post(secret, "scores:lookup", [driver.license_no]).json()["results"][0]
    assert row["score"] > 0 and row["rule_book_version"] == 1
    assert set(row["components"]) == {"service", "safety", "credit", "community"}
    assert row["components"]["community"] == 1.0  # 10 points of 100 × weight 10
    assert date.fromisoformat(row["as_of"])
    assert lookup_post(secret, "badges:lookup", [driver.license_no]).status_code == 403


def test_rate_limit_answers_429_with_retry_after(city, settings):
    settings.SCORING_LOOKUP_RATE_LIMIT = 3
    secret = _token(city, city.platform_a)
    other = _token(city, city.platform_a)
    for _ in range(3):
        assert lookup_post(secret, "badges:lookup", ["X"]).status_code == 200
    limited = lookup_post(secret, "scores:lookup", ["X"])
    assert limited.status_code == 429
    body = limited.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert body["details"]["limit"] == 3
    assert lookup_post(other, "badges:lookup", ["X"]).status_code == 200  # per token
    wrong = [lookup_post("rw_not-a-token", "badges:lookup", ["X"]).status_code for _ in range(4)]
    assert wrong == [401, 401, 401, 429]  # a flood with a wrong token stops before the database


def test_lookup_limits_and_validation(city):
    secret = _token(city, city.platform_a)
    ids = [testing.id_number(n) for n in range(501)]
    assert lookup_post(secret, "scores:lookup", ids).status_code == 400
    rows = lookup_post(secret, "scores:lookup", ids[:500]).json()["results"]
    assert len(rows) == 500 and not any(r["known"] for r in rows)


def test_badge_change_webhook_is_signed_and_documented_payload(city):
    platform = city.platform_a
    platform.webhook_url = "https://platform.example/hooks"
    platform.webhook_secret = "s3cret"
    platform.save()
    driver = city.member()
    sent = []

    def fake_post(url, *, body, headers, timeout):
        sent.append((url, body, headers))
        return 200

    with mock.patch("redwheel.core.webhooks.post", fake_post):
        _consent(driver)
    note = Notification.objects.filter(event="badge.changed").latest("id")
    assert note.payload == {
        "license_masked": driver.license_masked,
        "driver_id": driver.pk,
        "badge": True,
        "company_id": platform.company_id,
    }
    assert note.status == Notification.Status.SENT
    url, body, headers = sent[-1]
    assert url == "https://platform.example/hooks"
    assert json.loads(body) == {"id": note.pk, "event": "badge.changed", "data": note.payload}
    timestamp = headers["X-RedWheel-Timestamp"]
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-RedWheel-Signature"] == "sha256=" + expected
    assert driver.license_no not in body.decode()
