"""A product's devices: the list with search, a device's page (its details and their form, the SIM in it
and the SIMs it held), a new device, and putting a SIM in a device or taking it out. Every member manages
devices, as they act on SIMs; an outsider gets 404."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from devices.assignment import AssignmentRefused, assign_sim, release_sim
from devices.forms import AssignSimForm, DeviceForm
from devices.models import Device, DeviceAssignment
from lib.http import SignedInRequest
from products.access import get_membership_for_user
from products.models import Membership
from sims.models import Sim

MAX_SEARCH = 100


def _get_device(request: HttpRequest, slug: str, device_pk: int) -> tuple[Membership, Device]:
    """The product's device, for its members (outsiders 404)."""
    membership = get_membership_for_user(request, slug)
    return membership, get_object_or_404(Device, pk=device_pk, product=membership.product)


def _current_sims() -> Prefetch:
    return Prefetch("sims", queryset=Sim.objects.only("pk", "iccid", "device_id", "product_id").order_by("iccid"), to_attr="current_sims")


def search_devices(devices: QuerySet[Device], query: str) -> QuerySet[Device]:
    """Devices whose name, device ID, IMEI or a tag contains the text (any case)."""
    if not query:
        return devices
    return devices.annotate(tags_text=Cast("tags", TextField())).filter(
        Q(name__icontains=query) | Q(device_id__icontains=query) | Q(imei__contains=query) | Q(tags_text__icontains=query)
    )


@require_GET
@login_required
def device_list(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    query = request.GET.get("q", "").strip()[:MAX_SEARCH]
    devices = search_devices(Device.objects.filter(product=product), query).order_by("name", "device_id", "pk").prefetch_related(_current_sims())
    page = Paginator(devices, getattr(settings, "DEVICES_PER_PAGE", 50)).get_page(request.GET.get("page"))
    return render(
        request,
        "devices/device_list.html",
        {"product": product, "membership": membership, "page": page, "query": query, "devices": page.object_list},
    )


def _render_device(request: HttpRequest, membership: Membership, device: Device, *, form: DeviceForm | None = None, assign_form: AssignSimForm | None = None, status: int = 200) -> HttpResponse:
    product = membership.product
    history = device.assignments.select_related("sim", "by_user").order_by("-started_at", "-id")[:200]
    context = {
        "product": product,
        "membership": membership,
        "device": device,
        "current_sims": list(Sim.objects.filter(device=device).only("pk", "iccid", "product_id", "device_id", "state").order_by("iccid")),
        "history": history,
        "form": form or DeviceForm(instance=device, product=product),
        "assign_form": assign_form or AssignSimForm(product=product),
    }
    return render(request, "devices/device_detail.html", context, status=status)


@require_GET
@login_required
def device_detail(request: HttpRequest, slug: str, device_pk: int) -> HttpResponse:
    membership, device = _get_device(request, slug, device_pk)
    return _render_device(request, membership, device)


@require_POST
@login_required
def device_edit(request: SignedInRequest, slug: str, device_pk: int) -> HttpResponse:
    membership, device = _get_device(request, slug, device_pk)
    form = DeviceForm(request.POST, instance=device, product=membership.product)
    if not form.is_valid():
        device.refresh_from_db()
        return _render_device(request, membership, device, form=form, status=400)
    form.save()
    messages.success(request, f"Device {device} saved.")
    return redirect("device_detail", slug, device.pk)


@require_http_methods(["GET", "POST"])
@login_required
def device_new(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    form = DeviceForm(request.POST or None, product=product)
    if request.method == "POST":
        if form.is_valid():
            device = form.save()
            messages.success(request, f"Device {device} added. Put a SIM in it below.")
            return redirect("device_detail", slug, device.pk)
        return render(request, "devices/device_new.html", {"product": product, "membership": membership, "form": form}, status=400)
    return render(request, "devices/device_new.html", {"product": product, "membership": membership, "form": form})


@require_POST
@login_required
def device_assign(request: SignedInRequest, slug: str, device_pk: int) -> HttpResponse:
    membership, device = _get_device(request, slug, device_pk)
    form = AssignSimForm(request.POST, product=membership.product)
    if not form.is_valid() or form.sim is None:
        return _render_device(request, membership, device, assign_form=form, status=400)
    sim = form.sim
    before = sim.device
    try:
        assign_sim(sim=sim, device=device, source=DeviceAssignment.Source.HAND, by_user=request.user)
    except AssignmentRefused as error:
        form.add_error("iccid", str(error))
        return _render_device(request, membership, device, assign_form=form, status=400)
    if before is not None and before.pk == device.pk:
        messages.info(request, f"The SIM {sim.iccid} is in {device} already.")
    elif before is not None:
        messages.success(request, f"The SIM {sim.iccid} moved from {before} to {device}.")
    else:
        messages.success(request, f"The SIM {sim.iccid} is in {device} now.")
    return redirect("device_detail", slug, device.pk)


@require_POST
@login_required
def device_release(request: SignedInRequest, slug: str, device_pk: int) -> HttpResponse:
    """Takes the SIM out of the device (the history keeps it)."""
    membership, device = _get_device(request, slug, device_pk)
    sims = list(Sim.objects.filter(device=device, product=membership.product).only("pk", "iccid", "device_id"))
    for sim in sims:
        release_sim(sim=sim)
    if sims:
        messages.success(request, f"The SIM {', '.join(sim.iccid for sim in sims)} is out of {device}; its history stays below.")
    else:
        messages.info(request, f"{device} holds no SIM: nothing to take out.")
    return redirect(reverse("device_detail", args=[slug, device.pk]))
