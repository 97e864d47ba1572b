"""Redis is lost under badge look-up load (issue 18): the look-ups keep answering from the
database, the rate limit stays in force through a per-process fallback counter (it neither
lets everything through nor refuses everyone), and the shared cache is used again once Redis
is back. The test stops the private Redis, never the machine's shared one."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from redwheel.scoring.cache import REDIS_RETRY_SECONDS
from redwheel.tests.faults import processes

pytestmark = pytest.mark.faults

LIMIT = 30  # look-ups per token and window, low so that the test can exceed it quickly
WINDOW = 60


@pytest.fixture(scope="module")
def lookup_web(private_pg, private_redis, seeded):
    env = processes.app_env(
        private_pg.url,
        private_redis.url,
        SCORING_LOOKUP_RATE_LIMIT=str(LIMIT),
        SCORING_LOOKUP_RATE_WINDOW=str(WINDOW),
    )
    server = processes.WebServer.launch(env)
    yield server
    server.stop()


def _keys(server: processes.PrivateRedis, pattern: str) -> list[bytes]:
    return redis.Redis(port=server.port).keys(pattern)


def test_lookups_answer_from_the_database_while_redis_is_down(lookup_web, redis_server, seeded):
    def lookup():
        return requests.post(
            f"{lookup_web.url}/api/v1/badges:lookup",
            json={"license_ids": [*seeded["licenses"], "510107199001019999"]},
            headers={"Authorization": f"Bearer {seeded['secret']}"},
            timeout=30,
        )

    def badges(response):
        assert response.status_code == 200, response.text[:500]
        return [(row["known"], row["badge"]) for row in response.json()["results"]]

    expected = [(True, True)] * 3 + [(False, False)]
    redis.Redis(port=redis_server.port).flushall()
    assert badges(lookup()) == expected
    assert _keys(redis_server, "*rw:tok:*") and _keys(redis_server, "*rw:rl:*")

    redis_server.stop()
    with ThreadPoolExecutor(4) as pool:
        during = list(pool.map(lambda _: lookup(), range(LIMIT // 2)))
    assert all(badges(r) == expected for r in during)

    # Past the limit, still without Redis: this process's own counter refuses the excess.
    # More than two windows' worth, so at least one window overflows whatever its boundary.
    flood = [lookup() for _ in range(2 * LIMIT + 1)]
    statuses = [r.status_code for r in flood]
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) + len(during) <= 2 * LIMIT
    refused = next(r for r in flood if r.status_code == 429)
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    assert all(badges(r) == expected for r in flood if r.status_code == 200)

    redis_server.start()  # empty: it keeps nothing on disk
    time.sleep(REDIS_RETRY_SECONDS + 0.5)
    after = lookup()
    assert after.status_code == 200  # the shared counter starts again from zero
    assert _keys(redis_server, "*rw:tok:*"), "the token cache is not used again"
    assert _keys(redis_server, "*rw:rl:*"), "the shared rate counter is not used again"
    assert "Internal Server Error" not in lookup_web.output()
