"""The IMEI lock's pages: a fragment of the product's Settings (the lock, its swap window) and one of
the SIM page (the SIM's lock, its own mode, its last mismatch). Members see them; admins change them."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from devices.imei_lock import close_swap_window, effective, open_swap_window
from devices.imei_lock_forms import ProductLockForm, SimLockForm
from devices.models import ImeiLock, ImeiMismatch, LockMode, SimImeiLock
from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership, Product
from sims.models import Sim

log = logging.getLogger(__name__)


def _product_lock(product: Product) -> ImeiLock:
    """The product's lock; a product that never set one has it off (an unsaved row until an admin saves)."""
    return ImeiLock.objects.filter(product=product).first() or ImeiLock(product=product)


# --- The product's lock (Settings) ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def imei_lock(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    lock = _product_lock(membership.product)
    if request.method == "GET":
        return _render_product(request, membership, lock, ProductLockForm.for_lock(lock))
    require_product_admin(membership)
    form = ProductLockForm(request.POST)
    if not form.is_valid():
        return _render_product(request, membership, lock, form, status=400)
    form.save(lock)
    lock.updated_by, lock.updated_at = request.user, timezone.now()
    lock.save()
    log.info("IMEI lock of product %s set to %s by %s", membership.product.slug, lock.mode, request.user.get_username())
    label = lock.get_mode_display()
    messages.success(request, f"IMEI lock saved: {label[:1].lower()}{label[1:]}. It applies to the next network events that arrive.")
    return _done(request, membership, lock)


@require_POST
@login_required
def imei_lock_swap(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    lock = _product_lock(membership.product)
    now = timezone.now()
    if "close" in request.POST:
        if lock.pk:
            close_swap_window(lock, now=now)
        messages.success(request, "Swap window closed: a new IMEI is a mismatch again.")
    else:
        until = open_swap_window(lock, now=now)
        messages.success(request, f"Swap window open until {until:%d %b %Y, %H:%M} UTC: a new IMEI on any SIM is accepted and becomes its locked one.")
    return _done(request, membership, lock)


def _done(request: SignedInRequest, membership: Membership, lock: ImeiLock) -> HttpResponse:
    if request.htmx:
        return _render_product(request, membership, lock, ProductLockForm.for_lock(lock))
    return redirect(reverse("product_settings", args=[membership.product.slug]) + "#imei-lock")


def _render_product(request: HttpRequest, membership: Membership, lock: ImeiLock, form: ProductLockForm, *, status: int = 200) -> HttpResponse:
    now = timezone.now()
    context = {
        "product": membership.product,
        "membership": membership,
        "lock": lock,
        "form": form,
        "swap_until": lock.swap_until if lock.swap_until and lock.swap_until > now else None,
        "mismatches": ImeiMismatch.objects.filter(product=membership.product).count() if lock.pk else 0,
    }
    return render(request, "devices/partials/imei_lock.html", context, status=status)


# --- One SIM's lock (the SIM page) ------------------------------------------------------------------


def _sim(membership: Membership, iccid: str) -> Sim:
    return get_object_or_404(Sim, product=membership.product, iccid=iccid)


def _sim_lock(sim: Sim) -> SimImeiLock:
    return SimImeiLock.objects.filter(sim=sim).first() or SimImeiLock(sim=sim)


@require_http_methods(["GET", "POST"])
@login_required
def sim_imei_lock(request: SignedInRequest, slug: str, iccid: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    sim = _sim(membership, iccid)
    product_lock = _product_lock(membership.product)
    sim_lock = _sim_lock(sim)
    label = product_lock.get_mode_display()
    if request.method == "GET":
        return _render_sim(request, membership, sim, product_lock, sim_lock, SimLockForm.for_lock(sim_lock, product_mode_label=label))
    require_product_admin(membership)
    form = SimLockForm(request.POST, product_mode_label=label)
    if not form.is_valid():
        return _render_sim(request, membership, sim, product_lock, sim_lock, form, status=400)
    form.save(sim_lock)
    sim_lock.updated_at = timezone.now()
    sim_lock.save()
    log.info("IMEI lock of SIM %s set to %s by %s", sim.iccid, sim_lock.mode or "the product's", request.user.get_username())
    messages.success(request, "This SIM's IMEI lock saved." if sim_lock.mode else "This SIM now follows the product's IMEI lock.")
    return _sim_done(request, membership, sim, product_lock, sim_lock)


@require_POST
@login_required
def sim_imei_lock_swap(request: SignedInRequest, slug: str, iccid: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    sim = _sim(membership, iccid)
    sim_lock = _sim_lock(sim)
    now = timezone.now()
    if "close" in request.POST:
        if sim_lock.pk:
            close_swap_window(sim_lock, now=now)
        messages.success(request, "Swap window closed for this SIM.")
    elif "forget" in request.POST:
        sim_lock.locked_imei, sim_lock.locked_at, sim_lock.updated_at = "", None, now
        sim_lock.save()
        messages.success(request, "Locked IMEI forgotten: the next IMEI seen becomes this SIM's locked one.")
    else:
        until = open_swap_window(sim_lock, now=now)
        messages.success(request, f"Swap window open until {until:%d %b %Y, %H:%M} UTC: this SIM's next new IMEI is accepted and becomes its locked one.")
    return _sim_done(request, membership, sim, _product_lock(membership.product), sim_lock)


def _sim_done(request: SignedInRequest, membership: Membership, sim: Sim, product_lock: ImeiLock, sim_lock: SimImeiLock) -> HttpResponse:
    if request.htmx:
        form = SimLockForm.for_lock(sim_lock, product_mode_label=product_lock.get_mode_display())
        return _render_sim(request, membership, sim, product_lock, sim_lock, form)
    return redirect(reverse("sim_detail", args=[membership.product.slug, sim.iccid]) + "#imei-lock")


def _render_sim(
    request: HttpRequest, membership: Membership, sim: Sim, product_lock: ImeiLock, sim_lock: SimImeiLock, form: SimLockForm, *, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    lock = effective(product_lock if product_lock.pk else None, sim_lock if sim_lock.pk else None)
    context = {
        "product": membership.product,
        "membership": membership,
        "sim": sim,
        "lock": lock,
        "mode_label": LockMode(lock.mode).label,
        "sim_lock": sim_lock,
        "form": form,
        "swap_until": lock.swap_open_until(now),
        "sim_swap_until": sim_lock.swap_until if sim_lock.swap_until and sim_lock.swap_until > now else None,
        "last_mismatch": ImeiMismatch.objects.filter(sim=sim).first(),
        "mismatch_count": ImeiMismatch.objects.filter(sim=sim).count(),
    }
    return render(request, "devices/partials/sim_imei_lock.html", context, status=status)
