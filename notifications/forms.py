from django import forms

from notifications.models import Kind
from notifications.preferences import Choice


class ChoicesForm(forms.Form):
    """A person's choices in one product: per kind, by email and in the console (checkboxes: an
    unticked box is "no")."""

    def __init__(self, *args, chosen: dict[str, Choice], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[f"{kind}_email"] = forms.BooleanField(required=False, initial=chosen[kind].email, label=f"{kind.label}: by email")
            self.fields[f"{kind}_console"] = forms.BooleanField(
                required=False, initial=chosen[kind].in_console, label=f"{kind.label}: in the console"
            )

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(kind.label, self[f"{kind}_email"], self[f"{kind}_console"]) for kind in Kind]

    def choices(self) -> dict[str, Choice]:
        data = self.cleaned_data
        return {kind: Choice(email=data[f"{kind}_email"], in_console=data[f"{kind}_console"]) for kind in Kind}
