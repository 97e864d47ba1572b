"""Per-record validation of exchange records, in plain Python for speed.

`validate_batch(record_type, records, company_id)` returns the cleaned records (with their
index in the batch) and the rejections, one per rejected record: its index, the first field
that failed, a stable code and a plain message in Chinese and English. The specs in
`records.py` are compiled once into checker functions; caches keep repeated values (licence
numbers, times) cheap, and a batch's datum conversions run at once (`coords.to_wgs84_many`).

Rejection codes and their messages in Chinese and English: `rejection_codes.py`.
"""

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.utils.timezone import localdate

from redwheel.core import crypto
from redwheel.core.errors import ValidationFailed
from redwheel.core.validators import (
    clean_plate,
    has_unsafe_text,
    identity_problem,
    is_region_code,
    mobile_number,
    strip_unsafe_text,
)
from redwheel.exchange import coords
from redwheel.exchange.records import (
    CHINA_LAT_MICRO,
    CHINA_LNG_MICRO,
    COORDINATE_PAIRS,
    PRICE_IDENTITIES,
    PRICE_TOLERANCE_YUAN,
    SPECS,
    TIME_ORDER,
    Field,
)
from redwheel.exchange.rejection_codes import messages


class Bad(Exception):
    def __init__(self, code: str):
        self.code = code


# Values ------------------------------------------------------------------------------------

_SHANGHAI = timezone(timedelta(hours=8))  # no DST in China since 1991; years < 2000 refused
_MIN_UNIX, _MAX_UNIX = 946684800, 4102444800  # 2000-01-01 .. 2100-01-01
_VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
# Tuples, not `str | int` unions: a union in a function body is built anew on every call, and
# these checks run for every field of every record.
_INT_FLOAT = (int, float)
_STR_INT = (str, int)
_SCALAR = (str, int, float)


def _digits(value, n: int, code: str) -> str:
    if isinstance(value, bool):
        raise Bad(code)
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise Bad(code)
    value = value.strip()
    if len(value) != n or not value.isascii() or not value.isdigit():
        raise Bad(code)
    return value


@lru_cache(maxsize=200_000)
def _f14(text: str) -> datetime:
    try:
        local = datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
            tzinfo=_SHANGHAI,
        )
    except ValueError:
        raise Bad("bad_time") from None
    if not 2000 <= local.year < 2100:
        raise Bad("bad_time")
    return local.astimezone(UTC)


@lru_cache(maxsize=20_000)
def _f8(text: str) -> date:
    try:
        day = date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise Bad("bad_date") from None
    if not 1900 <= day.year < 2100:
        raise Bad("bad_date")
    return day


def _int(value) -> int:
    if isinstance(value, bool):
        raise Bad("bad_type")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise Bad("bad_number")
    if isinstance(value, str):
        text = value.strip()
        if 0 < len(text) <= 20 and text.lstrip("-").isascii() and text.lstrip("-").isdigit():
            return int(text)
        raise Bad("bad_number")
    raise Bad("bad_type")


def _float(value) -> float:
    if isinstance(value, bool):
        raise Bad("bad_type")
    if isinstance(value, _INT_FLOAT):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 32:
        try:
            number = float(value.strip())
        except ValueError:
            raise Bad("bad_number") from None
    else:
        raise Bad("bad_type")
    if not math.isfinite(number):
        raise Bad("bad_number")
    return number


def license_ok(text: str, today: date | None = None) -> bool:
    """The kernel's identity rule (`core.validators.identity_problem`) as a yes/no."""
    if today is None:
        return identity_problem(text) is None
    return _license_ok(text, today)


# A feed names the same few thousand drivers batch after batch: remember the answer across
# batches. `today` is part of the key because a birth date may not lie in the future.
@lru_cache(maxsize=100_000)
def _license_ok(text: str, today: date) -> bool:
    return identity_problem(text, today) is None


