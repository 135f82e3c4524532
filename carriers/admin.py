"""Carriers in the Django admin: accounts (credentials write-only, as on the console's Settings), and the
simulator's network and the calls made to carriers, read-only."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from carriers.adapters import ADAPTERS, adapter_class
from carriers.credentials import CredentialsUnreadable, decrypt, encrypt
from carriers.forms import KEPT, digits_list, adapter_choices
from carriers.models import AccountRoutine, CarrierAccount, CarrierCall, NetworkDifference, PushLease, SimulatedSim, SimulatedSms, SmsBatch, SmsMessage


class CarrierAccountAdminForm(forms.ModelForm):
    """The credential fields of every adapter, write-only: the account's own adapter's are used; an
    empty field keeps what is stored. The stored credentials are never put in the page."""

    adapter = forms.ChoiceField(choices=adapter_choices)

    class Meta:
        model = CarrierAccount
        fields = ["product", "name", "adapter", "iccid_prefixes", "settings"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        saved = bool(self.instance.pk and self.instance.credentials)
        self.credential_names: dict[str, tuple[str, str]] = {}
        for code in ADAPTERS:
            cls = adapter_class(code)
            for name, label in cls.credential_fields.items():
                field_name = f"credential__{code}__{name}"
                self.credential_names[field_name] = (code, name)
                self.fields[field_name] = forms.CharField(
                    label=f"{cls.label}: {label}", required=False, max_length=500,
                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                    help_text=KEPT if saved and code == self.instance.adapter else "Stored encrypted; never shown again.",
                )  # fmt: skip

    def clean_iccid_prefixes(self) -> str:
        return ", ".join(digits_list(self.cleaned_data["iccid_prefixes"], what="an ICCID prefix"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = data.get("adapter")
        stored: dict[str, str] = {}
        if self.instance.pk and self.instance.credentials and self.instance.adapter == code:
            try:
                stored = decrypt(self.instance.credentials)
            except CredentialsUnreadable as error:
                self.add_error(None, str(error))
        for field_name, (field_code, name) in self.credential_names.items():
            if field_code == code and data.get(field_name):
                stored[name] = data[field_name]
        self.new_credentials = stored
        return data

    def save(self, commit: bool = True) -> CarrierAccount:
        account = super().save(commit=False)
        account.credentials = encrypt(self.new_credentials) if self.new_credentials else ""
        if commit:
            account.save()
        return account


@admin.register(CarrierAccount)
class CarrierAccountAdmin(admin.ModelAdmin):
    form = CarrierAccountAdminForm
    list_display = ["name", "product", "adapter", "iccid_prefixes", "last_success_at", "last_failure_at"]
    list_filter = ["adapter"]
    search_fields = ["name", "product__name", "product__slug", "iccid_prefixes"]
    readonly_fields = ["credentials_saved", "created_by", "created_at", "last_success_at", "last_failure_at", "last_failure"]

    @admin.display(description="Credentials")
    def credentials_saved(self, account: CarrierAccount) -> str:
        return "saved (encrypted; never shown)" if account.credentials else "none"

    def save_model(self, request: HttpRequest, obj: CarrierAccount, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SimulatedSim)
class SimulatedSimAdmin(ReadOnlyAdmin):
    list_display = ["iccid", "account", "status", "data_limit_mb", "changes", "repeats", "updated_at"]
    list_filter = ["status"]
    search_fields = ["iccid"]


@admin.register(CarrierCall)
class CarrierCallAdmin(ReadOnlyAdmin):
    list_display = ["at", "account_key", "what", "ok", "sims", "error"]
    list_filter = ["ok", "what"]
    search_fields = ["error", "what"]
    date_hierarchy = "at"


@admin.register(PushLease)
class PushLeaseAdmin(ReadOnlyAdmin):
    list_display = ["account_key", "holder", "until"]


@admin.register(NetworkDifference)
class NetworkDifferenceAdmin(ReadOnlyAdmin):
    list_display = ["iccid", "account_key", "kind", "ours", "theirs", "carrier_status", "since", "found_at"]
    list_filter = ["kind"]
    search_fields = ["iccid"]


@admin.register(AccountRoutine)
class AccountRoutineAdmin(ReadOnlyAdmin):
    list_display = ["account_key", "reconciled_at", "reconciliation_summary", "usage_until"]


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "sim", "direction", "status", "body", "carrier_message_id", "attempts"]
    list_filter = ["direction", "status"]
    search_fields = ["sim__iccid", "carrier_message_id", "body"]
    list_select_related = ["sim"]
    raw_id_fields = ["sim", "product", "created_by", "batch"]


@admin.register(SmsBatch)
class SmsBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "product", "described", "status", "recorded", "skipped", "total"]
    list_filter = ["status"]


@admin.register(SimulatedSms)
class SimulatedSmsAdmin(ReadOnlyAdmin):
    list_display = ["at", "iccid", "direction", "body", "message_id"]
    search_fields = ["iccid", "message_id"]
