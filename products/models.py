from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from products.limits import DEFAULT_DATA_LIMIT_MB, effective_limit_mb


class PricingModel(models.TextChoices):
    PER_SIM = "per_sim", "Per-SIM plan"
    PAY_AS_YOU_GO = "payg", "Pay as you go"
    POOLED = "pooled", "Pooled inclusive volume"


class Product(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    default_data_limit_mb = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=f"Applied to SIMs imported from now on. Empty means the console default ({DEFAULT_DATA_LIMIT_MB} MB).",
    )
    # Automatic triggers (Aeris): a provisioned SIM becomes active at the first rule it reaches.
    # Empty turns a rule off. The defaults are the seed's.
    trigger_data_kb = models.PositiveIntegerField(
        "data (KB)", null=True, blank=True, default=5, help_text="Activate once a SIM has used this much data."
    )
    trigger_sms = models.PositiveIntegerField(
        "SMS", null=True, blank=True, default=2, help_text="Activate once a SIM has sent this many SMS."
    )
    trigger_traffic_days = models.PositiveIntegerField(
        "traffic days", null=True, blank=True, default=5, help_text="Activate once a SIM has had traffic on this many days."
    )
    trigger_months = models.PositiveIntegerField(
        "months provisioned", null=True, blank=True, default=6, help_text="Activate this many months after provisioning."
    )
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices, default=PricingModel.PER_SIM)
    plan_zone = models.ForeignKey(
        "billing.RateZone",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Pay as you go and pooled: the zone of the hosting fee and of the pool. Empty: the first zone.",
    )
    # A model chosen during a period starts with the next one (closing the period switches).
    pending_pricing_model = models.CharField(max_length=10, choices=PricingModel.choices, blank=True)
    pending_plan_zone = models.ForeignKey("billing.RateZone", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    pending_from = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_default_data_limit_mb(self) -> int:
        return effective_limit_mb(None, self.default_data_limit_mb)


class MembershipQuerySet(models.QuerySet["Membership"]):
    def products_of(self, user) -> "MembershipQuerySet":
        """The user's memberships, each with its product, by product name: "my products" for the
        console's pages and the API's checks alike (a user or a user id)."""
        return self.filter(user=user).select_related("product").order_by("product__name")


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="one_membership_per_user_and_product")]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.product} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Invitation(models.Model):
    """An invitation by email to join a product's team. The link carries a random token; only its hash
    is stored, so the table cannot be turned into working links. A link works once, until it expires
    (settings.INVITATION_DAYS after it was sent) or is revoked; resending revokes it and sends a new one."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email} to {self.product} ({self.role})"

    @property
    def expires_at(self):
        return self.created_at + timedelta(days=settings.INVITATION_DAYS)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired
