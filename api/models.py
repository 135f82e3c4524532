from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    """Particle's token scopes; an emnify application token carries them too."""

    SIMS_LIST = "sims:list", "List SIMs"
    SIMS_GET = "sims:get", "Read one SIM"
    SIMS_IMPORT = "sims:import", "Import and activate SIMs"
    SIMS_UPDATE = "sims:update", "Change SIMs (activate, deactivate, data limit)"
    SIMS_REMOVE = "sims:remove", "Remove or terminate SIMs"
    USAGE_GET = "sims.usage:get", "Read usage"


class ApiToken(models.Model):
    """A machine's key to one product (or to its creator's own SIMs), with the creator's rights
    there for as long as the creator keeps them. Only a hash of the secret is kept."""

    name = models.CharField(max_length=60)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens",
        help_text="Empty: the creator's own SIMs.",
    )
    scopes = models.JSONField(default=list)
    secret_hash = models.CharField(max_length=64, unique=True)
    # The secret's first characters, to tell tokens apart on the page without the secret.
    hint = models.CharField(max_length=12)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def actor_name(self) -> str:
        return f"{self.name} ({self.hint}…)"

    def is_live(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


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
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        indexes = [models.Index(fields=["webhook", "-id"], name="webhookdelivery_webhook_id")]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid}"
