"""The home-country advisor. Particle's guide has teams home their SIMs where they operate most
"to avoid incurring unnecessary roaming charges"; this says, from last month's real usage by
visited country, which home country would have cost least on the per-SIM plan, and applies it.

SIMs are grouped by their home country and the country they used most last month, so the list
stays short at a million SIMs. A group's cost under a home zone is what billing.py charges for a
month there: each SIM's plan, its home-zone data over the included MB, and its data in other
zones at their prices (roaming), at last month's prices weighted as billing weighs them. The
rest of a bill (first months, suspension fees, the ledger) does not depend on the home country.
Only the countries a group used, and its home, are candidates: the advice is where the SIMs are.

A change applies to the open billing period: its invoice, not issued yet, prices each SIM by its
home country at closing, as it always has; issued invoices never change.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import groupby

from django.core.cache import cache
from django_countries import countries

from billing.billing import _weighted, Period, plan_zone, PriceBook
from billing.models import RateZone
from billing.pricing import money
from lib.units import MB
from products.models import Product
from sims.home_country import set_home_country
from sims.lifecycle import Actor
from sims.models import SimCountryUsage, State

GROUPS_SHOWN = 25
ADVICE_SECONDS = 300

Key = tuple[str, str]  # (home country, country used most)


@dataclass(frozen=True)
class Group:
    home_country: str
    used_most: str
    sims: int
    suggested: str
    suggested_zone: RateZone
    current_cost: Decimal
    suggested_cost: Decimal

    @property
    def key(self) -> Key:
        return self.home_country, self.used_most

    @property
    def saving(self) -> Decimal:
        return self.current_cost - self.suggested_cost

    @property
    def home_name(self) -> str:
        return countries.name(self.home_country) or self.home_country or "none"

    @property
    def used_most_name(self) -> str:
        return countries.name(self.used_most) or self.used_most

    @property
    def suggested_name(self) -> str:
        return countries.name(self.suggested) or self.suggested


@dataclass(frozen=True)
class Advice:
    period: Period
    groups: list[Group]  # those with a saving, the largest first
    sims_considered: int  # the product's SIMs with usage in it last month
    computed_at: datetime

    @property
    def saving(self) -> Decimal:
        return sum((group.saving for group in self.groups), Decimal("0.00"))

    @property
    def sims_to_move(self) -> int:
        return sum(group.sims for group in self.groups)

    @property
    def shown(self) -> list[Group]:
        return self.groups[:GROUPS_SHOWN]

    @property
    def not_shown(self) -> int:
        return max(0, len(self.groups) - GROUPS_SHOWN)


@dataclass
class _Tally:
    """A group's sums: each is linear over its SIMs, so the group is priced once, not each SIM.
    Zones are keyed by id: hashing a model instance cost more than the rest of the loop."""

    home_zone: int
    sims: int = 0
    away_bytes: dict[int, int] = field(default_factory=dict)  # visited zone -> bytes (a country's records)
    over_bytes: dict[int, int] = field(default_factory=dict)  # candidate home zone -> bytes over its plan
    country_bytes: dict[str, int] = field(default_factory=dict)
    sim_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    fee: Decimal
    included_bytes: int
    per_mb: Decimal


class _Prices:
    """Each zone's per-SIM plan over the period (weighted between price versions), by zone id."""

    def __init__(self, product: Product, book: PriceBook, period: Period) -> None:
        self.book, self.period = book, period
        self.plans: dict[int, _Plan] = {}
        self.fallback = plan_zone(product, book).pk if book.zones else 0
        self.zone_of_country = {country: zone.pk for country, zone in book.zone_of_country.items()}
        self.priced = [(zone.pk, plan.included_bytes) for zone in book.zones.values() if (plan := self._plan_or_none(zone.pk))]

    def _plan_or_none(self, zone_id: int) -> "_Plan | None":
        try:
            return self.of(zone_id)
        except ValueError:
            return None

    def zone(self, country: str) -> int:
        return self.zone_of_country.get(country, self.fallback)

    def of(self, zone_id: int) -> _Plan:
        """Raises ValueError when the zone had no price all month."""
        if zone_id not in self.plans:
            zone, book, period = self.book.zones[zone_id], self.book, self.period
            self.plans[zone_id] = _Plan(
                fee=_weighted(zone, period, book, lambda p: p.plan_monthly_price),
                included_bytes=int(_weighted(zone, period, book, lambda p: p.plan_included_mb) * MB),
                per_mb=_weighted(zone, period, book, lambda p: p.overage_per_mb),
            )
        return self.plans[zone_id]

    def cost(self, tally: _Tally, home: int) -> Decimal:
        plan = self.of(home)
        roaming = sum(
            (Decimal(used) * self.of(zone).per_mb for zone, used in tally.away_bytes.items() if zone != home), Decimal(0)
        )
        return money(tally.sims * plan.fee + (Decimal(tally.over_bytes.get(home, 0)) * plan.per_mb + roaming) / MB)


def advise_home_countries(product: Product, *, now: datetime) -> Advice:
    """Last month's advice for the product's SIMs. Raises ValueError when a zone used had no price."""
    period = Period.of(now).previous()
    prices = _Prices(product, PriceBook(), period)
    tallies = _tallies(product, period, prices)
    groups = [group for key, tally in tallies.items() if (group := _advice_for(key, tally, prices))]
    groups.sort(key=lambda group: (-group.saving, group.key))
    considered = sum(tally.sims for tally in tallies.values())
    return Advice(period=period, groups=groups, sims_considered=considered, computed_at=now)


def cached_advice(product: Product, *, now: datetime) -> Advice:
    """Last month's usage changes little once the month is over: kept for a few minutes."""
    key = _cache_key(product, Period.of(now).previous())
    found = cache.get(key)
    if found is None:
        found = advise_home_countries(product, now=now)
        cache.set(key, found, ADVICE_SECONDS)
    return found


def _cache_key(product: Product, period: Period) -> str:
    return f"home-country-advice:{product.pk}:{period}"


@dataclass(frozen=True)
class Applied:
    changed: int
    groups: int


def apply_home_country_advice(*, product: Product, actor: Actor, now: datetime, advice: Advice | None = None) -> Applied:
    """Move each group of `advice` (default: computed now) to its suggested home country: the
    SIMs still homed where the advice found them, through the lifecycle, an event per SIM.
    Applying again finds them moved and changes nothing."""
    advice = advice or advise_home_countries(product, now=now)
    decisions = {group.key: group for group in advice.groups}
    if not decisions:
        return Applied(changed=0, groups=0)
    tallies = _tallies(product, advice.period, _Prices(product, PriceBook(), advice.period), keep_ids=set(decisions))
    changed = 0
    for key, group in decisions.items():
        tally = tallies.get(key)
        if tally is None or not tally.sim_ids:
            continue
        report = set_home_country(
            sims=tally.sim_ids, country=group.suggested, actor=actor,
            reason=f"Home country {group.home_country or 'none'} -> {group.suggested} (home-country advisor, {advice.period.start:%B %Y} usage)",
            only=product.sims.filter(home_country=group.home_country),
        )  # fmt: skip
        changed += len(report.done)
    cache.delete(_cache_key(product, advice.period))
    return Applied(changed=changed, groups=len(decisions))


def _usage_rows(product: Product, period: Period) -> Iterator[tuple[int, str, str, int]]:
    """(SIM, its home country, visited country, bytes) of the product's SIMs last month, by SIM."""
    rows = (
        SimCountryUsage.objects.filter(product=product, period=period.start, sim__product=product)
        .exclude(sim__state=State.TERMINATED)
        .order_by("sim_id", "country")
        .values_list("sim_id", "sim__home_country", "country", "bytes")
    )
    return rows.iterator(chunk_size=20_000)


def _tallies(product: Product, period: Period, prices: _Prices, keep_ids: set[Key] | None = None) -> dict[Key, _Tally]:
    tallies: dict[Key, _Tally] = {}
    for sim_id, rows in groupby(_usage_rows(product, period), key=lambda row: row[0]):
        by_zone: dict[int, int] = {}
        by_country: dict[str, int] = {}
        home_country, at_home_unsaid = "", 0
        for _, home_country, country, used in rows:
            if country:
                zone = prices.zone(country)  # the billing rule (billing.visited_zone), by zone id
                by_zone[zone] = by_zone.get(zone, 0) + used
            else:
                at_home_unsaid += used  # a record without a country is at home, wherever that is
            place = country or home_country
            by_country[place] = by_country.get(place, 0) + used
        if not any(by_country.values()):
            continue
        used_most = min(by_country.items(), key=lambda item: (-item[1], item[0]))[0]
        key = (home_country, used_most)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = _Tally(home_zone=prices.zone(home_country))
        tally.sims += 1
        for zone, used in by_zone.items():
            tally.away_bytes[zone] = tally.away_bytes.get(zone, 0) + used
        for place, used in by_country.items():
            tally.country_bytes[place] = tally.country_bytes.get(place, 0) + used
        for zone, included in prices.priced:
            over = by_zone.get(zone, 0) + at_home_unsaid - included
            if over > 0:
                tally.over_bytes[zone] = tally.over_bytes.get(zone, 0) + over
        if keep_ids is not None and key in keep_ids:
            tally.sim_ids.append(sim_id)
    return tallies


def _advice_for(key: Key, tally: _Tally, prices: _Prices) -> Group | None:
    home_country, used_most = key
    home = tally.home_zone
    priced = {zone for zone, _ in prices.priced}
    candidates = {zone for zone, used in tally.away_bytes.items() if used} | {home}
    costs = {zone: prices.cost(tally, zone) for zone in candidates if zone in priced}
    if home not in costs:
        return None
    zones = prices.book.zones
    best = min(costs, key=lambda zone: (costs[zone], zone != home, zones[zone].code))
    if costs[best] >= costs[home]:
        return None
    # The country of that zone the group used most (a zone is a candidate only if it was used).
    in_best = [(country, used) for country, used in tally.country_bytes.items() if country and prices.zone(country) == best]
    suggested = min(in_best, key=lambda item: (-item[1], item[0]))[0]
    return Group(
        home_country=home_country, used_most=used_most, sims=tally.sims, suggested=suggested, suggested_zone=zones[best],
        current_cost=costs[home], suggested_cost=costs[best],
    )  # fmt: skip
