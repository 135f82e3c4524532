from django import forms


class WebhookForm(forms.Form):
    # A CharField, not a URLField: check_url gives one clear reason for every refusal, scheme included.
    url = forms.CharField(
        label="URL", max_length=500, widget=forms.TextInput(attrs={"placeholder": "https://example.com/hooks/sims"}),
        help_text="Called with a POST for every SIM lifecycle change and every finished import.",
    )  # fmt: skip


class ActiveForm(forms.Form):
    active = forms.BooleanField(required=False)
