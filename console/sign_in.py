"""Sign-in limits: after too many failed sign-ins for one username, or from one client address, within
a window, further attempts are refused until the window closes, with a message saying when.

The first attempt opens the window. Each attempt is counted, in the database and atomically, before its
password is checked: parallel guesses all racing the hash cannot pass the limit. Nothing here reveals
whether an account exists: a username that exists and one that does not count and lock alike, and a
locked attempt never checks the password. A successful sign-in clears its username's count and gives
back its own place in its address's, never more (else an attacker with an account of their own could
clear the count between guesses at others'). The password change form's check of the current password
counts against the same limits.
"""

import hashlib
import ipaddress
import math
import time
import unicodedata
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from console.attempts import attempts_in_window, clear_attempts, give_back_attempt, take_attempt

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
    """(key, allowed attempts) for the username and, when there is a request, the client's address."""
    normal = unicodedata.normalize("NFKC", username).strip().casefold()
    limits = [(f"sign-in:user:{_digest(normal)}", settings.SIGN_IN_FAILURES_PER_USERNAME)]
    if request is not None:
        limits.append((f"sign-in:address:{_digest(client_address(request))}", settings.SIGN_IN_FAILURES_PER_ADDRESS))
    return limits


def refused_until(*, request: HttpRequest | None, username: str) -> float | None:
    """When sign-ins for this username from this client may be tried again (a Unix time), or None: now."""
    until = None
    for key, allowed in _limits(request, username):
        count, closes = attempts_in_window(key)
        if closes is not None and count >= allowed:
            until = max(until or 0.0, closes)
    return until


class Attempt:
    """One check of a password under the sign-in limits. It is counted before the password is checked
    (`begin`), so parallel guesses cannot all pass the limit while their hashes run; a success then
    clears its username's count and gives back its address's place."""

    def __init__(self, *, request: HttpRequest | None, username: str) -> None:
        self.limits = _limits(request, username)
        self.reached: float | None = None

    def begin(self) -> float | None:
        """Count this attempt against each limit; if one is used up already, count none and return when to try again."""
        window = settings.SIGN_IN_WINDOW_MINUTES * 60
        counted: list[str] = []
        for key, allowed in self.limits:
            taken, attempts, closes = take_attempt(key, allowed=allowed, window_seconds=window)
            if not taken:
                for earlier in counted:
                    give_back_attempt(earlier)
                return closes
            counted.append(key)
            if attempts >= allowed:
                self.reached = max(self.reached or 0.0, closes)
        return None

    def failed(self) -> float | None:
        """When to try again, if this failure used up a limit."""
        return self.reached

    def succeeded(self) -> None:
        (user_key, _allowed), *others = self.limits
        clear_attempts(user_key)
        for key, _allowed in others:
            give_back_attempt(key)


def limited_message(until: float, *, what: str = "failed sign-ins for this username") -> str:
    minutes = max(1, math.ceil((until - time.time()) / 60))
    at = datetime.fromtimestamp(until, tz=UTC).strftime("%H:%M UTC")
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many {what} or from your network. Try again in {wait} (at {at})."


class SignInLimitsMixin(AuthenticationForm):
    """For an AuthenticationForm: refuse while limited, count each attempt before its password is checked."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()
        attempt = Attempt(request=self.request, username=username)
        if until := attempt.begin():
            raise ValidationError(limited_message(until), code=LIMITED)
        try:
            cleaned = super().clean()
        except ValidationError:
            if until := attempt.failed():
                raise ValidationError(limited_message(until), code=LIMITED) from None
            raise
        attempt.succeeded()
        return cleaned


class SignInForm(SignInLimitsMixin, AuthenticationForm):
    pass


class AdminSignInForm(SignInLimitsMixin, AdminAuthenticationForm):
    pass


class LimitedPasswordChangeForm(PasswordChangeForm):
    """Django's password change, its current password checked under the sign-in limits of the account
    and the address: a stolen session cannot guess it without limit."""

    def __init__(self, user, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        attempt = Attempt(request=self.request, username=self.user.get_username())
        what = "wrong passwords for this account"
        if until := attempt.begin():
            raise ValidationError(limited_message(until, what=what), code=LIMITED)
        try:
            old_password = super().clean_old_password()
        except ValidationError:
            if until := attempt.failed():
                raise ValidationError(limited_message(until, what=what), code=LIMITED) from None
            raise
        attempt.succeeded()
        return old_password
