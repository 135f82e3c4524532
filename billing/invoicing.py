"""Closing a billing period: one invoice per billing account, issued once and never changed.

The lines are the period's bill (billing.py) and the charges of the ledger not yet invoiced.
Closing a period twice issues nothing new: an account that has its invoice is skipped, and the
database refuses a second invoice of a product for a period even to two workers at once.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.billing import Bill, Line, Period, account_activity, ledger_line, price_period
from billing.developer_billing import developer_plan_lines
from billing.models import Charge, ClosedPeriod, Invoice, InvoiceLine
from products.models import PricingModel, Product

# The seed: usage records arrive up to an hour late. A period is closed once they are all in.
LATE_USAGE = timedelta(hours=1)


class PeriodNotClosable(Exception):
    pass


@dataclass
class ClosingReport:
    period: Period
    issued: list[Invoice] = field(default_factory=list)
    already: int = 0

    def summary(self) -> str:
        total = sum(invoice.total for invoice in self.issued)
        return (
            f"{self.period}: {len(self.issued)} invoices issued, ${total:,.2f} in all; "
            f"{self.already} accounts already invoiced."
        )


def check_closable(period: Period, *, now: datetime) -> None:
    if period.starts_at > now:
        raise PeriodNotClosable(f"{period} is in the future: only a period that has ended can be invoiced.")
    if period.ends_at + LATE_USAGE > now:
        raise PeriodNotClosable(
            f"{period} is not over yet: it can be invoiced from {period.ends_at + LATE_USAGE:%Y-%m-%d %H:%M} UTC, "
            "once its last usage records are in."
        )


def close_billing_period(*, period: Period, now: datetime | None = None) -> ClosingReport:
    now = now or timezone.now()
    check_closable(period, now=now)
    report = ClosingReport(period=period)
    for product in Product.objects.order_by("pk"):
        _close_product(product, period, now, report)
    for user in _developer_accounts(period):
        _close_user(user, period, now, report)
    ClosedPeriod.objects.update_or_create(
        period_start=period.start, defaults={"closed_at": timezone.now(), "summary": report.summary()[:300]}
    )
    return report


def _close_product(product: Product, period: Period, now: datetime, report: ClosingReport) -> None:
    if Invoice.objects.filter(product=product, period_start=period.start).exists():
        report.already += 1
        return
    bill = price_period(product, period, until=period.ends_at)
    if not bill.lines:
        return
    charges = Charge.objects.filter(pk__in=bill.charge_ids)
    _issue(bill.lines, charges, now, report, product=product, period=period, model=bill.model, peak=bill.peak_sims)


def _close_user(user, period: Period, now: datetime, report: ClosingReport) -> None:
    """A developer's own account: the developer plan of its own SIMs, and its ledger (overage
    settled at transfers, credits)."""
    if Invoice.objects.filter(user=user, period_start=period.start).exists():
        report.already += 1
        return
    charges = user.charges.filter(invoice=None, period_start__lte=period.start)
    lines = developer_plan_lines(user, period, until=period.ends_at) + [
        ledger_line(charge) for charge in charges.order_by("period_start", "created_at", "id")
    ]
    if lines:
        _issue(lines, charges, now, report, user=user, period=period, model=PricingModel.PER_SIM, peak=0)


def _developer_accounts(period: Period):
    """Developers with own SIMs or charges not yet invoiced."""
    users = get_user_model().objects
    with_sims = users.filter(sims__isnull=False)
    with_charges = users.filter(charges__invoice=None, charges__period_start__lte=period.start)
    return (with_sims | with_charges).distinct().order_by("pk")


def _issue(lines: list[Line], charges, now: datetime, report: ClosingReport, *, period: Period, model: str, peak: int, **account) -> Invoice | None:
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                number=_number(period, **account), period_start=period.start, pricing_model=model, peak_sims=peak,
                total=sum((line.amount for line in lines)), issued_at=now, **account,
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(invoice=invoice, position=position, kind=line.kind, zone=line.zone, description=line.description,
                            quantity=line.quantity, unit=line.unit, unit_price=line.unit_price, amount=line.amount)
                for position, line in enumerate(lines, start=1)
            )
            billed = charges.filter(invoice=None).update(invoice=invoice)
            if billed != sum(1 for line in lines if line.kind in Charge.Kind.values):
                raise RuntimeError("the ledger changed while its invoice was written: close the period again")
            if "product" in account:
                # In the invoice's transaction: a close that dies after the invoice would skip the product
                # when run again (it has its invoice), and the switch would be lost.
                _start_pending_model(account["product"], period)
    except IntegrityError:
        report.already += 1  # another worker issued it meanwhile
        return None
    report.issued.append(invoice)
    return invoice


def _number(period: Period, *, product: Product | None = None, user=None) -> str:
    account = f"P{product.pk:05d}" if product is not None else f"U{user.pk:05d}"
    return f"{period.start:%Y%m}-{account}"


def _start_pending_model(product: Product, period: Period) -> None:
    """A pricing model chosen during a period starts with the next one."""
    if product.pending_pricing_model and product.pending_from is not None and product.pending_from <= period.end:
        product.pricing_model, product.plan_zone = product.pending_pricing_model, product.pending_plan_zone
        product.pending_pricing_model, product.pending_plan_zone, product.pending_from = "", None, None
        product.save(update_fields=["pricing_model", "plan_zone", "pending_pricing_model", "pending_plan_zone", "pending_from"])


def estimate(product: Product, *, now: datetime) -> tuple[Bill, Bill]:
    """This period so far, and projected to its end: usage grows at its pace so far, the peak stays."""
    period = Period.of(now)
    activity = account_activity(product, period, until=now)
    so_far = price_period(product, period, until=now, activity=activity)
    elapsed = max(now - period.starts_at, timedelta(hours=1))
    scale = Decimal((period.ends_at - period.starts_at).total_seconds()) / Decimal(elapsed.total_seconds())
    projected = price_period(product, period, until=now, usage_scale=scale, activity=activity)
    return so_far, projected


def choose_pricing_model(*, product: Product, model: str, zone, now: datetime) -> date:
    """A product admin's choice: it applies from the next billing period (this one is billed as it
    began), and replaces any choice not yet in force. Returns the day it starts."""
    starts = Period.of(now).end
    if model == product.pricing_model and zone == product.plan_zone:
        product.pending_pricing_model, product.pending_plan_zone, product.pending_from = "", None, None
    else:
        product.pending_pricing_model, product.pending_plan_zone, product.pending_from = model, zone, starts
    product.save(update_fields=["pending_pricing_model", "pending_plan_zone", "pending_from"])
    return starts
