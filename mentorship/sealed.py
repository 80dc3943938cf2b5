"""Secrets we must keep but never show: sealed with Fernet (AES and an HMAC) under CALENDAR_SECRET_KEYS.

The first key seals; every key opens, so a new key goes first and the old one stays until
`manage.py reseal_calendars` has sealed everything again under the new one.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class Unreadable(Exception):
    """Sealed under a key we no longer have."""


def _box() -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in settings.CALENDAR_SECRET_KEYS if key.strip()])


def seal(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken:
        raise Unreadable("Sealed under a key that is not in CALENDAR_SECRET_KEYS.") from None


def reseal(token: str) -> str:
    """The same secret sealed under the first key."""
    return _box().rotate(token.encode()).decode()
