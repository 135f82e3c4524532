"""Import from a carrier account: the page lists the SIMs the account holds that the console does not
(as the last reconciliation found them) and, for a product admin, imports them with their states."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_countries import countries

from billing.pricing import NoPriceForCountry
from carriers.models import AccountRoutine, CarrierAccount
from imports.from_carrier import DIRECT_LIMIT, import_from_account, importable
from imports.importing import CannotConfirm
from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
@login_required
def carrier_import(request: SignedInRequest, slug: str, account_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    account = get_object_or_404(CarrierAccount, pk=account_id, product=membership.product)
    base = reverse("carrier_import", args=[membership.product.slug, account.pk])
    if request.method == "POST":
        require_product_admin(membership)
        country = request.POST.get("country", "")
        if country not in countries:
            messages.error(request, "Choose the home country of these SIMs: the country they will operate in most.")
        elif not importable(account).exists():
            messages.error(request, f"Nothing to import: the last check found no SIM at {account.name} that the console does not have.")
        else:
            try:
                job = import_from_account(account=account, user=request.user, country=country)
            except (CannotConfirm, NoPriceForCountry) as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"Import #{job.pk} from {account.name}: {job.activated + job.transferred:,} SIMs in, with their states at the carrier.")
                return redirect("import_job", slug=membership.product.slug, job_id=job.pk)
        return redirect(base)
    after = "".join(c for c in request.GET.get("after", "") if c.isdigit())[:20]
    rows = list(importable(account).filter(iccid__gt=after).order_by("iccid")[: PAGE_SIZE + 1])
    total = importable(account).count()
    context = {
        "product": membership.product,
        "membership": membership,
        "account": account,
        "routine": AccountRoutine.objects.filter(account_key=account.pk).first(),
        "rows": rows[:PAGE_SIZE],
        "total": total,
        "this_click": min(total, DIRECT_LIMIT),
        "limit": DIRECT_LIMIT,
        "next_url": f"{base}?after={rows[PAGE_SIZE - 1].iccid}" if len(rows) > PAGE_SIZE else "",
        "first_url": base if after else "",
        "countries": countries,
    }
    return render(request, "imports/carrier_import.html", context)
