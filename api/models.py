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

    @property
    def scope_choices(self) -> list[tuple[str, str]]:
        """(code, label) of each scope, in the form's order: people read the labels, programs the codes."""
        return [(value, label) for value, label in Scope.choices if value in self.scopes]

    def is_live(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
