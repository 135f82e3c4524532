"""A product's Reconciliation page: per carrier account, the differences the last check found between
the console and the carrier, with the two fixes per row and for all (product admins), and a check on
demand. Every member reads the page; outsiders get 404."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_tasks_db.models import DBTaskResult

from carriers.adapters.base import Capability
from carriers.models import AccountRoutine, CarrierAccount, NetworkDifference
from carriers.reconciliation import (
    adapter_class_capabilities,
    can_push_ours,
    can_take_theirs,
    differences_of,
    push_ours,
    reconcile_account,
    take_theirs,
)
from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership

PAGE_SIZE = 50
Kind = NetworkDifference.Kind
LISTED = [Kind.STATE, Kind.NOT_AT_CARRIER]  # those "at the carrier, not in the console" are imported (imports/from_carrier.py)


class FixForm(forms.Form):
    direction = forms.ChoiceField(
        choices=[("theirs", "Take the carrier's state"), ("ours", "Push ours")],
        error_messages={"required": "Choose a direction: take the carrier's state, or push ours.", "invalid_choice": "Choose a direction: take the carrier's state, or push ours."},
    )
    # One difference (its id), or every difference of the account with `all`.
    difference = forms.IntegerField(required=False, min_value=1)
    all = forms.BooleanField(required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if not data.get("all") and not data.get("difference"):
            raise forms.ValidationError("Say which difference to fix, or fix them all.")
        return data


def _account(membership: Membership, account_id: int) -> CarrierAccount:
    return get_object_or_404(CarrierAccount, pk=account_id, product=membership.product)


def reconciliation_url(account: CarrierAccount, after: str = "") -> str:
    url = reverse("carrier_reconciliation", args=[account.product.slug]) + f"?account={account.pk}"
    return url + (f"&after={after}" if after else "")


@require_GET
@login_required
def carrier_reconciliation(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    accounts = [a for a in product.carrier_accounts.all() if Capability.INVENTORY in adapter_class_capabilities(a.adapter)]
    context: dict = {"product": product, "membership": membership, "accounts": accounts}
    if not accounts:
        return render(request, "carriers/reconciliation.html", context)
    wanted = request.GET.get("account", "")
    account = next((a for a in accounts if str(a.pk) == wanted), None) if wanted else accounts[0]
    if account is None:
        raise Http404("This product has no carrier account with that id that can list its SIMs.")
    after = "".join(c for c in request.GET.get("after", "") if c.isdigit())[:20]
    found = NetworkDifference.objects.filter(account_key=account.pk, kind__in=LISTED)
    rows = list(found.filter(iccid__gt=after).select_related("sim").order_by("iccid")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    counts = dict(NetworkDifference.objects.filter(account_key=account.pk).values_list("kind").annotate(n=Count("pk")).order_by())
    return render(
        request,
        "carriers/reconciliation.html",
        {
            **context,
            "account": account,
            "routine": AccountRoutine.objects.filter(account_key=account.pk).first(),
            "rows": [(d, can_take_theirs(d), can_push_ours(d)) for d in rows],
            "listed": sum(counts.get(kind, 0) for kind in LISTED),
            "state_count": counts.get(Kind.STATE, 0),
            "not_here": counts.get(Kind.NOT_HERE, 0),
            "next_url": reconciliation_url(account, rows[-1].iccid) if more else "",
            "first_url": reconciliation_url(account) if after else "",
            "page_size": PAGE_SIZE,
        },
    )


@require_POST
@login_required
def carrier_reconciliation_fix(request: SignedInRequest, slug: str, account_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    account = _account(membership, account_id)
    form = FixForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(reconciliation_url(account))
    data = form.cleaned_data
    chosen = differences_of(account_key=account.pk, ids=None if data["all"] else [data["difference"]])
    if not data["all"] and not chosen.exists():
        messages.error(request, "That difference is gone: it was fixed already, or the last check no longer found it.")
        return redirect(reconciliation_url(account))
    if data["direction"] == "theirs":
        report = take_theirs(chosen)
        messages.success(request, report.summary(f"now as at {account.name}"))
    else:
        report = push_ours(chosen)
        messages.success(request, report.summary(f"pending: our state is on its way to {account.name}"))
    return redirect(reconciliation_url(account))


@require_POST
@login_required
def carrier_reconciliation_check(request: SignedInRequest, slug: str, account_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    account = _account(membership, account_id)
    waiting = DBTaskResult.objects.ready().filter(task_path=reconcile_account.module_path, args_kwargs__args=[account.pk])
    if waiting.exists():  # a double click, or another admin's: one listing of the account is enough
        messages.info(request, f"A check of {account.name} is queued already: reload this page in a minute for what it finds.")
        return redirect(reconciliation_url(account))
    reconcile_account.enqueue(account.pk)
    messages.success(request, f"A check of {account.name} is queued: reload this page in a minute for what it finds.")
    return redirect(reconciliation_url(account))