def _compile(field: Field):
    kind = field.kind
    if kind == "str":
        max_len = field.max_len

        def check(value, memo):
            if value.__class__ is str:  # the usual case first: `bool` is an `int` too
                text = value
            elif isinstance(value, bool) or not isinstance(value, _SCALAR):
                raise Bad("bad_type")
            else:
                text = value if isinstance(value, str) else str(value)
            if len(text) > max_len:
                raise Bad("too_long")
            return text.strip()

    elif kind == "int" or kind == "num" or kind == "money":
        lo, hi = field.lo, field.hi

        def check(value, memo):
            if kind == "int":
                number = value if value.__class__ is int else _int(value)
            else:
                number = _float(value)
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                raise Bad("bad_number")
            if kind == "money":
                try:
                    return Decimal(repr(number)).quantize(Decimal("0.01"))
                except InvalidOperation:
                    raise Bad("bad_number") from None
            return number

    elif kind == "code":
        choices = frozenset(field.choices)

        def check(value, memo):
            if value.__class__ is int:
                code = value
            else:
                try:
                    code = _int(value)
                except Bad:
                    raise Bad("bad_code") from None
            if code not in choices:
                raise Bad("bad_code")
            return code

    elif kind == "time14":

        def check(value, memo):
            return _f14(_digits(value, 14, "bad_time"))

    elif kind == "date8":

        def check(value, memo):
            return _f8(_digits(value, 8, "bad_date"))

    elif kind == "month6":

        def check(value, memo):
            text = _digits(value, 6, "bad_month")
            month = int(text[4:6])
            if not 1 <= month <= 12 or not 2000 <= int(text[:4]) < 2100:
                raise Bad("bad_month")
            return date(int(text[:4]), month, 1)

    elif kind == "hhmm":

        def check(value, memo):
            text = _digits(value, 4, "bad_clock")
            if int(text[:2]) > 23 or int(text[2:]) > 59:
                raise Bad("bad_clock")
            return text

    elif kind == "unix":

        def check(value, memo):
            try:
                seconds = _int(value)
            except Bad:
                raise Bad("bad_time") from None
            if not _MIN_UNIX <= seconds < _MAX_UNIX:
                raise Bad("bad_time")
            return datetime.fromtimestamp(seconds, UTC)

    elif kind in ("lng", "lat"):
        limit = 180_000_000 if kind == "lng" else 90_000_000

        def check(value, memo):
            if value.__class__ is int:
                micro = value
            else:
                try:
                    micro = _int(value)
                except Bad:
                    raise Bad("bad_coordinate") from None
            if not -limit <= micro <= limit:
                raise Bad("bad_coordinate")
            return micro

    elif kind == "license":

        def check(value, memo):
            if not isinstance(value, str):
                raise Bad("bad_license")
            text = value.strip().upper()
            today = memo.get("__today__")
            if today is None:
                today = memo["__today__"] = localdate()
            if not _license_ok(text, today):
                raise Bad("bad_license")
            return text

    elif kind == "phone":

        def check(value, memo):
            if isinstance(value, bool) or not isinstance(value, _STR_INT):
                raise Bad("bad_phone")
            national = mobile_number(re.sub(r"[\s-]", "", str(value)))
            if national is None:
                raise Bad("bad_phone")
            return national

    elif kind == "plate":

        def check(value, memo):
            if not isinstance(value, str) or len(value) > 16:
                raise Bad("bad_plate")
            try:
                return clean_plate(value)[0]
            except ValidationFailed:
                raise Bad("bad_plate") from None

    elif kind == "region":

        def check(value, memo):
            text = _digits(value, 6, "bad_region")
            if not is_region_code(text):
                raise Bad("bad_region")
            return text

    elif kind == "vin":

        def check(value, memo):
            if not isinstance(value, str) or not _VIN_RE.match(value.strip().upper()):
                raise Bad("bad_vin")
            return value.strip().upper()

    elif kind == "company":

        def check(value, memo):
            if value.__class__ is str:
                text = value.strip()
            elif not isinstance(value, _STR_INT) or isinstance(value, bool):
                raise Bad("bad_type")
            else:
                text = str(value).strip()
            if text != memo["__company__"]:
                raise Bad("foreign_company")
            return text

    else:  # pragma: no cover - a spec typo
        raise ValueError(f"unknown field kind {kind!r}")
    return check


@dataclass(frozen=True)
class CompiledSpec:
    fields: tuple  # ((name, check, required), ...)
    pairs: tuple
    has_encrypt: bool
    time_order: tuple = ()  # ((earlier, later, timedelta tolerance, code), ...)
    prices: tuple = ()  # records.PRICE_IDENTITIES, for record types with FactPrice


@lru_cache(maxsize=64)
def compiled(record_type: str) -> CompiledSpec:
    spec = SPECS[record_type]
    fields = tuple((name, _compile(f), f.required) for name, f in spec.items())
    order = tuple(
        (earlier, later, timedelta(seconds=tolerance), code)
        for earlier, later, tolerance, code in TIME_ORDER.get(record_type, ())
    )
    prices = PRICE_IDENTITIES if "FactPrice" in spec else ()
    return CompiledSpec(
        fields, COORDINATE_PAIRS.get(record_type, ()), "Encrypt" in spec, order, prices
    )


_PRICE_TOLERANCE = Decimal(PRICE_TOLERANCE_YUAN)


def _check_cross_fields(spec: CompiledSpec, out: dict) -> None:
    """The rules between fields of one record; raise Bad naming the field that breaks one."""
    for earlier, later, tolerance, code in spec.time_order:
        start, end = out.get(earlier), out.get(later)
        if (
            start is not None
            and end is not None
            and end < (start - tolerance if tolerance else start)
        ):
            raise _bad(code, later)
    fact = out.get("FactPrice")
    if fact is not None:
        for plus, minus in spec.prices:
            if not all(name in out for name in plus) or not all(name in out for name in minus):
                continue
            expected = sum(out[name] for name in plus) - sum(out[name] for name in minus)
            if abs(fact - expected) > _PRICE_TOLERANCE:
                raise _bad("price_mismatch", "FactPrice")


