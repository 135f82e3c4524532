from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import MinValueValidator

from products.models import Membership, Product
from sims.forms import data_limit_field


class AddMemberForm(forms.Form):
    username_or_email = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
    # Demoting yourself asks once: the change is made only when the confirmation step sends this.
    confirm = forms.BooleanField(required=False)


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(required=False)


class JoinAsForm(forms.Form):
    """Accepting an invitation signed in: a tick when it was sent to another address than the account's."""

    confirm = forms.BooleanField(required=False)

    def __init__(self, *args, required: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.required = required

    def clean_confirm(self) -> bool:
        if self.required and not self.cleaned_data["confirm"]:
            raise forms.ValidationError(
                "Tick the box to join as yourself, or sign out and follow the link as the person it was sent to."
            )
        return self.cleaned_data["confirm"]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        error_messages={"invalid": "Enter an email address such as dana@example.com.", "required": "Enter the email address to invite."},
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args, **kwargs) -> None:
        # Beside the add-member form on the team page: ids of its own.
        kwargs.setdefault("auto_id", "id_invite_%s")
        super().__init__(*args, **kwargs)


class NewProductForm(forms.Form):
    name = forms.CharField(
        label="Product name",
        max_length=Product._meta.get_field("name").max_length,
        help_text="What your team calls it, such as \"Asset Trackers\". You can invite your team next.",
        error_messages={"required": "Give the product a name."},
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if any(not character.isprintable() for character in name):
            raise forms.ValidationError("A product name is one line of text: take out line breaks, tabs and other control characters.")
        return name


class TriggersForm(forms.ModelForm):
    """Automatic triggers: empty turns a rule off."""

    class Meta:
        model = Product
        fields = ["trigger_data_kb", "trigger_sms", "trigger_traffic_days", "trigger_months"]
        labels = {
            "trigger_data_kb": "Data used (KB)",
            "trigger_sms": "SMS sent",
            "trigger_traffic_days": "Days with traffic",
            "trigger_months": "Months since provisioning",
        }
        help_texts = {
            "trigger_data_kb": "Activate once a SIM has used this many KB since provisioning. Seed default: 5 KB.",
            "trigger_sms": "Activate once a SIM has sent this many SMS since provisioning. Seed default: 2.",
            "trigger_traffic_days": "Activate once a SIM has had traffic on this many days. Seed default: 5.",
            "trigger_months": "Activate this many months after provisioning, traffic or not. Seed default: 6.",
        }
        widgets = {name: forms.NumberInput(attrs={"min": 1, "placeholder": "off"}) for name in fields}

    def __init__(self, *args, read_only: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            cast(forms.IntegerField, field).min_value = 1
            # One clear minimum, in place of the model field's "greater than or equal to 0".
            field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator)]
            field.validators.append(MinValueValidator(1, "Use 1 or more, or leave it empty to turn the rule off."))
            field.disabled = read_only


class DefaultDataLimitForm(forms.Form):
    """The product's default, copied onto each SIM as it is imported; empty: the console's default."""

    data_limit_mb = data_limit_field(required=False)


class JoinForm(UserCreationForm):
    """A person who follows an invitation without an account: a username and a password, checked by
    Django's password validators (against the invited address too)."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The validators compare the password with the person's attributes: the email among them.
        self.instance.email = email
        self.fields["username"].help_text = "You sign in with it: letters, digits and @ . + - _ only."
