from django.conf import settings
from django.db import models
from django_countries.fields import CountryField


class Product(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    default_data_limit_mb = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Applied to SIMs imported from now on. Empty means the console default (5 MB).",
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_default_data_limit_mb(self) -> int:
        if self.default_data_limit_mb is None:
            return settings.DEFAULT_DATA_LIMIT_MB
        return self.default_data_limit_mb


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "product"], name="one_membership_per_user_and_product")]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.product} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class RateZone(models.Model):
    """A group of countries priced alike (Particle and emnify both price by zone)."""

    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=60)
    plan_monthly_price = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="Per-SIM data plan, per month (USD)."
    )
    plan_included_mb = models.PositiveIntegerField(help_text="MB included in the monthly plan.")
    overage_per_mb = models.DecimalField(max_digits=8, decimal_places=2, help_text="Price per MB over the included data.")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ZoneCountry(models.Model):
    country = CountryField(unique=True)
    zone = models.ForeignKey(RateZone, on_delete=models.PROTECT, related_name="countries")

    class Meta:
        verbose_name = "country's rate zone"
        verbose_name_plural = "countries' rate zones"
        ordering = ["country"]

    def __str__(self) -> str:
        return f"{self.country.name}: {self.zone.code}"


class Charge(models.Model):
    """One line of the charges ledger, owed by a product or a developer; invoices collect them."""

    class Kind(models.TextChoices):
        FIRST_MONTH = "first_month", "First month, prorated"

    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="charges")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    zone = models.ForeignKey(RateZone, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    period_start = models.DateField(help_text="First day of the billing month the charge belongs to.")
    # The import batch that caused it: one charge per batch, so a batch run twice is charged once.
    import_batch = models.OneToOneField(
        "sims.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="charge"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(product__isnull=False) | models.Q(user__isnull=False), name="charge_has_an_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"
