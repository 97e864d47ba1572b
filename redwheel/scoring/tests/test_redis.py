"""The look-ups' cache path on a real Redis (the suite otherwise runs on the local-memory cache).

Needs the Redis server at 127.0.0.1:6379 (database 15); skipped when it is not running. Each
test gets its own key prefix, so parallel test workers never see each other's keys.
"""

import uuid

import pytest
import redis
from django.core.cache import cache
from django.test import override_settings

from redwheel.accounts.services import token_create, token_revoke
from redwheel.scoring.cache import get_and_count, redis_client
from redwheel.scoring.tests.helpers import lookup_post

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_running() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.skipif(not _redis_running(), reason="needs Redis at 127.0.0.1:6379"),
    pytest.mark.django_db,
]


@pytest.fixture(autouse=True)
def redis_cache():
    backend = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    with override_settings(CACHES={"default": backend}):
        assert redis_client() is not None  # the pipeline path, not the fallback
        yield


def test_get_and_count_reads_cache_entries_and_counts_per_window():
    cache.set("rw:tok:abc", (7, 3, ("badges:read",)), timeout=30)
    first = get_and_count("rw:tok:abc", "token:abc", limit=2, window=60, now=120.0)
    assert first == ((7, 3, ("badges:read",)), True, 60)
    assert get_and_count("rw:tok:abc", "token:abc", limit=2, window=60, now=150.0)[1:] == (
        True,
        30,
    )
    assert get_and_count("rw:tok:abc", "token:abc", limit=2, window=60, now=170.5)[1] is False
    assert get_and_count("rw:tok:abc", "token:abc", limit=2, window=60, now=180.0)[1] is True
    assert get_and_count("rw:tok:other", "token:abc", limit=9, window=60, now=1.0)[0] is None
    counter = cache.make_and_validate_key("rw:rl:token:abc:120")
    assert 0 < redis_client().ttl(counter) <= 61  # counters expire with their window


def test_lookups_over_redis_answer_revoke_and_rate_limit(city, settings):
    settings.SCORING_LOOKUP_RATE_LIMIT = 4
    member = city.member()
    member.badge_consent = True
    member.save(update_fields=["badge_consent"])
    token, secret = token_create(
        actor=city.admin, platform=city.platform_a, name="app", scopes=["badges:read"]
    )
    rows = lookup_post(secret, ids=[member.license_no, "X1"]).json()["results"]
    assert [(r["known"], r["badge"]) for r in rows] == [(True, True), (False, False)]
    assert lookup_post(secret).status_code == 200  # authenticated from the Redis entry
    token_revoke(actor=city.admin, token=token)
    assert lookup_post(secret).status_code == 401  # the cached entry was dropped
    assert lookup_post(secret).status_code == 401  # fourth request: still within the limit
    limited = lookup_post(secret)
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "rate_limited"
