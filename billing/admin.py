from datetime import timedelta

from django import forms
from django.contrib import admin
from django.utils import timezone

from billing.budgets import parse_percentages
from billing.models import Budget, BudgetAlert, Charge, ClosedPeriod, Invoice, InvoiceLine, RateZone, ZoneCountry, ZonePrice

# A new price may start this long before the moment it is saved (the time it took to type it), no earlier.
PRICE_BACKDATING_SLACK = timedelta(minutes=10)


class ZoneCountryInline(admin.TabularInline):
    model = ZoneCountry
    extra = 0


class ZonePriceForm(forms.ModelForm):
    class Meta:
        model = ZonePrice
        fields = "__all__"

    def clean_effective_from(self):
        moment = self.cleaned_data["effective_from"]
        if moment < timezone.now() - PRICE_BACKDATING_SLACK:
            raise forms.ValidationError(
                "A new price cannot start in the past: charges already made keep their prices. "
                "Give the moment it applies from, now or later."
            )
        return moment


class ZonePriceInline(admin.StackedInline):
    """Versions are added, never edited: a price change applies from its moment on."""

    model = ZonePrice
    form = ZonePriceForm
    extra = 0
    classes = ["collapse"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RateZone)
class RateZoneAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [ZonePriceInline, ZoneCountryInline]


@admin.register(ZonePrice)
class ZonePriceAdmin(admin.ModelAdmin):
    form = ZonePriceForm
    list_display = [
        "zone", "effective_from", "plan_monthly_price", "overage_per_mb", "payg_monthly_fee", "payg_data_per_mb",
        "pool_monthly_fee", "pool_included_mb", "pool_overage_per_mb",
    ]
    list_filter = ["zone"]
    list_select_related = ["zone"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ZoneCountry)
class ZoneCountryAdmin(admin.ModelAdmin):
    list_display = ["country", "zone"]
    list_filter = ["zone"]
    list_editable = ["zone"]
    search_fields = ["country"]
    list_select_related = ["zone"]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "product", "user", "kind", "zone", "quantity", "unit_price", "amount", "period_start"]
    list_filter = ["kind", "zone", "period_start"]
    search_fields = ["product__name", "user__username", "description"]
    list_select_related = ["product", "user", "zone"]

    # The ledger is what invoices are built from: corrections are new lines, never edits.
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Issued invoices never change: read-only here (a correction is a credit charge)."""

    list_display = ["number", "product", "user", "period_start", "pricing_model", "peak_sims", "total", "issued_at"]
    list_filter = ["period_start", "pricing_model"]
    search_fields = ["number", "product__name", "user__username"]
    list_select_related = ["product", "user"]
    inlines = [InvoiceLineInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InvoiceLine)
class InvoiceLineAdmin(InvoiceAdmin):
    list_display = ["invoice", "position", "kind", "zone", "description", "quantity", "unit", "unit_price", "amount"]
    list_filter = ["kind", "zone"]
    search_fields = ["invoice__number", "description"]
    list_select_related = ["invoice", "zone"]
    inlines = []


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(admin.ModelAdmin):
    """Written by close_billing_period when it runs to its end: read-only."""

    list_display = ["period_start", "closed_at", "summary"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class BudgetAdminForm(forms.ModelForm):
    alert_percentages = forms.CharField(
        help_text="Whole percentages from 1 to 1000, separated by commas, such as 50, 80, 100. Each alerts once a billing month."
    )

    class Meta:
        model = Budget
        fields = ["product", "amount", "alert_percentages", "recipients"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["alert_percentages"] = ", ".join(str(p) for p in self.instance.alert_percentages)
        else:
            self.initial.setdefault("alert_percentages", "50, 80, 100")

    def clean_alert_percentages(self) -> list[int]:
        try:
            return parse_percentages(self.cleaned_data["alert_percentages"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """The same budget a product admin sets in the product's Settings."""

    form = BudgetAdminForm
    list_display = ["product", "amount", "alert_percentages", "recipients", "updated_at"]
    list_filter = ["recipients"]
    search_fields = ["product__name", "product__slug"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    """Written when a threshold is crossed and told (notifications.budget_alerts): read-only. Deleting
    a row lets that threshold alert again this period."""

    list_display = ["product", "period_start", "percentage", "spent", "budget", "sent_at"]
    list_filter = ["period_start", "percentage"]
    search_fields = ["product__name", "product__slug"]
    list_select_related = ["product"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
