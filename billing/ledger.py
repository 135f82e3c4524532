"""Charges that arise between invoices: they go into the ledger when they happen and onto the
next invoice of their account."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from billing.billing import QUANTITY, Period, PriceBook
from billing.models import Charge
from billing.pricing import money
from lib.units import MB
from sims.models import Sim, SimPeriodUsage

# A developer's promotion: a free plan with this much data (the seed: "free 1MB data plan for 3 months").
PROMOTION_INCLUDED_MB = 1


def settle_transfer_overage(*, user, sim_ids: list[int], now: datetime) -> list[Charge]:
    """SIMs leaving a developer's account for a product: their data over the developer's plan this
    month is charged to the developer at once (the seed), one charge per rate zone."""
    period = Period.of(now)
    used = dict(SimPeriodUsage.objects.filter(sim_id__in=sim_ids, period=period.start).values_list("sim_id", "bytes"))
    if not used:
        return []
    book = PriceBook()
    fallback = book.first_zone
    over_by_zone: dict = defaultdict(Decimal)
    for sim_id, country, promotion_ends_on in Sim.objects.filter(pk__in=used).values_list("pk", "home_country", "promotion_ends_on"):
        zone = book.zone(country, fallback)
        price = book.at(zone, now)
        on_promotion = promotion_ends_on is not None and promotion_ends_on >= now.date()
        included = PROMOTION_INCLUDED_MB if on_promotion else price.plan_included_mb
        over_by_zone[zone, price] += max(Decimal(0), Decimal(used[sim_id] - included * MB) / MB)
    charges = []
    for (zone, price), megabytes in sorted(over_by_zone.items(), key=lambda item: item[0][0].code):
        if not megabytes:
            continue
        charges.append(
            Charge.objects.create(
                user=user, kind=Charge.Kind.TRANSFER_OVERAGE, zone=zone,
                description=f"Data over the developer plan this month, settled at transfer to a product, {zone.code}",
                quantity=megabytes.quantize(QUANTITY), unit_price=price.overage_per_mb, amount=money(megabytes * price.overage_per_mb),
                period_start=period.start,
            )
        )
    return charges
