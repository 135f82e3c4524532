"""One SIM claimed through an API: both dialects (api/particle.py, api/emnify.py) come here, so a claim
is checked the same way whichever dialect asks, and refused in the same words whoever holds the SIM.

- A developer's claim (a token for their own SIMs): a SIM new to the console or waiting in inventory
  becomes theirs if the console's built-in carrier holds it.
- A product's claim: an import of that one ICCID, run at once (the console's own import, with its
  claim check, events and first month's charge).
"""

from django.db import transaction

from imports.claims import NOT_HELD, NOT_HELD_DEVELOPER, check_claims
from imports.importing import CARRIER_REFUSED, NEW, confirm_import, count_input, importable, run_import, start_import
from imports.models import ImportJob
from imports.sql import find_sims
from products.models import Product
from sims.models import Sim, State


class ClaimRefused(Exception):
    """Not held by the caller's carrier, or someone else's: the message is the same either way."""


def claim_own_sim(*, user, iccid: str) -> Sim:
    """The user's own SIM `iccid` (a valid ICCID), claimed if new or in inventory and held by the built-in
    carrier. Raises ClaimRefused, or CarrierUnavailable (imports.claims.ClaimCheckUnavailable)."""
    verdict = importable(find_sims([iccid], lock=False).get(iccid), product_id=None, user_id=user.pk)
    # The carrier is asked about someone else's SIM too: a carrier that cannot answer then answers the same
    # (CarrierUnavailable) whoever holds the ICCID, and the refusal says nothing of them.
    if verdict in (NEW, CARRIER_REFUSED) and (check_claims(product_id=None, iccids=[iccid]).refused or verdict == CARRIER_REFUSED):
        raise ClaimRefused(NOT_HELD_DEVELOPER)
    with transaction.atomic():
        sim, _ = Sim.objects.select_for_update().get_or_create(iccid=iccid, defaults={"owner_user": user})
        if sim.owner_user_id is None and sim.product_id is None and sim.state != State.TERMINATED:
            sim.owner_user = user
            sim.save(update_fields=["owner_user"])
    if sim.owner_user_id != user.pk:
        raise ClaimRefused(NOT_HELD_DEVELOPER)
    return sim


def default_country(product: Product) -> str:
    """The home country of a SIM claimed without one (emnify's registration has none): the country of the
    product's latest import, else the US."""
    latest = product.import_jobs.exclude(country="").order_by("-created_at").values_list("country", flat=True).first()
    return latest or "US"


def claim_into_product(*, product: Product, user, iccid: str, token_name: str, country: str) -> ImportJob:
    """Import one ICCID into the product now, as the console's import does. Raises ClaimRefused when the
    product's carrier accounts do not hold it or it is someone else's, CarrierUnavailable when the
    carrier could not be asked. The claim is checked before any job is made: a refused claim, or one the
    carrier could not answer, leaves no import behind (nor one a resume would finish later)."""
    verdict = importable(find_sims([iccid], lock=False).get(iccid), product_id=product.pk, user_id=user.pk)
    if verdict in (NEW, CARRIER_REFUSED):
        # Asked for someone else's SIM too, and refused in the words an unknown ICCID gets: a carrier down,
        # or an ICCID in no account's range, answers the same whoever holds it.
        refused = check_claims(product_id=product.pk, iccids=[iccid]).refused
        if refused:
            raise ClaimRefused(refused[iccid])
        if verdict == CARRIER_REFUSED:
            raise ClaimRefused(NOT_HELD)
    job = start_import(product=product, user=user, typed_text=iccid, token_name=token_name)
    count_input(job)
    confirm_import(job=job, country=country, enqueue=False)
    job = run_import(job_id=job.pk, iccids=[iccid])
    if job.carrier_refused or job.other_owner:
        reason = next(iter(job.batches.get().carrier_refusals.values()), NOT_HELD)
        raise ClaimRefused(reason)
    return job
