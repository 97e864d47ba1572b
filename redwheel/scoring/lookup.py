"""Batch badge and score look-ups for platform tokens: one indexed query per batch.

A platform only ever gets answers about drivers with an active affiliation to it. For any other
LicenseId (unknown, or another platform's driver) the answer is exactly the unknown-id answer,
so the response body, and hence its ETag, reveals nothing about other platforms' drivers.

Answers are read from the database on every request (drivers by the unique `license_index`
joined with the platform's affiliation and the membership, or the latest daily score snapshot),
so a withdrawal of consent, a lapse, an ended affiliation or a new snapshot shows in the very
next look-up on every app server. Nothing is cached: the latest snapshot day is a subquery of
the same statement. The SQL is written out (no ORM compilation per request) and runs on
PostgreSQL (as a prepared statement) and SQLite.

At 300 batches a second the per-request Python work matters, so the JSON body is assembled
from pre-encoded pieces rather than dicts passed to `json.dumps`: each snapshot carries its
answer as a JSON object text written with it (`snapshot_json`), which goes into the body
undecoded, and each LicenseId is encoded once with the C string encoder.

Scope: the SQL is not built by `core.permissions.scope` (that would cost ORM compilation per
request), but its platform condition is taken from the permission registry: `platform_join`
resolves the lookup through which the registry lets a platform principal see a `Driver`
(`affiliations__platform_id`) into the table and columns the SQL joins, and
`scoring.permissions.check_lookup_scope` refuses to start if that lookup changes shape. The SQL
adds one narrowing of its own: only *active* affiliations answer (a driver who left the platform
is unknown to it). `tests/test_permissions.py` proves the answers equal `scope(token, "view",
Driver)` for the platform's drivers.
"""

import hashlib
import json
from json.encoder import encode_basestring_ascii as _json_str
from types import SimpleNamespace

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from redwheel.core import permissions
from redwheel.core.dates import local_date
from redwheel.drivers.models import Affiliation, Driver, Membership
from redwheel.drivers.services import badge_visible
from redwheel.scoring.models import ScoreSnapshot

# Blind indexes -------------------------------------------------------------------------------

_B32 = b"abcdefghijklmnopqrstuvwxyz234567"
_TO_B32 = bytes.maketrans(bytes(range(32)), _B32)
_CHUNK = 512  # ids per big-integer pass
_PAD = bytes(12)  # each 20-byte digest sits in a 32-byte slot


def _spread_masks() -> list[tuple[int, int, int]]:
    """Masks that spread each slot's 160 bits into 32 bytes of 5 bits, in five halvings."""
    steps = []
    for stride, unit in ((256, 160), (128, 80), (64, 40), (32, 20), (16, 10)):
        half, width = unit // 2, stride // 8
        low = ((1 << half) - 1).to_bytes(width, "big")
        high = (((1 << unit) - 1) ^ ((1 << half) - 1)).to_bytes(width, "big")
        repeat = _CHUNK * 32 // width
        steps.append(
            (
                int.from_bytes(low * repeat, "big"),
                int.from_bytes(high * repeat, "big"),
                stride // 2 - half,
            )
        )
    return steps


_STEPS = _spread_masks()


_pads: dict[bytes, tuple] = {}


def _hmac_pads(key: bytes) -> tuple:
    """SHA-256 states after HMAC's inner and outer key blocks (RFC 2104), so that each id costs
    two small hashes instead of four: `hmac.digest` hashes both key blocks again every call."""
    pads = _pads.get(key)
    if pads is None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        pads = _pads[key] = (inner, outer)
    return pads


def _digests(license_ids: list[str]) -> list[bytes]:
    """The first 20 bytes of HMAC-SHA256(PII_BLIND_INDEX_KEY, normalised id) of each id."""
    inner, outer = _hmac_pads(settings.PII_BLIND_INDEX_KEY.encode())
    out = []
    for license_id in license_ids:
        first = inner.copy()
        first.update(license_id.strip().upper().encode())
        second = outer.copy()
        second.update(first.digest())
        out.append(second.digest()[:20])
    return out


