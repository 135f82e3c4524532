"""A product's receivers: adding one (its URL checked, its secret made) and enabling or disabling it."""

import secrets

from django.db import transaction

from products.models import Product
from webhooks.addresses import UnsafeUrl, check_url
from webhooks.models import Webhook, WebhookDelivery

SECRET_PREFIX = "whsec_"
MAX_WEBHOOKS_PER_PRODUCT = 5


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def add_webhook(*, product: Product, url: str, user, request_host: str = "") -> Webhook:
    """Raises UnsafeUrl when the URL may not be called, or the product has its fill of webhooks."""
    if Webhook.objects.filter(product=product).count() >= MAX_WEBHOOKS_PER_PRODUCT:
        raise UnsafeUrl(f"A product has at most {MAX_WEBHOOKS_PER_PRODUCT} webhooks: delete one first.")
    check_url(url, own_hosts=[request_host] if request_host else [])
    return Webhook.objects.create(product=product, url=url, secret=new_secret(), created_by=user)


def set_webhook_active(*, webhook: Webhook, active: bool) -> None:
    """Disabling also cancels the deliveries still waiting: a disabled receiver is not called again."""
    with transaction.atomic():
        webhook.is_active = active
        webhook.save(update_fields=["is_active"])
        if not active:
            webhook.deliveries.filter(status=WebhookDelivery.Status.PENDING).update(
                status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None, last_error="The webhook was disabled."
            )
