"""My SIMs: the SIMs a developer owns personally, outside any product, while prototyping. Moving one
into a product is an import (imports.views.my_sim_to_product)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_countries import countries

from lib.http import SignedInRequest
from products.models import Membership
from sims.developer import NoSuchCountry, activate_own_sim
from sims.lifecycle import Action, Actor, IllegalTransition, apply_action
from sims.models import Sim

DEVELOPER_ACTIONS = {Action.ACTIVATE, Action.DEACTIVATE, Action.REACTIVATE}


def _get_own_sim(request: SignedInRequest, iccid: str) -> Sim:
    return get_object_or_404(Sim, owner_user=request.user, iccid=iccid)


@require_GET
@login_required
def my_sims(request: SignedInRequest) -> HttpResponse:
    sims = Sim.objects.filter(owner_user=request.user).order_by("iccid")[:500]
    products = Membership.objects.products_of(request.user)
    return render(request, "sims/my_sims.html", {"sims": sims, "countries": countries, "memberships": products})


@require_POST
@login_required
def my_sim_action(request: SignedInRequest, iccid: str, action: str) -> HttpResponse:
    sim = _get_own_sim(request, iccid)
    try:
        chosen = Action(action)
    except ValueError:
        chosen = None
    if chosen not in DEVELOPER_ACTIONS:
        messages.error(request, "That is not something you can do to your own SIM here.")
        return redirect("my_sims")
    starts_promotion = chosen == Action.ACTIVATE and sim.first_activated_at is None
    try:
        if chosen == Action.ACTIVATE:
            activate_own_sim(sim=sim, country=request.POST.get("country", ""), actor=Actor.for_user(request.user))
        else:
            apply_action(sims=sim, action=chosen, actor=Actor.for_user(request.user))
    except NoSuchCountry:
        messages.error(request, f"{sim.iccid}: choose the home country the SIM will operate in most.")
    except IllegalTransition as error:
        messages.error(request, f"{sim.iccid}: {error}")
    else:
        note = f" Free 1 MB plan until {sim.promotion_ends_on:%-d %b %Y}." if starts_promotion else ""
        messages.success(request, f"{sim.iccid} is now {sim.state}.{note}")
    return redirect("my_sims")

