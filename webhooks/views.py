"""A product's webhooks page: admins add, disable and delete receivers; every member reads the list
and the delivery log, and may open a delivery's payload."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from lib.http import SignedInRequest
from products.access import get_membership_for_user, require_product_admin
from products.models import Membership
from webhooks.addresses import UnsafeUrl
from webhooks.forms import ActiveForm, WebhookForm
from webhooks.models import Webhook, WebhookDelivery
from webhooks.receivers import add_webhook, set_webhook_active

DELIVERIES_SHOWN = 50
# A payload shown on the page at most this long (an import batch's may be megabytes): the rest is in the raw body.
PAYLOAD_SHOWN = 100_000


def _get_webhook(membership: Membership, webhook_id: int) -> Webhook:
    return get_object_or_404(Webhook, pk=webhook_id, product=membership.product)


@require_GET
@login_required
def webhooks(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    if request.htmx:
        # The log polls itself while a delivery is pending.
        return _render(request, membership, WebhookForm(), fragment="deliveries")
    return _render(request, membership, WebhookForm())


def _render(
    request: HttpRequest, membership: Membership, form: WebhookForm, *, fragment: str = "", status: int = 200
) -> HttpResponse:
    product = membership.product
    deliveries = list(
        WebhookDelivery.objects.filter(webhook__product=product)
        .select_related("webhook")
        .defer("body")
        .order_by("-id")[:DELIVERIES_SHOWN]
    )
    template = "webhooks/webhooks.html" + (f"#{fragment}" if fragment else "")
    return render(
        request,
        template,
        {
            "product": product,
            "membership": membership,
            "hooks": product.webhooks.all(),
            "deliveries": deliveries,
            "pending": any(d.status == WebhookDelivery.Status.PENDING for d in deliveries),
            "form": form,
        },
        status=status,
    )


def _after_change(request: SignedInRequest, membership: Membership) -> HttpResponse:
    if request.htmx:
        return _render(request, membership, WebhookForm(), fragment="webhooks")
    return redirect("webhooks", slug=membership.product.slug)


@require_POST
@login_required
def webhook_add(request: SignedInRequest, slug: str) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook = add_webhook(
                product=membership.product, url=form.cleaned_data["url"], user=request.user, request_host=request.get_host()
            )
        except UnsafeUrl as error:
            form.add_error("url", str(error))
        else:
            messages.success(request, f"Webhook added: {webhook.url}. Give its secret to the receiver to check signatures.")
            return _after_change(request, membership)
    return _render(request, membership, form, fragment="webhooks" if request.htmx else "", status=400)


@require_POST
@login_required
def webhook_active(request: SignedInRequest, slug: str, webhook_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    webhook = _get_webhook(membership, webhook_id)
    form = ActiveForm(request.POST)
    form.is_valid()  # an unchecked box is "off": there is no invalid value
    active = form.cleaned_data.get("active", False)
    set_webhook_active(webhook=webhook, active=active)
    if active:
        messages.success(request, f"Webhook {webhook.url} enabled: it receives the events from now on.")
    else:
        messages.success(request, f"Webhook {webhook.url} disabled: deliveries still waiting were cancelled.")
    return _after_change(request, membership)


@require_POST
@login_required
def webhook_delete(request: SignedInRequest, slug: str, webhook_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    require_product_admin(membership)
    webhook = _get_webhook(membership, webhook_id)
    webhook.delete()
    messages.success(request, f"Webhook {webhook.url} deleted, with its delivery log.")
    return _after_change(request, membership)


@require_GET
@login_required
def webhook_delivery(request: HttpRequest, slug: str, delivery_id: int) -> HttpResponse:
    membership = get_membership_for_user(request, slug)
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("webhook"), pk=delivery_id, webhook__product=membership.product
    )
    payload = json.dumps(json.loads(delivery.body), indent=2)
    return render(
        request,
        "webhooks/webhooks_delivery.html",
        {
            "product": membership.product,
            "membership": membership,
            "delivery": delivery,
            "payload": payload[:PAYLOAD_SHOWN],
            "payload_cut": len(payload) > PAYLOAD_SHOWN,
        },
    )


@require_GET
@login_required
def webhook_delivery_body(request: HttpRequest, slug: str, delivery_id: int) -> HttpResponse:
    """The body exactly as sent (the bytes the signature covers)."""
    membership = get_membership_for_user(request, slug)
    delivery = get_object_or_404(WebhookDelivery, pk=delivery_id, webhook__product=membership.product)
    response = HttpResponse(delivery.body, content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="delivery-{delivery.uuid}.json"'
    return response
