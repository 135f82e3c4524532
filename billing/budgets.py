"""A product's monthly budget against this billing period's estimate: what is spent so far, what
the period is projected to cost, and the day it is projected to pass the budget.

Spent and projected are the billing estimate's two totals (costs.cached_estimate, the figures of
the fleet header and the Billing tab): nothing is priced here. Their projection rule: the monthly
fees count the peak of SIMs reached so far in full, from the first day (the peak stays as it is), and
usage goes on at its pace so far to the period's end. So between now and the end the cost grows from
`spent` to `projected_total` in a straight line, and the budget is passed where that line crosses it:

    crossing = now + (period end - now) × (amount - spent) / (projected_total - spent)

A cost already over the budget has no crossing to project (`exceeded`); neither has one that stays
within it.

Money is USD, as every price and invoice of the console (`currency`).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from billing.billing import Period
from billing.costs import cached_estimate
from billing.models import Budget
from products.models import Product

CURRENCY = "USD"
PERCENT_RANGE = (1, 1000)


@dataclass(frozen=True)
class BudgetStatus:
    amount: Decimal  # the monthly budget
    spent: Decimal  # the estimate of the period so far
    projected_total: Decimal  # the estimate of the whole period at the pace so far
    projected_exceed_on: date | None  # the day the cost is projected to pass the budget; None if it does not, or did
    period: Period
    currency: str = CURRENCY

    @property
    def percent(self) -> int:
        """The share of the budget spent, in whole percent rounded down: 100 only once it is all spent."""
        return int((self.spent * 100 / self.amount).to_integral_value(rounding=ROUND_FLOOR))

    @property
    def exceeded(self) -> bool:
        return self.spent > self.amount

    def reached(self, percentage: int) -> bool:
        """Whether the spending has reached `percentage` of the budget (exactly, not the rounded percent)."""
        return self.spent * 100 >= self.amount * percentage


def budget_status(product: Product, now: datetime) -> BudgetStatus | None:
    """The product's budget this billing period, or None when it has none. Raises ValueError when
    the period cannot be priced (a rate zone without a price), as the estimate does."""
    budget = Budget.objects.filter(product=product).first()
    return status_of(budget, now=now) if budget is not None else None


def status_of(budget: Budget, *, now: datetime) -> BudgetStatus:
    estimate = cached_estimate(budget.product, now=now)
    spent, projected = estimate.so_far.total, estimate.projected.total
    return BudgetStatus(
        amount=budget.amount, spent=spent, projected_total=projected, period=estimate.period,
        projected_exceed_on=projected_crossing(amount=budget.amount, spent=spent, projected_total=projected, now=now, period=estimate.period),
    )  # fmt: skip


def projected_crossing(*, amount: Decimal, spent: Decimal, projected_total: Decimal, now: datetime, period: Period) -> date | None:
    """The day (UTC) the cost, going from `spent` now to `projected_total` at the period's end in a
    straight line, passes `amount`; None when it is over already or is not projected to pass it."""
    if spent >= amount or projected_total <= amount:
        return None
    remaining = Decimal((period.ends_at - now).total_seconds())
    seconds = remaining * (amount - spent) / (projected_total - spent)
    return (now + timedelta(seconds=float(seconds))).date()


def parse_percentages(text: str) -> list[int]:
    """'50, 80, 100' as [50, 80, 100]: whole percentages from 1 to 1000, each once. ValueError says what is wrong."""
    low, high = PERCENT_RANGE
    found: list[int] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().removesuffix("%").strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"“{part}” is not a whole percentage: give numbers from {low} to {high}, separated by commas, such as 50, 80, 100.")
        value = int(part)
        if not low <= value <= high:
            raise ValueError(f"{value}% is out of range: each percentage is from {low} to {high}.")
        if value in found:
            raise ValueError(f"{value}% is given twice: give each percentage once.")
        found.append(value)
    if not found:
        raise ValueError("Give at least one percentage at which to alert, such as 50, 80, 100.")
    return sorted(found)


def save_budget(*, product: Product, amount: Decimal, alert_percentages: list[int], recipients: str) -> Budget:
    budget, _ = Budget.objects.update_or_create(
        product=product, defaults={"amount": amount, "alert_percentages": alert_percentages, "recipients": recipients}
    )
    return budget


def remove_budget(*, product: Product) -> None:
    Budget.objects.filter(product=product).delete()
