"""A developer's own account (Particle's developer plan): each own SIM billable at some time in
the period pays the per-SIM plan of its home zone, except while its promotion lasts (a free
plan with 1 MB), and data over its plan at the zone's overage price. Developers prototype with a
handful of SIMs, so their SIMs are read one by one; SIMs that left for a product settled their
overage at the transfer (ledger.py) and are the product's from then on."""

from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from billing.billing import BILLABLE, QUANTITY, Line, Period, PriceBook
from billing.ledger import PROMOTION_INCLUDED_MB
from billing.models import RateZone, ZonePrice
from billing.pricing import money
from lib.units import MB
from sims.models import Sim, SimDailyUsage, SimEvent


def developer_plan_lines(user, period: Period, *, until: datetime) -> list[Line]:
    book = PriceBook()
    fallback = book.first_zone
    plans: Counter[tuple[RateZone, ZonePrice]] = Counter()
    over: defaultdict[tuple[RateZone, ZonePrice], Decimal] = defaultdict(Decimal)
    for sim in Sim.objects.filter(owner_user=user):
        if not _billable_during(sim, period, until):
            continue
        zone = book.zone(sim.home_country.code, fallback)  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str
        price = book.at(zone, min(until, period.ends_at))
        on_promotion = sim.promotion_ends_on is not None and sim.promotion_ends_on >= period.start
        if not on_promotion:
            plans[zone, price] += 1
        included = (PROMOTION_INCLUDED_MB if on_promotion else price.plan_included_mb) * MB
        used = SimDailyUsage.objects.filter(
            sim=sim, product=None, day__gte=period.start, day__lt=period.end
        ).aggregate(total=Sum("bytes"))["total"] or 0
        over[zone, price] += max(Decimal(0), Decimal(used - included))
    lines = [
        Line(kind="plan", description=f"Developer plan, {zone.code}", quantity=Decimal(count), unit="SIMs",
             unit_price=price.plan_monthly_price, amount=money(count * price.plan_monthly_price), zone=zone)
        for (zone, price), count in sorted(plans.items(), key=lambda item: item[0][0].code)
    ]
    for (zone, price), over_bytes in sorted(over.items(), key=lambda item: item[0][0].code):
        if over_bytes:
            megabytes = over_bytes / MB
            lines.append(Line(kind="overage", description=f"Data over the developer plan, {zone.code}",
                              quantity=megabytes.quantize(QUANTITY), unit="MB", unit_price=price.overage_per_mb,
                              amount=money(megabytes * price.overage_per_mb), zone=zone))
    return lines


def _billable_during(sim: Sim, period: Period, until: datetime) -> bool:
    """Billable at the period's start, or made billable during it (events of its own account)."""
    events = list(
        SimEvent.objects.filter(sim=sim, product=None, created_at__gte=period.starts_at).order_by("created_at", "id")
        .values_list("from_state", "to_state", "created_at")
    )
    at_start = events[0][0] if events else sim.state
    during = any(to_state in BILLABLE for _, to_state, at in events if at < min(until, period.ends_at))
    return at_start in BILLABLE or during
