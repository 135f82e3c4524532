"""The IMEI lock's forms: a product's lock (Settings) and one SIM's own mode (the SIM page)."""

import re
from typing import Any

from django import forms

from devices.imei_lock import TAC_LENGTH
from devices.models import ImeiLock, LockMode, SimImeiLock

IMEI_HELP = "15 digits as the device shows them (*#06#); 14 without the check digit, or 16 (IMEISV), are taken too."
TACS_HELP = "The first 8 digits of the allowed devices' IMEIs, one per device model: separated by commas, spaces or lines."


def clean_imei(value: str) -> str:
    imei = re.sub(r"[\s-]", "", value)
    if imei and not re.fullmatch(r"\d{14,16}", imei):
        raise forms.ValidationError(f"“{value.strip()[:40]}” is not an IMEI: type its 15 digits (spaces and dashes are fine).")
    return imei


def clean_tacs(value: str) -> list[str]:
    tacs = [t for t in re.split(r"[\s,;]+", value) if t]
    wrong = [t for t in tacs if not re.fullmatch(rf"\d{{{TAC_LENGTH}}}", t)]
    if wrong:
        shown = ", ".join(f"“{t[:20]}”" for t in wrong[:3])
        raise forms.ValidationError(f"{shown} {'is not a TAC' if len(wrong) == 1 else 'are not TACs'}: a TAC is the first {TAC_LENGTH} digits of an IMEI.")
    return list(dict.fromkeys(tacs))


class _LockFields(forms.Form):
    tacs = forms.CharField(label="Allowed TACs", required=False, help_text=TACS_HELP, widget=forms.Textarea(attrs={"rows": 2}))
    imei = forms.CharField(label="Fixed IMEI", required=False, max_length=40, help_text=IMEI_HELP)

    def clean_tacs(self) -> list[str]:
        return clean_tacs(self.cleaned_data["tacs"])

    def clean_imei(self) -> str:
        return clean_imei(self.cleaned_data["imei"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        mode = data.get("mode")
        if mode == LockMode.TACS and "tacs" in data and not data["tacs"]:
            self.add_error("tacs", "Type at least one TAC to allow, or choose another mode.")
        if mode == LockMode.FIXED and "imei" in data and not data["imei"]:
            self.add_error("imei", "Type the IMEI to lock to, or choose another mode.")
        return data


class ProductLockForm(_LockFields):
    mode = forms.ChoiceField(label="Mode", choices=LockMode.choices, widget=forms.RadioSelect)
    suspend = forms.BooleanField(label="Suspend the SIM on a mismatch", required=False, help_text="Through its carrier, with the IMEI seen as the reason.")
    notify = forms.BooleanField(label="Notify the team on a mismatch", required=False, help_text="In the console and by email, as each member chose. Webhooks always receive imei.mismatch.")

    field_order = ["mode", "tacs", "imei", "suspend", "notify"]

    @classmethod
    def for_lock(cls, lock: ImeiLock, data: Any = None) -> "ProductLockForm":
        initial = {"mode": lock.mode, "tacs": ", ".join(lock.tacs), "imei": lock.imei, "suspend": lock.suspend, "notify": lock.notify}
        return cls(data, initial=initial)

    def save(self, lock: ImeiLock) -> None:
        data = self.cleaned_data
        lock.mode, lock.tacs, lock.imei, lock.suspend, lock.notify = data["mode"], data["tacs"], data["imei"], data["suspend"], data["notify"]


class SimLockForm(_LockFields):
    mode = forms.ChoiceField(label="Mode", widget=forms.RadioSelect)

    field_order = ["mode", "tacs", "imei"]

    def __init__(self, *args: Any, product_mode_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mode = self.fields["mode"]
        assert isinstance(mode, forms.ChoiceField)
        mode.choices = [("", f"The product's ({product_mode_label[:1].lower()}{product_mode_label[1:]})"), *LockMode.choices]
        mode.required = False

    @classmethod
    def for_lock(cls, lock: SimImeiLock, *, product_mode_label: str, data: Any = None) -> "SimLockForm":
        initial = {"mode": lock.mode, "tacs": ", ".join(lock.tacs), "imei": lock.imei}
        return cls(data, initial=initial, product_mode_label=product_mode_label)

    def save(self, lock: SimImeiLock) -> None:
        data = self.cleaned_data
        lock.mode, lock.tacs, lock.imei = data["mode"], data["tacs"], data["imei"]
