"""Billing's models came from products (issue 14) and kept their tables (`db_table`): no row was copied."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django_countries.fields import CountryField

from products.models import PricingModel, Product


class RateZone(models.Model):
    """A group of countries priced alike (Particle and emnify both price by zone). Its prices
    are versions (ZonePrice), so a price edited mid-period applies from then on, never backwards."""

    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=60)

    class Meta:
        db_table = "products_ratezone"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


def _money_field(help_text: str) -> models.DecimalField:
    return models.DecimalField(max_digits=10, decimal_places=4, default=0, help_text=help_text)


class ZonePrice(models.Model):
    """A rate zone's prices from a moment on (USD). A new version replaces the one before it
    from its `effective_from`; versions are never edited, so past charges keep their prices."""

    zone = models.ForeignKey(RateZone, on_delete=models.PROTECT, related_name="prices")
    effective_from = models.DateTimeField(help_text="The prices apply from this moment (UTC) on.")
    # Per-SIM plan (Particle)
    plan_monthly_price = _money_field("Per-SIM plan: per billable SIM per month, prorated in its first month.")
    plan_included_mb = models.PositiveIntegerField(default=0, help_text="Per-SIM plan: MB included per SIM.")
    overage_per_mb = _money_field("Per-SIM plan: per MB over a SIM's included data.")
    # Pay as you go (emnify)
    payg_monthly_fee = _money_field("Pay as you go: hosting fee per billable SIM per month (peak concurrency).")
    payg_data_per_mb = _money_field("Pay as you go: per MB used in this zone.")
    payg_sms_price = _money_field("Pay as you go: per SMS sent in this zone.")
    # Pooled inclusive volume (emnify)
    pool_monthly_fee = _money_field("Pooled: fee per billable SIM per month (peak concurrency).")
    pool_included_mb = models.PositiveIntegerField(default=0, help_text="Pooled: MB each billable SIM adds to the pool.")
    pool_overage_per_mb = _money_field(
        "Pooled: per MB beyond the pool, and per MB used in this zone by a fleet whose plan is another zone's."
    )
    # Aeris: one-time fee per suspension, per pricing model (0: none).
    suspension_fee_per_sim = _money_field("Per-SIM plan: one-time fee per suspension.")
    suspension_fee_payg = _money_field("Pay as you go: one-time fee per suspension.")
    suspension_fee_pooled = _money_field("Pooled: one-time fee per suspension.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "products_zoneprice"
        ordering = ["zone__code", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["zone", "effective_from"], name="one_zone_price_per_moment")]

    def __str__(self) -> str:
        return f"{self.zone.code} prices from {self.effective_from:%Y-%m-%d %H:%M}"

    def suspension_fee(self, model: str) -> Decimal:
        return {
            PricingModel.PER_SIM: self.suspension_fee_per_sim,
            PricingModel.PAY_AS_YOU_GO: self.suspension_fee_payg,
            PricingModel.POOLED: self.suspension_fee_pooled,
        }[PricingModel(model)]


class ZoneCountry(models.Model):
    country = CountryField(unique=True)
    zone = models.ForeignKey(RateZone, on_delete=models.PROTECT, related_name="countries")

    class Meta:
        db_table = "products_zonecountry"
        verbose_name = "country's rate zone"
        verbose_name_plural = "countries' rate zones"
        ordering = ["country"]

    def __str__(self) -> str:
        return f"{self.country.name}: {self.zone.code}"  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str


class Charge(models.Model):
    """One line of the charges ledger, owed by a product or a developer; invoices collect them."""

    class Kind(models.TextChoices):
        FIRST_MONTH = "first_month", "First month, prorated"
        TRANSFER_OVERAGE = "transfer_overage", "Overage settled at a transfer"
        CREDIT = "credit", "Credit (a correction)"

    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="charges")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    zone = models.ForeignKey(RateZone, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=16, decimal_places=4)
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Negative for a credit.")
    period_start = models.DateField(help_text="First day of the billing month the charge belongs to.")
    # Set once, when the invoice that bills it is issued; a charge of a closed period goes on the next.
    invoice = models.ForeignKey(
        "Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="charges", editable=False
    )
    # The import batch that caused it: one charge per batch, so a batch run twice is charged once.
    import_batch = models.OneToOneField(
        "imports.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="charge"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "products_charge"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(product__isnull=False) | models.Q(user__isnull=False), name="charge_has_an_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class Invoice(models.Model):
    """What a billing account (a product or a developer) owes for one billing period. Issued once,
    never changed: a correction is a credit charge, billed on the next invoice."""

    number = models.CharField(max_length=30, unique=True)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    period_start = models.DateField(help_text="First day of the billing month invoiced.")
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices)
    peak_sims = models.PositiveIntegerField(help_text="Peak SIMs billable at once, at 12-hour resolution.")
    total = models.DecimalField(max_digits=14, decimal_places=2)
    issued_at = models.DateTimeField()

    class Meta:
        db_table = "products_invoice"
        ordering = ["-period_start", "number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(product__isnull=False) | models.Q(user__isnull=False), name="invoice_has_an_account"
            ),
            models.UniqueConstraint(
                fields=["product", "period_start"], name="one_invoice_per_product_and_period", condition=models.Q(product__isnull=False)
            ),
            models.UniqueConstraint(
                fields=["user", "period_start"], name="one_invoice_per_user_and_period", condition=models.Q(user__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20)
    zone = models.ForeignKey(RateZone, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=16, decimal_places=4)
    unit = models.CharField(max_length=20, help_text="What the quantity counts: SIMs, SIM-months, MB, SMS.")
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        db_table = "products_invoiceline"
        ordering = ["invoice", "position"]
        constraints = [models.UniqueConstraint(fields=["invoice", "position"], name="one_invoice_line_per_position")]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"


class ClosedPeriod(models.Model):
    """A billing period whose close ran to its end: until then the periodic work queues it again
    (a close killed half-way is finished by the next one; closing is idempotent per account)."""

    period_start = models.DateField(unique=True)
    closed_at = models.DateTimeField()
    summary = models.CharField(max_length=300)

    class Meta:
        db_table = "products_closedperiod"

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m} closed"


def default_alert_percentages() -> list[int]:
    return [50, 80, 100]


class Budget(models.Model):
    """A product's monthly budget (USD, as every price and invoice of the console), and the
    percentages of it at which the people it names are told (billing/budgets.py, notifications)."""

    class Recipients(models.TextChoices):
        ADMINS = "admins", "The product's admins"
        TEAM = "team", "Everyone on the team"

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="budget")
    amount = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))], help_text="USD per billing month."
    )
    alert_percentages = models.JSONField(
        default=default_alert_percentages, help_text="Percentages of the amount (1 to 1000) at which to alert, in order."
    )
    recipients = models.CharField(max_length=10, choices=Recipients.choices, default=Recipients.ADMINS)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Budget of {self.product}: ${self.amount:,.2f} a month"


class BudgetAlert(models.Model):
    """A threshold of a product's budget that was crossed in a billing period and told: one row per
    (product, period, percentage), so each alerts once per period however many ticks run at once."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="budget_alerts")
    period_start = models.DateField(help_text="First day of the billing month.")
    percentage = models.PositiveSmallIntegerField()
    spent = models.DecimalField(max_digits=14, decimal_places=2, help_text="The estimate so far when it was crossed.")
    budget = models.DecimalField(max_digits=14, decimal_places=2, help_text="The budget's amount then.")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_start", "percentage"]
        constraints = [
            models.UniqueConstraint(fields=["product", "period_start", "percentage"], name="budget_alert_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.product} passed {self.percentage}% of its budget in {self.period_start:%Y-%m}"
