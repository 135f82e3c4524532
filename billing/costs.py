"""What the billing pages show: this period's estimate (cached briefly), its lines so far and
projected side by side, the three pricing models compared on the fleet's real usage, and an
invoice as CSV rows. The prices themselves are billing.py's and invoicing.py's.

Pricing a period reads the product's events since it began, which grows with the fleet: the
estimate is kept in the cache for ESTIMATE_SECONDS, keyed by product, period and pricing model,
so the SIMs page's header and the billing page share one computation.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Sum

from billing.billing import account_activity, Bill, Line, Period, price_period
from billing.invoicing import estimate
from billing.models import Charge, Invoice
from lib.csv_export import Cell
from lib.units import MB
from products.models import PricingModel, Product
from sims.models import ProductDailyUsage

ESTIMATE_SECONDS = 300
PROJECTION_RULE = "usage continues at its pace so far; the peak stays as it is"

MODEL_SUMMARIES = {
    PricingModel.PER_SIM: "A monthly plan for each active or paused SIM with its included MB, prorated in a SIM's "
    "first month; data over a SIM's plan per MB. The included MB cover the home zone: data used in another zone "
    "is roaming, per MB at that zone's price.",
    PricingModel.PAY_AS_YOU_GO: "A monthly hosting fee per SIM at the peak active or paused at once, then data per MB "
    "and SMS per message at the prices of the zone they were used in.",
    PricingModel.POOLED: "A monthly fee per SIM at the peak active or paused at once; each adds its MB to a pool shared "
    "by the fleet. Data beyond the pool, or outside the plan's zone, per MB.",
}


@dataclass(frozen=True)
class Estimate:
    """This period so far, and projected to its end."""

    so_far: Bill
    projected: Bill
    usage_bytes: int
    usage_sms: int
    computed_at: datetime

    @property
    def period(self) -> Period:
        return self.so_far.period

    @property
    def basis(self) -> str:
        """The tooltip: what the figure is made of."""
        return (
            f"{self.so_far.model_label}. Peak SIMs at once so far: {self.so_far.peak_sims:,}. "
            f"Usage so far: {self.usage_bytes / MB:,.1f} MB, {self.usage_sms:,} SMS. "
            f"Projected to {self.period.ends_at:%-d %b}: {PROJECTION_RULE}. "
            f"Computed {self.computed_at:%-d %b %H:%M} UTC; refreshed every {ESTIMATE_SECONDS // 60} minutes."
        )


def _estimate_key(product: Product, period: Period) -> str:
    return f"billing-estimate:{product.pk}:{period}:{product.pricing_model}:{product.plan_zone_id}"


def forget_estimate(product: Product, *, now: datetime) -> None:
    """After a change that reprices the period (home countries): the next view computes it again."""
    cache.delete(_estimate_key(product, Period.of(now)))


def cached_estimate(product: Product, *, now: datetime) -> Estimate:
    """invoicing.estimate, kept for a few minutes. Raises ValueError when a zone has no price."""
    period = Period.of(now)
    key = _estimate_key(product, period)
    found = cache.get(key)
    if found is not None:
        return found
    so_far, projected = estimate(product, now=now)
    usage = ProductDailyUsage.objects.filter(product=product, day__gte=period.start, day__lte=now.date()).aggregate(
        bytes=Sum("bytes"), sms=Sum("sms")
    )
    result = Estimate(
        so_far=so_far, projected=projected, usage_bytes=usage["bytes"] or 0, usage_sms=usage["sms"] or 0, computed_at=now
    )
    cache.set(key, result, ESTIMATE_SECONDS)
    return result


@dataclass(frozen=True)
class LinePair:
    """One line of the period: as it stands, and projected (either may be missing: overage to come)."""

    so_far: Line | None
    projected: Line | None

    @property
    def line(self) -> Line:
        return self.projected or self.so_far  # type: ignore[return-value]


def side_by_side(so_far: Bill, projected: Bill) -> list[LinePair]:
    """The projection's lines in its order, each with the line so far of the same kind and description."""
    def key(line: Line) -> tuple:
        return line.kind, line.description, line.zone.pk if line.zone else None

    now = {key(line): line for line in so_far.lines}
    pairs = [LinePair(so_far=now.pop(key(line), None), projected=line) for line in projected.lines]
    pairs += [LinePair(so_far=line, projected=None) for line in now.values()]
    return pairs


