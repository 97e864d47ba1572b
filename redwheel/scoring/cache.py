"""Cache helpers of the platform look-ups: the score epoch and the per-token rate counter.

Badge and score answers themselves are not cached (one indexed query per batch is cheaper
than validating, fetching and unpickling a cache entry per driver, and it can never be
stale); see `lookup.py`. The score epoch changes whenever daily snapshots are written, and
keys the cached "latest snapshot day".
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
