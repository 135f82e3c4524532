from typing import cast

from django import forms
from django.utils import timezone

from api.models import Scope

OWN_SIMS = ""


class TokenForm(forms.Form):
    name = forms.CharField(max_length=60, help_text="What uses it, such as “factory line 2”.")
    product = forms.ChoiceField(label="Acts for", required=False, help_text="A product you are a member of, or your own SIMs.")
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    expires_on = forms.DateField(
        required=False, label="Expires on", widget=forms.DateInput(attrs={"type": "date"}), help_text="Empty: never."
    )

    def __init__(self, *args, memberships, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["product"]).choices = [(OWN_SIMS, "My own SIMs")] + [(m.product.slug, m.product.name) for m in memberships]
        self.memberships = {m.product.slug: m.product for m in memberships}

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError("Choose a day after today, or leave it empty for a token that does not expire.")
        return day

    def chosen_product(self):
        return self.memberships.get(self.cleaned_data["product"])
