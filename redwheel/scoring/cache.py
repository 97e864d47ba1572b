"""Cached lookup answers, invalidated per driver by a version token.

Every driver (by LicenseId blind index) has a version token in the cache. A cached answer
for a driver is stored together with the token it was computed under and is used only while
that token is still current, so changing the token invalidates every cached answer about
that driver at once, on every app server sharing the cache. Tokens and answers are read in
one round trip (`versions_and_entries`).

`bump()` sets a fresh token. The signal receivers in `redwheel.scoring.signals` call it when
a driver, their membership or an affiliation is saved, both immediately and again after the
transaction commits, so a reader that cached the pre-commit state under the first new token
is overtaken by the second. A reader always fetches the tokens *before* it reads the database,
so an answer stored under a token reflects the database at some moment after that token was
set. Writes that bypass model signals (bulk roster import) are covered by `ENTRY_TTL`.

Score answers also carry the score epoch, bumped whenever daily snapshots are written.
"""

import time
import uuid

from django.core.cache import cache
from django.db import transaction

VERSION_PREFIX = "rw:dv:"
ENTRY_PREFIX = "rw:lk:"
SCORE_EPOCH_KEY = "rw:score-epoch"
ENTRY_TTL = 300  # seconds; the upper bound of staleness for writes that skip model signals


def _token() -> str:
    return uuid.uuid4().hex[:16]


def bump(license_indexes) -> None:
    keys = {VERSION_PREFIX + index: _token() for index in license_indexes if index}
    if keys:
        cache.set_many(keys, timeout=None)


def bump_now_and_on_commit(license_indexes) -> None:
    indexes = [index for index in license_indexes if index]
    if not indexes:
        return
    bump(indexes)
    transaction.on_commit(lambda: bump(indexes))


def versions(license_indexes) -> dict[str, str]:
    """The current token of each index (new tokens for indexes seen for the first time)."""
    return versions_and_entries("", 0, list(license_indexes), "", entries=False)[0]


def _entry_key(kind: str, platform_id: int, index: str, epoch: str) -> str:
    return f"{ENTRY_PREFIX}{kind}:{platform_id}:{epoch}:{index}"


def versions_and_entries(
    kind: str, platform_id: int, indexes: list[str], epoch: str, entries: bool = True
) -> tuple[dict[str, str], dict[str, tuple]]:
    """Current version tokens and stored (version, entry) pairs, in one cache round trip.

    An entry is valid only if its version equals the current token; tokens missing from the
    cache (first sight, or evicted) are created fresh, so no stored entry can match them."""
    version_keys = [VERSION_PREFIX + index for index in indexes]
    entry_keys = (
        [_entry_key(kind, platform_id, index, epoch) for index in indexes] if entries else []
    )
    found = cache.get_many(version_keys + entry_keys)
    missing = {key: _token() for key in version_keys if key not in found}
    if missing:
        cache.set_many(missing, timeout=None)
        found.update(missing)
    current = {index: found[key] for index, key in zip(indexes, version_keys, strict=True)}
    stored = {
        index: found[key] for index, key in zip(indexes, entry_keys, strict=False) if key in found
    }
    return current, stored


def set_entries(kind: str, platform_id: int, values: dict[str, tuple], epoch: str) -> None:
    """Store (version, entry) pairs for a while (see `ENTRY_TTL`)."""
    if values:
        cache.set_many(
            {_entry_key(kind, platform_id, index, epoch): value for index, value in values.items()},
            timeout=ENTRY_TTL,
        )


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
    redis_client = _redis_client()
    if redis_client is not None:  # INCR + EXPIRE in one round trip
        raw_key = cache.make_and_validate_key(key)
        pipe = redis_client.get_client(raw_key, write=True).pipeline()
        pipe.incr(raw_key)
        pipe.expire(raw_key, window + 1)
        count = pipe.execute()[0]
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # first request of the window
            count = 1 if cache.add(key, 1, timeout=window + 1) else cache.incr(key)
    return count <= limit, retry_after


def _redis_client():
    client = getattr(cache, "_cache", None)
    return client if type(client).__name__ == "RedisCacheClient" else None
