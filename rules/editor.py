"""The console's rule form, read as a sentence: "When [a SIM] [uses more than] [50] MB in a day, [pause it] and
[email the admins], at most [once a day] per SIM".

Each condition's and action's inputs are made from its typed dataclass (rules/conditions.py CONDITIONS,
rules/actions.py ACTIONS): a field per dataclass field, of its type. A kind added there gets inputs here
without a change; WORDS only adds the words around an input where they read better than its name."""

import dataclasses
import types
import typing
import uuid
from typing import Any

from django import forms

from billing.models import RateZone
from products.models import Membership, Product
from rules.actions import ACTIONS, actions_of
from rules.conditions import CONDITIONS, condition_of
from rules.kinds import ActionKind, ConditionKind, ScopeKind, WindowKind
from rules.models import Rule
from rules.params import ParamError
from rules.validation import check_scope, check_window, validate_rule
from sims.models import State

# (kind, field) or field -> the words before and after its input, in the sentence.
WORDS: dict[tuple[str, str] | str, tuple[str, str]] = {
    (ConditionKind.USAGE_ROLLING, "hours"): ("in the last", "hours"),
    (ConditionKind.NO_SESSION, "hours"): ("for", "hours"),
    (ConditionKind.SPIKE, "factor"): ("more than", "times its usual day (empty: the spike detector's threshold)"),
    (ConditionKind.COUNTRY, "countries"): ("in", "(two-letter codes, such as DE, FR)"),
    (ConditionKind.COUNTRY, "zone"): ("or in the rate zone", "(its code, as on the Billing tab; may be empty)"),
    (ConditionKind.STATE_CHANGED, "state"): ("to", ""),
    (ActionKind.DATA_LIMIT, "mb"): ("to", "MB"),
    (ActionKind.SMS, "body"): ("saying", "({iccid} and {device_name} are filled in)"),
    (ActionKind.EMAIL, "users"): ("to", ""),
    (ActionKind.EMAIL, "roles"): ("or all the", ""),
    "mb": ("more than", "MB"),
    "count": ("more than", ""),
    "hours": ("", "hours"),
    "amount": ("over", "USD"),
    "percent": ("over", "%"),
    "min_changes": ("out of at least", "changes"),
}

SCOPE_WORDS = {
    ScopeKind.ALL: "a SIM",
    ScopeKind.FILTER: "a SIM matching the SIMs page's filter",
    ScopeKind.TAG: "a SIM in a device tagged",
    ScopeKind.TAC: "a SIM in a device of model (TAC)",
}

WINDOW_WORDS = {WindowKind.DAY: "once a day", WindowKind.PERIOD: "once a billing period", WindowKind.HOURS: "once every … hours"}


@dataclasses.dataclass
class Param:
    """One input of a kind's parameters, with the words around it in the sentence."""

    name: str  # the dataclass field
    bound: forms.BoundField
    before: str
    after: str

    @property
    def multi(self) -> bool:
        return isinstance(self.bound.field.widget, forms.CheckboxSelectMultiple)


@dataclasses.dataclass
class KindInputs:
    """A condition or action kind with its inputs, shown when it is the chosen one (with JS) or always (without)."""

    kind: str
    label: str
    params: list[Param]
    error: str = ""
    chosen: bool = False
    box: forms.BoundField | None = None  # an action's checkbox


def _param_key(group: str, kind: str, name: str) -> str:
    return f"{group}-{kind}-{name}"


def _choices_for(kind: str, name: str, product: Product) -> list[tuple[Any, str]] | None:
    if name == "state":
        return list(State.choices)
    if kind == ActionKind.EMAIL and name == "roles":
        return [(role, f"{label.lower()}s") for role, label in Membership.Role.choices]
    if kind == ConditionKind.COUNTRY and name == "zone":
        return [(zone.code, str(zone)) for zone in RateZone.objects.order_by("code")]
    if kind == ActionKind.EMAIL and name == "users":
        members = Membership.objects.filter(product=product).select_related("user").order_by("user__username")
        return [(m.user_id, m.user.get_full_name() or m.user.get_username()) for m in members]
    return None


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """`float | None` -> (float, True); `int` -> (int, False)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else str), True
    return annotation, False


def _form_field(kind: str, spec: dataclasses.Field, product: Product) -> forms.Field:
    """An input of the field's type: whole numbers, numbers, text, a yes/no, a list (a choice of some, or text
    separated by commas); anything else is sent as the text typed, for its dataclass to judge."""
    annotation, _ = _base_type(spec.type)
    choices = _choices_for(kind, spec.name, product)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    label = spec.name.replace("_", " ")
    if origin is list:
        if choices is not None:
            coerce = int if args == (int,) else str
            return forms.TypedMultipleChoiceField(label=label, required=False, choices=choices, coerce=coerce, widget=forms.CheckboxSelectMultiple)
        return forms.CharField(label=label, required=False, help_text="Separate them with commas.")
    if choices is not None:
        return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *choices])
    if annotation is int:
        return forms.IntegerField(label=label, required=False, widget=forms.NumberInput(attrs={"class": "num-input"}))
    if annotation is float:
        return forms.FloatField(label=label, required=False, widget=forms.NumberInput(attrs={"class": "num-input", "step": "any"}))
    if annotation is bool:
        return forms.BooleanField(label=label, required=False)
    return forms.CharField(label=label, required=False)


def _json_value(spec: dataclasses.Field, value: Any) -> Any:
    """The cleaned input as the rule's JSON holds it; None when left empty."""
    annotation, _ = _base_type(spec.type)
    if value in (None, "", []) and annotation is not bool:
        return None
    if typing.get_origin(annotation) is list and isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
        if typing.get_args(annotation) == (int,):
            try:
                return [int(item) for item in items]
            except ValueError as error:
                raise ParamError("Give whole numbers separated by commas, such as 3, 7.") from error
        return items
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 50, not 50.0, in the rule's JSON and its sentence
    return value


