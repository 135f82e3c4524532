from decimal import Decimal

from django import forms

from billing.budgets import parse_percentages
from billing.models import Budget, RateZone
from products.models import PricingModel


class PricingChoiceForm(forms.Form):
    """A product admin's pricing model for the next period, with the zone of its fee and pool."""

    pricing_model = forms.ChoiceField(label="Pricing model", choices=PricingModel.choices, widget=forms.RadioSelect)
    plan_zone = forms.ModelChoiceField(
        label="Plan zone",
        queryset=RateZone.objects.order_by("code"),
        required=False,
        empty_label="The first zone",
        help_text="Pay as you go and pooled: the zone of the monthly fee and of the pool. The per-SIM plan prices each SIM by its home country.",
    )


class UsdField(forms.DecimalField):
    """An amount in US dollars as people type it: 1000, 1,250.50, $900."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().removeprefix("$").replace(",", "").strip()
        return super().to_python(value)


class BudgetForm(forms.Form):
    """A product admin's monthly budget, the percentages of it that alert, and who is told."""

    amount = UsdField(
        label="Monthly budget (USD)",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="What the product may cost a billing month, as the billing estimate counts it.",
        error_messages={
            "required": "Give the monthly budget in US dollars, such as 1000.",
            "invalid": "The budget is not a number: give an amount in US dollars, such as 1000 or 1250.50.",
            "min_value": "A budget is more than $0: give a positive amount, such as 1000.",
            "max_decimal_places": "Give the budget to the cent: at most two decimals, such as 1250.50.",
            "max_digits": "That budget is too large: give at most $9,999,999,999.99.",
            "max_whole_digits": "That budget is too large: give at most $9,999,999,999.99.",
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    alert_percentages = forms.CharField(
        label="Alert at (% of the budget)",
        max_length=200,
        initial="50, 80, 100",
        help_text="Whole percentages from 1 to 1000, separated by commas. Each alerts once a billing month.",
        error_messages={"required": "Give at least one percentage at which to alert, such as 50, 80, 100."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    recipients = forms.ChoiceField(
        label="Who is told", choices=Budget.Recipients.choices, initial=Budget.Recipients.ADMINS, widget=forms.RadioSelect
    )

    @classmethod
    def for_budget(cls, budget: Budget | None) -> "BudgetForm":
        if budget is None:
            return cls()
        return cls(initial={
            "amount": budget.amount, "recipients": budget.recipients,
            "alert_percentages": ", ".join(str(p) for p in budget.alert_percentages),
        })  # fmt: skip

    def clean_alert_percentages(self) -> list[int]:
        try:
            return parse_percentages(self.cleaned_data["alert_percentages"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
