"""The platform look-ups' one trip to the cache: the cached token authentication and the
per-token rate counter, read and counted together.

Badge and score answers themselves are not cached (one indexed query per batch is cheaper
than validating, fetching and unpickling a cache entry per driver, and it can never be
stale); see `lookup.py`.
"""

import threading
import time

from django.core.cache import cache


def _window(bucket: str, window: int, now: float | None) -> tuple[str, int]:
    """The counter key of the fixed window that holds `now`, and the seconds until it ends."""
    now = time.time() if now is None else now
    start = int(now // window) * window
    return f"rw:rl:{bucket}:{start}", max(1, int(start + window - now + 0.999))


def get_and_count(
    key: str, bucket: str, limit: int, window: int, now: float | None = None
) -> tuple[object, bool, int]:
    """`cache.get(key)`, and one request counted in `bucket`'s fixed window of `window` seconds.

    Returns (cached value or None, whether the count is within `limit`, seconds until the
    window ends). On Redis this is one round trip (GET, INCR, EXPIRE in a pipeline) through the
    reused client (`redis_client`); the value is read with the cache's own key and serialiser,
    so `cache.set`/`cache.delete` work on the same entries."""
    counter, retry_after = _window(bucket, window, now)
    client = redis_client()
    if client is None:
        try:
            count = cache.incr(counter)
        except ValueError:  # first request of the window
            count = 1 if cache.add(counter, 1, timeout=window + 1) else cache.incr(counter)
        return cache.get(key), count <= limit, retry_after
    raw_counter = cache.make_and_validate_key(counter)
    pipe = client.pipeline(transaction=False)
    pipe.get(cache.make_and_validate_key(key))
    pipe.incr(raw_counter)
    pipe.expire(raw_counter, window + 1)
    raw, count, _expiry_set = pipe.execute()
    value = None if raw is None else cache._cache._serializer.loads(raw)
    return value, count <= limit, retry_after


_local = threading.local()  # Django's cache backend objects are per thread


def redis_client():
    """A `redis.Redis` on the cache's (single) server, built once per cache backend object:
    Django's `RedisCacheClient.get_client()` constructs a new `Redis` object on every call,
    which at hundreds of requests a second is a visible share of the CPU. None when the cache
    is not Redis."""
    backend = getattr(cache, "_cache", None)
    if type(backend).__name__ != "RedisCacheClient":
        return None
    held = getattr(_local, "client", None)
    if held is None or held[0] is not backend:
        held = _local.client = (backend, backend.get_client(write=True))
    return held[1]
