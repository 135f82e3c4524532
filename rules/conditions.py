"""Each condition kind's parameters, typed: `condition_of(kind, json)` gives the dataclass or raises ParamError."""

from dataclasses import dataclass, field
from typing import Any

from django_countries import countries as COUNTRIES

from rules.kinds import ConditionKind
from rules.params import ParamError, at_least, from_json
from sims.models import State

MAX_MB = 10_000_000
MAX_HOURS = 24 * 90


@dataclass(frozen=True)
class UsageOver:
    """Data over `mb` MB in the day, in the billing period, or (UsageRolling) in the last `hours`."""

    mb: float

    def __post_init__(self) -> None:
        if not 0 < self.mb <= MAX_MB:
            raise ParamError(f"The amount of data must be more than 0 MB and at most {MAX_MB:,} MB.")


@dataclass(frozen=True)
class UsageRolling(UsageOver):
    hours: int = 24

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.hours <= MAX_HOURS:
            raise ParamError(f"The rolling window must be from 1 to {MAX_HOURS} hours.")


@dataclass(frozen=True)
class SmsOver:
    """More than `count` SMS in a day."""

    count: int

    def __post_init__(self) -> None:
        at_least("count", self.count, 0, what="SMS condition")


@dataclass(frozen=True)
class Spike:
    """The day's data over `factor` times the SIM's usual (sims/spikes.py's detector; its threshold when empty)."""

    factor: float | None = None

    def __post_init__(self) -> None:
        if self.factor is not None and self.factor <= 1:
            raise ParamError("A spike's factor must be more than 1 (3 means three times the usual day).")


@dataclass(frozen=True)
class NoSession:
    """No data session started for `hours` (from the SIM's connectivity; checked on the periodic tick)."""

    hours: int

    def __post_init__(self) -> None:
        if not 1 <= self.hours <= MAX_HOURS:
            raise ParamError(f"The hours without a data session must be from 1 to {MAX_HOURS}.")


@dataclass(frozen=True)
class ImeiChanged:
    """The SIM attached with an IMEI other than its device's (a new device, or one its IMEI lock refuses)."""


@dataclass(frozen=True)
class InCountry:
    """Attached to a network in one of `countries` (ISO 3166 codes)."""

    countries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.countries:
            raise ParamError("Choose at least one country, such as [\"DE\"].")
        unknown = [code for code in self.countries if code.upper() not in COUNTRIES]
        if unknown:
            raise ParamError(f"Not a country code: {', '.join(unknown)}. Use two-letter ISO codes such as DE or FR.")
        object.__setattr__(self, "countries", [code.upper() for code in self.countries])


@dataclass(frozen=True)
class StateChanged:
    """The SIM's state changed to `state`."""

    state: str

    def __post_init__(self) -> None:
        if self.state not in State.values:
            raise ParamError(f"{self.state!r} is not a state: choose one of {', '.join(State.values)}.")


Condition = UsageOver | UsageRolling | SmsOver | Spike | NoSession | ImeiChanged | InCountry | StateChanged

CONDITIONS: dict[str, type] = {
    ConditionKind.USAGE_DAY: UsageOver,
    ConditionKind.USAGE_PERIOD: UsageOver,
    ConditionKind.USAGE_ROLLING: UsageRolling,
    ConditionKind.SMS_COUNT: SmsOver,
    ConditionKind.SPIKE: Spike,
    ConditionKind.NO_SESSION: NoSession,
    ConditionKind.IMEI_CHANGED: ImeiChanged,
    ConditionKind.COUNTRY: InCountry,
    ConditionKind.STATE_CHANGED: StateChanged,
}


def condition_of(kind: str, data: Any) -> Any:
    if kind not in CONDITIONS:
        raise ParamError(f"{kind!r} is not a condition: choose one of {', '.join(CONDITIONS)}.")
    return from_json(CONDITIONS[kind], data, what=f"condition \"{ConditionKind(kind).label}\"")
