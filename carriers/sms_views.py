"""SMS for people (the SIM page's SMS card, a product's Messages, "Send SMS" to the SIMs of a filter)
and for the carrier's machines (/carrier/sms/: device SMS and delivery reports pushed, with the
usage push's bearer token)."""

import json
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carriers.adapters.base import IncomingSms, SmsReport
from carriers.models import SmsBatch, SmsMessage
from carriers.push import BUILT_IN
from carriers.sms import GSM7_MAX, SmsBodyError, apply_reports, carrier_sends_sms, check_template, receive, send_to_sim, sim_messages, start_batch
from lib.http import SignedInRequest
from products.access import get_membership_for_user
from products.models import Membership
from sims.carrier_views import _body_within, _configured, _error, _unauthorized
from sims.forms import SimFilterForm
from sims.models import Sim
from sims.views import selection_for

FILTER_FIELDS = ("state", "country", "q", "spikes", "network")
CARD_MESSAGES = 10
PAGE_SIZE = 50


class SmsForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=GSM7_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": GSM7_MAX}),
        error_messages={"required": "Write the message: an SMS cannot be empty.", "max_length": "One SMS holds 160 characters at most: shorten it."},
        help_text="One SMS: 160 characters of the GSM alphabet, or 70 with others (emoji, Cyrillic, Chinese...).",
    )


class BulkSmsForm(forms.Form):
    template = forms.CharField(
        label="Message",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the message: an SMS cannot be empty."},
        help_text="{iccid} and {device_name} are replaced by each SIM's. Each message must fit one SMS (160 characters; 70 with emoji and the like).",
    )

    def clean_template(self) -> str:
        try:
            return check_template(self.cleaned_data["template"])
        except SmsBodyError as error:
            raise forms.ValidationError(str(error)) from None


def _sim_of(request: HttpRequest, slug: str, iccid: str) -> tuple[Membership, Sim]:
    membership = get_membership_for_user(request, slug)
    return membership, get_object_or_404(Sim.objects.select_related("carrier_account"), product=membership.product, iccid=iccid)


def _card(request: HttpRequest, membership: Membership, sim: Sim, form: SmsForm | None = None) -> HttpResponse:
    context = {
        "product": membership.product,
        "sim": sim,
        "form": form or SmsForm(),
        "sms": sim_messages(sim.pk, limit=CARD_MESSAGES),
        "can_send": carrier_sends_sms(sim),
    }
    return render(request, "carriers/partials/sim_sms.html", context)


@require_GET
@login_required
def sim_sms(request: HttpRequest, slug: str, iccid: str) -> HttpResponse:
    """The SIM page's SMS card: the form and the last messages, both ways, with their status."""
    membership, sim = _sim_of(request, slug, iccid)
    return _card(request, membership, sim)


@require_POST
@login_required
def sim_sms_send(request: SignedInRequest, slug: str, iccid: str) -> HttpResponse:
    """Send one SMS to the SIM: queued now, sent by the worker; the card (htmx) or the SIM page shows it."""
    membership, sim = _sim_of(request, slug, iccid)
    form = SmsForm(request.POST)
    if form.is_valid():
        try:
            send_to_sim(sim=sim, body=form.cleaned_data["body"], user=request.user)
        except SmsBodyError as error:
            form.add_error("body", str(error))
    if request.htmx:
        if form.is_valid():
            form = SmsForm()
        return _card(request, membership, sim, form)
    if form.errors:
        messages.error(request, f"{sim.iccid}: the SMS was not sent. {' '.join(str(error) for error in form.errors['body'])}")
    else:
        messages.success(request, f"{sim.iccid}: SMS queued; it goes to the carrier now.")
    return redirect(reverse("sim_detail", args=[membership.product.slug, sim.iccid]) + "#sms")


