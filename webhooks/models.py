from django.conf import settings
from django.db import models
from django.utils import timezone


class Webhook(models.Model):
    """A receiver of a product's events: every lifecycle change and every finished import is POSTed
    to its URL, signed with its secret. The secret is kept as is: signing needs it."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField("URL", max_length=500)
    secret = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "api_webhook"  # its table from before the move out of api/: no row copied
        ordering = ["created_at", "id"]
        # Every lifecycle chunk asks "does this product have an active webhook?": one index probe.
        indexes = [models.Index(fields=["product", "is_active"], name="webhook_product_active")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One POST to one webhook (retried until it succeeds or gives up): the events of one lifecycle
    chunk or one import batch, or one finished import. The body is kept byte for byte, so every
    attempt sends the same bytes under the same id."""

    class Kind(models.TextChoices):
        SIM_EVENTS = "sim.events", "SIM events"
        IMPORT_FINISHED = "import.finished", "Import finished"
        IMEI_MISMATCH = "imei.mismatch", "IMEI mismatch"
        SMS_RECEIVED = "sms.received", "SMS received"
        RULE_FIRED = "rule.fired", "Rule fired"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # Sent as X-SimConsole-Delivery and as the body's "id": the same on every attempt.
    uuid = models.UUIDField(unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.CharField(max_length=200)
    event_count = models.PositiveIntegerField(default=0)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_webhookdelivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        indexes = [models.Index(fields=["webhook", "-id"], name="webhookdelivery_webhook_id")]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid}"
