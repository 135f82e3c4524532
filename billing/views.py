"""The billing pages of a product: the fleet header's monthly cost, the Billing tab (this period,
the pricing model, past invoices), an invoice's printable page and CSV, and the plan comparison."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_countries.fields import Country

from billing.advisor import advise_home_countries, apply_home_country_advice, cached_advice
from billing.billing import Period, sim_usage_by_country
from billing.budgets import budget_status
from billing.costs import (
    MODEL_SUMMARIES,
    PROJECTION_RULE,
    cached_estimate,
    compare_models,
    forget_estimate,
    invoice_csv_rows,
    last_invoice,
    side_by_side,
)
from billing.forms import PricingChoiceForm
from billing.invoicing import choose_pricing_model
from billing.models import Invoice
from lib.csv_export import csv_lines
from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership, PricingModel, Product
from sims.lifecycle import Actor
from sims.models import Sim

log = logging.getLogger(__name__)


def _estimate_context(product: Product) -> dict:
    """The estimate, or the reason there is none (a zone without a price)."""
    try:
        estimate = cached_estimate(product, now=timezone.now())
    except ValueError as error:
        return {"estimate": None, "estimate_error": str(error)}
    return {"estimate": estimate, "pairs": side_by_side(estimate.so_far, estimate.projected)}


@require_GET
@login_required
def fleet_monthly_cost(request: HttpRequest, slug: str) -> HttpResponse:
    """The fleet header's monthly cost, and the budget's line when there is one: it reads the
    period's events, so it comes after the page."""
    membership = get_membership_for_user(request, slug)
    context = {"product": membership.product, **_estimate_context(membership.product)}
    if context["estimate"] is not None:
        context["status"] = budget_status(membership.product, timezone.now())  # the same cached estimate
    return render(request, "billing/partials/fleet_cost.html", context)


@require_GET
@login_required
def sim_usage_by_zone(request: HttpRequest, slug: str, iccid: str) -> HttpResponse:
    """The SIM page's "Where, this period": its data by visited country, at home or roaming, priced by zone."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    sim = get_object_or_404(Sim, product=product, iccid=iccid)
    home_zone, visited = sim_usage_by_country(sim, product=product, period=Period.of(timezone.now()))
    context = {
        "product": product,
        "home_zone": home_zone,
        "visited": [(v, Country(v.country) if v.country else None) for v in visited],
        "home_bytes": sum(v.bytes for v in visited if v.at_home),
        "roaming_bytes": sum(v.bytes for v in visited if not v.at_home),
        "per_sim_plan": product.pricing_model == PricingModel.PER_SIM,
    }
    return render(request, "billing/partials/sim_usage_by_zone.html", context)


@require_GET
@login_required
def billing(request: SignedInRequest, slug: str) -> HttpResponse:
    """The Billing tab: the period's lines come in their own request (billing_period)."""
    membership = get_membership_for_user(request, slug)
    return _render_billing(request, membership, _pricing_form(membership))


@require_GET
@login_required
def billing_period(request: SignedInRequest, slug: str) -> HttpResponse:
    """This period by line, so far and projected: a fragment for htmx, else the whole Billing tab with it."""
    membership = get_membership_for_user(request, slug)
    estimate = _estimate_context(membership.product)
    if request.htmx:
        context = {
            "product": membership.product, "period": Period.of(timezone.now()), "period_loaded": True,
            "projection_rule": PROJECTION_RULE, **estimate,
        }  # fmt: skip
        return render(request, "billing/billing.html#period", context)
    return _render_billing(request, membership, _pricing_form(membership), period_loaded=True, **estimate)


@require_POST
@login_required
def billing_model(request: SignedInRequest, slug: str) -> HttpResponse:
    """A product admin chooses the pricing model and plan zone for the next period."""
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    product = membership.product
    form = PricingChoiceForm(request.POST)
    if not form.is_valid():
        return _render_billing(request, membership, form, status=400)
    model, zone = form.cleaned_data["pricing_model"], form.cleaned_data["plan_zone"]
    starts = choose_pricing_model(product=product, model=model, zone=zone, now=timezone.now())
    log.info("pricing model of product %s chosen by %s: %s, zone %s, from %s", product.slug, request.user.get_username(), model, zone, starts)
    if product.pending_pricing_model:
        messages.success(
            request,
            f"{PricingModel(model).label}{_zone_words(zone)} will apply from {starts:%-d %B %Y}, the start of the next "
            "billing period. This period is billed under the model it began with.",
        )
    else:
        messages.success(request, f"{product.get_pricing_model_display()} stays in force: no change is pending.")
    if request.htmx:
        return _render_billing(request, membership, _pricing_form(membership))
    return redirect("billing", slug=product.slug)


def _advisor_context(product: Product) -> dict:
    """Last month's advice, or why there is none: it prices the per-SIM plan only."""
    now = timezone.now()
    context = {"advisor_loaded": True, "advice_period": Period.of(now).previous()}
    if product.pricing_model != PricingModel.PER_SIM:
        return {**context, "advisor_off": True}
    try:
        return {**context, "advice": cached_advice(product, now=now)}
    except ValueError as error:
        return {**context, "advice_error": str(error)}


