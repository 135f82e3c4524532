"""A rule checked whole: its condition's and actions' parameters, its scope and its window (Rule.clean)."""

from typing import Any

from django.http import QueryDict

from billing.models import Budget, RateZone
from rules.actions import ACTIONS, Email, Webhook, actions_of
from rules.conditions import MAX_HOURS, CostOverBudget, InCountry, condition_of
from rules.kinds import PRODUCT_KINDS, ScopeKind, WindowKind
from rules.params import ParamError


def validate_rule(rule: Any) -> dict[str, str]:
    """Field name -> what is wrong and what to do; empty when the rule is good."""
    errors: dict[str, str] = {}
    for name, check in (
        ("condition", lambda: check_condition(rule)),
        ("actions", lambda: check_actions(rule.condition_kind, rule.actions)),
        ("scope_value", lambda: check_scope(rule.scope_kind, rule.scope_value)),
        ("scope_kind", lambda: check_product_scope(rule.condition_kind, rule.scope_kind)),
        ("window_hours", lambda: check_window(rule.window_kind, rule.window_hours)),
    ):
        try:
            check()
        except ParamError as error:
            errors.setdefault(name, str(error))
    return errors


def check_condition(rule: Any) -> None:
    condition = condition_of(rule.condition_kind, rule.condition)
    if isinstance(condition, CostOverBudget) and condition.percent is not None and rule.product_id is not None:
        if not Budget.objects.filter(product_id=rule.product_id).exists():
            raise ParamError("The product has no monthly budget to take a percentage of: set one on its Billing tab, or give an amount in USD.")
    if isinstance(condition, InCountry) and condition.zone and not RateZone.objects.filter(code=condition.zone).exists():
        codes = ", ".join(RateZone.objects.order_by("code").values_list("code", flat=True)) or "none yet"
        raise ParamError(f"There is no rate zone {condition.zone!r}: give one of the zones' codes ({codes}).")


def check_actions(condition_kind: str, actions: Any) -> None:
    """A condition about the product has no SIM to act on: it tells people, by email or webhooks."""
    parsed = actions_of(actions)
    if condition_kind in PRODUCT_KINDS:
        others = sorted({kind for a in parsed for kind, cls in ACTIONS.items() if isinstance(a, cls) and cls not in (Email, Webhook)})
        if others:
            raise ParamError(f"A rule about the product, not a SIM, can only email people or call the webhooks: remove {', '.join(others)}.")


def check_product_scope(condition_kind: str, scope_kind: str) -> None:
    if condition_kind in PRODUCT_KINDS and scope_kind != ScopeKind.ALL:
        raise ParamError("A rule about the product's cost or its carrier accounts watches the whole product: choose every SIM of the product as its scope.")


def check_scope(kind: str, value: str) -> None:
    from sims.forms import SimFilterForm

    if kind == ScopeKind.ALL:
        if value:
            raise ParamError("A rule for every SIM takes no filter, tag or TAC: empty the field or choose another scope.")
    elif kind == ScopeKind.FILTER:
        form = SimFilterForm(QueryDict(value.lstrip("?")))
        if not value.strip() or not form.is_valid():
            problems = "; ".join(f"{field}: {' '.join(str(e) for e in errs)}" for field, errs in form.errors.items()) if value.strip() else ""
            raise ParamError(
                "Give the SIMs page's filter as its query string, such as state=active&country=DE"
                + (f" ({problems})." if problems else ".")
            )
    elif kind == ScopeKind.TAG:
        if not value.strip():
            raise ParamError("Give the device tag whose SIMs the rule watches.")
    elif kind == ScopeKind.TAC:
        if not (value.isdigit() and len(value) == 8):
            raise ParamError("A device model's TAC is the first 8 digits of its IMEI, such as 35332011.")
    else:
        raise ParamError(f"{kind!r} is not a scope: choose one of {', '.join(ScopeKind.values)}.")


def check_window(kind: str, hours: int | None) -> None:
    if kind == WindowKind.HOURS:
        if hours is None or not 1 <= hours <= MAX_HOURS:
            raise ParamError(f"Say how many hours the rule waits before firing again for a SIM: 1 to {MAX_HOURS}.")
    elif kind in (WindowKind.DAY, WindowKind.PERIOD):
        if hours is not None:
            raise ParamError("Hours go only with 'once every so many hours': empty them or change the window.")
    else:
        raise ParamError(f"{kind!r} is not a window: choose one of {', '.join(WindowKind.values)}.")
