"""Each condition kind's parameters, typed: `condition_of(kind, json)` gives the dataclass or raises ParamError."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django_countries import countries as COUNTRIES

from rules.kinds import ConditionKind
from rules.params import ParamError, at_least, from_json
from sims.models import State

MAX_MB = 10_000_000
MAX_HOURS = 24 * 90
MAX_AMOUNT = Decimal("999999999999.99")  # as a Budget's amount (14 digits, 2 decimals)
PERCENT_OF_BUDGET = (1, 1000)  # as a budget's alert percentages (billing.budgets.PERCENT_RANGE)
FAILURE_HOURS = 24 * 7  # the push's calls are kept a week (carriers.health.KEPT)


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
    """Attached to a network in one of `countries` (ISO 3166 codes) or of the rate zone `zone` (its code, as
    billing prices it: rules.validation checks it exists; rules.network_pass reads its countries)."""

    countries: list[str] = field(default_factory=list)
    zone: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", self.zone.strip())
        if not self.countries and not self.zone:
            raise ParamError("Choose at least one country, such as [\"DE\"], or a rate zone by its code.")
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


@dataclass(frozen=True)
class CostOverBudget:
    """The product's billing estimate for this period (the fleet header's, billing.costs.cached_estimate)
    over `amount` (USD, as every price of the console), or over `percent` of the product's monthly
    budget; the cost so far, or with `projected` the whole period's projected at the pace so far."""

    amount: Decimal | None = None
    percent: int | None = None
    projected: bool = False

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.percent is None):
            raise ParamError("Give an amount in USD (such as 250) or a percentage of the product's budget (such as 80): one of the two.")
        if self.amount is not None and not Decimal(0) < self.amount <= MAX_AMOUNT:
            raise ParamError(f"The amount must be more than $0 and at most ${MAX_AMOUNT:,}.")
        low, high = PERCENT_OF_BUDGET
        if self.percent is not None and not low <= self.percent <= high:
            raise ParamError(f"The percentage of the budget must be from {low} to {high}.")


@dataclass(frozen=True)
class CarrierFailures:
    """More than `percent` % of the changes pushed to one of the product's carrier accounts failed
    (refused, or the carrier unavailable) in the last `hours`, out of at least `min_changes` pushed."""

    percent: float
    hours: int = 24
    min_changes: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.percent < 100:
            raise ParamError("The failure rate must be from 0 % to less than 100 %: the rule fires when more than it fail.")
        if not 1 <= self.hours <= FAILURE_HOURS:
            raise ParamError(f"The hours to look back must be from 1 to {FAILURE_HOURS} (pushes are kept a week).")
        if self.min_changes < 1:
            raise ParamError("The least number of changes pushed must be at least 1, so that one failure of one change does not fire.")


Condition = UsageOver | UsageRolling | SmsOver | Spike | NoSession | ImeiChanged | InCountry | StateChanged | CostOverBudget | CarrierFailures

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
    ConditionKind.COST_OVER_BUDGET: CostOverBudget,
    ConditionKind.CARRIER_FAILURES: CarrierFailures,
}


def countries_of(condition: InCountry) -> list[str]:
    """The condition's countries and, with a rate zone, the zone's (as they stand when the rule runs)."""
    from billing.models import ZoneCountry

    zoned = ZoneCountry.objects.filter(zone__code=condition.zone).values_list("country", flat=True) if condition.zone else []
    return sorted({*condition.countries, *(str(code) for code in zoned)})


def condition_of(kind: str, data: Any) -> Any:
    if kind not in CONDITIONS:
        raise ParamError(f"{kind!r} is not a condition: choose one of {', '.join(CONDITIONS)}.")
    return from_json(CONDITIONS[kind], data, what=f"condition \"{ConditionKind(kind).label}\"")
