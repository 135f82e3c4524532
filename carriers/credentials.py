"""Carrier credentials at rest: Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`), with
keys from CARRIER_CREDENTIALS_KEYS, newest first (older keys still decrypt, so keys can be rotated:
`manage.py rotate_carrier_credentials` re-encrypts under the newest).

Without the variable (development, tests) the key is derived from SECRET_KEY, and
`manage.py check --deploy` warns (carriers.W001).
"""

import base64
import hashlib
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialsUnreadable(Exception):
    """The stored credentials do not decrypt with any key given: a key was changed without rotation."""


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = base64.urlsafe_b64encode(hashlib.sha256(b"sim-console carrier credentials|" + secret_key.encode()).digest())
        keys = (derived.decode(),)
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CARRIER_CREDENTIALS_KEYS), settings.SECRET_KEY)


def encrypt(credentials: dict[str, str]) -> str:
    return fernet().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(
            "The account's credentials cannot be decrypted with CARRIER_CREDENTIALS_KEYS: the key they were saved "
            "under is missing. Put it back (after the new one), or enter the credentials again."
        ) from None


def rotate(token: str) -> str:
    """The same credentials encrypted under the newest key."""
    return fernet().rotate(token.encode()).decode()
