"""Validators for Chinese identity numbers, mobile numbers, plates, region codes and the one
rule for characters that no text field accepts (`reject_unsafe_text`)."""

import functools
import re
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import numdb
from stdnum.iso7064 import mod_11_2

from redwheel.core.errors import ValidationFailed

# The one character rule for every text field on every input path (forms, API schemas,
# exchange records, roster imports). NUL is refused by PostgreSQL text columns, a lone UTF-16
# surrogate cannot be encoded as UTF-8 (so neither database can store it), and the other C0
# controls are invisible garbage that breaks exports and XML. Tab, newline and carriage return
# are ordinary in multi-line text and pasted cells, so they stay allowed.
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
UNSAFE_TEXT_CODE = "unsafe_text"
UNSAFE_TEXT_MESSAGE = gettext_lazy(
    "The text contains a control character or an invalid character (such as NUL)."
)


def has_unsafe_text(value: str) -> bool:
    return _UNSAFE_TEXT.search(value) is not None


def contains_unsafe_text(value) -> bool:
    """`has_unsafe_text` for a str, or any str inside (keys included) a dict, list or set."""
    if isinstance(value, str):
        return has_unsafe_text(value)
    if isinstance(value, dict):
        return any(contains_unsafe_text(k) or contains_unsafe_text(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_unsafe_text(item) for item in value)
    return False


def reject_unsafe_text(value: str) -> str:
    """Return `value` unchanged, or raise ValidationFailed(code="unsafe_text")."""
    if has_unsafe_text(value):
        raise ValidationFailed(UNSAFE_TEXT_MESSAGE, code=UNSAFE_TEXT_CODE)
    return value


def validate_safe_text(value) -> None:
    """`reject_unsafe_text` as a Django validator (forms, model fields; JSON values too)."""
    if contains_unsafe_text(value):
        raise DjangoValidationError(UNSAFE_TEXT_MESSAGE, code=UNSAFE_TEXT_CODE)


def strip_unsafe_text(value: str) -> str:
    """Drop the unsafe characters: only for echoing refused input back (logs, excerpts)."""
    return _UNSAFE_TEXT.sub("", value)


PROVINCE_ABBREVIATIONS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Ordinary plates: province + issuing-office letter + 5 letters/digits (I and O are never used).
# New-energy plates have 8 characters: small cars put the energy letter (D, F, or A–K in the
# newer series) first, large vehicles put it last.
_PLATE_LETTERS = "A-HJ-NP-Z"
_ORDINARY_PLATE = re.compile(
    rf"^[{PROVINCE_ABBREVIATIONS}][A-Z][{_PLATE_LETTERS}0-9]{{4}}[{_PLATE_LETTERS}0-9挂学警港澳]$"
)
_NEW_ENERGY_PLATE = re.compile(
    rf"^[{PROVINCE_ABBREVIATIONS}][A-Z](?:[A-HJK][{_PLATE_LETTERS}0-9][0-9]{{4}}|[0-9]{{5}}[A-HJK])$"
)


# python-stdnum scans its region table linearly on every look-up (~0.3 ms). Roster imports check
# tens of thousands of numbers that share a few hundred region codes, so memoise the look-up
# (the table is read-only; every caller shares this one instance).
_CN_LOC = numdb.get("cn/loc")
_CN_LOC.info = functools.lru_cache(maxsize=8192)(_CN_LOC.info)


# Rejection codes of `identity_problem`, in the order they are checked, with their messages.
IDENTITY_MESSAGES = {
    "bad_length": gettext_lazy("An ID number has 18 characters."),
    "bad_format": gettext_lazy("An ID number has 17 digits followed by a digit or X."),
    "bad_id_region": gettext_lazy(
        "The first six digits of the ID number are not a GB/T 2260 region code of any time."
    ),
    "bad_birth_date": gettext_lazy(
        "The ID number's birth date is not a real date between 1900 and today."
    ),
    "bad_checksum": gettext_lazy("The ID number's check digit is wrong."),
}
_IDENTITY_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def is_region_code(code: str) -> bool:
    """True for a six-digit GB/T 2260 code of any era, current or retired."""
    parts = _CN_LOC.info(code)
    return len(parts) >= 2 and bool(parts[1][1])


def identity_problem(value: str, today: date | None = None) -> str | None:
    """The rejection code of a resident ID number, or None when it is valid.

    Not python-stdnum's `cn.ric`: that treats the region as the birthplace and requires the
    code to exist on the birth date, but a number carries the region where it was issued, so
    a county created (or renamed) after the holder's birth is ordinary. The region is accepted
    if it is a code of any era; the birth date must be real, from 1900 up to today.
    """
    number = (value or "").strip().upper()
    if len(number) != 18:
        return "bad_length"
    if not number.isascii() or not _IDENTITY_SHAPE.match(number):
        return "bad_format"
    if not is_region_code(number[:6]):
        return "bad_id_region"
    if not _birth_date_ok(number[6:14], today or timezone.localdate()):
        return "bad_birth_date"
    if not mod_11_2.is_valid(number):
        return "bad_checksum"
    return None


@functools.lru_cache(maxsize=65536)
def _birth_date_ok(text: str, today: date) -> bool:
    try:
        born = date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= today


def clean_identity_number(value: str) -> str:
    """Return the normalised 18-character resident ID number or raise ValidationFailed with
    one of the codes of `IDENTITY_MESSAGES`."""
    code = identity_problem(value)
    if code is not None:
        raise ValidationFailed(IDENTITY_MESSAGES[code], code=code)
    return value.strip().upper()


def clean_mobile(value: str) -> str:
    """Return an 11-digit mainland mobile number or raise ValidationFailed."""
    raw = re.sub(r"[\s-]", "", value or "")
    national = mobile_number(raw)
    if national is None:
        raise ValidationFailed(
            _("This is not a valid mainland China mobile number."), code="bad_phone"
        )
    return national


@functools.lru_cache(maxsize=65536)
def mobile_number(raw: str) -> str | None:
    """The one phone rule (phonenumbers' metadata for mainland mobiles): the 11-digit national
    number, or None. `raw` may carry +86; spaces and dashes are the caller's to strip."""
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if (
        parsed.country_code != 86
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE
    ):
        return None
    return str(parsed.national_number)


def clean_plate(value: str) -> tuple[str, bool]:
    """Return (normalised plate, is_new_energy) or raise ValidationFailed."""
    plate = re.sub(r"[\s·•.-]", "", value or "").upper()
    if len(plate) == 8 and _NEW_ENERGY_PLATE.match(plate):
        return plate, True
    if len(plate) == 7 and _ORDINARY_PLATE.match(plate):
        return plate, False
    raise ValidationFailed(
        _("Plate numbers look like 川A12345, or 川AD12345 for new-energy vehicles."),
        code="bad_plate",
    )


def clean_region_code(value: str) -> str:
    code = (value or "").strip()
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationFailed(_("A region code has six digits (GB/T 2260)."), code="bad_region")
    if not is_region_code(code):
        raise ValidationFailed(
            _("%(code)s is not a GB/T 2260 region code.") % {"code": code}, code="bad_region"
        )
    return code


def region_name(code: str) -> str:
    parts = _CN_LOC.info(code)
    if len(parts) < 2 or not parts[1][1]:
        return code
    county = re.sub(r"^\[[^\]]*\]", "", parts[1][1].get("county", ""))
    province = parts[0][1].get("province", "")
    return county if county == province else f"{province}{county}"
