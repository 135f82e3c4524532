"""The carrier account form of a product's Settings (and of the Django admin): name, adapter, the
adapter's credentials (write-only: never shown again, empty keeps what is stored), ICCID prefixes and
the adapter's non-secret settings."""

from typing import Any

from django import forms

from carriers.adapters import ADAPTERS, adapter_class
from carriers.credentials import CredentialsUnreadable, decrypt, encrypt
from carriers.models import CarrierAccount
from products.models import Product

PREFIX_DIGITS = (2, 19)
KEPT = "Saved; leave empty to keep it."


def adapter_choices() -> list[tuple[str, str]]:
    return [(code, adapter_class(code).label) for code in ADAPTERS]


def digits_list(value: str, *, what: str) -> list[str]:
    """'8901, 8944' -> ['8901', '8944'], each checked: digits only, 2 to 19 of them, none twice."""
    prefixes = [part.strip().replace(" ", "") for part in value.split(",") if part.strip()]
    low, high = PREFIX_DIGITS
    for prefix in prefixes:
        if not prefix.isdigit():
            raise forms.ValidationError(f"“{prefix}” is not {what}: use digits only, separated by commas (for example 8901260, 894400).")
        if not low <= len(prefix) <= high:
            raise forms.ValidationError(f"“{prefix}” has {len(prefix)} digit{'s' if len(prefix) != 1 else ''}: {what} has {low} to {high} (the start of an ICCID).")
    twice = sorted({prefix for prefix in prefixes if prefixes.count(prefix) > 1})
    if twice:
        raise forms.ValidationError(f"{', '.join(twice)} is given twice: list each prefix once.")
    return prefixes


def _setting_fields(code: str) -> dict[str, forms.Field]:
    """The adapter's non-secret settings: the simulator's are typed here; another adapter may name its
    own in a `settings_fields` class attribute (name -> label), asked as text (an URL for names ending in _url)."""
    if code == "simulator":
        return {
            "inventory_prefixes": forms.CharField(
                label="Inventory (ICCID prefixes)", required=False, max_length=300,
                help_text="The SIMs this simulated account holds: ICCIDs starting with one of these. Empty: it holds every ICCID.",
            ),
            "latency_ms": forms.IntegerField(
                label="Latency (ms)", required=False, min_value=0, max_value=10_000,
                help_text="Time each call takes, as a real carrier's API would.",
            ),
            "failure_rate": forms.FloatField(
                label="Failure rate", required=False, min_value=0, max_value=1,
                help_text="Share of calls that fail as a timeout would (0 to 1): to watch SIMs stay pending and be retried.",
            ),
        }  # fmt: skip
    fields: dict[str, forms.Field] = {}
    for name, label in getattr(adapter_class(code), "settings_fields", {}).items():
        field_class = forms.URLField if name.endswith("_url") else forms.CharField
        fields[name] = field_class(label=label, required=False, max_length=300)
    return fields


