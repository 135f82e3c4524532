"""What a data plan costs in a country, and the prorated first month. Amounts are Decimal, never float."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from billing.models import RateZone, ZoneCountry, ZonePrice

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")


class NoPriceForCountry(Exception):
    pass


@dataclass(frozen=True)
class Quote:
    zone: RateZone
    price: ZonePrice
    sims: int
    prorated_days: int
    days_in_month: int
    unit_first_month: Decimal

    @property
    def first_month_total(self) -> Decimal:
        return money(self.unit_first_month * self.sims)

    @property
    def monthly_total(self) -> Decimal:
        return money(self.price.plan_monthly_price * self.sims)


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def zone_for_country(country: str) -> RateZone:
    try:
        return ZoneCountry.objects.select_related("zone").get(country=country).zone
    except ZoneCountry.DoesNotExist:
        raise NoPriceForCountry(
            f"There is no data plan price for the country {country!r}: an admin can add it to a rate zone."
        ) from None


def plan_zone_of(product) -> RateZone:
    """The zone of a product's hosting fee and pool (pay as you go, pooled): its own, else the first."""
    zone = product.plan_zone or RateZone.objects.order_by("code").first()
    if zone is None:
        raise NoPriceForCountry("There is no rate zone yet: an admin can add one, with its prices.")
    return zone


def price_at(zone: RateZone, moment: datetime) -> ZonePrice:
    """The zone's prices in force at `moment`: the newest version that had started by then."""
    price = zone.prices.filter(effective_from__lte=moment).order_by("-effective_from").first()
    if price is None:
        raise NoPriceForCountry(f"The rate zone {zone.code} has no price at {moment:%Y-%m-%d %H:%M}: an admin can add one.")
    return price


def first_month_days(today: date) -> tuple[int, int]:
    """Days billed in the month of activation (today included) and the days of that month."""
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    return days_in_month - today.day + 1, days_in_month


def quote(*, country: str, sims: int, today: date) -> Quote:
    zone = zone_for_country(country)
    price = price_at(zone, timezone.now())
    billed_days, days_in_month = first_month_days(today)
    unit = (price.plan_monthly_price * billed_days / days_in_month).quantize(UNIT, rounding=ROUND_HALF_UP)
    return Quote(
        zone=zone, price=price, sims=sims, prorated_days=billed_days, days_in_month=days_in_month, unit_first_month=unit
    )
