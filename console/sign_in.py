"""Sign-in limits: after too many failed sign-ins for one username, or from one client address, within
a window, further attempts are refused until the window closes, with a message saying when.

The first failure opens the window. Nothing here reveals whether an account exists: a username that
exists and one that does not count and lock alike, and a locked attempt never checks the password.
A successful sign-in clears its username's failures, never its address's (else an attacker with an
account of their own could clear the count between guesses at others').
"""

import hashlib
import ipaddress
import math
import time
import unicodedata
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from console import rate_limit

LIMITED = "sign_in_limited"


def client_address(request: HttpRequest) -> str:
    """The client's address: TRUSTED_PROXY_COUNT entries from the right of X-Forwarded-For behind proxies.

    An IPv6 client counts as its /64, the block one subscriber is usually given.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and forwarded:
        address = forwarded[-min(proxies, len(forwarded))]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _limits(request: HttpRequest | None, username: str) -> list[tuple[str, int]]:
    """(cache key, allowed failures) for the username and, when there is a request, the client's address."""
    normal = unicodedata.normalize("NFKC", username).strip().casefold()
    limits = [(f"sign-in:user:{_digest(normal)}", settings.SIGN_IN_FAILURES_PER_USERNAME)]
    if request is not None:
        limits.append((f"sign-in:address:{_digest(client_address(request))}", settings.SIGN_IN_FAILURES_PER_ADDRESS))
    return limits


def refused_until(*, request: HttpRequest | None, username: str) -> float | None:
    """When sign-ins for this username from this client may be tried again (a Unix time), or None: now."""
    until = None
    for key, allowed in _limits(request, username):
        count, closes = rate_limit.failures(key)
        if closes is not None and count >= allowed and closes > time.time():
            until = max(until or 0.0, closes)
    return until


def record_failure(*, request: HttpRequest | None, username: str) -> float | None:
    """Count a failed sign-in; returns when to try again if this failure used up a limit."""
    window = settings.SIGN_IN_WINDOW_MINUTES * 60
    until = None
    for key, allowed in _limits(request, username):
        count, closes = rate_limit.record_failure(key, window_seconds=window)
        if count >= allowed:
            until = max(until or 0.0, closes)
    return until


def record_success(*, username: str) -> None:
    user_key, _allowed = _limits(None, username)[0]
    rate_limit.clear_failures(user_key)


def limited_message(until: float) -> str:
    minutes = max(1, math.ceil((until - time.time()) / 60))
    at = datetime.fromtimestamp(until, tz=UTC).strftime("%H:%M UTC")
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return (
        f"Too many failed sign-ins for this username or from your network. "
        f"Try again in {wait} (at {at})."
    )


class SignInLimitsMixin:
    """For an AuthenticationForm: refuse while limited, count failures, clear on success."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()
        if until := refused_until(request=self.request, username=username):
            raise ValidationError(limited_message(until), code=LIMITED)
        try:
            cleaned = super().clean()
        except ValidationError:
            if until := record_failure(request=self.request, username=username):
                raise ValidationError(limited_message(until), code=LIMITED) from None
            raise
        record_success(username=username)
        return cleaned


class SignInForm(SignInLimitsMixin, AuthenticationForm):
    pass


class AdminSignInForm(SignInLimitsMixin, AdminAuthenticationForm):
    pass
