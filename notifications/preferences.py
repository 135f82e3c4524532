"""What each person chose to be told about a product, by email and in the console, and who is told.

Defaults, for a person who has not chosen: everything in the console; by email, the end of the
imports they start and the budget alerts sent to them, and for admins the paused-SIM and spike digests too (members are not mailed
about the fleet unless they ask). Only members of the product are ever told.
"""

from dataclasses import dataclass

from products.models import Membership, Product
from notifications.models import Kind, Preference


@dataclass(frozen=True)
class Choice:
    email: bool
    in_console: bool

    @property
    def anything(self) -> bool:
        return self.email or self.in_console


def default_choice(kind: str, *, is_admin: bool) -> Choice:
    # A rule's email goes to the people and roles the rule names, a budget alert to the people its budget names
    # (its admins unless it says the team): they are emailed unless they opted out.
    if kind in (Kind.IMPORT_FINISHED, Kind.RULE_FIRED, Kind.BUDGET):
        return Choice(email=True, in_console=True)
    return Choice(email=is_admin, in_console=True)


def choices_for(*, user, product: Product) -> dict[str, Choice]:
    """A member's choices in a product, kind by kind (the defaults where they chose nothing)."""
    membership = Membership.objects.get(user=user, product=product)
    chosen = {p.kind: Choice(p.email, p.in_console) for p in Preference.objects.filter(user=user, product=product)}
    return {kind: chosen.get(kind, default_choice(kind, is_admin=membership.is_admin)) for kind in Kind}


def set_choice(*, user, product: Product, kind: str, email: bool, in_console: bool) -> None:
    Preference.objects.update_or_create(user=user, product=product, kind=kind, defaults={"email": email, "in_console": in_console})


def set_choices(*, user, product: Product, choices: dict[str, Choice]) -> None:
    for kind, choice in choices.items():
        set_choice(user=user, product=product, kind=kind, email=choice.email, in_console=choice.in_console)


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email_address: str
    choice: Choice


def recipients(*, product_id: int, kind: str, user_ids: list[int] | None = None) -> list[Recipient]:
    """The members of a product (or those of `user_ids` who are members) who want to hear of `kind`,
    with how: two queries, whatever the team's size. Email only to those with an address."""
    members = Membership.objects.filter(product_id=product_id).select_related("user").order_by("user_id")
    if user_ids is not None:
        members = members.filter(user_id__in=user_ids)
    chosen = {
        p.user_id: Choice(p.email, p.in_console) for p in Preference.objects.filter(product_id=product_id, kind=kind)
    }
    found = []
    for member in members:
        choice = chosen.get(member.user_id, default_choice(kind, is_admin=member.is_admin))
        choice = Choice(email=choice.email and bool(member.user.email), in_console=choice.in_console)
        if choice.anything and member.user.is_active:
            found.append(Recipient(member.user_id, member.user.email, choice))
    return found
