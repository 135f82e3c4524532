"""The people's side of carriers: a product's carrier accounts (a fragment of Settings, and their form),
their health (on Settings, and on the fleet header when something is wrong), and Retry for SIMs the
carrier refused (the SIM page, the SIM list's bulk bar)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carriers.adapters import adapter_for
from carriers.adapters.base import CarrierUnavailable
from carriers.credentials import CredentialsUnreadable
from carriers.forms import CarrierAccountForm, adapter_choices
from carriers.health import product_health, record_call
from carriers.models import CarrierAccount
from carriers.push import retry
from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership
from sims.forms import SimFilterForm, SimIdsField
from sims.listing import ticked_sims
from sims.models import NetworkStatus, Sim
from sims.views import selection_for


def _get_account_for_admin(request: HttpRequest, slug: str, account_id: int) -> tuple[Membership, CarrierAccount]:
    """The product's account, for its admins (outsiders 404, members 403)."""
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    return membership, get_object_or_404(CarrierAccount, pk=account_id, product=membership.product)


def _settings_url(membership: Membership) -> str:
    return reverse("product_settings", args=[membership.product.slug]) + "#carrier-accounts"


@require_GET
@login_required
def carrier_accounts(request: HttpRequest, slug: str) -> HttpResponse:
    """Settings' carrier accounts with their health: every member sees them, admins manage them."""
    membership = get_membership_for_user(request, slug)
    now = timezone.now()
    context = {
        "product": membership.product,
        "membership": membership,
        "healths": product_health(membership.product, now=now),
        "now": now,
        "adapters": adapter_choices(),
    }
    return render(request, "carriers/partials/accounts.html", context)


@require_GET
@login_required
def carrier_health(request: HttpRequest, slug: str) -> HttpResponse:
    """The fleet header's carrier line: only the accounts with something wrong (nothing when all is well)."""
    membership = get_membership_for_user(request, slug)
    now = timezone.now()
    wrong = [health for health in product_health(membership.product, now=now) if health.is_wrong(now)]
    return render(request, "carriers/partials/fleet_health.html", {"product": membership.product, "healths": wrong, "now": now})


def _render_form(request: HttpRequest, membership: Membership, form: CarrierAccountForm, *, status: int = 200) -> HttpResponse:
    context = {"product": membership.product, "membership": membership, "form": form, "account": form.account}
    return render(request, "carriers/account_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def carrier_account_new(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    product = membership.product
    if request.method == "GET":
        initial = {"name": request.GET.get("name", "")[:80]}
        return _render_form(request, membership, CarrierAccountForm(product=product, adapter=request.GET.get("adapter", ""), initial=initial))
    form = CarrierAccountForm(request.POST, product=product)
    if not form.is_valid():
        return _render_form(request, membership, form, status=400)
    account = form.save(user=request.user)
    messages.success(request, f"Carrier account “{account.name}” added. Test its connection below.")
    return redirect(_settings_url(membership))


@require_http_methods(["GET", "POST"])
@login_required
def carrier_account_edit(request: SignedInRequest, slug: str, account_id: int) -> HttpResponse:
    membership, account = _get_account_for_admin(request, slug, account_id)
    if request.method == "GET":
        return _render_form(request, membership, CarrierAccountForm(product=membership.product, account=account))
    form = CarrierAccountForm(request.POST, product=membership.product, account=account)
    if not form.is_valid():
        return _render_form(request, membership, form, status=400)
    form.save(user=request.user)
    messages.success(request, f"Carrier account “{account.name}” saved.")
    return redirect(_settings_url(membership))


@require_POST
@login_required
def carrier_account_delete(request: SignedInRequest, slug: str, account_id: int) -> HttpResponse:
    membership, account = _get_account_for_admin(request, slug, account_id)
    on_it = Sim.objects.filter(carrier_account=account).count()
    if on_it:
        messages.error(request, _still_has_sims(account, on_it))
        return redirect(_settings_url(membership))
    try:
        account.delete()
    except ProtectedError:  # a SIM imported onto it meanwhile
        messages.error(request, _still_has_sims(account, Sim.objects.filter(carrier_account=account).count()))
    else:
        messages.success(request, f"Carrier account “{account.name}” deleted; its credentials are gone with it.")
    return redirect(_settings_url(membership))


def _still_has_sims(account: CarrierAccount, count: int) -> str:
    sims = "1 SIM is" if count == 1 else f"{count:,} SIMs are"
    return (
        f"“{account.name}” was not deleted: {sims} on it. An account can be deleted once no SIM is on it: terminate its SIMs "
        f"(or let them go back to the carrier) first. To use other credentials, edit the account instead."
    )


@require_POST
@login_required
def carrier_account_test(request: SignedInRequest, slug: str, account_id: int) -> HttpResponse:
    """Test connection: one cheap call with the stored credentials; its phrase, or what went wrong."""
    membership, account = _get_account_for_admin(request, slug, account_id)
    try:
        phrase = adapter_for(account).check()
    except (CarrierUnavailable, CredentialsUnreadable) as error:
        record_call(account_key=account.pk, what="check", ok=False, error=str(error))
        messages.error(request, f"“{account.name}”: the connection failed. {error}")
    else:
        record_call(account_key=account.pk, what="check", ok=True)
        messages.success(request, f"“{account.name}”: connected. {phrase}")
    return redirect(_settings_url(membership))


@require_POST
@login_required
def carrier_sim_retry(request: SignedInRequest, slug: str, iccid: str) -> HttpResponse:
    """Retry of one SIM the carrier refused: pending again, pushed now. A second click finds nothing refused."""
    membership = get_membership_for_user(request, slug)
    sim = get_object_or_404(Sim, product=membership.product, iccid=iccid)
    if retry(sims=Sim.objects.filter(pk=sim.pk)):
        messages.success(request, f"{sim.iccid}: sent to the carrier again; it is pending on the network until the carrier answers.")
    elif sim.network_status == NetworkStatus.PENDING:
        messages.info(request, f"{sim.iccid}: already pending on the network: the carrier is being asked.")
    else:
        messages.info(request, f"{sim.iccid}: nothing to retry: the carrier has not refused this SIM.")
    return redirect("sim_detail", slug=membership.product.slug, iccid=sim.iccid)


@require_POST
@login_required
def carrier_sims_retry(request: SignedInRequest, slug: str) -> HttpResponse:
    """The bulk bar's Retry: the refused SIMs among the selected ones, or among those the filter matches."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    if request.POST.get("scope") == "selected":
        try:
            ids = SimIdsField(required=False).clean(request.POST.getlist("ids"))
        except ValidationError:  # the message below says what to do
            ids = []
        sims = Sim.objects.filter(pk__in=ticked_sims(product, ids)) if ids else Sim.objects.none()
        chosen = "selected"
    else:
        if not SimFilterForm(request.POST).is_valid():
            sims, chosen = Sim.objects.none(), "matching"
        else:
            sims, chosen = selection_for(product, request.POST).queryset, "matching the filter"
    retried = retry(sims=sims)
    if retried:
        text, level = f"Retry: {retried:,} refused SIM{'s' if retried != 1 else ''} sent to the carrier again; pending on the network until it answers.", "success"
    else:
        text, level = f"Retry: none of the SIMs {chosen} was refused by the carrier. Filter by Network: refused to see those that were.", "info"
    if request.htmx:
        response = render(request, "carriers/partials/retry_result.html", {"text": text, "level": level})
        response["HX-Trigger"] = "sims-changed"
        return response
    messages.add_message(request, messages.SUCCESS if retried else messages.INFO, text)
    return redirect(reverse("sim_list", args=[product.slug]))
