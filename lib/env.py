"""Strict parsers for settings read from environment variables.

A bad value stops start-up with a message that names the variable, what was
wrong and what would be accepted, instead of a confusing failure later.
"""

import os
import re
from collections.abc import Mapping
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# What an HTTP Authorization header may carry after "Bearer " (RFC 6750's b64token).
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_str(name: str, *, default: str | None = None) -> str | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip()


def env_secret(name: str, *, min_length: int) -> str:
    """A shared secret such as a bearer token: unset or empty means the feature is off ("")."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return ""
    value = raw.strip()
    if len(value) < min_length:
        raise ImproperlyConfigured(
            f"{name} is {len(value)} characters long: use at least {min_length} random ones "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))'), or leave it empty to turn it off."
        )
    if not _TOKEN68.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} holds characters a bearer token cannot carry: use letters, digits and - . _ ~ + / "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    return value


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be {minimum} or more.")
    return value


def env_removed(name: str, *, instead: str) -> None:
    """A variable that no longer exists: set, it would be ignored without a word, so start-up stops."""
    if os.environ.get(name, "").strip():
        raise ImproperlyConfigured(f"{name} is no longer read: set {instead} instead.")


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    items = [item.strip() for item in raw.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(
            f"{name}={raw!r} has an empty entry: give a comma-separated list "
            "such as 'console.example.com,localhost'."
        )
    return items


def env_database(name: str, *, default_sqlite_path: str) -> Mapping[str, Any]:
    """A DATABASES['default'] entry: SQLite (WAL) unless the variable names a server."""
    raw = env_str(name)
    if raw is None:
        return sqlite_database(default_sqlite_path)
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a database URL ({error}); use e.g. "
            "postgres://user:password@host:5432/dbname or sqlite:///path/db.sqlite3."
        ) from error
    engine = config.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return sqlite_database(config["NAME"])
    if not engine.endswith("postgresql"):
        raise ImproperlyConfigured(
            f"{name}={raw!r} names an engine SIM Console does not support; use postgres:// or sqlite://."
        )
    return config


def sqlite_database(path: str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # Keep connections (and SQLite's page cache) between requests, as for PostgreSQL.
        "CONN_MAX_AGE": 600,
        # A file, not shared-cache memory, so threaded tests see real WAL locking.
        "TEST": {"NAME": path.removesuffix(".sqlite3") + "-test.sqlite3"},
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two
            # writers queue instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-64000;"
            ),
        },
    }


# An HTTP header name as a reverse proxy sends it (RFC 9110 token characters, as proxies use them).
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """SECURE_PROXY_SSL_HEADER from a header name such as X-Forwarded-Proto: the request was HTTPS when it says https.

    Unset: the console trusts no proxy header (it would let any client claim HTTPS).
    """
    raw = env_str(name)
    if raw is None:
        return None
    if not _HEADER_NAME.fullmatch(raw):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a header name: give the header your reverse proxy sets to the request's "
            "scheme, such as X-Forwarded-Proto (and make the proxy overwrite any value a client sent)."
        )
    return "HTTP_" + raw.upper().replace("-", "_"), "https"


def env_origins(name: str) -> list[str]:
    """CSRF_TRUSTED_ORIGINS: full origins, scheme included (https://console.example.com)."""
    origins = env_list(name, default=[])
    for origin in origins:
        if not re.fullmatch(r"https?://[^/\s]+", origin):
            raise ImproperlyConfigured(
                f"{name} has {origin!r}: give origins with their scheme and no path, "
                "such as https://console.example.com,https://*.example.com."
            )
    return origins


def env_base_url(name: str, *, default: str) -> str:
    """The address people reach the console at, for links in emails: scheme, host, optional port and
    path, no trailing slash (https://console.example.com)."""
    value = (env_str(name) or default).rstrip("/")
    if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", value):
        raise ImproperlyConfigured(
            f"{name} is {value!r}: give the console's address with its scheme, such as https://console.example.com."
        )
    return value
