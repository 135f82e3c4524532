"""Who is calling the API and what they may reach: shared by both dialects.

A token acts for one product (or its creator's own SIMs) with some scopes. Asking for another
product answers 403 when the token's creator could see that product in the console, and 404 when
not: the API leaks no more than the console does.

Requests are rate-limited per token: API_RATE_LIMIT in each window of API_RATE_LIMIT_WINDOW_SECONDS,
by default Particle's 10,000 in 5 minutes, so a script written for Particle's or emnify's limits
(emnify's are lower) is never refused here: neither client handles a 429. Every answer to a counted
request says where the token stands in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (the Unix time the window closes, as GitHub's API); a 429 adds `Retry-After`.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from api.models import ApiToken
from api.tokens import find_token
from lib.rate_limit import Window, hit
from products.models import Membership, Product
from sims.lifecycle import Actor

SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class ApiError(Exception):
    """An answer other than success; each dialect renders it in its own error shape."""

    def __init__(self, status: int, message: str, *, code: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}


@dataclass(frozen=True)
class Caller:
    token: ApiToken
    rate: Window

    @property
    def actor(self) -> Actor:
        return Actor.for_token(self.token.actor_name, user=self.token.user)

    def require(self, scope: str) -> None:
        if scope not in self.token.scopes:
            raise ApiError(403, f"This token lacks the scope {scope}: create a token with it on the Tokens page.", code="forbidden")

    def product(self, key: str) -> Product:
        """The product named by id or slug, if it is the token's."""
        product = self.token.product
        if product is not None and key in (str(product.pk), product.slug):
            return product
        if not SLUG.fullmatch(key):
            # Not an id or a slug (a NUL byte in it would even make PostgreSQL refuse the query).
            raise ApiError(404, "There is no such product, or it is not yours.", code="not_found")
        lookup = {"pk": int(key)} if key.isdigit() else {"slug": key}
        if Membership.objects.products_of(self.token.user).filter(**{f"product__{k}": v for k, v in lookup.items()}).exists():
            raise ApiError(403, "This token acts for another product: use a token of this product.", code="forbidden")
        raise ApiError(404, "There is no such product, or it is not yours.", code="not_found")

    def require_admin(self, product: Product) -> None:
        """Changes to a product's settings (its rules) are for its admins: the token's creator must be one now."""
        if not Membership.objects.filter(user=self.token.user_id, product=product, role=Membership.Role.ADMIN).exists():
            raise ApiError(403, "Only a product admin can do this: the token's creator is a member, not an admin. Ask an admin of the product.", code="forbidden")

    def own_sims(self) -> None:
        if self.token.product_id is not None:
            raise ApiError(403, "This token acts for a product: use a token for your own SIMs.", code="forbidden")


def bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def caller_for_secret(secret: str) -> Caller:
    return caller_for_token(find_token(secret) if secret else None)


def caller_for_token(token: ApiToken | None) -> Caller:
    """The caller of a live token (None: 401), once the shared per-token rate limit lets it in."""
    if token is None:
        raise ApiError(401, "The access token is missing, wrong, expired or revoked.", code="invalid_token")
    window_seconds = settings.API_RATE_LIMIT_WINDOW_SECONDS
    rate = hit(f"api-token:{token.secret_hash[:16]}", limit=settings.API_RATE_LIMIT, window_seconds=window_seconds)
    if not rate.allowed:
        raise ApiError(
            429,
            f"Too many requests for this token: over {rate.limit:,} requests in {_duration(window_seconds)}. "
            f"Try again in {rate.seconds_left} seconds (Retry-After), or pace the calls.",
            code="rate_limited",
            headers={"Retry-After": str(rate.seconds_left), **rate_headers(rate)},
        )
    return Caller(token=token, rate=rate)


def rate_headers(rate: Window) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(rate.limit), "X-RateLimit-Remaining": str(rate.remaining), "X-RateLimit-Reset": str(rate.closes_at)}


def with_rate_headers(response: HttpResponse, caller: Caller | None) -> HttpResponse:
    """The response with where the caller's token stands in its rate window, once it was counted."""
    if caller is not None:
        for name, value in rate_headers(caller.rate).items():
            response[name] = value
    return response


def _duration(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds} seconds" if seconds != 1 else "a second"
    minutes = seconds // 60
    return f"{minutes} minutes" if minutes != 1 else "a minute"
