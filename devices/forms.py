"""The device forms: create and edit a device, and put a SIM in it by ICCID."""

from typing import Any

from django import forms

from devices.models import Device
from devices.tac import InvalidImei, model_for_imei, validate_imei
from products.models import Product
from sims.models import Sim

MAX_TAGS, MAX_TAG = 20, 40


class DeviceForm(forms.ModelForm):
    tags = forms.CharField(
        required=False, max_length=MAX_TAGS * (MAX_TAG + 2), help_text="Separated by commas: basement, pilot, v2",
        widget=forms.TextInput(attrs={"placeholder": "basement, pilot"}),
    )

    class Meta:
        model = Device
        fields = ["device_id", "name", "imei", "model"]
        help_texts = {
            "device_id": "The id your own systems use for it: a Particle device ID, a serial number. Unique in the product.",
            "imei": "15 digits (AT+CGSN). The model is read from its first 8 when you leave the model empty.",
            "model": "Leave empty to name it from the IMEI.",
        }
        widgets = {"device_id": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})}

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields["imei"].widget.attrs.update(inputmode="numeric", autocomplete="off")
        self.fields["device_id"].required = False  # clean_device_id says what to type instead of "required"
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_device_id(self) -> str:
        device_id = self.cleaned_data["device_id"].strip()
        if not device_id:
            raise forms.ValidationError("Give the device an ID: the one your systems use for it, or its serial number.")
        taken = Device.objects.filter(product=self.product, device_id=device_id).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"Another device of this product has the ID {device_id}: device IDs are unique in a product.")
        return device_id

    def clean_imei(self) -> str:
        value = self.cleaned_data["imei"]
        if not value.strip():
            return ""
        try:
            return validate_imei(value)
        except InvalidImei as error:
            raise forms.ValidationError(str(error)) from None

    def clean_tags(self) -> list[str]:
        tags = list(dict.fromkeys(tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()))
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"At most {MAX_TAGS} tags; this has {len(tags)}.")
        long = next((tag for tag in tags if len(tag) > MAX_TAG), None)
        if long:
            raise forms.ValidationError(f"A tag has at most {MAX_TAG} characters; “{long[:50]}…” has {len(long)}.")
        return tags

    def save(self, commit: bool = True) -> Device:
        device = super().save(commit=False)
        device.product = self.product
        device.tags = self.cleaned_data["tags"]
        device.model = device.model.strip()
        if not device.model and device.imei:
            device.model = model_for_imei(device.imei)
        if commit:
            device.save()
        return device


class AssignSimForm(forms.Form):
    iccid = forms.CharField(label="ICCID", max_length=40, widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "8901260…"}))

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        self.sim: Sim | None = None

    def clean_iccid(self) -> str:
        iccid = "".join(self.cleaned_data["iccid"].split())
        if not (iccid.isascii() and iccid.isdigit()):
            raise forms.ValidationError("An ICCID has only digits (19 or 20): type it as printed on the SIM, without letters.")
        self.sim = Sim.objects.filter(product=self.product, iccid=iccid).select_related("device").first()
        if self.sim is None:
            raise forms.ValidationError(f"No SIM {iccid} in {self.product.name}: import it first, or check the digits.")
        return iccid
