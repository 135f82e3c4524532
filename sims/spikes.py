"""Spikes: SIMs whose usage on a day was far above their own recent baseline.

"Far" has to hold up against a SIM's ordinary ups and downs and its silent days, so it is
measured with the median and the median absolute deviation (MAD) of the 14 days before,
silent days counting as zero, rather than a mean and standard deviation that one earlier
spike would inflate. A day is a spike when it is above all of:
- the median plus 6 scaled MADs (1.4826 x MAD estimates a standard deviation),
- 3 times the median (a SIM with a perfectly regular pattern has a MAD of 0),
- 1 MB (3 KB after days of 1 KB is no news to anyone).
"""

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import batched

from django.db import transaction
from django.db.models import QuerySet

from lib.units import KB, MB
from products.models import Product
from sims.models import SimDailyUsage, UsageSpike

BASELINE_DAYS = 14
MIN_MADS = 6
MAD_TO_SIGMA = 1.4826
MIN_FACTOR = 3
MIN_BYTES = MB
# The baseline a factor is measured against, at least: a SIM silent for two weeks
# that wakes up with 5 MB is "500x", not infinitely, above its norm.
MIN_BASELINE = 10 * KB
IDS_PER_QUERY = 5_000
# The fleet page shows the spikes of the newest day checked, if it is this recent.
SHOWN_FOR_DAYS = 2


@dataclass(frozen=True)
class Spike:
    bytes: int
    baseline: float
    spread: float
    factor: float


def spike_of(day_bytes: int, history: list[int]) -> Spike | None:
    """Whether a day's usage is a spike against the days before it (silent days as 0)."""
    median = statistics.median(history) if history else 0
    mad = statistics.median(abs(amount - median) for amount in history) if history else 0
    threshold = max(median + MIN_MADS * MAD_TO_SIGMA * mad, MIN_FACTOR * median, MIN_BYTES)
    if day_bytes <= threshold:
        return None
    return Spike(bytes=day_bytes, baseline=median, spread=mad, factor=day_bytes / max(median, MIN_BASELINE))


def detect_spikes(*, day: date, products: QuerySet[Product] | None = None) -> int:
    """Find the spikes of `day` in each product and store them, replacing any found before for that day."""
    found = 0
    for product_id in (products if products is not None else Product.objects.all()).values_list("pk", flat=True):
        found += _detect_in_product(product_id, day)
    return found


def _detect_in_product(product_id: int, day: date) -> int:
    candidates = dict(
        SimDailyUsage.objects.filter(product_id=product_id, day=day, bytes__gt=MIN_BYTES).values_list("sim_id", "bytes")
    )
    spikes = []
    for chunk in batched(candidates, IDS_PER_QUERY):
        histories = _histories(list(chunk), day)
        for sim_id in chunk:
            spike = spike_of(candidates[sim_id], histories[sim_id])
            if spike:
                spikes.append(
                    UsageSpike(
                        product_id=product_id, sim_id=sim_id, day=day, bytes=spike.bytes,
                        baseline_bytes=round(spike.baseline), spread_bytes=round(spike.spread), factor=spike.factor,
                    )  # fmt: skip
                )
    with transaction.atomic():
        UsageSpike.objects.filter(product_id=product_id, day=day).delete()
        UsageSpike.objects.bulk_create(spikes)
    return len(spikes)


def _histories(sim_ids: list[int], day: date) -> dict[int, list[int]]:
    first = day - timedelta(days=BASELINE_DAYS)
    by_day: dict[int, dict[date, int]] = {sim_id: {} for sim_id in sim_ids}
    rows = SimDailyUsage.objects.filter(sim_id__in=sim_ids, day__gte=first, day__lt=day)
    for sim_id, when, amount in rows.values_list("sim_id", "day", "bytes"):
        by_day[sim_id][when] = amount
    days = [first + timedelta(days=offset) for offset in range(BASELINE_DAYS)]
    return {sim_id: [amounts.get(when, 0) for when in days] for sim_id, amounts in by_day.items()}


def latest_spike_day(product: Product, *, today: date) -> date | None:
    """The newest day checked for spikes in this product, if recent enough to show."""
    newest = UsageSpike.objects.filter(product=product).order_by("-day").values_list("day", flat=True).first()
    if newest is None or newest < today - timedelta(days=SHOWN_FOR_DAYS):
        return None
    return newest


def spikes_on(product: Product, day: date) -> QuerySet[UsageSpike]:
    """A product's spikes on a day, the largest factor first, with their SIMs."""
    return UsageSpike.objects.filter(product=product, day=day).select_related("sim").order_by("-factor")