def clean_record(spec: CompiledSpec, record, memo: dict) -> dict:
    """The cleaned record, or raise Bad with `.field` set."""
    pending: list = []
    out = _clean(spec, record, memo, pending)
    for _out, lng_name, lat_name, lng, lat, encrypt in pending:
        out[lng_name], out[lat_name] = coords.to_wgs84(lng, lat, encrypt)
    return out


_CONVERTED_DATUMS = frozenset({coords.ENCRYPT_GCJ02, coords.ENCRYPT_BD09})


def _clean(spec: CompiledSpec, record, memo: dict, pending: list) -> dict:
    """`clean_record`, except that coordinate pairs needing a datum conversion are appended to
    `pending` as (out, longitude field, latitude field, lng°, lat°, Encrypt) for the caller to
    convert, so that a batch converts all of them at once (`coords.to_wgs84_many`)."""
    if not isinstance(record, dict):
        raise _bad("not_object", "")
    out = {}
    get = record.get
    for name, check, required in spec.fields:
        value = get(name)
        if value is None:
            if required:
                raise _bad("required", name)
            continue
        if isinstance(value, str):
            # Before the emptiness test: str.strip() takes \x1c-\x1f for blanks. Every kind
            # of field, so that what cannot be stored is named as such (core.validators).
            # Controls and surrogates are never printable, so a printable text (the usual
            # case) needs no search.
            if not value.isprintable() and has_unsafe_text(value):
                raise _bad("unsafe_text", name)
            if not value.strip():
                if required:
                    raise _bad("required", name)
                continue
        try:
            out[name] = check(value, memo)
        except Bad as exc:
            exc.field = name
            raise
    if spec.time_order or spec.prices:
        _check_cross_fields(spec, out)
    if not spec.pairs:
        return out
    conversions = []
    for lng_name, lat_name in spec.pairs:
        lng, lat = out.get(lng_name), out.get(lat_name)
        if lng is None and lat is None:
            continue
        if lng is None or lat is None:
            raise _bad("required", lng_name if lng is None else lat_name)
        if spec.has_encrypt and "Encrypt" not in out:
            raise _bad("required", "Encrypt")
        if not CHINA_LNG_MICRO[0] <= lng <= CHINA_LNG_MICRO[1]:
            raise _bad("outside_china", lng_name)
        if not CHINA_LAT_MICRO[0] <= lat <= CHINA_LAT_MICRO[1]:
            raise _bad("outside_china", lat_name)
        encrypt = out.get("Encrypt")
        if encrypt in _CONVERTED_DATUMS:
            conversions.append((out, lng_name, lat_name, lng / 1e6, lat / 1e6, encrypt))
        else:
            out[lng_name], out[lat_name] = coords.to_wgs84(lng / 1e6, lat / 1e6, encrypt)
    # Only once the record has passed every rule, so a rejected one costs no conversion.
    pending.extend(conversions)
    return out


def _bad(code: str, field: str) -> Bad:
    exc = Bad(code)
    exc.field = field
    return exc


def rejection(index: int, field: str, code: str, record=None) -> dict:
    message, zh, en = messages(code)
    return {
        "index": index,
        "field": field,
        "code": code,
        "message": message,
        "message_zh": zh,
        "message_en": en,
        "excerpt": excerpt(record),
    }


_MASK_IDENTITY = frozenset({"LicenseId", "CertificateNo"})


def excerpt(record, limit: int = 40) -> dict:
    """A small copy of a record for the rejection log, with licence and phone numbers masked."""
    if not isinstance(record, dict):
        return {"value": _short(record)}
    out = {}
    for key, value in list(record.items())[:limit]:
        key = strip_unsafe_text(str(key)[:40])
        text = _short(value)
        if key in _MASK_IDENTITY:
            text = crypto.mask_identity(text)
        elif "phone" in key.lower():
            text = crypto.mask_phone(text)
        out[key] = text
    return out


def _short(value, n: int = 100) -> str:
    if isinstance(value, dict | list):  # never repr a (possibly huge or deep) structure
        return f"<{type(value).__name__} of {len(value)}>"
    text = value if isinstance(value, str) else repr(value)
    # NUL and lone surrogates cannot be stored in PostgreSQL text or jsonb (nor surrogates in
    # SQLite): the excerpt only shows what was refused, so it drops them.
    return strip_unsafe_text(text[:n])


def validate_batch(record_type: str, records: list, company_id: str):
    """([(index, cleaned), ...], [rejection, ...]) for one batch."""
    spec = compiled(record_type)
    memo = {"__company__": company_id, "__today__": localdate()}
    valid, rejected = [], []
    pending: list = []
    for index, record in enumerate(records):
        try:
            valid.append((index, _clean(spec, record, memo, pending)))
        except Bad as exc:
            rejected.append(rejection(index, getattr(exc, "field", ""), exc.code, record))
    if pending:
        converted = coords.to_wgs84_many(
            [p[3] for p in pending], [p[4] for p in pending], [p[5] for p in pending]
        )
        for (out, lng_name, lat_name, *_), (lng, lat) in zip(pending, converted, strict=True):
            out[lng_name] = lng
            out[lat_name] = lat
    return valid, rejected
