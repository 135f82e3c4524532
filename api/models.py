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
    RULES_LIST = "rules:list", "Read rules and their firings"
    RULES_UPDATE = "rules:update", "Change rules and decide their approvals (admins)"


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

    @property
    def scope_choices(self) -> list[tuple[str, str]]:
        """(code, label) of each scope, in the form's order: people read the labels, programs the codes."""
        return [(value, label) for value, label in Scope.choices if value in self.scopes]

    def is_live(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class EndpointSettings(models.Model):
    """What emnify's endpoint resource (api/emnify_endpoints.py) keeps about a device beyond the device
    itself: its status (emnify's Enabled or Disabled), and the profile ids and address a client sends,
    kept and answered back (SIM Console has no service or tariff profiles: the product's pricing applies)."""

    ENABLED, DISABLED = 0, 1

    device = models.OneToOneField("devices.Device", primary_key=True, on_delete=models.CASCADE, related_name="emnify")
    status = models.PositiveSmallIntegerField(default=ENABLED, choices=[(ENABLED, "Enabled"), (DISABLED, "Disabled")])
    service_profile_id = models.PositiveIntegerField(default=1)
    tariff_profile_id = models.PositiveIntegerField(default=1)
    ip_address = models.CharField(max_length=45, blank=True)
    imei_lock = models.BooleanField(default=False)
    last_updated = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "endpoint settings"

    def __str__(self) -> str:
        return f"emnify settings of device {self.device_id}"


class BlacklistedOperator(models.Model):
    """An operator (its MCC and MNC, emnify's operator id written 26201 for 262-01) an endpoint's SIM
    must not use: kept per device and answered back; the carrier enforces it where it can."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="blacklisted_operators")
    operator_id = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["operator_id"]
        constraints = [models.UniqueConstraint(fields=["device", "operator_id"], name="blacklisted_operator_once")]

    def __str__(self) -> str:
        return f"operator {self.operator_id} barred for device {self.device_id}"
