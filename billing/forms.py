from django import forms

from billing.models import RateZone
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
