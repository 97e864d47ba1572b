"""Cache helpers of the platform look-ups: a fast `get`, the per-token rate counter and the
score epoch.

Badge and score answers themselves are not cached (one indexed query per batch is cheaper
than validating, fetching and unpickling a cache entry per driver, and it can never be
stale); see `lookup.py`. Neither is the latest snapshot day (a subquery of the score query).
The score epoch is still bumped whenever daily snapshots are written (`services`), as a
change marker for other readers; the look-ups no longer read it.
"""

import threading
import time

from django.core.cache import cache

SCORE_EPOCH_KEY = "rw:score-epoch"


def score_epoch() -> str:
    epoch = cache.get(SCORE_EPOCH_KEY)
    if epoch is None:
        epoch = f"{time.time_ns():x}"
        cache.add(SCORE_EPOCH_KEY, epoch, timeout=None)
        epoch = cache.get(SCORE_EPOCH_KEY, epoch)
    return epoch


def bump_scores() -> None:
    cache.set(SCORE_EPOCH_KEY, f"{time.time_ns():x}", timeout=None)


def get(key: str):
    """`cache.get(key)` through the reused Redis client (`redis_client`): Django's Redis
    backend builds a new `redis.Redis` object for every call, about as costly as the round
    trip itself. Same key and serialisation as `cache.get`, so `cache.set`/`cache.delete`
    work on the same entries. Plain `cache.get` when the cache is not Redis."""
    client = redis_client()
    if client is None:
        return cache.get(key)
    raw = client.get(cache.make_and_validate_key(key))
    return None if raw is None else cache._cache._serializer.loads(raw)


# Rate limits -------------------------------------------------------------------------------


def hit(bucket: str, limit: int, window: int, now: float | None = None) -> tuple[bool, int]:
    """Count one request in a fixed window. Returns (allowed, seconds until the window ends)."""
    now = time.time() if now is None else now
    start = int(now // window) * window
    key = f"rw:rl:{bucket}:{start}"
    retry_after = max(1, int(start + window - now + 0.999))
    client = redis_client()
    if client is not None:  # INCR + EXPIRE in one round trip
        raw_key = cache.make_and_validate_key(key)
        pipe = client.pipeline()
        pipe.incr(raw_key)
        pipe.expire(raw_key, window + 1)
        count = pipe.execute()[0]
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # first request of the window
            count = 1 if cache.add(key, 1, timeout=window + 1) else cache.incr(key)
    return count <= limit, retry_after


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