@dataclass(frozen=True)
class ModelPrice:
    model: str
    label: str
    lines: list[Line]
    peak_sims: int
    cheapest: bool
    in_force: bool  # the model the period was (or is being) billed under
    total: Decimal
    difference: Decimal  # against the model in force: negative is cheaper


@dataclass(frozen=True)
class Comparison:
    basis: str  # "last" or "current"
    period: Period
    until: datetime
    invoice: Invoice | None
    prices: list[ModelPrice]

    @property
    def cheapest(self) -> list[ModelPrice]:
        return [price for price in self.prices if price.cheapest]

    @property
    def in_force(self) -> ModelPrice:
        return next(price for price in self.prices if price.in_force)

    @property
    def saving(self) -> Decimal:
        """What the cheapest would have saved over the model in force (0 when it is the cheapest)."""
        return -min(price.difference for price in self.prices)


def last_invoice(product: Product) -> Invoice | None:
    return product.invoices.order_by("-period_start").first()


def compare_models(product: Product, *, basis: str, now: datetime) -> Comparison:
    """The same period priced under each of the three models, from the same events and usage.

    `basis` "last": the last invoiced period, with the ledger charges that its invoice billed;
    "current": this period so far (falls back to it when nothing has been invoiced yet)."""
    invoice = last_invoice(product) if basis == "last" else None
    if invoice is not None:
        period, until, in_force = Period(invoice.period_start), Period(invoice.period_start).ends_at, invoice.pricing_model
    else:
        basis, period, until, in_force = "current", Period.of(now), now, product.pricing_model
    key = f"billing-compare:{product.pk}:{period}:{basis}:{product.plan_zone_id}"
    found = cache.get(key)
    if found is not None:
        return found
    ledger = _invoiced_charges(invoice) if invoice is not None else []
    bills = []
    activity = account_activity(product, period, until=until)  # the event log, read once for the three
    for model in PricingModel.values:
        bill = price_period(product, period, until=until, model=model, activity=activity)
        lines = bill.lines
        if invoice is not None:
            # The period's charges are on its invoice now; any left in the ledger belong to the next one.
            lines = lines[: len(lines) - len(bill.charge_ids)]
            lines += [line for line in ledger if model == PricingModel.PER_SIM or line.kind != Charge.Kind.FIRST_MONTH]
        bills.append((model, lines, bill.peak_sims, sum((line.amount for line in lines), Decimal("0.00"))))
    lowest = min(total for *_, total in bills)
    reference = next(total for model, *_, total in bills if model == in_force)
    prices = [
        ModelPrice(
            model=model, label=PricingModel(model).label, lines=lines, peak_sims=peak, cheapest=total == lowest,
            in_force=model == in_force, total=total, difference=total - reference,
        )
        for model, lines, peak, total in bills
    ]  # fmt: skip
    comparison = Comparison(basis=basis, period=period, until=min(until, period.ends_at), invoice=invoice, prices=prices)
    cache.set(key, comparison, ESTIMATE_SECONDS)
    return comparison


def _invoiced_charges(invoice: Invoice) -> list[Line]:
    kinds = Charge.Kind.values
    return [
        Line(kind=line.kind, description=line.description, quantity=line.quantity, unit=line.unit,
             unit_price=line.unit_price, amount=line.amount, zone=line.zone)
        for line in invoice.lines.filter(kind__in=kinds).select_related("zone").order_by("position")
    ]  # fmt: skip


CSV_HEADER: list[Cell] = ["kind", "zone", "description", "quantity", "unit", "unit_price", "amount"]


def invoice_csv_rows(invoice: Invoice) -> Iterator[list[Cell]]:
    """The invoice's lines, then its total, as CSV rows (a header first): text, and numbers as Decimals."""
    yield CSV_HEADER
    for line in invoice.lines.select_related("zone").order_by("position"):
        yield [
            line.kind, line.zone.code if line.zone else "", line.description,
            line.quantity, line.unit, line.unit_price, line.amount,
        ]  # fmt: skip
    yield ["total", "", f"Total of invoice {invoice.number}", "", "", "", invoice.total]
