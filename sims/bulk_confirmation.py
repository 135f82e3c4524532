"""Confirmation in proportion to harm: a bulk action that takes SIMs off the network, out of the product
or out of service for good, on more than a few SIMs, asks the person to type how many SIMs it will
change. The server checks the number against the SIMs it will act on, counted again at the apply."""

import re

from sims.lifecycle import Action

HARMFUL_ACTIONS = frozenset({Action.DEACTIVATE, Action.REMOVE, Action.TERMINATE})
# A harmful bulk action on more SIMs than this asks for their number to be typed; on a few, one click.
TYPED_CONFIRMATION_ABOVE = 5
# What people put between thousands: commas, dots, spaces (plain, no-break, thin), apostrophes, underscores.
_THOUSANDS_SEPARATORS = re.compile(r"[\s,.'’_\u00a0\u202f]")
_WHAT_IT_DOES = {
    Action.DEACTIVATE: "deactivate {count} SIMs",
    Action.REMOVE: "remove {count} SIMs from the product",
    Action.TERMINATE: "terminate {count} SIMs",
}


def needs_typed_count(action: Action, count: int) -> bool:
    return action in HARMFUL_ACTIONS and count > TYPED_CONFIRMATION_ABOVE


def what_it_does(action: Action, count: int) -> str:
    """'deactivate 1,000,000 SIMs': the confirmation's words."""
    return _WHAT_IT_DOES[action].format(count=f"{count:,}")


def parse_typed_count(text: str) -> int | None:
    """The whole number typed, with or without thousands separators; None if it is not one."""
    digits = _THOUSANDS_SEPARATORS.sub("", text)
    return int(digits) if digits.isascii() and digits.isdigit() else None


def typed_count_problem(*, action: Action, count: int, typed: str, shown: int | None) -> str | None:
    """None when `typed` is the number of SIMs the action will change (`count`, counted now); else what
    was wrong and what to type. `shown`: the number the confirmation asked for, if the set changed since."""
    type_this = f"Type {count:,} to {what_it_does(action, count)}."
    number = parse_typed_count(typed)
    if number == count:
        return None
    if not typed.strip():
        return f"Nothing was changed: the number of SIMs is missing. {type_this}"
    if number is None:
        return f"Nothing was changed: “{typed.strip()[:40]}” is not a number. {type_this}"
    if shown is not None and number == shown:
        return (
            f"Nothing was changed: the SIMs this applies to changed since you confirmed. "
            f"It would now change {count:,} SIMs, not {shown:,}. {type_this}"
        )
    return f"Nothing was changed: you typed {number:,}, but this would change {count:,} SIMs. {type_this}"
