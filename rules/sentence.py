"""A rule read as a sentence: "When a SIM uses more than 50 MB in a day, pause it and email the admins"."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from rules.kinds import PRODUCT_KINDS, ActionKind, ConditionKind, ScopeKind, WindowKind

_SCOPE = {
    ScopeKind.ALL: "a SIM",
    ScopeKind.FILTER: "a SIM matching {value}",
    ScopeKind.TAG: "a SIM in a device tagged {value}",
    ScopeKind.TAC: "a SIM in a device of model (TAC) {value}",
}

_PER: dict[str, str] = {ConditionKind.COST_OVER_BUDGET: "product", ConditionKind.CARRIER_FAILURES: "carrier account"}


def condition_phrase(kind: str, params: dict[str, Any]) -> str:
    p = params if isinstance(params, dict) else {}
    phrases: dict[str, Callable[[], str]] = {
        ConditionKind.USAGE_DAY: lambda: f"uses more than {_num(p.get('mb'))} MB in a day",
        ConditionKind.USAGE_PERIOD: lambda: f"uses more than {_num(p.get('mb'))} MB in the billing period",
        ConditionKind.USAGE_ROLLING: lambda: f"uses more than {_num(p.get('mb'))} MB in the last {p.get('hours', 24)} hours",
        ConditionKind.SMS_COUNT: lambda: f"sends more than {p.get('count')} SMS in a day",
        ConditionKind.SPIKE: lambda: f"uses more than {_num(p['factor'])} times its usual day" if p.get("factor") else "uses far more data than usual (a spike)",
        ConditionKind.NO_SESSION: lambda: f"has had no data session for {p.get('hours')} hours",
        ConditionKind.IMEI_CHANGED: lambda: "is seen in a new device (its IMEI changed)",
        ConditionKind.COUNTRY: lambda: f"attaches to a network in {_places(p)}",
        ConditionKind.STATE_CHANGED: lambda: f"becomes {p.get('state')}",
        ConditionKind.COST_OVER_BUDGET: lambda: _cost_phrase(p),
        ConditionKind.CARRIER_FAILURES: lambda: (
            f"more than {_num(p.get('percent'))}% of the changes pushed to a carrier account fail in the last "
            f"{p.get('hours', 24)} hours (at least {p.get('min_changes', 10)} changes)"
        ),
    }
    return phrases[kind]() if kind in phrases else str(kind)


def _places(p: dict[str, Any]) -> str:
    places = [", ".join(p.get("countries") or [])] + ([f"rate zone {p['zone']}"] if p.get("zone") else [])
    return " or ".join(place for place in places if place) or "a country"


def action_phrase(action: dict[str, Any]) -> str:
    kind = action.get("kind") if isinstance(action, dict) else None
    if kind == ActionKind.DATA_LIMIT:
        return f"set its data limit to {action.get('mb')} MB"
    if kind == ActionKind.TAG:
        return f"tag its device {action.get('tag')}"
    if kind == ActionKind.EMAIL:
        roles, users = action.get("roles") or [], action.get("users") or []
        who = [f"the {role}s" for role in roles] + ([f"{len(users)} people"] if users else [])
        return "email " + (" and ".join(who) or "the admins")
    if kind == ActionKind.SMS:
        return f"send the device an SMS ({action.get('body')})"
    if kind in ActionKind.values:
        return str(ActionKind(kind).label)
    return str(kind)


def window_phrase(kind: str, hours: int | None, condition_kind: str = "") -> str:
    per = _PER.get(condition_kind, "SIM")
    if kind == WindowKind.HOURS:
        return f"at most once every {hours} hours per {per}"
    return f"at most {WindowKind(kind).label} per {per}" if kind in WindowKind.values else ""


def sentence(rule: Any) -> str:
    """The rule in words, as the console shows it."""
    actions = [action_phrase(a) for a in (rule.actions or [])]
    did = ", ".join(actions[:-1]) + (" and " if len(actions) > 1 else "") + (actions[-1] if actions else "record it")
    if rule.condition_kind in PRODUCT_KINDS:  # about the product: no SIM, the actions tell people
        return f"When {condition_phrase(rule.condition_kind, rule.condition)}, {did}."
    who = _SCOPE.get(rule.scope_kind, "a SIM").format(value=rule.scope_value)
    return f"When {who} {condition_phrase(rule.condition_kind, rule.condition)}, {did}."


def _cost_phrase(p: dict[str, Any]) -> str:
    what = "projected cost for this billing period" if p.get("projected") else "estimated cost this billing period"
    if p.get("percent") is not None:
        over = f"{p.get('percent')}% of its budget"
    else:
        try:
            over = f"${Decimal(str(p.get('amount'))):,.2f}"
        except InvalidOperation:
            over = str(p.get("amount"))
    return f"the product's {what} goes over {over}"


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
