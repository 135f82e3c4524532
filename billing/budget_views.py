"""The budget's fragment of the product's Settings: members read it, admins set or remove it."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from billing.budgets import budget_status, remove_budget, save_budget
from billing.forms import BudgetForm
from billing.models import Budget
from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership

log = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
@login_required
def budget(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    product = membership.product
    if request.method == "GET":
        return _render(request, membership, BudgetForm.for_budget(_budget_of(membership)))
    require_product_admin(membership)
    if "remove" in request.POST:
        remove_budget(product=product)
        log.info("budget of product %s removed by %s", product.slug, request.user.get_username())
        messages.success(request, "Budget removed: no more budget alerts for this product.")
        return _done(request, membership)
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return _render(request, membership, form, status=400)
    data = form.cleaned_data
    saved = save_budget(product=product, amount=data["amount"], alert_percentages=data["alert_percentages"], recipients=data["recipients"])
    log.info("budget of product %s set to %s by %s", product.slug, saved.amount, request.user.get_username())
    percentages = ", ".join(f"{p}%" for p in saved.alert_percentages)
    messages.success(request, f"Budget saved: ${saved.amount:,.2f} a month, alerts at {percentages}.")
    return _done(request, membership)


def _budget_of(membership: Membership) -> Budget | None:
    return Budget.objects.filter(product=membership.product).first()


def _done(request: SignedInRequest, membership: Membership) -> HttpResponse:
    if request.htmx:
        return _render(request, membership, BudgetForm.for_budget(_budget_of(membership)))
    return redirect(reverse("product_settings", args=[membership.product.slug]) + "#budget")


def _render(request: SignedInRequest, membership: Membership, form: BudgetForm, *, status: int = 200) -> HttpResponse:
    saved = _budget_of(membership)
    try:
        status_now = budget_status(membership.product, timezone.now()) if saved else None
    except ValueError:
        status_now = None  # a zone without a price: the fleet header and Billing say so
    context = {"product": membership.product, "membership": membership, "form": form, "budget": saved, "status": status_now}
    return render(request, "billing/partials/budget.html", context, status=status)
