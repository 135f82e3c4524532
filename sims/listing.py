"""The product's SIM list: filters, ICCID search and pagination that stay fast at a million SIMs.

Pages are cut by ICCID (keyset pagination: "the 50 after this ICCID"), so the last
page costs what the first does; OFFSET would read every row before it. The count
of matching SIMs is its own request, so the rows never wait for it.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from products.models import Product
from sims.models import Sim


def filter_sims(*, product: Product, state: str = "", country: str = "", fragment: str = "") -> QuerySet[Sim]:
    sims = Sim.objects.filter(product=product)
    if state:
        sims = sims.filter(state=state)
    if country:
        sims = sims.filter(home_country=country)
    if len(fragment) >= 19:
        # A whole ICCID (or more): the unique index answers at once.
        sims = sims.filter(iccid__startswith=fragment)
    elif fragment:
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
