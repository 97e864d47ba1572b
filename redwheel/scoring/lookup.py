"""Batch badge and score look-ups for platform tokens, cached per driver (see cache.py).

A platform only ever gets answers about drivers with an active affiliation to it. For any other
LicenseId (unknown, or another platform's driver) the answer is exactly the unknown-id answer,
so the response body, and hence its ETag, reveals nothing about other platforms' drivers.
"""

import hashlib
import json
from datetime import date

from django.db.models import Max
from django.utils import timezone

from redwheel.core import crypto
from redwheel.drivers.models import Driver
from redwheel.drivers.services import badge_visible
from redwheel.exchange.metrics import LOCAL_TZ
from redwheel.scoring import cache
from redwheel.scoring.models import ScoreSnapshot

UNKNOWN_BADGE = (False, False)
UNKNOWN_SCORE = None


def _affiliated(platform_id: int, indexes):
    return Driver.objects.filter(
        license_index__in=list(indexes),
        affiliations__platform_id=platform_id,
        affiliations__is_active=True,
    )


def _badge_entries(platform_id: int, indexes) -> dict[str, tuple]:
    found = {
        d.license_index: (True, badge_visible(d))
        for d in _affiliated(platform_id, indexes).select_related("membership")
    }
    return {index: found.get(index, UNKNOWN_BADGE) for index in indexes}


def latest_score_day(epoch: str) -> date | None:
    key = f"rw:score-day:{epoch}"
    value = cache.cache.get(key)
    if value is None:
        today = timezone.localtime(timezone.now(), LOCAL_TZ).date()
        day = ScoreSnapshot.objects.filter(day__lte=today).aggregate(d=Max("day"))["d"]
        value = day.isoformat() if day else ""
        cache.cache.set(key, value, timeout=3600)
    return date.fromisoformat(value) if value else None


def _score_entries(platform_id: int, indexes, epoch: str) -> dict[str, dict | None]:
    ids = dict(_affiliated(platform_id, indexes).values_list("id", "license_index"))
    day = latest_score_day(epoch)
    snapshots = {}
    if ids and day is not None:
        for s in ScoreSnapshot.objects.filter(driver_id__in=list(ids), day=day).select_related(
            "book"
        ):
            snapshots[s.driver_id] = {
                "known": True,
                "score": float(s.score),
                "credit_grade": s.credit_grade,
                "as_of": s.day.isoformat(),
                "rule_book_version": s.book.version,
                "components": {
                    row["component"]: row["contribution"]
                    for row in s.explanation.get("components", [])
                },
            }
    entries = {index: UNKNOWN_SCORE for index in indexes}
    for driver_id, index in ids.items():
        entries[index] = snapshots.get(driver_id) or {
            "known": True,
            "score": None,
            "credit_grade": None,
            "as_of": None,
            "rule_book_version": None,
            "components": None,
        }
    return entries


def _cached(kind: str, platform_id: int, license_ids: list[str], compute, epoch: str = ""):
    """One cache round trip for the versions and the entries of every id; the database only
    for ids whose stored entry is missing or carries an old version."""
    index_of = {license_id: crypto.blind_index(license_id) for license_id in license_ids}
    indexes = list(dict.fromkeys(index_of.values()))
    versions, stored = cache.versions_and_entries(kind, platform_id, indexes, epoch)
    entries = {}
    for index in indexes:
        item = stored.get(index)
        if item is not None and item[0] == versions[index]:
            entries[index] = item[1]
    missing = [i for i in indexes if i not in entries]
    if missing:  # read the database only after the versions were read (see cache.py)
        computed = compute(missing)
        cache.set_entries(
            kind, platform_id, {i: (versions[i], computed[i]) for i in missing}, epoch
        )
        entries.update(computed)
    return [(license_id, entries[index_of[license_id]]) for license_id in license_ids]


def badges(platform_id: int, license_ids: list[str]) -> list[dict]:
    rows = _cached(
        "b", platform_id, license_ids, lambda missing: _badge_entries(platform_id, missing)
    )
    return [{"license_id": lid, "known": known, "badge": badge} for lid, (known, badge) in rows]


def scores(platform_id: int, license_ids: list[str]) -> list[dict]:
    epoch = cache.score_epoch()
    rows = _cached(
        "s",
        platform_id,
        license_ids,
        lambda missing: _score_entries(platform_id, missing, epoch),
        epoch,
    )
    out = []
    for license_id, entry in rows:
        if entry is None:
            out.append(
                {
                    "license_id": license_id,
                    "known": False,
                    "score": None,
                    "credit_grade": None,
                    "as_of": None,
                    "rule_book_version": None,
                    "components": None,
                }
            )
        else:
            out.append({"license_id": license_id, **entry})
    return out


def render(results: list[dict]) -> tuple[bytes, str]:
    """The JSON body and its ETag (a hash of the body: equal answers, equal tags)."""
    body = json.dumps({"results": results}, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags
