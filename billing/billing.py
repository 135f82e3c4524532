"""What a product owes for a billing period under each pricing model, from the event log, the
usage rollups, the zone prices in force and the charges ledger.

The same function prices a period that is over (the invoice), one that is running (the fleet
header's estimate, the billing page) and the same period under another model (the comparison).

- Billable: `active` and `paused` SIMs. Monthly fees of pay as you go and of the pooled plan, and
  the pool itself, count the peak: the most SIMs billable at the same instant, swept over the
  period's events in time order (concurrency.py). 100 SIMs suspended at 06:00 and 100 others
  activated at 09:00 count 100.
  The per-SIM plan charges each SIM billable at any time of the period, but for SIMs it brought
  in during the period: their prorated first month was charged at import (the ledger).
- Roaming on the per-SIM plan (Particle's plans of the seed's era): a SIM's included MB cover the
  usage in its home zone; what it used in a country of another zone is charged per MB at that
  zone's overage price, one line per visited zone. A record without a country counts at home; a
  country no zone lists is priced as the plan zone, the fallback for home countries too.
- Prices are versions: a monthly fee or an included volume is prorated between the versions in
  force during the period; usage and suspensions are priced at the version in force when their
  day began, so a price entered during a day applies from the next day's traffic, never backwards.
- Amounts are Decimal, rounded to cents once per line.
"""

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Sum

from billing.concurrency import PeakSweep, Step
from billing.models import Charge, RateZone, ZoneCountry, ZonePrice
from billing.pricing import money
from lib.streaming import stream_all
from lib.units import MB
from products.models import PricingModel, Product
from sims.models import ProductDailyUsage, SimCountryUsage, SimDailyUsage, SimEvent, State

BILLABLE = frozenset({State.ACTIVE.value, State.PAUSED.value})
IMPORT, REMOVE = "import", "remove"
QUANTITY = Decimal("0.0001")


@dataclass(frozen=True)
class Period:
    start: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def end(self) -> date:
        """The first day of the next period."""
        return self.start + timedelta(days=calendar.monthrange(self.start.year, self.start.month)[1])

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.end, time(), tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def __str__(self) -> str:
        return f"{self.start:%Y-%m}"

    @classmethod
    def of(cls, moment: datetime) -> "Period":
        return cls(moment.astimezone(UTC).date().replace(day=1))

    @classmethod
    def parse(cls, text: str) -> "Period":
        try:
            return cls(datetime.strptime(text, "%Y-%m").date())
        except ValueError:
            raise ValueError(f"{text!r} is not a billing period: give a month as YYYY-MM, such as 2026-10.") from None

    def previous(self) -> "Period":
        return Period((self.start - timedelta(days=1)).replace(day=1))


@dataclass
class Activity:
    """What the event log says about one product's SIMs in a period (or its part up to `until`)."""

    peak_sims: int
    # SIMs billable at some time in the period, but for those imported in it, by home country.
    plan_sims_by_country: Counter
    # Suspensions of billable or provisioned SIMs, by (home country, day).
    suspensions: Counter


def account_activity(product: Product, period: Period, *, until: datetime) -> Activity:
    """One pass over the product's events since the period began, in time order.

    A SIM with no event since the period began is in the state and product it is in now; one with
    events was, at the start, in the state its first event found it in."""
    ends_at = min(until, period.ends_at)
    sweep = PeakSweep(period.starts_at, max(ends_at, period.starts_at + timedelta(seconds=1)))
    # Billable now in the product, by home country: less those with events, they are handled below.
    untouched = Counter(
        dict(
            product.sims.filter(state__in=BILLABLE)
            .values_list("home_country")
            .annotate(n=Count("id"))
            .order_by()
        )
    )
    billable_at_start_with_events = 0
    counted: dict[int, bool] = {}  # sim -> already in plan_sims (False: seen, not yet billable)
    plan_sims: Counter[str] = Counter()
    suspensions: Counter[tuple[str, date]] = Counter()
    events = (
        SimEvent.objects.filter(product=product, created_at__gte=period.starts_at)
        .order_by("created_at", "id")
        .values_list("sim_id", "action", "from_state", "to_state", "created_at", "sim__home_country", "sim__product_id", "sim__state")
    )
    for sim_id, action, from_state, to_state, at, country, now_product, now_state in stream_all(events, chunk_size=20_000):
        before = action != IMPORT and from_state in BILLABLE
        after = action != REMOVE and to_state in BILLABLE
        if sim_id not in counted:
            if now_product == product.pk and now_state in BILLABLE:
                untouched[country] -= 1
            billable_at_start_with_events += before
            counted[sim_id] = False
            if before:
                counted[sim_id] = True
                plan_sims[country] += 1
        if at >= ends_at:
            continue
        sweep.add(Step(sim_id, at, before, after))
        if action == IMPORT:
            counted[sim_id] = True  # its first month was charged at import
        elif after and not counted[sim_id]:
            counted[sim_id] = True
            plan_sims[country] += 1
        if to_state == State.SUSPENDED and from_state != State.SUSPENDED:
            suspensions[country, at.date()] += 1
    untouched = +untouched
    billable_at_start = sum(untouched.values()) + billable_at_start_with_events
    return Activity(
        peak_sims=sweep.peak(billable_at_start), plan_sims_by_country=plan_sims + untouched, suspensions=suspensions
    )


@dataclass(frozen=True)
class Line:
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    zone: RateZone | None = None


@dataclass
class Bill:
    product: Product
    period: Period
    model: str
    until: datetime
    peak_sims: int
    lines: list[Line] = field(default_factory=list)
    charge_ids: list[int] = field(default_factory=list)  # the ledger's charges among the lines

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def model_label(self) -> str:
        return PricingModel(self.model).label


class PriceBook:
    """Every zone's price versions and every country's zone, read once per bill."""

    def __init__(self) -> None:
        self.zones = {zone.pk: zone for zone in RateZone.objects.all()}
        self.zone_of_country = {c: self.zones[z] for c, z in ZoneCountry.objects.values_list("country", "zone_id")}
        self.versions: dict[int, list[ZonePrice]] = defaultdict(list)
        for price in ZonePrice.objects.order_by("effective_from"):
            self.versions[price.zone_id].append(price)

    @property
    def first_zone(self) -> RateZone:
        """Where a SIM without a priced home country is billed, and the default plan zone."""
        return min(self.zones.values(), key=lambda zone: zone.code)

    def zone(self, country: str, fallback: RateZone) -> RateZone:
        return self.zone_of_country.get(country, fallback)

    def at(self, zone: RateZone, moment: datetime) -> ZonePrice:
        in_force = [price for price in self.versions[zone.pk] if price.effective_from <= moment]
        if not in_force:
            raise ValueError(f"The rate zone {zone.code} has no price at {moment:%Y-%m-%d %H:%M}: an admin can add one.")
        return in_force[-1]

    def on_day(self, zone: RateZone, day: date) -> ZonePrice:
        return self.at(zone, datetime.combine(day, time(), tzinfo=UTC))

    def shares(self, zone: RateZone, period: Period) -> list[tuple[ZonePrice, Decimal]]:
        """The versions in force during the period, each with its share of the period's time."""
        moments = [period.starts_at] + [
            p.effective_from for p in self.versions[zone.pk] if period.starts_at < p.effective_from < period.ends_at
        ]
        length = Decimal((period.ends_at - period.starts_at).total_seconds())
        shares = []
        for begin, end in zip(moments, moments[1:] + [period.ends_at], strict=True):
            shares.append((self.at(zone, begin), Decimal((end - begin).total_seconds()) / length))
        return shares


def plan_zone(product: Product, book: PriceBook) -> RateZone:
    return product.plan_zone or book.first_zone


def price_period(
    product: Product,
    period: Period,
    *,
    until: datetime,
    model: str | None = None,
    usage_scale: Decimal = Decimal(1),
    activity: Activity | None = None,
) -> Bill:
    """The product's bill for the period, counting what happened before `until`. `model` prices it
    under another model than the product's; `usage_scale` projects the usage so far to the period's
    end; `activity`, from account_activity for the same period and `until`, saves reading the events again."""
    book = PriceBook()
    model = model or product.pricing_model
    activity = activity or account_activity(product, period, until=until)
    bill = Bill(product=product, period=period, model=model, until=until, peak_sims=activity.peak_sims)
    usage = _usage_by_zone_and_day(product, period, until, book, usage_scale)
    if model == PricingModel.PER_SIM:
        bill.lines += _per_sim_plan(product, period, until, book, activity, usage_scale)
    elif model == PricingModel.PAY_AS_YOU_GO:
        bill.lines += _pay_as_you_go(product, period, book, activity, usage)
    else:
        bill.lines += _pooled(product, period, book, activity, usage)
    bill.lines += _suspension_fees(model, book, activity, plan_zone(product, book))
    charges = uninvoiced_charges(product, period, model=model)
    bill.lines += [ledger_line(charge) for charge in charges]
    bill.charge_ids = [charge.pk for charge in charges]
    return bill


def uninvoiced_charges(product: Product, period: Period, *, model: str) -> list[Charge]:
    charges = product.charges.filter(invoice=None, period_start__lte=period.start).select_related("zone")
    if model != PricingModel.PER_SIM:
        # A comparison under another model: the per-SIM plan's first months would not exist there.
        charges = charges.exclude(kind=Charge.Kind.FIRST_MONTH)
    return list(charges.order_by("period_start", "created_at", "id"))


# What a ledger charge's quantity counts, by kind (a credit counts nothing in particular).
LEDGER_UNITS: dict[str, str] = {Charge.Kind.FIRST_MONTH: "SIMs", Charge.Kind.TRANSFER_OVERAGE: "MB"}


def ledger_line(charge: Charge) -> Line:
    return Line(
        kind=charge.kind, description=charge.description, quantity=charge.quantity, unit=LEDGER_UNITS.get(charge.kind, ""),
        unit_price=charge.unit_price, amount=charge.amount, zone=charge.zone,
    )


def _fee_lines(kind: str, label: str, count: int, zone: RateZone, period: Period, book: PriceBook, price_of) -> list[Line]:
    """A monthly fee for `count` SIMs, prorated between the price versions of the period."""
    lines = []
    shares = book.shares(zone, period)
    for price, share in shares:
        quantity = Decimal(count) * share
        when = "" if len(shares) == 1 else f" from {max(price.effective_from, period.starts_at):%b %-d %H:%M}"
        lines.append(
            Line(kind=kind, description=f"{label}, {zone.code}{when}", quantity=quantity.quantize(QUANTITY),
                 unit="SIMs" if share == 1 else "SIM-months", unit_price=price_of(price), amount=money(quantity * price_of(price)), zone=zone)
        )
    return [line for line in lines if line.quantity]


def _weighted(zone: RateZone, period: Period, book: PriceBook, value_of) -> Decimal:
    return sum((Decimal(value_of(price)) * share for price, share in book.shares(zone, period)), Decimal(0))


def _per_sim_plan(product, period, until, book, activity, usage_scale) -> list[Line]:
    fallback = plan_zone(product, book)
    sims_by_zone: Counter = Counter()
    for country, count in activity.plan_sims_by_country.items():
        sims_by_zone[book.zone(country, fallback)] += count
    lines = []
    for zone in sorted(sims_by_zone, key=lambda z: z.code):
        lines += _fee_lines("plan", "Per-SIM plan", sims_by_zone[zone], zone, period, book, lambda p: p.plan_monthly_price)
    roaming_by_sim, roaming_bytes = _roaming(product, period, book, fallback)
    over_bytes: defaultdict[RateZone, Decimal] = defaultdict(Decimal)
    plan_of: dict[str, tuple[RateZone, Decimal]] = {}  # home country -> zone, bytes included: once, not per SIM
    for sim_id, country, used in _usage_by_sim(product, period, until):
        if country not in plan_of:
            zone = book.zone(country, fallback)
            plan_of[country] = zone, _weighted(zone, period, book, lambda p: p.plan_included_mb) * MB
        zone, included = plan_of[country]
        at_home = used - roaming_by_sim.get(sim_id, 0)
        over_bytes[zone] += max(Decimal(0), Decimal(at_home) * usage_scale - included)
    for zone in sorted(over_bytes, key=lambda z: z.code):
        unit_price = _weighted(zone, period, book, lambda p: p.overage_per_mb)
        lines.append(_mb_line("overage", f"Data over the per-SIM plan, {zone.code}", over_bytes[zone], unit_price, zone))
    for zone in sorted(roaming_bytes, key=lambda z: z.code):
        unit_price = _weighted(zone, period, book, lambda p: p.overage_per_mb)
        used = Decimal(roaming_bytes[zone]) * usage_scale
        lines.append(_mb_line("roaming", f"Roaming: data in {zone.code} outside the SIMs' home zones", used, unit_price, zone))
    return [line for line in lines if line.quantity]


def visited_zone(country: str, home: RateZone, book: PriceBook, fallback: RateZone) -> RateZone:
    """Where data used in `country` is priced on the per-SIM plan: a record without a country
    counts at home; a country no zone lists, in the plan zone (as its SIMs' home countries are)."""
    return home if not country else book.zone(country, fallback)


@dataclass(frozen=True)
class Visited:
    """A SIM's data this period in one visited country ('' when its records did not say)."""

    country: str
    zone: RateZone
    bytes: int
    at_home: bool


def sim_usage_by_country(sim, *, product: Product, period: Period) -> tuple[RateZone | None, list[Visited]]:
    """The SIM's home zone, and its data in the product this period by visited country, the most
    first: the zones of just those countries are read, not the whole price book (the SIM page)."""
    rows = list(SimCountryUsage.objects.filter(product=product, period=period.start, sim=sim).values_list("country", "bytes"))
    if not rows:
        return None, []
    home_country = sim.home_country.code or ""
    wanted = {country for country, _ in rows if country} | {home_country}
    zone_of = {place.country.code: place.zone for place in ZoneCountry.objects.filter(country__in=wanted).select_related("zone")}  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str
    fallback = None
    if wanted - zone_of.keys():
        fallback = product.plan_zone or RateZone.objects.order_by("code").first()  # as PriceBook's plan_zone
        if fallback is None:
            return None, []  # no rate zones at all: nothing to price against
    home = zone_of.get(home_country) or fallback
    visited = []
    for country, used in rows:
        zone = home if not country else zone_of.get(country) or fallback
        assert zone is not None  # a country without a zone of its own has the fallback, set above
        visited.append(Visited(country=country, zone=zone, bytes=used, at_home=zone == home))
    return home, sorted(visited, key=lambda v: (-v.bytes, v.country))


def _roaming(product, period, book, fallback) -> tuple[dict[int, int], Counter]:
    """Bytes each SIM used outside its home zone this period, and those bytes by visited zone.
    Only rows away from the home country are read: a fleet at home reads next to nothing."""
    rows = (
        SimCountryUsage.objects.filter(product=product, period=period.start)
        .exclude(country="")
        .exclude(country=F("sim__home_country"))
        .values_list("sim_id", "sim__home_country", "country", "bytes")
        .order_by()
    )
    by_sim: dict[int, int] = defaultdict(int)
    by_zone: Counter = Counter()
    for sim_id, home_country, country, used in rows.iterator(chunk_size=20_000):
        home = book.zone(home_country, fallback)
        visited = visited_zone(country, home, book, fallback)
        if visited != home:
            by_sim[sim_id] += used
            by_zone[visited] += used
    return by_sim, by_zone


def _usage_by_sim(product: Product, period: Period, until: datetime) -> Iterator[tuple[int, str, int]]:
    """Each SIM's usage in the product this period (its days in another product are theirs)."""
    rows = (
        SimDailyUsage.objects.filter(product=product, day__gte=period.start, day__lt=min(period.end, until.date() + timedelta(days=1)))
        .values("sim_id")
        .annotate(used=Sum("bytes"))
        .values_list("sim_id", "sim__home_country", "used")
        .order_by()
    )
    return rows.iterator(chunk_size=20_000)


def _usage_by_zone_and_day(product, period, until, book, usage_scale) -> dict[tuple[RateZone, date], tuple[Decimal, Decimal]]:
    """Bytes and SMS per visited zone per day, from the product's daily rollup."""
    fallback = plan_zone(product, book)
    usage: dict = defaultdict(lambda: (Decimal(0), Decimal(0)))
    rows = ProductDailyUsage.objects.filter(
        product=product, day__gte=period.start, day__lt=min(period.end, until.date() + timedelta(days=1))
    ).values_list("country", "day", "bytes", "sms")
    for country, day, used, sms in rows:
        key = (book.zone(country, fallback), day)
        total_bytes, total_sms = usage[key]
        usage[key] = (total_bytes + Decimal(used) * usage_scale, total_sms + Decimal(sms) * usage_scale)
    return usage


