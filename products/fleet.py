"""Fleet monitoring (Particle's fleet stats): a product's usage this billing period, day by day,
from the daily rollups, and how many of its SIMs count as active.

Usage is read from ProductDailyUsage only: a month is a few rows per visited country
whatever the size of the fleet. The count of active SIMs reads the SIM table and grows
with the fleet, so the SIMs page loads it in a request of its own.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Max, Sum

from lib.calendar import billing_period_start
from lib.charts import DayUsage
from products.models import Product
from sims.models import ProductDailyUsage, State, UsageSpike
from sims.spikes import latest_spike_day, spikes_on
from sims.state_counts import sims_in_states

# The spikes card lists this many, the largest first; the rest are a link to the filter.
SPIKES_SHOWN = 10

# Particle: "all the SIM cards in your fleet that are either active, or temporarily paused
# due to hitting their monthly data limit".
ACTIVE_STATES = (State.ACTIVE, State.PAUSED)


@dataclass(frozen=True)
class FleetUsage:
    period_start: date
    period_end: date
    bytes: int
    # The end of the newest record counted this period; None when nothing has arrived yet.
    as_of: datetime | None
    days: list[DayUsage]


def fleet_usage(product: Product, *, now: datetime) -> FleetUsage:
    """Usage this billing period (the calendar month in UTC), in total and per day."""
    start = billing_period_start(now)
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    rows = (
        ProductDailyUsage.objects.filter(product=product, day__gte=start, day__lte=end)
        .values("day")
        .annotate(total=Sum("bytes"), newest=Max("newest_record_at"))
        .order_by()
    )
    by_day, as_of = {}, None
    for row in rows:
        by_day[row["day"]] = row["total"]
        as_of = row["newest"] if as_of is None else max(as_of, row["newest"])
    today = now.date()
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        days.append(DayUsage(day=day, bytes=None if day > today else by_day.get(day, 0)))
    return FleetUsage(period_start=start, period_end=end, bytes=sum(by_day.values()), as_of=as_of, days=days)


@dataclass(frozen=True)
class FleetSpikes:
    day: date
    shown: list[UsageSpike]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.shown)


@dataclass(frozen=True)
class FleetSummary:
    usage: FleetUsage
    # The newest day checked for spikes, if recent and it had any.
    spikes: FleetSpikes | None


def fleet_summary(product: Product, *, now: datetime) -> FleetSummary:
    """What the SIMs page shows above the table, in a handful of small queries whatever the fleet's size."""
    return FleetSummary(usage=fleet_usage(product, now=now), spikes=fleet_spikes(product, today=now.date()))


def fleet_spikes(product: Product, *, today: date) -> FleetSpikes | None:
    day = latest_spike_day(product, today=today)
    if day is None:
        return None
    shown = list(spikes_on(product, day)[: SPIKES_SHOWN + 1])
    if not shown:
        return None
    total = len(shown) if len(shown) <= SPIKES_SHOWN else spikes_on(product, day).count()
    return FleetSpikes(day=day, shown=shown[:SPIKES_SHOWN], total=total)


def active_sim_count(product: Product) -> int:
    """SIMs that count as active: active, or paused at their data limit (both are billed)."""
    return sims_in_states(product_id=product.pk, states=ACTIVE_STATES)