@require_GET
@login_required
def sms_messages(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's Messages: every SMS to and from its SIMs, newest first, with the bulk sends under way."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    direction = request.GET.get("direction", "")
    status = request.GET.get("status", "")
    rows = SmsMessage.objects.filter(product=product)
    if direction in SmsMessage.Direction.values:
        rows = rows.filter(direction=direction)
    if status in SmsMessage.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows.select_related("sim", "created_by").order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    batches = SmsBatch.objects.filter(product=product).select_related("created_by").order_by("-created_at")[:5]
    return render(
        request,
        "carriers/messages.html",
        {
            "product": product,
            "membership": membership,
            "page": page,
            "batches": batches,
            "direction": direction,
            "status": status,
            "directions": SmsMessage.Direction.choices,
            "statuses": SmsMessage.Status.choices,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def sims_sms_bulk(request: SignedInRequest, slug: str) -> HttpResponse:
    """Send SMS to every SIM the SIMs page's filter selects: the filter rides in the query, the template
    in the form; up to SMS_BULK_JOB_ABOVE_SIMS SIMs the messages are recorded now, above by a job."""
    membership = get_membership_for_user(request, slug)
    product = membership.product
    params = request.GET if request.method == "GET" else request.POST
    filters = {name: params[name] for name in FILTER_FIELDS if params.get(name)}
    filter_form = SimFilterForm(filters)
    selection = selection_for(product, params) if filter_form.is_valid() else None
    count = selection.count() if selection is not None else 0
    form = BulkSmsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and selection is not None and count:
        described = _describe(filters, count)
        batch = start_batch(product=product, user=request.user, template=form.cleaned_data["template"], filters=filters, described=described)
        if batch.status == SmsBatch.Status.DONE:
            skipped = f"; {batch.skipped:,} skipped (too long, or a carrier without SMS)" if batch.skipped else ""
            messages.success(request, f"Send SMS: {batch.recorded:,} messages queued to {described}{skipped}. They go out at the carriers' pace.")
        else:
            messages.success(request, f"Send SMS to {described}: the messages are being recorded in the background; follow them here.")
        return redirect("sms_messages", slug=product.slug)
    if request.method == "POST" and not count:
        form.add_error(None, "No SIM matches this filter: nothing to send. Go back to the SIMs page and change the filter.")
    return render(
        request,
        "carriers/sms_bulk.html",
        {
            "product": product,
            "membership": membership,
            "form": form,
            "filters": filters,
            "filter_errors": filter_form.errors if filters else {},
            "count": count,
            "described": _describe(filters, count),
            "back": reverse("sim_list", args=[product.slug]) + ("?" + "&".join(f"{k}={v}" for k, v in filters.items()) if filters else ""),
        },
    )


def _describe(filters: dict[str, str], count: int) -> str:
    what = ", ".join(f"{name} {value}" for name, value in filters.items())
    return f"{count:,} SIM{'s' if count != 1 else ''}" + (f" ({what})" if what else " (all the product's SIMs)")


# --- The carrier's push -------------------------------------------------------------------------------


@csrf_exempt
@_configured
@require_POST
def carrier_sms_push(request: HttpRequest) -> HttpResponse:
    """Device SMS and delivery reports from the carrier, with the usage push's token:
    {"messages": [{"id", "iccid", "body", "received_at"}], "reports": [{"id", "status", "reason"}]}
    (either list may be left out; "reports" name messages by the carrier's id). Stored once each."""
    unauthorized = _unauthorized(request)
    if unauthorized:
        return unauthorized
    body = _body_within(request, 1024 * 1024)
    if body is None:
        return _error(413, "The body is over 1 MB: push the SMS in smaller batches.")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:
        return _error(400, f"The body is not JSON ({str(error)[:120]}).")
    try:
        incoming, reports = _parse_push(payload)
    except ValueError as error:
        return _error(400, str(error))
    stored, unknown = receive(None, incoming)
    updated = sum(apply_reports(key, reports) for key in _report_accounts(reports))
    return JsonResponse({"received": len(incoming), "stored": stored, "unknown_iccids": unknown, "reports": len(reports), "updated": updated})


def _report_accounts(reports: list[SmsReport]) -> list[int]:
    ids = [report.message_id for report in reports]
    keys = SmsMessage.objects.filter(carrier_message_id__in=ids, direction=SmsMessage.Direction.MT).values_list("account_key", flat=True)
    return sorted(set(keys)) or [BUILT_IN]


def _parse_push(payload: Any) -> tuple[list[IncomingSms], list[SmsReport]]:
    if not isinstance(payload, dict) or not ({"messages", "reports"} & payload.keys()):
        raise ValueError('Send an object with "messages" (SMS from devices) and/or "reports" (delivery reports).')
    incoming, reports = [], []
    for index, item in enumerate(payload.get("messages") or []):
        where = f"messages[{index}]"
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item.get(k) for k in ("id", "iccid", "body", "received_at")):
            raise ValueError(f'{where}: each message needs "id", "iccid", "body" and "received_at" (ISO 8601), as strings.')
        try:
            at = datetime.fromisoformat(item["received_at"].replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f'{where}: "received_at" is not an ISO 8601 time ({item["received_at"][:40]!r}).') from None
        if at.tzinfo is None:
            raise ValueError(f'{where}: "received_at" needs a time zone (Z or +00:00).')
        if len(item["body"]) > 160:
            raise ValueError(f"{where}: the body is over 160 characters: one SMS at most.")
        incoming.append(IncomingSms(item["id"][:64], item["iccid"], item["body"], at))
    for index, item in enumerate(payload.get("reports") or []):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or item.get("status") not in ("sent", "delivered", "failed"):
            raise ValueError(f'reports[{index}]: each report needs "id" (the carrier\'s message id) and "status": sent, delivered or failed.')
        reports.append(SmsReport(item["id"], item["status"], str(item.get("reason") or "")[:300]))
    return incoming, reports
