"""Cached lookup answers, invalidated per driver by a version token.

Every driver (by LicenseId blind index) has a version token in the cache. A cached answer
for a driver is stored under a key that includes the token, so changing the token makes every
cached answer about that driver unreachable at once, on every app server sharing the cache.

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
    keys = [VERSION_PREFIX + index for index in license_indexes]
    found = cache.get_many(keys)
    missing = {key: _token() for key in keys if key not in found}
    if missing:
        cache.set_many(missing, timeout=None)
        found.update(missing)
    return {key[len(VERSION_PREFIX) :]: found[key] for key in keys}


def score_epoch() -> str:
    epoch = cache.get(SCORE_EPOCH_KEY)
    if epoch is None:
        epoch = f"{time.time_ns():x}"
        cache.add(SCORE_EPOCH_KEY, epoch, timeout=None)
        epoch = cache.get(SCORE_EPOCH_KEY, epoch)
    return epoch


def bump_scores() -> None:
    cache.set(SCORE_EPOCH_KEY, f"{time.time_ns():x}", timeout=None)


def entry_key(kind: str, platform_id: int, index: str, version: str, epoch: str = "") -> str:
    return f"{ENTRY_PREFIX}{kind}:{platform_id}:{index}:{version}:{epoch}"


def get_entries(keys: list[str]) -> dict:
    return cache.get_many(keys)


def set_entries(entries: dict) -> None:
    if entries:
        cache.set_many(entries, timeout=ENTRY_TTL)


# Rate limits -------------------------------------------------------------------------------


def hit(bucket: str, limit: int, window: int, now: float | None = None) -> tuple[bool, int]:
    """Count one request in a fixed window. Returns (allowed, seconds until the window ends)."""
    now = time.time() if now is None else now
    start = int(now // window) * window
    key = f"rw:rl:{bucket}:{start}"
    retry_after = max(1, int(start + window - now + 0.999))
    if cache.add(key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 1)
            count = 1
    return count <= limit, retry_after
