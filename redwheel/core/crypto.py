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
from django.core import checks
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


def blind_index(value: str, key: str | None = None) -> str:
    """The blind index of `value` under `key` (default: the current PII_BLIND_INDEX_KEY)."""
    normalised = value.strip().upper()
    key = settings.PII_BLIND_INDEX_KEY if key is None else key
    digest = hmac.new(key.encode(), normalised.encode(), hashlib.sha256).digest()
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


class BlindIndexField(models.CharField):
    """A blind index column (`blind_index` of a normalised number), found by its type so that
    key rotation (`manage.py rotate_pii_keys --reindex`) cannot forget a table.

    `source` names the EncryptedTextField on the same model whose plaintext it indexes; rotation
    recomputes it from that plaintext. Tables that keep only the index (exchange facts about a
    licence) leave `source` empty and give the `kind` of number instead: rotation maps their old
    index to the new one through every stored plaintext of that kind (the `source` fields).
    Neither attribute touches the schema, so swapping a CharField for this field is a state-only
    migration.
    """

    non_db_attrs = (*models.CharField.non_db_attrs, "source", "kind")

    def __init__(self, *args, source: str = "", kind: str = "", **kwargs):
        kwargs.setdefault("max_length", 40)
        self.source = source
        self.kind = kind or source
        super().__init__(*args, **kwargs)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not self.kind:
            errors.append(checks.Error("BlindIndexField needs a source or a kind.", obj=self))
        return errors

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.source:
            kwargs["source"] = self.source
        if self.kind != self.source:
            kwargs["kind"] = self.kind
        return name, path, args, kwargs


def mask_phone(phone: str) -> str:
    digits = phone.removeprefix("+86")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_identity(number: str) -> str:
    if len(number) <= 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"