def blind_indexes(license_ids: list[str]) -> list[str]:
    """`crypto.blind_index` of each id (same value: base32 of the first 20 bytes of the HMAC).

    The base32 encoding is done for a whole batch at once: the digests are packed into one
    big integer, 32 bytes apart, and five mask-and-shift halvings move every 5-bit group into
    its own byte, which `bytes.translate` maps to the alphabet. That is about a tenth of the
    per-id Python work of `base64.b32encode` (pure Python before 3.13)."""
    out = []
    for start in range(0, len(license_ids), _CHUNK):
        chunk = license_ids[start : start + _CHUNK]
        if not chunk:
            break
        n = int.from_bytes(_PAD.join(_digests(chunk)), "big")
        for low, high, shift in _STEPS:
            n = (n & low) | ((n & high) << shift)
        text = n.to_bytes(32 * len(chunk), "big").translate(_TO_B32).decode("ascii")
        out += [text[i : i + 32] for i in range(0, len(text), 32)]
    return out


# Queries -------------------------------------------------------------------------------------


def platform_join() -> tuple[str, str, str]:
    """(table, driver column, platform column) of the registry's platform lookup for `Driver`:
    the one-to-many step from a driver to their affiliations and its platform id."""
    platforms = permissions.registered(Driver).platforms
    relation, _sep, column = platforms[0].partition("__") if len(platforms) == 1 else ("", "", "")
    try:
        reverse = Driver._meta.get_field(relation)
        target = reverse.related_model._meta.get_field(column)
    except Exception:
        reverse = target = None
    if (
        reverse is None
        or not reverse.one_to_many
        or reverse.related_model is not Affiliation  # the SQL also reads its `is_active`
        or not target.many_to_one
        or target.related_model._meta.label != "orgs.Platform"
    ):
        raise ImproperlyConfigured(
            f"scoring.lookup cannot express Driver's registered platform lookup {platforms!r}"
        )
    return Affiliation._meta.db_table, reverse.field.column, target.column


_tables_cache: dict[str, str] = {}


def _tables() -> dict[str, str]:
    if not _tables_cache:  # computed once: the registry is complete after start-up
        affiliation, driver_column, platform_column = platform_join()
        _tables_cache.update(
            driver=Driver._meta.db_table,
            affiliation=affiliation,
            affiliation_driver=driver_column,
            affiliation_platform=platform_column,
            membership=Membership._meta.db_table,
            snapshot=ScoreSnapshot._meta.db_table,
        )
    return _tables_cache


# The platform condition is the registry's (`platform_join`), narrowed to active affiliations.
_AFFILIATED = (
    "FROM {driver} d JOIN {affiliation} a ON a.{affiliation_driver} = d.id "
    "AND a.{affiliation_platform} = %s AND a.is_active = %s "
)
_BADGE_SQL = (
    "SELECT d.license_index, d.badge_consent, m.state, m.category "
    + _AFFILIATED
    + "LEFT JOIN {membership} m ON m.driver_id = d.id "
    "WHERE d.license_index {match}"
)
# The latest snapshot day up to today (Asia/Shanghai) is an uncorrelated subquery, computed
# once per statement from the (day, score) index.
_SCORE_SQL = (
    "SELECT d.license_index, s.lookup_json "
    + _AFFILIATED
    + "LEFT JOIN {snapshot} s ON s.driver_id = d.id "
    "AND s.day = (SELECT max(day) FROM {snapshot} WHERE day <= %s) "
    "WHERE d.license_index {match}"
)


