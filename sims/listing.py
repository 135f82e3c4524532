"""The product's SIM list: filters, ICCID search and pagination that stay fast at a million SIMs."""

from django.conf import settings
from django.core.paginator import Page, Paginator
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
    return sims.order_by("iccid")


def page_of_sims(*, product: Product, sims: QuerySet[Sim], page_number: str | int | None) -> Page:
    paginator = Paginator(sims, settings.SIMS_PER_PAGE)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    for sim in page.object_list:
        sim.product = product  # the effective data limit reads the product's default: no query per row
    return page
