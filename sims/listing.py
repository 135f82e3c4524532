"""The product's SIM list: filters, ICCID search and pagination that stay fast at a million SIMs.

Pages are cut by ICCID (keyset pagination: "the 50 after this ICCID"), so the last
page costs what the first does; OFFSET would read every row before it. The count
of matching SIMs is its own request, so the rows never wait for it.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from products.models import Product
from sims.models import Sim, UsageSpike

# "89" followed by this many digits or more is read as the start of an ICCID.
PREFIX_SEARCH_DIGITS = 6


def filter_sims(
    *, product: Product, state: str = "", country: str = "", fragment: str = "", spiking_on: date | None = None
) -> QuerySet[Sim]:
    sims = Sim.objects.filter(product=product)
    if spiking_on is not None:
        # A day's spikes are few (its index gives them); the SIMs are then looked up by id.
        spiking = UsageSpike.objects.filter(product=product, day=spiking_on).values("sim_id")
        sims = sims.filter(pk__in=spiking)
    if state:
        sims = sims.filter(state=state)
    if country:
        sims = sims.filter(home_country=country)
    if fragment.startswith("89") and len(fragment) >= PREFIX_SEARCH_DIGITS:
        # The start of an ICCID (or all of it): a range on the (product, iccid) index.
        # LIKE 'x%' would not use it (SQLite's LIKE ignores case; PostgreSQL's collation).
        sims = sims.filter(iccid__gte=fragment, iccid__lt=fragment + ":")  # ":" sorts right after "9"
    elif fragment:
        # Digits from the middle or the end: no index can help, the product's SIMs are read.
        sims = sims.filter(iccid__contains=fragment)
    return sims


@dataclass
class SimPage:
    sims: list[Sim]
    has_previous: bool
    has_next: bool

    @property
    def first_iccid(self) -> str:
        return self.sims[0].iccid if self.sims else ""

    @property
    def last_iccid(self) -> str:
        return self.sims[-1].iccid if self.sims else ""


def page_of_sims(*, product: Product, sims: QuerySet[Sim], per_page: int, after: str = "", before: str = "", last: bool = False) -> SimPage:
    """The page after (or before) an ICCID, the first page, or the last one."""
    if before or last:
        backwards = sims.filter(iccid__lt=before) if before else sims
        rows = list(backwards.order_by("-iccid")[: per_page + 1])
        page = SimPage(sims=rows[:per_page][::-1], has_previous=len(rows) > per_page, has_next=bool(before))
    else:
        forwards = sims.filter(iccid__gt=after) if after else sims
        rows = list(forwards.order_by("iccid")[: per_page + 1])
        page = SimPage(sims=rows[:per_page], has_previous=bool(after), has_next=len(rows) > per_page)
    for sim in page.sims:
        sim.product = product  # the effective data limit reads the product's default: no query per row
    return page
