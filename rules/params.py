"""Typed parameters from a rule's JSON: each dataclass checks its own fields and says what was wrong."""

from dataclasses import MISSING, fields
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, get_args

T = TypeVar("T")

# How a list parameter is written, for the error that asks for one.
LIST_EXAMPLES = {"countries": '["DE", "FR"]', "roles": '["admin", "member"]'}
CENT = Decimal("0.01")


class ParamError(ValueError):
    """A parameter missing, of the wrong type or out of range: the message says which and what to do."""


def from_json(cls: type[T], data: Any, *, what: str) -> T:
    """`cls` built from the JSON object `data`: only its fields, each of its declared type (ints for ints,
    a list of strings for list[str]); its __post_init__ checks the values."""
    if not isinstance(data, dict):
        raise ParamError(f"The {what} must be a JSON object, such as {{\"mb\": 50}}.")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known) - {"kind"})
    if unknown:
        raise ParamError(f"The {what} takes {_names(known) or 'no parameters'}, not {', '.join(unknown)}.")
    values = {}
    for name, spec in known.items():
        if name not in data:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise ParamError(f"The {what} needs {name}.")
            continue
        values[name] = _typed(name, spec.type, data[name], what=what)
    return cls(**values)


def _names(known: dict) -> str:
    return ", ".join(known)


def _typed(name: str, kind: Any, value: Any, *, what: str) -> Any:
    # A class by its name (int), anything else as written (list[str], float | None): `list[str]`'s own
    # __name__ is "list", which would let a text through where a list is asked for.
    text = kind if isinstance(kind, str) else kind.__name__ if isinstance(kind, type) and not get_args(kind) else str(kind)
    if text.endswith(" | None"):
        if value is None:
            return None
        text = text.removesuffix(" | None")
    if text in ("int",) and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ParamError(f"In the {what}, {name} must be a whole number, such as 50.")
    if text in ("float",):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(f"In the {what}, {name} must be a number, such as 2.5.")
        return float(value)
    if text.removeprefix("decimal.") == "Decimal":
        return _money(name, value, what=what)
    if text == "str" and not isinstance(value, str):
        raise ParamError(f"In the {what}, {name} must be text.")
    if text == "bool" and not isinstance(value, bool):
        raise ParamError(f"In the {what}, {name} must be true or false.")
    if text.startswith("list[str]") and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ParamError(f"In the {what}, {name} must be a list of texts, such as {LIST_EXAMPLES.get(name, '[\"a\", \"b\"]')}.")
    if text.startswith("list[int]") and not (
        isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ParamError(f"In the {what}, {name} must be a list of whole numbers.")
    return value


def _money(name: str, value: Any, *, what: str) -> Decimal:
    """An amount of money: a number or its text ("250", 250.5, "250.50"), to the cent."""
    wrong = ParamError(f"In the {what}, {name} must be an amount of money to the cent, such as 250 or \"250.50\".")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise wrong
    try:
        amount = Decimal(str(value).strip())
        cents = amount.quantize(CENT)
    except InvalidOperation:
        raise wrong from None
    if amount != cents:
        raise wrong
    return cents


def at_least(name: str, value: int | float, low: int | float, *, what: str) -> None:
    if value < low:
        raise ParamError(f"In the {what}, {name} must be at least {low}.")
