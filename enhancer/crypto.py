"""Secrets at rest: team API keys and webhook secrets, encrypted with MultiFernet.

FIELD_ENCRYPTION_KEYS lists Fernet keys, comma-separated: the first encrypts, all decrypt, so a
key is rotated by putting a new one first and running `manage.py rotate_secrets`.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key.

    Raised, never swallowed: reading it as an empty key would silently send no key at all.
    """


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored secret could not be decrypted: FIELD_ENCRYPTION_KEYS does not hold the "
            "key it was encrypted with."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt under the first key (fails loudly like decrypt)."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("A stored secret could not be decrypted for rotation.") from exc


class EncryptedTextField(models.TextField):
    """Holds ciphertext in the database and plaintext in Python; empty stays empty."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
