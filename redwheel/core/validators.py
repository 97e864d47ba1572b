"""Validators for Chinese identity numbers, mobile numbers, plates, region codes and the one
rule for characters that no text field accepts (`reject_unsafe_text`)."""

import functools
import re

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

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
# (the table is read-only; every caller, ric.validate included, shares this one instance).
_CN_LOC = numdb.get("cn/loc")
_CN_LOC.info = functools.lru_cache(maxsize=8192)(_CN_LOC.info)


def clean_identity_number(value: str) -> str:
    """Return the normalised 18-character resident ID number or raise ValidationFailed."""
    try:
        return ric.validate(value)
    except InvalidChecksum as exc:
        raise ValidationFailed(
            _("The ID number's check digit is wrong."), code="bad_checksum"
        ) from exc
    except InvalidLength as exc:
        raise ValidationFailed(_("An ID number has 18 characters."), code="bad_length") from exc
    except InvalidComponent as exc:
        raise ValidationFailed(
            _("The ID number's birth date or region is not valid."), code="bad_component"
        ) from exc
    except InvalidFormat as exc:
        raise ValidationFailed(
            _("An ID number has 17 digits followed by a digit or X."), code="bad_format"
        ) from exc


def clean_mobile(value: str) -> str:
    """Return an 11-digit mainland mobile number or raise ValidationFailed."""
    raw = re.sub(r"[\s-]", "", value or "")
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(_("This is not a phone number."), code="bad_phone") from exc
    if (
        parsed.country_code != 86
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValidationFailed(
            _("This is not a valid mainland China mobile number."), code="bad_phone"
        )
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
    parts = numdb.get("cn/loc").info(code)
    if len(parts) < 2 or not parts[1][1]:
        raise ValidationFailed(
            _("%(code)s is not a GB/T 2260 region code.") % {"code": code}, code="bad_region"
        )
    return code


def region_name(code: str) -> str:
    parts = numdb.get("cn/loc").info(code)
    if len(parts) < 2 or not parts[1][1]:
        return code
    county = re.sub(r"^\[[^\]]*\]", "", parts[1][1].get("county", ""))
    province = parts[0][1].get("province", "")
    return county if county == province else f"{province}{county}"
