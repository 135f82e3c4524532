"""Who is calling the API and what they may reach: shared by both dialects.

A token acts for one product (or its creator's own SIMs) with some scopes. Asking for another
product answers 403 when the token's creator could see that product in the console, and 404 when
not: the API leaks no more than the console does. Requests are rate-limited per token.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from api.models import ApiToken
from api.tokens import find_token
from console.rate_limit import allow
from products.models import Membership, Product
from sims.lifecycle import Actor


class ApiError(Exception):
    """An answer other than success; each dialect renders it in its own error shape."""

    def __init__(self, status: int, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass(frozen=True)
class Caller:
    token: ApiToken

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
        lookup = {"pk": int(key)} if key.isdigit() else {"slug": key}
        if Membership.objects.filter(user=self.token.user, **{f"product__{k}": v for k, v in lookup.items()}).exists():
            raise ApiError(403, "This token acts for another product: use a token of this product.", code="forbidden")
        raise ApiError(404, "There is no such product, or it is not yours.", code="not_found")

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
    if not allow(f"api-token:{token.secret_hash[:16]}", per_second=settings.API_REQUESTS_PER_SECOND):
        raise ApiError(429, "Too many requests for this token: wait a second and try again.", code="rate_limited")
    return Caller(token=token)