def _condition_label(kind: str) -> str:
    return str(ConditionKind(kind).label) if kind in ConditionKind.values else kind.replace("_", " ")


class RuleForm(forms.Form):
    """Name, enabled, scope, condition kind and its inputs, actions and theirs, window, approval threshold.

    `rule()` gives the unsaved rule of what was typed (for saving or a backtest) once `is_valid()`."""

    name = forms.CharField(max_length=100, error_messages={"required": "Give the rule a name, such as “Heavy day”."})
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled: the rule fires from when it is saved")
    scope_kind = forms.ChoiceField(choices=list(SCOPE_WORDS.items()), initial=ScopeKind.ALL, label="Which SIMs")
    scope_value = forms.CharField(max_length=500, required=False, label="Filter, tag or TAC")
    condition_kind = forms.ChoiceField(
        label="Condition",
        error_messages={"invalid_choice": "Choose a condition from the list."},
    )
    window_kind = forms.ChoiceField(choices=list(WINDOW_WORDS.items()), initial=WindowKind.DAY, label="How often per SIM")
    window_hours = forms.IntegerField(required=False, min_value=1, label="Hours", widget=forms.NumberInput(attrs={"class": "num-input"}))
    approval_threshold = forms.IntegerField(
        required=False, min_value=0, label="Approval over", widget=forms.NumberInput(attrs={"class": "num-input"}),
        help_text="Empty: never waits.",
    )  # fmt: skip
    form_token = forms.UUIDField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, product: Product, instance: Rule | None = None, **kwargs: Any) -> None:
        if instance is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = _initial_of(instance)
        super().__init__(*args, **kwargs)
        self.product = product
        self.instance = instance
        if instance is None and not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())
        self.fields["condition_kind"].choices = [(kind, _condition_label(kind)) for kind in CONDITIONS]  # type: ignore[attr-defined]
        for kind, cls in CONDITIONS.items():
            for spec in dataclasses.fields(cls):
                self.fields[_param_key("condition", kind, spec.name)] = _form_field(kind, spec, product)
        for kind, cls in ACTIONS.items():
            self.fields[f"action-{kind}"] = forms.BooleanField(required=False, label=_action_label(kind))
            for spec in dataclasses.fields(cls):
                self.fields[_param_key("action", kind, spec.name)] = _form_field(kind, spec, product)
        for key, value in self.initial.items():
            if isinstance(value, list) and isinstance(self.fields.get(key), forms.CharField):
                self.initial[key] = ", ".join(str(item) for item in value)  # a list typed as text
        self.condition_error = ""
        self.actions_error = ""
        self.action_errors: dict[str, str] = {}
        self._rule: Rule | None = None

    # -- The sentence's pieces, for the template ------------------------------------------------------

    def condition_inputs(self) -> list[KindInputs]:
        chosen = self["condition_kind"].value() or next(iter(CONDITIONS))
        return [
            KindInputs(kind=kind, label=_condition_label(kind), params=self._params("condition", kind, cls),
                       error=self.condition_error if kind == chosen else "", chosen=kind == chosen)
            for kind, cls in CONDITIONS.items()
        ]  # fmt: skip

    def action_inputs(self) -> list[KindInputs]:
        return [
            KindInputs(kind=kind, label=_action_label(kind), params=self._params("action", kind, cls), error=self.action_errors.get(kind, ""),
                       chosen=bool(self[f"action-{kind}"].value()), box=self[f"action-{kind}"])
            for kind, cls in ACTIONS.items()
        ]  # fmt: skip

    def _params(self, group: str, kind: str, cls: type) -> list[Param]:
        params = []
        for spec in dataclasses.fields(cls):
            before, after = WORDS.get((kind, spec.name)) or WORDS.get(spec.name) or (spec.name.replace("_", " "), "")
            params.append(Param(name=spec.name, bound=self[_param_key(group, kind, spec.name)], before=before, after=after))
        return params

    # -- Validation -----------------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("condition_kind")
        condition = self._collect("condition", kind, CONDITIONS.get(kind)) if kind else None
        if condition is not None:
            try:
                condition_of(kind, condition)  # type: ignore[arg-type]
            except ParamError as error:
                self.condition_error = str(error)
        actions = self._chosen_actions()
        if not actions and not self.action_errors:
            self.actions_error = "Choose at least one thing for the rule to do: tick pause it, email people, or another."
        self._check("scope_value", lambda: check_scope(data.get("scope_kind", ""), data.get("scope_value", "")))
        self._check("window_hours", lambda: check_window(data.get("window_kind", ""), data.get("window_hours")))
        if not (self.errors or self.condition_error or self.actions_error or self.action_errors):
            self._rule = self._build(data, condition or {}, actions)
            self._check_whole(self._rule)  # what only the whole rule shows (Rule.clean), such as a kind's allowed actions
        if self.errors or self.condition_error or self.actions_error or self.action_errors:
            self._rule = None
            raise forms.ValidationError("The rule is not saved: see what is wrong beside each input below; what you typed is kept.")
        return data

    def _check_whole(self, rule: Rule) -> None:
        for name, message in validate_rule(rule).items():
            if name == "condition":
                self.condition_error = message
            elif name == "actions":
                self.actions_error = message
            elif name in self.fields:
                self.add_error(name, message)
            else:
                self.add_error(None, message)

    def _check(self, name: str, check: Any) -> None:
        if name in self.errors:
            return
        try:
            check()
        except ParamError as error:
            self.add_error(name, str(error))

    def _collect(self, group: str, kind: str, cls: type | None) -> dict[str, Any] | None:
        """The kind's parameters as JSON; None when an input is wrong or missing (the error is beside it)."""
        if cls is None:
            return None
        values: dict[str, Any] = {}
        good = True
        for spec in dataclasses.fields(cls):
            key = _param_key(group, kind, spec.name)
            if key in self.errors:
                good = False
                continue
            try:
                value = _json_value(spec, self.cleaned_data.get(key))
            except ParamError as error:
                self.add_error(key, str(error))
                good = False
                continue
            if value is None:
                if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING and typing.get_origin(_base_type(spec.type)[0]) is not list:
                    self.add_error(key, f"Give {spec.name.replace('_', ' ')}: the condition needs it." if group == "condition" else f"Give {spec.name.replace('_', ' ')}: this action needs it.")
                    good = False
                continue
            values[spec.name] = value
        return values if good else None

    def _chosen_actions(self) -> list[dict[str, Any]]:
        chosen = []
        for kind, cls in ACTIONS.items():
            if not self.cleaned_data.get(f"action-{kind}"):
                continue
            params = self._collect("action", kind, cls)
            if params is None:
                self.action_errors[kind] = "See the input beside: it is wrong or missing."
                continue
            try:
                actions_of([{"kind": kind, **params}])
            except ParamError as error:
                self.action_errors[kind] = str(error)
                continue
            chosen.append({"kind": kind, **params})
        return chosen

    def _build(self, data: dict[str, Any], condition: dict[str, Any], actions: list[dict[str, Any]]) -> Rule:
        rule = self.instance if self.instance is not None else Rule(product=self.product)
        rule.name = data["name"]
        rule.enabled = data["enabled"]
        rule.scope_kind = data["scope_kind"]
        rule.scope_value = "" if data["scope_kind"] == ScopeKind.ALL else data["scope_value"].strip()
        rule.condition_kind = data["condition_kind"]
        rule.condition = condition
        rule.actions = actions
        rule.window_kind = data["window_kind"]
        rule.window_hours = data["window_hours"] if data["window_kind"] == WindowKind.HOURS else None
        rule.approval_threshold = data["approval_threshold"]
        return rule

    def rule(self) -> Rule:
        """The rule as typed, unsaved (the form must be valid)."""
        assert self._rule is not None, "rule() before is_valid()"
        return self._rule


def _action_label(kind: str) -> str:
    return str(ActionKind(kind).label) if kind in ActionKind.values else kind.replace("_", " ")


def _initial_of(rule: Rule) -> dict[str, Any]:
    """The form's inputs filled from a saved rule."""
    initial: dict[str, Any] = {
        "name": rule.name, "enabled": rule.enabled, "scope_kind": rule.scope_kind, "scope_value": rule.scope_value,
        "condition_kind": rule.condition_kind, "window_kind": rule.window_kind, "window_hours": rule.window_hours,
        "approval_threshold": rule.approval_threshold, "version": rule.version,
    }  # fmt: skip
    cls = CONDITIONS.get(rule.condition_kind)
    for spec in dataclasses.fields(cls) if cls else ():
        if spec.name in (rule.condition or {}):
            initial[_param_key("condition", rule.condition_kind, spec.name)] = rule.condition[spec.name]
    for action in rule.actions or []:
        kind = action.get("kind")
        if kind not in ACTIONS:
            continue
        initial[f"action-{kind}"] = True
        for spec in dataclasses.fields(ACTIONS[kind]):
            if spec.name in action:
                initial[_param_key("action", kind, spec.name)] = action[spec.name]
    return initial
