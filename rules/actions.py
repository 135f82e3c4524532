"""Each action kind's parameters, typed: `actions_of(json)` gives the list of dataclasses or raises ParamError."""

from dataclasses import dataclass, field
from typing import Any

from carriers.sms import SmsBodyError, check_template
from sims.limits import MAX_DATA_LIMIT_MB
from products.models import Membership
from rules.kinds import ActionKind
from rules.params import ParamError, from_json

MAX_TAG = 40


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Suspend:
    pass


@dataclass(frozen=True)
class SetDataLimit:
    mb: int

    def __post_init__(self) -> None:
        if not 1 <= self.mb <= MAX_DATA_LIMIT_MB:
            raise ParamError(f"The data limit must be from 1 to {MAX_DATA_LIMIT_MB:,} MB.")


@dataclass(frozen=True)
class Tag:
    """Adds `tag` to the tags of the SIM's device (SIMs have no tags of their own; a SIM in no device is left)."""

    tag: str

    def __post_init__(self) -> None:
        if not self.tag.strip() or len(self.tag) > MAX_TAG:
            raise ParamError(f"The tag must be 1 to {MAX_TAG} characters.")


@dataclass(frozen=True)
class Email:
    """The product's members with these user ids, and those with these roles (admin, member)."""

    users: list[int] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.users and not self.roles:
            raise ParamError("Choose whom to email: people (users) or roles (admin, member).")
        unknown = [role for role in self.roles if role not in Membership.Role.values]
        if unknown:
            raise ParamError(f"Not a role: {', '.join(unknown)}. Choose {' or '.join(Membership.Role.values)}.")


@dataclass(frozen=True)
class Webhook:
    """The product's active webhooks get a `rule.fired` delivery."""


@dataclass(frozen=True)
class Sms:
    """An SMS to the SIM's device; {iccid} and {device_name} are filled in (carriers.sms.render)."""

    body: str

    def __post_init__(self) -> None:
        try:
            check_template(self.body)
        except SmsBodyError as error:
            raise ParamError(f"The SMS body: {error}") from error


Action = Pause | Suspend | SetDataLimit | Tag | Email | Webhook | Sms

ACTIONS: dict[str, type] = {
    ActionKind.PAUSE: Pause,
    ActionKind.SUSPEND: Suspend,
    ActionKind.DATA_LIMIT: SetDataLimit,
    ActionKind.TAG: Tag,
    ActionKind.EMAIL: Email,
    ActionKind.WEBHOOK: Webhook,
    ActionKind.SMS: Sms,
}


def actions_of(data: Any) -> list[Any]:
    if not isinstance(data, list) or not data:
        raise ParamError('Give the rule at least one action, as a list such as [{"kind": "pause"}].')
    parsed: list[Any] = []
    for item in data:
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind not in ACTIONS:
            raise ParamError(f"{kind!r} is not an action: choose one of {', '.join(ACTIONS)}.")
        parsed.append(from_json(ACTIONS[kind], item, what=f"action \"{ActionKind(kind).label}\""))
    return parsed
