from functools import lru_cache

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django_countries import countries

from sims.iccid import normalise_iccid
from sims.lifecycle import Action
from sims.limits import MAX_DATA_LIMIT_MB
from sims.listing import ORDERS, ConnectivityFilter
from sims.models import State

# The actions a person can take from the SIMs page, one SIM or many.
CONSOLE_ACTIONS = [Action.SET_DATA_LIMIT, Action.DEACTIVATE, Action.REACTIVATE, Action.UNPAUSE, Action.REMOVE, Action.TERMINATE]


def _country_choices() -> list[tuple[str, str]]:
    return [("", "All countries"), *countries]


@lru_cache(maxsize=512)
def _country_options(language: str | None, selected: str) -> SafeString:
    return format_html_join(
        "", '<option value="{}"{}>{}</option>', ((code, " selected" if code == selected else "", name) for code, name in _country_choices())
    )


class CountrySelect(forms.Select):
    """The ~250 countries rendered once per language and choice: through Django's widget templates
    they took 23 ms, half of the SIMs page."""

    def render(self, name: str, value: object, attrs: dict | None = None, renderer: object = None) -> SafeString:
        selected = "" if value is None else str(value)
        # Anything but a country shows "All countries" (the filter says it is wrong) and adds no cache entry.
        options = _country_options(get_language(), selected if selected in countries else "")
        return mark_safe(f'<select name="{escape(name)}"{flatatt(self.build_attrs(self.attrs, attrs))}>{options}</select>')  # noqa: S308


class SimFilterForm(forms.Form):
    state = forms.ChoiceField(choices=[("", "All states"), *State.choices], required=False)
    country = forms.ChoiceField(choices=_country_choices, required=False, widget=CountrySelect)
    q = forms.CharField(label="ICCID", required=False, max_length=40)
    spikes = forms.BooleanField(label="Spiking", required=False)
    network = forms.ChoiceField(
        choices=[("", "Any"), ("pending", "Pending on the network"), ("refused", "Refused by the carrier")], required=False
    )
    connectivity = forms.ChoiceField(
        choices=[("", "Any"), *ConnectivityFilter.choices],
        required=False,
        error_messages={
            "invalid_choice": "%(value)s is not a connectivity: choose online, attached, offline, offline-24h, offline-7d or never."
        },
    )
    sort = forms.ChoiceField(
        choices=[("", "ICCID"), *((order, order) for order in ORDERS if order != "iccid")],
        required=False,
        error_messages={
            "invalid_choice": "The list cannot be sorted by %(value)s: sort by ICCID, usage, changed or offline (a leading - for descending)."
        },
    )

    def clean_q(self) -> str:
        fragment = normalise_iccid(self.cleaned_data["q"])
        if fragment and not fragment.isdigit():
            raise forms.ValidationError("Search by digits of the ICCID (spaces and dashes are ignored).")
        return fragment


def data_limit_field(*, required: bool) -> forms.IntegerField:
    return forms.IntegerField(
        label="Data limit (MB)",
        required=required,
        min_value=1,
        max_value=MAX_DATA_LIMIT_MB,
        error_messages={
            "required": "Enter a data limit in MB.",
            "invalid": "Enter the data limit as a whole number of MB, such as 5 or 100.",
            "min_value": "The data limit must be at least 1 MB.",
            "max_value": f"The data limit can be at most {MAX_DATA_LIMIT_MB:,} MB.",
        },
    )


def unpause_field() -> forms.BooleanField:
    return forms.BooleanField(label="Unpause if the new limit is above this period's usage", required=False)


class DataLimitForm(forms.Form):
    data_limit_mb = data_limit_field(required=True)
    unpause = unpause_field()


class SimIdsField(forms.Field):
    """The SIM ids ticked on the page; the product's queryset decides which are real."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: list[str] | None) -> list[int]:
        try:
            return [int(item) for item in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError(
                "The selected SIMs were not understood: reload the page and select them again."
            ) from None


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a.value, a.label) for a in CONSOLE_ACTIONS],
        error_messages={"required": "Choose the action to apply to these SIMs."},
    )
    scope = forms.ChoiceField(choices=[("selected", "Selected SIMs"), ("matching", "All SIMs matching the filter")])
    ids = SimIdsField(required=False)
    data_limit_mb = data_limit_field(required=False)
    unpause = unpause_field()
    confirm_terminate = forms.BooleanField(required=False)
    # The number of SIMs typed to confirm a harmful action on more than a few (sims.bulk_confirmation),
    # and the number the confirmation asked for: the server counts again and compares.
    confirm_count = forms.CharField(required=False, max_length=40, strip=True)
    shown_count = forms.IntegerField(
        required=False, min_value=0, max_value=2**31 - 1,
        error_messages={"max_value": "That is more SIMs than a product holds: reload the page and confirm again."},
    )  # fmt: skip
    # The form's one-time token: submitted twice (a double click), it starts one background job.
    submission = forms.CharField(required=False, max_length=64)

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        if data.get("scope") == "selected" and "ids" in data and not data["ids"]:
            raise forms.ValidationError("Select at least one SIM, or choose all SIMs matching the filter.")
        if action == Action.SET_DATA_LIMIT and data.get("data_limit_mb") is None:
            self.add_error("data_limit_mb", "Enter the data limit in MB to set on these SIMs.")
        if action == Action.TERMINATE and not data.get("confirm_terminate"):
            self.add_error(
                "confirm_terminate",
                "Terminating is permanent: tick the box to confirm that these SIMs can never be used again.",
            )
        return data
