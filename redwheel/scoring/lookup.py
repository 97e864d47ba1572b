"""Batch badge and score look-ups for platform tokens: one indexed query per batch.

A platform only ever gets answers about drivers with an active affiliation to it. For any other
LicenseId (unknown, or another platform's driver) the answer is exactly the unknown-id answer,
so the response body, and hence its ETag, reveals nothing about other platforms' drivers.

Answers are read from the database on every request (drivers by the unique `license_index`
joined with the platform's affiliation and the membership, or today's score snapshot), so a
withdrawal of consent, a lapse or an ended affiliation shows in the very next look-up on every
app server. The SQL is written out (no ORM compilation per request: at 300 batches a second
that was a large share of the CPU); it is plain SQL that runs on PostgreSQL and SQLite.
"""

import hashlib
import hmac
import json
from datetime import date
from types import SimpleNamespace

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from redwheel.drivers.models import Affiliation, Driver, Membership
from redwheel.drivers.services import badge_visible
from redwheel.exchange.metrics import LOCAL_TZ
from redwheel.scoring import cache
from redwheel.scoring.models import RuleBook, ScoreSnapshot

UNKNOWN_SCORE = {
    "known": False,
    "score": None,
    "credit_grade": None,
    "as_of": None,
    "rule_book_version": None,
    "components": None,
}
NO_SNAPSHOT = {**UNKNOWN_SCORE, "known": True}

_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS = [_B32[i >> 5] + _B32[i & 31] for i in range(1024)]  # 10 bits -> 2 characters
_SHIFTS = range(150, -1, -10)  # 160 bits (20 bytes) in 16 groups of 10, most significant first


def blind_indexes(license_ids: list[str]) -> list[str]:
    """`crypto.blind_index` of each id (same value; one-shot C HMAC, table base32 encoding)."""
    key = settings.PII_BLIND_INDEX_KEY.encode()
    digest, pairs = hmac.digest, _B32_PAIRS
    out = []
    for license_id in license_ids:
        n = int.from_bytes(digest(key, license_id.strip().upper().encode(), "sha256")[:20])
        out.append("".join([pairs[(n >> shift) & 1023] for shift in _SHIFTS]))
    return out


def _tables() -> dict[str, str]:
    return {
        "driver": Driver._meta.db_table,
        "affiliation": Affiliation._meta.db_table,
        "membership": Membership._meta.db_table,
        "snapshot": ScoreSnapshot._meta.db_table,
        "book": RuleBook._meta.db_table,
    }


_AFFILIATED = (
    "FROM {driver} d JOIN {affiliation} a ON a.driver_id = d.id "
    "AND a.platform_id = %s AND a.is_active = %s "
)
_BADGE_SQL = (
    "SELECT d.license_index, d.badge_consent, m.state, m.category "
    + _AFFILIATED
    + "LEFT JOIN {membership} m ON m.driver_id = d.id "
    "WHERE d.license_index {match}"
)
_SCORE_SQL = (
    "SELECT d.license_index, s.id, s.score, s.credit_grade, b.version, {components} "
    + _AFFILIATED
    + "LEFT JOIN {snapshot} s ON s.driver_id = d.id AND s.day = %s "
    "LEFT JOIN {book} b ON b.id = s.book_id "
    "WHERE d.license_index {match}"
)
_COMPONENTS = {
    "postgresql": "(s.explanation -> 'components')::text",
    "sqlite": "json_extract(s.explanation, '$.components')",
}


def _query(template: str, head: list, indexes: list[str], **extra) -> list[tuple]:
    if connection.vendor == "postgresql":  # one array parameter: a short, cacheable statement
        match, params = "= ANY(%s)", [*head, indexes]
    else:
        match, params = "IN ({})".format(",".join(["%s"] * len(indexes))), [*head, *indexes]
    with connection.cursor() as cursor:
        cursor.execute(template.format(match=match, **_tables(), **extra), params)
        return cursor.fetchall()


def _badge_of(consent, state, category) -> bool:
    """The one badge rule (`drivers.services.badge_visible`) applied to the selected columns."""
    membership = None if state is None else SimpleNamespace(state=state, category=category)
    return badge_visible(SimpleNamespace(badge_consent=bool(consent), membership=membership))


def badges(platform_id: int, license_ids: list[str]) -> list[dict]:
    index_of = blind_indexes(license_ids)
    unique = list(dict.fromkeys(index_of))
    found = {}
    if unique:
        rules = {}
        for index, consent, state, category in _query(_BADGE_SQL, [platform_id, True], unique):
            key = (bool(consent), state, category)
            if key not in rules:
                rules[key] = _badge_of(*key)
            found[index] = rules[key]
    out = []
    for license_id, index in zip(license_ids, index_of, strict=True):
        badge = found.get(index)
        out.append({"license_id": license_id, "known": badge is not None, "badge": bool(badge)})
    return out


def latest_score_day(epoch: str) -> date | None:
    key = f"rw:score-day:{epoch}"
    value = cache.cache.get(key)
    if value is None:
        today = timezone.localtime(timezone.now(), LOCAL_TZ).date()
        day = ScoreSnapshot.objects.filter(day__lte=today).aggregate(d=Max("day"))["d"]
        value = day.isoformat() if day else ""
        cache.cache.set(key, value, timeout=3600)
    return date.fromisoformat(value) if value else None


def scores(platform_id: int, license_ids: list[str]) -> list[dict]:
    index_of = blind_indexes(license_ids)
    unique = list(dict.fromkeys(index_of))
    found = {}
    if unique:
        day = latest_score_day(cache.score_epoch())
        components_sql = _COMPONENTS.get(connection.vendor, _COMPONENTS["sqlite"])
        as_of = day.isoformat() if day else None
        rows = _query(_SCORE_SQL, [platform_id, True, day], unique, components=components_sql)
        for index, snapshot_id, score, grade, version, components in rows:
            if snapshot_id is None:
                found[index] = NO_SNAPSHOT
                continue
            if isinstance(components, str):
                components = json.loads(components)
            found[index] = {
                "known": True,
                "score": float(score),
                "credit_grade": grade,
                "as_of": as_of,
                "rule_book_version": version,
                "components": {row["component"]: row["contribution"] for row in components or []},
            }
    return [
        {"license_id": license_id, **found.get(index, UNKNOWN_SCORE)}
        for license_id, index in zip(license_ids, index_of, strict=True)
    ]


def render(results: list[dict]) -> tuple[bytes, str]:
    """The JSON body and its ETag (a hash of the body: equal answers, equal tags)."""
    body = json.dumps({"results": results}, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags
