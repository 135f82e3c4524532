"""Creating, finding and revoking API tokens. A secret is shown once and stored as its SHA-256:
secrets are long and random, so a plain hash is as good as a slow one and lets a request find
its token with one indexed lookup."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.utils import timezone

from api.models import ApiToken, Scope
from products.models import Membership, Product

PREFIX = "simc_"
# last_used_at is written at most this often per token: not one write per API call.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class TokenError(Exception):
    pass


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    *, user, name: str, product: Product | None, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the token and its secret, which is not kept anywhere."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise TokenError(f"Unknown scope {', '.join(unknown)}: choose among {', '.join(Scope.values)}.")
    if not scopes:
        raise TokenError("Choose at least one scope: a token without one can do nothing.")
    if product is not None and not Membership.objects.products_of(user).filter(product=product).exists():
        raise TokenError("You can only create tokens for products you are a member of.")
    if expires_at is not None and expires_at <= timezone.now():
        raise TokenError("The expiry must be in the future.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name, user=user, product=product, scopes=sorted(set(scopes)), secret_hash=hash_secret(secret),
        hint=secret[: len(PREFIX) + 4], expires_at=expires_at,
    )
    return token, secret


def revoke_token(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def find_token(secret: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token with this secret, whose creator still belongs to its product; else None."""
    return _live_token(ApiToken.objects.filter(secret_hash=hash_secret(secret)), now=now)


def find_token_by_hash(token_id: int, secret_hash: str, *, now: datetime | None = None) -> ApiToken | None:
    """The same, for a short-lived token that carries its API token's id and secret hash (emnify's
    auth token): a revoked or expired API token, or a creator gone from the product, fails at once."""
    return _live_token(ApiToken.objects.filter(pk=token_id, secret_hash=secret_hash), now=now)


def _live_token(tokens, *, now: datetime | None) -> ApiToken | None:
    now = now or timezone.now()
    token = tokens.select_related("user", "product").first()
    if token is None or not token.is_live(now) or not token.user.is_active:
        return None
    if token.product_id is not None and not Membership.objects.products_of(token.user_id).filter(product=token.product_id).exists():
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
