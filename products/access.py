"""Who may see and do what in a product. Ownership is checked in the query:
a person outside the product gets 404, never a hint that it exists."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from products.models import Membership


def get_membership_for_user(request: HttpRequest, slug: str) -> Membership:
    return get_object_or_404(Membership.objects.products_of(request.user), product__slug=slug)


def require_product_admin(membership: Membership) -> None:
    if not membership.is_admin:
        raise PermissionDenied("Only a product admin can do this. Ask an admin of the product.")
