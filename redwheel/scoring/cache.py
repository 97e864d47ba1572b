"""The platform look-ups' one trip to the cache: the cached token authentication and the
per-token rate counter, read and counted together.

Badge and score answers themselves are not cached (one indexed query per batch is cheaper
than validating, fetching and unpickling a cache entry per driver, and it can never be
stale); see `lookup.py`.

Losing Redis must not stop the look-ups: while it cannot be reached, every token is checked in
the database (`token_authenticate`, one indexed query) and rate-limited by a counter in this
process (`_local_count`). That fallback limiter keeps a limit in force when the database is
carrying all the load, yet does not turn a cache outage into an API outage by refusing
everyone; the price is that each app process counts on its own, so a token can get up to the
limit times the number of processes until Redis is back. After a failure the process leaves
Redis alone for `REDIS_RETRY_SECONDS` (a dead server would otherwise cost a connection attempt
per request), then tries again and is back on the shared cache and counters.
"""

import logging
import threading
import time

import redis
from django.core.cache import cache

logger = logging.getLogger(__name__)
REDIS_RETRY_SECONDS = 2


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
    if client is not None and _redis_resting():
        return None, _local_count(counter) <= limit, retry_after
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
    try:
        raw, count, _expiry_set = pipe.execute()
    except redis.RedisError:
        _redis_failed("rate count")
        return None, _local_count(counter) <= limit, retry_after
    value = None if raw is None else cache._cache._serializer.loads(raw)
    return value, count <= limit, retry_after


def remember(key: str, value, timeout: int) -> None:
    """`cache.set`, skipped while Redis is unavailable (the entry only saves a query)."""
    if _redis_resting():
        return
    try:
        cache.set(key, value, timeout=timeout)
    except redis.RedisError:
        _redis_failed("set")


def forget(key: str) -> None:
    """`cache.delete`. While Redis is unavailable the delete is lost: an entry it kept through
    the outage lives out its (short) timeout, which the callers' entries are sized for."""
    try:
        cache.delete(key)
    except redis.RedisError:
        _redis_failed("delete")


_resting_until = 0.0  # monotonic time before which this process does not try Redis
_local_lock = threading.Lock()
_local_counts: dict[str, int] = {}  # counter key (bucket and window start) -> requests
_local_window = ""  # the window start those counters belong to


def _redis_resting() -> bool:
    return time.monotonic() < _resting_until


def _redis_failed(what: str) -> None:
    global _resting_until
    _resting_until = time.monotonic() + REDIS_RETRY_SECONDS
    logger.warning("Redis unavailable (%s): using the database and a local rate limit", what)


def _local_count(counter: str) -> int:
    """One request counted in this process's own copy of `counter`. The counters of an ended
    window are dropped when the next one starts, so memory stays bounded by one window's tokens."""
    global _local_window
    window_start = counter.rsplit(":", 1)[1]
    with _local_lock:
        if window_start != _local_window:
            _local_counts.clear()
            _local_window = window_start
        count = _local_counts[counter] = _local_counts.get(counter, 0) + 1
    return count


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