class CarrierAccountForm(forms.Form):
    """`adapter` decides the credential and settings fields; on edit (`account` given) the adapter is fixed."""

    name = forms.CharField(max_length=80, help_text="What the team sees, e.g. “emnify Europe”.")
    adapter = forms.ChoiceField(label="Carrier", choices=adapter_choices)
    iccid_prefixes = forms.CharField(
        label="ICCID prefixes", required=False, max_length=300,
        help_text="Digits, comma-separated: an imported ICCID goes to the account with the longest prefix it starts with. "
        "Empty: this account takes what no other account claims.",
    )  # fmt: skip

    def __init__(self, *args: Any, product: Product, account: CarrierAccount | None = None, adapter: str = "", **kwargs: Any) -> None:
        self.product, self.account = product, account
        if account is not None:
            kwargs.setdefault("initial", {}).update(
                name=account.name, adapter=account.adapter, iccid_prefixes=account.iccid_prefixes, **self._initial_settings(account)
            )
        super().__init__(*args, **kwargs)
        code = account.adapter if account else (self.data.get("adapter") or adapter or next(iter(ADAPTERS)))
        if code not in ADAPTERS:
            code = next(iter(ADAPTERS))
        self.code = code
        self.fields["adapter"].initial = code
        if account is not None:
            self.fields["adapter"].disabled = True
            self.fields["adapter"].help_text = "An account's carrier does not change: add another account for another carrier."
        self.credential_names: list[str] = []
        # Alternatives (Twilio: an auth token or an API key) are checked together in clean(); else each field is required.
        self.credentials_needed: list[tuple[str, ...]] | None = getattr(adapter_class(code), "credentials_needed", None)
        for name, label in adapter_class(code).credential_fields.items():
            field_name = f"credential_{name}"
            self.credential_names.append(field_name)
            self.fields[field_name] = forms.CharField(
                label=label, required=account is None and self.credentials_needed is None, max_length=500, strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=KEPT if account is not None else "Stored encrypted; never shown again after saving.",
            )  # fmt: skip
        self.setting_names = list(_setting_fields(code))
        self.fields.update(_setting_fields(code))

    @staticmethod
    def _initial_settings(account: CarrierAccount) -> dict[str, Any]:
        initial = dict(account.settings)
        if isinstance(initial.get("inventory_prefixes"), list):
            initial["inventory_prefixes"] = ", ".join(initial["inventory_prefixes"])
        return initial

    @property
    def credential_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.credential_names]

    @property
    def setting_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.setting_names]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = CarrierAccount.objects.filter(product=self.product, name__iexact=name)
        if self.account is not None:
            others = others.exclude(pk=self.account.pk)
        if others.exists():
            raise forms.ValidationError(f"{self.product.name} already has a carrier account called “{name}”: choose another name.")
        return name

    def clean_iccid_prefixes(self) -> str:
        prefixes = digits_list(self.cleaned_data["iccid_prefixes"], what="an ICCID prefix")
        others = CarrierAccount.objects.filter(product=self.product)
        if self.account is not None:
            others = others.exclude(pk=self.account.pk)
        for other in others:
            taken = sorted(set(prefixes) & set(other.prefixes))
            if taken:
                raise forms.ValidationError(
                    f"{', '.join(taken)} is already the prefix of “{other.name}”: a prefix belongs to one account. "
                    f"Remove it there first, or use a longer prefix here."
                )
        return ", ".join(prefixes)

    def clean_inventory_prefixes(self) -> list[str]:
        return digits_list(self.cleaned_data.get("inventory_prefixes") or "", what="a prefix")

    def _credentials(self) -> dict[str, str]:
        stored: dict[str, str] = {}
        if self.account is not None and self.account.credentials:
            try:
                stored = decrypt(self.account.credentials)
            except CredentialsUnreadable as error:
                missing = [self[name].label for name in self.credential_names if not self.cleaned_data.get(name)]
                if missing:
                    raise forms.ValidationError(f"{error} Missing here: {', '.join(str(label) for label in missing)}.") from None
        for field_name in self.credential_names:
            if value := self.cleaned_data.get(field_name):
                stored[field_name.removeprefix("credential_")] = value
        if self.credentials_needed and not any(all(stored.get(name) for name in way) for way in self.credentials_needed):
            named = [[f"the {str(self[f'credential_{name}'].label).split(' (')[0]}" for name in way] for way in self.credentials_needed]
            ways = [", ".join(names[:-1]) + f" and {names[-1]}" for names in named]
            raise forms.ValidationError(f"Enter {', or '.join(ways)}.")
        return stored

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            try:
                self.credentials = self._credentials()
            except forms.ValidationError as error:
                self.add_error(None, error)
        return data

    def save(self, *, user: Any) -> CarrierAccount:
        data = self.cleaned_data
        account = self.account or CarrierAccount(product=self.product, adapter=self.code, created_by=user)
        account.name, account.iccid_prefixes = data["name"], data["iccid_prefixes"]
        settings = dict(account.settings)
        for name in self.setting_names:
            value = data.get(name)
            if value in (None, "", []):
                settings.pop(name, None)
            else:
                settings[name] = value
        account.settings = settings
        account.credentials = encrypt(self.credentials) if self.credentials else ""
        account.save()
        return account