def _mb_line(kind: str, description: str, over_bytes: Decimal, unit_price: Decimal, zone: RateZone) -> Line:
    megabytes = over_bytes / MB
    return Line(kind=kind, description=description, quantity=megabytes.quantize(QUANTITY), unit="MB",
                unit_price=unit_price.quantize(QUANTITY), amount=money(megabytes * unit_price), zone=zone)


def _by_price(usage, book, pick) -> dict[tuple[RateZone, ZonePrice], Decimal]:
    """Usage summed per zone and price version in force on its day."""
    totals: dict = defaultdict(Decimal)
    for (zone, day), amounts in usage.items():
        totals[zone, book.on_day(zone, day)] += pick(amounts)
    return totals


def _usage_lines(kind, label, totals, value_of, as_mb: bool) -> list[Line]:
    lines = []
    for (zone, price), amount in sorted(totals.items(), key=lambda item: (item[0][0].code, item[0][1].effective_from)):
        description = f"{label}, {zone.code}"
        if price.effective_from.year > 2000:
            description += f" (prices from {price.effective_from:%b %-d})"
        if as_mb:
            lines.append(_mb_line(kind, description, amount, value_of(price), zone))
        else:
            lines.append(Line(kind=kind, description=description, quantity=amount.quantize(QUANTITY), unit="SMS",
                              unit_price=value_of(price), amount=money(amount * value_of(price)), zone=zone))
    return [line for line in lines if line.quantity]


def _pay_as_you_go(product, period, book, activity, usage) -> list[Line]:
    zone = plan_zone(product, book)
    lines = _fee_lines("hosting", "Hosting fee, peak SIMs at once", activity.peak_sims, zone, period, book, lambda p: p.payg_monthly_fee)
    data = _by_price(usage, book, lambda amounts: amounts[0])
    lines += _usage_lines("data", "Data", data, lambda p: p.payg_data_per_mb, as_mb=True)
    sms = _by_price(usage, book, lambda amounts: amounts[1])
    lines += _usage_lines("sms", "SMS", sms, lambda p: p.payg_sms_price, as_mb=False)
    return lines


def _pooled(product, period, book, activity, usage) -> list[Line]:
    zone = plan_zone(product, book)
    lines = _fee_lines("pool", "Pooled plan, peak SIMs at once", activity.peak_sims, zone, period, book, lambda p: p.pool_monthly_fee)
    pool_bytes = activity.peak_sims * _weighted(zone, period, book, lambda p: p.pool_included_mb) * MB
    in_zone = sum((amounts[0] for (visited, _), amounts in usage.items() if visited == zone), Decimal(0))
    beyond = max(Decimal(0), in_zone - pool_bytes)
    if beyond:
        unit_price = _weighted(zone, period, book, lambda p: p.pool_overage_per_mb)
        pool_mb = (pool_bytes / MB).quantize(Decimal(1))
        lines.append(_mb_line("pool_overage", f"Data beyond the pool of {pool_mb:,} MB, {zone.code}", beyond, unit_price, zone))
    outside = {key: amounts for key, amounts in usage.items() if key[0] != zone}
    totals = _by_price(outside, book, lambda amounts: amounts[0])
    lines += _usage_lines("out_of_zone", "Data outside the plan's zone", totals, lambda p: p.pool_overage_per_mb, as_mb=True)
    return lines


def _suspension_fees(model, book, activity, fallback) -> list[Line]:
    counts: dict = defaultdict(int)
    for (country, day), count in activity.suspensions.items():
        zone = book.zone(country, fallback)
        counts[zone, book.on_day(zone, day)] += count
    lines = []
    for (zone, price), count in sorted(counts.items(), key=lambda item: (item[0][0].code, item[0][1].effective_from)):
        fee = price.suspension_fee(model)
        if fee:
            lines.append(Line(kind="suspension", description=f"Suspension fees, {zone.code}", quantity=Decimal(count),
                              unit="suspensions", unit_price=fee, amount=money(fee * count), zone=zone))
    return lines
