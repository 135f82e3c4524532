"""A rule checked whole: its condition's and actions' parameters, its scope and its window (Rule.clean)."""

from typing import Any

from django.http import QueryDict

from rules.actions import actions_of
from rules.conditions import MAX_HOURS, condition_of
from rules.kinds import ScopeKind, WindowKind
from rules.params import ParamError


def validate_rule(rule: Any) -> dict[str, str]:
    """Field name -> what is wrong and what to do; empty when the rule is good."""
    errors: dict[str, str] = {}
    for name, check in (
        ("condition", lambda: condition_of(rule.condition_kind, rule.condition)),
        ("actions", lambda: actions_of(rule.actions)),
        ("scope_value", lambda: check_scope(rule.scope_kind, rule.scope_value)),
        ("window_hours", lambda: check_window(rule.window_kind, rule.window_hours)),
    ):
        try:
            check()
        except ParamError as error:
            errors[name] = str(error)
    return errors


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
