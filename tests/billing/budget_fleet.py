"""A fleet whose month a person can price on paper, for the budget's tests (billing, notifications).

Pay as you go in zone 1 (its default prices: $0.95 hosting per SIM at the peak, $0.10 per MB). Ten
SIMs active all month: $9.50 of hosting, in full from the first day. Asked at noon on the 15th
(the `mid_month` fixture): 1 MB on each day from the 1st to the 14th and 0.5 MB on the 15th, 14.5 MB
in 14.5 days, $1.45. So far: $10.95. At that pace, 1 MB ($0.10) a day: the month of D days is
projected to cost $9.50 + D × $0.10, and the cost grows by $0.10 a day from now on."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from products.models import PricingModel
from sims.models import ProductDailyUsage

MB = 1_000_000
SPENT = Decimal("10.95")
HOSTING = Decimal("9.50")
PER_DAY = Decimal("0.10")


def priceable_fleet(product, make_sim) -> None:
    """Call at noon on the 15th (mid_month)."""
    product.pricing_model = PricingModel.PAY_AS_YOU_GO
    product.save(update_fields=["pricing_model"])
    for _ in range(10):
        make_sim(product, home_country="DE")
    first = timezone.now().date().replace(day=1)
    for offset in range(15):
        day = first + timedelta(days=offset)
        megabytes = 0.5 if day.day == 15 else 1
        ProductDailyUsage.objects.create(
            product=product, day=day, country="DE", bytes=int(megabytes * MB), newest_record_at=timezone.now()
        )


def projected_for(period) -> Decimal:
    return HOSTING + PER_DAY * period.days