class _PreparedCursor(psycopg.Cursor):
    """Binds parameters server-side and always prepares: Django's own cursors bind them
    client-side, so PostgreSQL would parse and plan the look-up on every call. psycopg keeps
    the prepared statement per connection; skipping parse and plan saves about a third of the
    look-up's database time."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


# On PostgreSQL each requested id is looked up on its own, through the unique blind index and
# then the (driver) indexes of the joined tables. LIMIT 1 (the index is unique anyway) keeps
# the planner from flattening the lateral subquery into one join over the whole tables, which it
# prefers while they are small and which costs more the bigger they grow.
_PER_ID = (
    "SELECT x.* FROM unnest(CAST(%s AS text[])) AS q(license_index) "
    "CROSS JOIN LATERAL ({query} LIMIT 1) AS x"
)


def _query(template: str, head: list, indexes: list[str]) -> list[tuple]:
    if connection.vendor == "postgresql":
        sql = _PER_ID.format(query=template.format(match="= q.license_index", **_tables()))
        # One array parameter, passed as its literal text: blind indexes are [a-z2-7]{32},
        # nothing to quote, and psycopg would otherwise regex-check each element.
        params = ["{" + ",".join(indexes) + "}", *head]
        connection.ensure_connection()
        # Django's wrapper keeps query logging, error translation and thread checks.
        cursor = connection._prepare_cursor(_PreparedCursor(connection.connection))
    else:
        match = "IN ({})".format(",".join(["%s"] * len(indexes)))
        sql, params = template.format(match=match, **_tables()), [*head, *indexes]
        cursor = connection.cursor()
    with cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# Bodies --------------------------------------------------------------------------------------
# Each result is '{"license_id":"…",' followed by one of these tails.

_BADGE_TAILS = {
    None: '"known":false,"badge":false}',
    False: '"known":true,"badge":false}',
    True: '"known":true,"badge":true}',
}
_UNKNOWN_SCORE = (
    '"known":false,"score":null,"credit_grade":null,"as_of":null,'
    '"rule_book_version":null,"components":null}'
)
_NO_SNAPSHOT = _UNKNOWN_SCORE.replace('"known":false', '"known":true')


def _body(license_ids: list[str], index_of: list[str], tails: dict, missing: str) -> bytes:
    get = tails.get
    rows = [
        '{"license_id":' + _json_str(license_id) + "," + get(index, missing)
        for license_id, index in zip(license_ids, index_of, strict=True)
    ]
    return ('{"results":[' + ",".join(rows) + "]}").encode("ascii")


def _badge_of(consent, state, category) -> bool:
    """The one badge rule (`drivers.services.badge_visible`) applied to the selected columns."""
    membership = None if state is None else SimpleNamespace(state=state, category=category)
    return badge_visible(SimpleNamespace(badge_consent=bool(consent), membership=membership))


_rules: dict[tuple, bool] = {}  # (consent, state, category) -> badge: a handful of entries


def badges_body(platform_id: int, license_ids: list[str]) -> bytes:
    """The JSON body {"results": [{"license_id", "known", "badge"}, …]} in request order."""
    index_of = blind_indexes(license_ids)
    unique = list(dict.fromkeys(index_of))
    tails = {}
    if unique:
        for index, consent, state, category in _query(_BADGE_SQL, [platform_id, True], unique):
            key = (bool(consent), state, category)
            badge = _rules.get(key)
            if badge is None:
                badge = _rules[key] = _badge_of(*key)
            tails[index] = _BADGE_TAILS[badge]
    return _body(license_ids, index_of, tails, _BADGE_TAILS[None])


def scores_body(platform_id: int, license_ids: list[str]) -> bytes:
    """The JSON body {"results": [{"license_id", "known", "score", "credit_grade", "as_of",
    "rule_book_version", "components"}, …]} in request order (docs/api.md)."""
    index_of = blind_indexes(license_ids)
    unique = list(dict.fromkeys(index_of))
    tails = {}
    if unique:
        today = local_date()
        for index, answer in _query(_SCORE_SQL, [platform_id, True, today], unique):
            # answer is the snapshot's '{"score":…}' object: its members follow "known".
            tails[index] = _NO_SNAPSHOT if answer is None else '"known":true,' + answer[1:]
    return _body(license_ids, index_of, tails, _UNKNOWN_SCORE)


def snapshot_json(*, score, credit_grade, day, rule_book_version, components) -> str:
    """A snapshot's look-up answer without "license_id" and "known", stored with the snapshot
    (`ScoreSnapshot.lookup_json`) because snapshots are written once a day and read at every
    look-up."""
    answer = {
        "score": float(score),
        "credit_grade": credit_grade,
        "as_of": day.isoformat(),
        "rule_book_version": int(rule_book_version),
        "components": components,
    }
    return json.dumps(answer, separators=(",", ":"))


def etag(body: bytes) -> str:
    """A strong ETag for a body (a hash of it: equal answers, equal tags)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags
