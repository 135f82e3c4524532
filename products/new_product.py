"""A product made by anyone signed in, who becomes its first admin."""

import logging

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from products.models import Membership, Product

log = logging.getLogger(__name__)

# Slugs a product may not take: they are URLs of the console's own (products/new/).
RESERVED_SLUGS = {"new"}
_SLUG_LENGTH = Product._meta.get_field("slug").max_length or 60


def create_product(*, name: str, creator) -> Product:
    """A product with the model's defaults (per-SIM plan, the console's data limit, the seed's
    triggers), its slug made from its name and unique, and `creator` its admin."""
    base = slugify(name)[: _SLUG_LENGTH - 4].strip("-") or "product"
    for attempt in range(1, 1000):
        slug = base if attempt == 1 else f"{base}-{attempt}"
        if slug in RESERVED_SLUGS or Product.objects.filter(slug=slug).exists():
            continue
        try:
            # Two people naming products alike at once: the unique slug decides, the loser tries the next.
            with transaction.atomic():
                product = Product.objects.create(name=name, slug=slug)
                Membership.objects.create(product=product, user=creator, role=Membership.Role.ADMIN)
        except IntegrityError:
            continue
        log.info("product %s created by %s", product.slug, creator.get_username())
        return product
    raise RuntimeError(f"no free slug for {name!r}")
