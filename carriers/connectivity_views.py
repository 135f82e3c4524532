"""Reset connectivity from the SIM page: the carrier detaches the SIM so that its device attaches again.
The request is kept on the SIM's connectivity (reset_requested_at) and shown until an attach after it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from carriers.adapters import adapter_for
from carriers.adapters.base import CarrierUnavailable
from carriers.health import record_call
from lib.http import SignedInRequest
from products.access import get_membership_for_user
from sims.models import Sim, SimConnectivity, State
from sims.network import carrier_can


@require_POST
@login_required
def carrier_sim_reset_connectivity(request: SignedInRequest, slug: str, iccid: str) -> HttpResponse:
    """Any member may ask: it changes nothing the team decided, only makes the device attach again."""
    membership = get_membership_for_user(request, slug)
    sim = get_object_or_404(Sim.objects.select_related("carrier_account"), product=membership.product, iccid=iccid)
    back = redirect("sim_detail", slug=membership.product.slug, iccid=sim.iccid)
    account = sim.carrier_account if sim.carrier_account_id else None
    carrier = account.name if account is not None else "Built-in simulator"
    if not carrier_can(sim, "reset_connectivity"):
        messages.error(
            request,
            f"{sim.iccid}: reset connectivity is not possible for this SIM: its carrier ({carrier}) offers no reset of "
            "connectivity. Do it in the carrier's own console, or restart the device.",
        )
        return back
    if sim.state not in (State.ACTIVE, State.PROVISIONED, State.PAUSED):
        messages.error(
            request,
            f"{sim.iccid}: a {sim.get_state_display().lower()} SIM is not on the network: there is no connectivity to reset. "
            "Reactivate or activate it first.",
        )
        return back
    try:
        result = adapter_for(account).reset_connectivity(sim.iccid)
    except CarrierUnavailable as error:
        record_call(account_key=account.pk if account else 0, what="reset connectivity", ok=False, error=str(error), sims=1)
        messages.error(request, f"{sim.iccid}: the carrier ({carrier}) could not be asked to reset connectivity: {error} Try again in a minute.")
        return back
    record_call(account_key=account.pk if account else 0, what="reset connectivity", ok=result.ok, error=result.reason, sims=1)
    if not result.ok:
        messages.error(request, f"{sim.iccid}: the carrier ({carrier}) refused to reset connectivity: {result.reason}")
        return back
    now = timezone.now()
    SimConnectivity.objects.update_or_create(sim=sim, defaults={"reset_requested_at": now}, create_defaults={"product": sim.product, "reset_requested_at": now})
    messages.success(request, f"{sim.iccid}: reset requested at {now:%H:%M}. The carrier detaches the SIM; the device should attach again within minutes.")
    return back