@require_GET
@login_required
def billing_advisor(request: SignedInRequest, slug: str) -> HttpResponse:
    """The home-country advisor: it reads last month's usage of every SIM, so it comes after the page."""
    membership = get_membership_for_user(request, slug)
    context = _advisor_context(membership.product)
    if request.htmx:
        return render(request, "billing/billing.html#advisor", {"product": membership.product, "membership": membership, **context})
    return _render_billing(request, membership, _pricing_form(membership), **context)


@require_POST
@login_required
def billing_advisor_apply(request: SignedInRequest, slug: str) -> HttpResponse:
    """A product admin moves every group the advisor lists to its suggested home country. The
    advice is computed again, and only SIMs still homed where it found them move: a second click
    (or a second admin) changes nothing."""
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    product, now = membership.product, timezone.now()
    period = Period.of(now).previous()
    status = 200
    if product.pricing_model != PricingModel.PER_SIM:
        messages.error(request, "The advisor prices the per-SIM plan; under this product's pricing model the home country does not change the price.")
        status = 400
    elif request.POST.get("period", str(period)) != str(period):  # the button sends the month it showed
        messages.error(request, f"The advice has changed: it is now for {period.start:%B %Y} usage. Review it and apply again.")
        status = 400
    else:
        try:
            applied = apply_home_country_advice(product=product, actor=Actor.for_user(request.user), now=now, advice=advise_home_countries(product, now=now))
        except ValueError as error:
            messages.error(request, f"The advice cannot be priced: {error}")
            status = 400
        else:
            forget_estimate(product, now=now)
            log.info("home-country advice of product %s applied by %s: %s SIMs", product.slug, request.user.get_username(), applied.changed)
            if applied.changed:
                messages.success(
                    request,
                    f"Home country changed for {applied.changed:,} SIM{'s' if applied.changed != 1 else ''}. This billing period, not "
                    "invoiced yet, is priced with the new home countries; each SIM's page lists the change.",
                )
            else:
                messages.info(request, "Nothing to change: the SIMs are already homed as advised.")
    if request.htmx:
        context = {"product": product, "membership": membership, **_advisor_context(product)}
        return render(request, "billing/billing.html#advisor", context, status=status)
    return redirect("billing", slug=product.slug)


def _zone_words(zone) -> str:
    return f" in zone {zone.code}" if zone is not None else ""


def _pricing_form(membership: Membership) -> PricingChoiceForm:
    product = membership.product
    if product.pending_pricing_model:
        initial = {"pricing_model": product.pending_pricing_model, "plan_zone": product.pending_plan_zone_id}
    else:
        initial = {"pricing_model": product.pricing_model, "plan_zone": product.plan_zone_id}
    return PricingChoiceForm(initial=initial)


def _render_billing(request: SignedInRequest, membership: Membership, form: PricingChoiceForm, status: int = 200, **extra) -> HttpResponse:
    product = membership.product
    template = "billing/billing.html"
    if request.htmx and request.method == "POST":
        template += "#pricing"
    period = Period.of(timezone.now())
    context = {
        "product": product,
        "membership": membership,
        "form": form,
        "period": period,
        "model_summaries": [(value, label, MODEL_SUMMARIES[PricingModel(value)]) for value, label in PricingModel.choices],
        "model_summary": MODEL_SUMMARIES[PricingModel(product.pricing_model)],
        "pending_label": PricingModel(product.pending_pricing_model).label if product.pending_pricing_model else "",
        "invoices": product.invoices.order_by("-period_start"),
        "projection_rule": PROJECTION_RULE,
        **extra,
    }
    return render(request, template, context, status=status)


def _get_invoice(membership: Membership, number: str) -> Invoice:
    return get_object_or_404(Invoice, product=membership.product, number=number)


@require_GET
@login_required
def invoice_detail(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    """An invoice as a document, printable: the print stylesheet leaves out the console around it."""
    membership = get_membership_for_user(request, slug)
    invoice = _get_invoice(membership, number)
    return render(
        request,
        "billing/invoice.html",
        {
            "product": membership.product,
            "membership": membership,
            "invoice": invoice,
            "period": Period(invoice.period_start),
            "lines": invoice.lines.select_related("zone").order_by("position"),
        },
    )


@require_GET
@login_required
def invoice_csv(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    invoice = _get_invoice(membership, number)
    response = HttpResponse("".join(csv_lines(invoice_csv_rows(invoice))), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.number}.csv"'
    return response


@require_GET
@login_required
def billing_compare(request: SignedInRequest, slug: str) -> HttpResponse:
    """The three pricing models side by side on the last invoiced period, or this one so far.

    Pricing a period three times reads its events three times: the page comes first, and the
    comparison in its own htmx request (cached for a few minutes)."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    latest = last_invoice(product)
    basis = request.GET.get("basis") or "last"
    if basis != "last" or latest is None:
        basis = "current"
    now = timezone.now()
    context: dict[str, object] = {"product": product, "membership": membership, "latest": latest, "basis": basis, "current_period": Period.of(now)}
    if not request.htmx or request.htmx.history_restore_request:
        return render(request, "billing/compare.html", context)
    try:
        context["comparison"] = compare_models(product, basis=basis, now=now)
    except ValueError as error:
        context["comparison_error"] = str(error)
    return render(request, "billing/compare.html#comparison", context)
