"""Only what you hold can be claimed: the check every import and every API claim makes.

An ICCID new to the console (or waiting in its inventory) goes into a product only when the carrier
account that owns it (carriers/routing.py) holds it, or takes the proof it asks for (Twilio's
registration code: Capability.CLAIM_WITH_PROOF). A developer's claim asks the built-in simulator.

A refusal never says who holds the SIM: another product's SIM and a SIM nobody holds get the same
words (NOT_HELD), in the console, its outcome CSV and both API dialects.
"""

from dataclasses import dataclass, field

from carriers.adapters import adapter_class, adapter_for
from carriers.adapters.base import Capability, CarrierUnavailable
from carriers.health import record_call
from carriers.models import CarrierAccount
from carriers.routing import Router, no_route_reason, router_for

NOT_HELD = "Not held by this product's carrier accounts: check the ICCID, or add the SIM to your carrier account first."
# Where the owning account takes a registration code and the line gave none.
NOT_HELD_NO_CODE = (
    "Not held by this product's carrier accounts: check the ICCID, or add the SIM to your carrier account first, "
    "or give the registration code printed on the SIM after its ICCID (ICCID,CODE)."
)
CODE_REFUSED = (
    "Not held by this product's carrier accounts, and the carrier did not accept the registration code given: "
    "check the ICCID and the code."
)
# A developer's own SIMs are on the console's built-in carrier.
NOT_HELD_DEVELOPER = "Not held by the console's carrier: check the ICCID, or import the SIM into a product whose carrier account holds it."


class ClaimCheckUnavailable(CarrierUnavailable):
    """The carrier of `account_key` could not be asked: nothing was claimed; try again later."""

    def __init__(self, message: str, *, account_key: int) -> None:
        super().__init__(message)
        self.account_key = account_key


@dataclass
class Claims:
    """The ICCIDs held, by the account that holds them (None: the built-in simulator), and the refused ones with the reason."""

    held: dict[CarrierAccount | None, list[str]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    def account_of(self, iccid: str) -> CarrierAccount | None:
        for account, iccids in self.held.items():
            if iccid in iccids:
                return account
        raise KeyError(iccid)


def takes_codes(router: Router) -> bool:
    """Whether some account of the routing takes a registration code (the review page says what a missing one means)."""
    return any(account_takes_codes(account) for account in router.accounts)


def account_takes_codes(account: CarrierAccount | None) -> bool:
    """Whether SIMs not yet on this account are claimed with a code printed on the card (Twilio's registration code)."""
    return account is not None and Capability.CLAIM_WITH_PROOF in adapter_class(account.adapter).capabilities


def unheld_reason(router: Router, iccid: str, codes: dict[str, str]) -> str:
    """The words a claim of `iccid` gets when the carrier account it routes to does not hold it (nor
    takes the code given with it): the words another product's or person's SIM gets too, so that an
    import's outcome never tells the two apart."""
    taken, account = router.account_for(iccid)
    if not taken:
        return no_route_reason(iccid)
    if account_takes_codes(account):
        return CODE_REFUSED if codes.get(iccid) else NOT_HELD_NO_CODE
    return NOT_HELD


def check_claims(
    *, product_id: int | None, iccids: list[str], router: Router | None = None, codes: dict[str, str] | None = None
) -> Claims:
    """Which of these ICCIDs (new to the console, or in its inventory) the product may claim, and on
    which account. `product_id` None: a developer's claim (the built-in simulator). `codes`: the
    registration codes given with some ICCIDs. Raises ClaimCheckUnavailable when a carrier could not
    be asked: then nothing may be claimed."""
    claims = Claims()
    if not iccids:
        return claims
    if product_id is None:
        routes_by_account: dict[CarrierAccount | None, list[str]] = {None: list(iccids)}
        not_held = NOT_HELD_DEVELOPER
    else:
        routes = (router or router_for(product_id)).route(iccids)
        claims.refused.update(routes.refused)
        routes_by_account = routes.by_account
        not_held = NOT_HELD
    codes = codes or {}
    for account, group in routes_by_account.items():
        key = account.pk if account is not None else 0
        adapter = adapter_for(account)
        try:
            held = adapter.holds(group)
        except CarrierUnavailable as error:
            raise ClaimCheckUnavailable(f"{account or 'The built-in simulator'}: {error}", account_key=key) from error
        record_call(account_key=key, what="holds", ok=True, sims=len(group))
        proof = Capability.CLAIM_WITH_PROOF in adapter.capabilities
        taken = []
        for iccid in group:
            if iccid in held:
                taken.append(iccid)
            elif proof and codes.get(iccid):
                try:
                    result = adapter.register(iccid, codes[iccid])
                except CarrierUnavailable as error:
                    raise ClaimCheckUnavailable(f"{account}: {error}", account_key=key) from error
                if result.ok:
                    taken.append(iccid)
                else:
                    claims.refused[iccid] = CODE_REFUSED
            else:
                claims.refused[iccid] = NOT_HELD_NO_CODE if proof else not_held
        if taken:
            claims.held[account] = taken
    return claims
