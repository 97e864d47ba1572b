"""Encryption at rest and blind indexes for sensitive personal data.

Values are encrypted with Fernet (AES-128-CBC + HMAC). `PII_ENCRYPTION_KEYS` may hold several
keys: the first encrypts, all decrypt, which is how keys are rotated. Exact-match search uses a
keyed HMAC of the normalised value (a blind index), so the database never sees the plaintext.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PII_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a key was removed before rotation finished
        raise ValueError("cannot decrypt personal data with the configured keys") from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


def blind_index(value: str) -> str:
    normalised = value.strip().upper()
    digest = hmac.new(
        settings.PII_BLIND_INDEX_KEY.encode(), normalised.encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest[:20]).decode().rstrip("=").lower()


def generate_key() -> str:
    return Fernet.generate_key().decode()


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees plaintext. Not searchable: use a blind index."""

    def from_db_value(self, value, expression, connection):
        return None if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)


def mask_phone(phone: str) -> str:
    digits = phone.removeprefix("+86")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_identity(number: str) -> str:
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
