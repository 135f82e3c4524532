"""Which carrier account of a product owns each imported ICCID.

- The account whose ICCID prefix is the longest one the ICCID starts with (ties: the first account in
  the accounts' order, by name).
- An account without prefixes takes what no prefix claims (several such: the first by name), unless
  the person chose another account for those on the import's review page (`unrouted`).
- A product without any carrier account uses the console's built-in simulator: account None.
- An ICCID no account of the product takes is refused, with the reason (`no_route_reason`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from carriers.models import CarrierAccount

# The digits of an ICCID a refusal quotes: 89, the country code and the issuer's first digits.
QUOTED_DIGITS = 6


def no_route_reason(iccid: str) -> str:
    return (
        f"No carrier account of this product takes ICCIDs starting {iccid[:QUOTED_DIGITS]}...: "
        "add the range to an account in Settings."
    )


@dataclass
class Routes:
    """The ICCIDs given, by the account that owns them (None: the built-in simulator), and the ones refused."""

    by_account: dict[CarrierAccount | None, list[str]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def account_of(self) -> dict[str, CarrierAccount | None]:
        return {iccid: account for account, iccids in self.by_account.items() for iccid in iccids}


class Router:
    """The routing of one product's accounts: built once per import, asked once per ICCID."""

    def __init__(self, accounts: list[CarrierAccount], *, unrouted: CarrierAccount | None = None) -> None:
        self.accounts = accounts
        # Longest prefixes first; the order of the accounts breaks ties (a stable sort).
        self.prefixes = sorted(
            ((prefix, account) for account in accounts for prefix in account.prefixes), key=lambda pair: -len(pair[0])
        )
        self.lengths = sorted({len(prefix) for prefix, _ in self.prefixes}, reverse=True)
        self.by_prefix: dict[str, CarrierAccount] = {}
        for prefix, account in self.prefixes:
            self.by_prefix.setdefault(prefix, account)
        catch_all = next((account for account in accounts if not account.prefixes), None)
        self.unrouted = unrouted if unrouted is not None else catch_all
        self.built_in = not accounts

    def prefix_account(self, iccid: str) -> CarrierAccount | None:
        """The account whose longest prefix the ICCID starts with; None when no prefix takes it."""
        for length in self.lengths:
            account = self.by_prefix.get(iccid[:length])
            if account is not None:
                return account
        return None

    def account_for(self, iccid: str) -> tuple[bool, CarrierAccount | None]:
        """(taken, account): whether an account of the product takes the ICCID, and which."""
        if self.built_in:
            return True, None
        account = self.prefix_account(iccid)
        if account is not None:
            return True, account
        if self.unrouted is not None:
            return True, self.unrouted
        return False, None

    def route(self, iccids: Iterable[str]) -> Routes:
        routes = Routes()
        for iccid in iccids:
            taken, account = self.account_for(iccid)
            if taken:
                routes.by_account.setdefault(account, []).append(iccid)
            else:
                routes.refused[iccid] = no_route_reason(iccid)
        return routes


def accounts_of(product_id: int) -> list[CarrierAccount]:
    return list(CarrierAccount.objects.filter(product_id=product_id).order_by("name", "id"))


def router_for(product_id: int, *, unrouted: CarrierAccount | None = None) -> Router:
    """The product's routing; `unrouted`: the account chosen for ICCIDs no prefix routes (None: the routing's own)."""
    return Router(accounts_of(product_id), unrouted=unrouted)


def route(product_id: int, iccids: Iterable[str], *, unrouted: CarrierAccount | None = None) -> Routes:
    return router_for(product_id, unrouted=unrouted).route(iccids)
