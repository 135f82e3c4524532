"""Managing a product's team: add members, change roles, remove them; never leave it without an admin."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from products.models import Membership, Product


class TeamError(Exception):
    pass


def add_member(*, product: Product, username_or_email: str, role: str) -> Membership:
    identifier = username_or_email.strip()
    users = get_user_model().objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))
    matches = list(users[:2])
    if not matches:
        raise TeamError(
            f"No one has the username or email {identifier!r}. Check the spelling, "
            "or invite them by email: they get a link to join and choose a password."
        )
    if len(matches) > 1:
        raise TeamError(f"{identifier!r} matches more than one account: use the username instead.")
    user = matches[0]
    with transaction.atomic():
        if Membership.objects.filter(product=product, user=user).exists():
            raise TeamError(f"{user.get_username()} is already in the team of {product.name}.")
        return Membership.objects.create(product=product, user=user, role=role)


def change_role(*, membership: Membership, role: str) -> None:
    with transaction.atomic():
        if role != Membership.Role.ADMIN:
            _refuse_if_last_admin(membership, "made a member")
        membership.role = role
        membership.save(update_fields=["role"])


def remove_member(*, membership: Membership) -> None:
    with transaction.atomic():
        _refuse_if_last_admin(membership, "removed")
        membership.delete()


def ensure_an_admin_remains(*, membership: Membership, what: str) -> None:
    """TeamError when taking this admin away would leave the product without one (asked before a confirmation)."""
    with transaction.atomic():
        _refuse_if_last_admin(membership, what)


def _refuse_if_last_admin(membership: Membership, what: str) -> None:
    # Lock the product's admins so two admins demoting each other at once cannot both succeed.
    admins = list(
        Membership.objects.select_for_update()
        .filter(product_id=membership.product_id, role=Membership.Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise TeamError(
            f"{membership.user.get_username()} is the last admin of {membership.product.name} "
            f"and cannot be {what}: make someone else an admin first."
        )
