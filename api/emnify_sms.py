"""emnify's endpoint SMS under /api/v1/endpoint/{id}/sms: emnify-sdk 0.5.3's `devices.send_sms` and
`devices.get_device_sms_list`, and emnify's published "SMS details" and "Cancel SMS" (which the SDK
does not call). An SMS goes through the console's SMS path (carriers/sms.py): recorded queued in the
request, carried by the SMS worker through the SIM's carrier adapter (the simulator by default), moved
on by the carrier's delivery reports; the SMS a device sends are there too.

An endpoint's SMS are those of each SIM while it was in the device (as its events), newest first.

emnify's SMS statuses and the console's:

    1 Delivery attempt pending  queued, not yet handed to the carrier
    2 In progress               sent: the carrier took it, no delivery report yet
    3 Buffered                  queued again: the carrier was unavailable (or asked to slow down);
                                retry_count and retry_date say when it is tried again
    4 Delivered                 delivered; and every SMS from the device (sms_type MO)
    5 Failed                    refused by the carrier, or not delivered
    6 Expired                   never: the console keeps no expiry
    7 Canceled                  canceled while still queued
"""

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from api.auth import ApiError, Caller
from api.emnify import _json_body, _refuse_unknown, _timestamp, emnify_view
from api.emnify_endpoints import DISABLED, _device, _paged, _paging, _sim_in, while_in
from api.models import EndpointSettings, Scope
from carriers.models import SmsMessage
from carriers.sms import SmsBodyError, body_length, cancel_queued, carrier_sends_sms, check_body, send_to_sim
from devices.models import Device
from sims.models import Sim, State

PENDING, IN_PROGRESS, BUFFERED, DELIVERED, FAILED, EXPIRED, CANCELED = 1, 2, 3, 4, 5, 6, 7
SMS_STATUSES = {
    PENDING: "DELIVERY ATTEMPT PENDING",
    IN_PROGRESS: "IN PROGRESS",
    BUFFERED: "BUFFERED",
    DELIVERED: "DELIVERED",
    FAILED: "FAILED",
    EXPIRED: "EXPIRED",
    CANCELED: "CANCELED",
}
MT, MO = {"id": 1, "description": "MT"}, {"id": 2, "description": "MO"}
INTERNATIONAL, NATIONAL, ALPHANUMERIC = 145, 161, 208
ADDRESS_TYPES = {INTERNATIONAL: "International", NATIONAL: "National", ALPHANUMERIC: "Alphanumeric"}
GSM7_DCS, UCS2_DCS = 0, 8
SMS_PER_PAGE = 1000
SEND_FIELDS = {"payload", "source_address", "source_address_type", "expiry_date", "dcs", "udh", "dest_address"}
SENDING_STATES = (State.ACTIVE, State.PAUSED)  # paused at its data limit: SMS still reach it


def sms_status(message: SmsMessage) -> int:
    if message.status == SmsMessage.Status.QUEUED:
        return BUFFERED if message.attempts else PENDING
    return {
        SmsMessage.Status.SENT: IN_PROGRESS,
        SmsMessage.Status.DELIVERED: DELIVERED,
        SmsMessage.Status.RECEIVED: DELIVERED,
        SmsMessage.Status.FAILED: FAILED,
        SmsMessage.Status.CANCELED: CANCELED,
    }[SmsMessage.Status(message.status)]


def sms_json(message: SmsMessage, device: Device, sim: Sim) -> dict[str, Any]:
    status = sms_status(message)
    from_device = message.direction == SmsMessage.Direction.MO
    delivered = message.received_at if from_device else message.delivered_at
    final = delivered if status == DELIVERED else message.updated_at if status in (FAILED, CANCELED) else None
    return {
        "id": message.pk,
        "submit_date": _timestamp(message.created_at),
        "delivery_date": _timestamp(delivered),
        "expiry_date": None,
        "final_date": _timestamp(final),
        "retry_date": _timestamp(message.retry_at) if status == BUFFERED else None,
        "last_delivery_attempt": _timestamp(message.sent_at),
        "retry_count": message.attempts,
        "gsm_map_error": message.reason or None,
        "dcs": GSM7_DCS if body_length(message.body)[0] == "GSM-7" else UCS2_DCS,
        "pid": 0,
        # From the device: its number. To it: the carrier's sender, which the console does not choose.
        "source_address": (sim.msisdn or None) if from_device else None,
        "source_address_type": {"id": INTERNATIONAL, "description": ADDRESS_TYPES[INTERNATIONAL]} if from_device and sim.msisdn else None,
        "endpoint": {"id": device.pk, "name": device.name or device.device_id},
        "sim_id": str(message.sim_id),  # a string in emnify's description
        "iccid": sim.iccid,
        "msisdn": sim.msisdn or None,
        "imsi": sim.imsi or None,
        "msc": None,
        "udh": None,
        "payload": message.body,
        "status": {"id": status, "description": SMS_STATUSES[status]},
        "sms_type": MO if from_device else MT,
    }


def _messages(device: Device) -> Any:
    windows = while_in(device, "created_at")
    return SmsMessage.objects.filter(windows) if windows else SmsMessage.objects.none()


def _sims_by_id(messages: list[SmsMessage]) -> dict[int, Sim]:
    return {sim.pk: sim for sim in Sim.objects.filter(pk__in={m.sim_id for m in messages}).only("pk", "iccid", "msisdn", "imsi")}


def list_sms(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    """The endpoint's SMS both ways, newest first, a page at a time (emnify-sdk reads the first page only)."""
    _refuse_unknown(set(request.GET), {"page", "per_page"}, what="parameter")
    page, per_page = _paging(request, SMS_PER_PAGE)
    device = _device(caller, endpoint_id)
    messages = _messages(device)
    total = messages.count()
    offset = (page - 1) * per_page
    rows = list(messages.order_by("-created_at", "-id")[offset : offset + per_page]) if offset < total else []
    sims = _sims_by_id(rows)
    return _paged(request, [sms_json(m, device, sims[m.sim_id]) for m in rows], total, page, per_page)


def _message(device: Device, sms_id: str) -> SmsMessage:
    found = None
    if sms_id.isascii() and sms_id.isdigit() and 0 < int(sms_id) < 2**63:
        found = _messages(device).filter(pk=int(sms_id)).first()
    if found is None:
        raise ApiError(404, f"Endpoint {device.pk} has no SMS {sms_id[:40]}: list its SMS with GET /api/v1/endpoint/{device.pk}/sms.")
    return found


def get_sms(request: HttpRequest, caller: Caller, endpoint_id: str, sms_id: str) -> HttpResponse:
    device = _device(caller, endpoint_id)
    message = _message(device, sms_id)
    return JsonResponse(sms_json(message, device, _sims_by_id([message])[message.sim_id]))


def cancel_sms(request: HttpRequest, caller: Caller, endpoint_id: str, sms_id: str) -> HttpResponse:
    """Cancel an SMS still waiting to reach the carrier (emnify: buffered, not yet delivered)."""
    device = _device(caller, endpoint_id)
    message = _message(device, sms_id)
    if not cancel_queued(message_id=message.pk):
        message.refresh_from_db()
        status = sms_status(message)
        if status in (PENDING, BUFFERED):
            raise ApiError(409, "The SMS is being handed to the carrier now: it can no longer be canceled.", code="sms_not_cancelable")
        raise ApiError(
            409,
            f"The SMS is {SMS_STATUSES[status].lower()}: only one still waiting for the carrier "
            f"({SMS_STATUSES[PENDING].lower()} or {SMS_STATUSES[BUFFERED].lower()}) can be canceled.",
            code="sms_not_cancelable",
        )
    return JsonResponse({})


def send_sms(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    """POST {"payload": ..., "source_address": ...}: one SMS to the endpoint's SIM, queued for its carrier.
    201 with the message's address in Location and no body (emnify-sdk answers True)."""
    body = _json_body(request)
    payload = _check_send(body)
    with transaction.atomic():
        device = _device(caller, endpoint_id, lock=True)
        sim = _sim_in(device)
        if sim is None:
            raise ApiError(409, "The endpoint has no SIM: put a SIM in it (PATCH the endpoint with {\"sim\": {\"id\": N}}) before sending it SMS.", code="no_sim")
        settings = EndpointSettings.objects.filter(device=device).first()
        if settings is not None and settings.status == DISABLED:
            raise ApiError(409, "The endpoint is disabled: enable it (PATCH {\"status\": {\"id\": 0}}) before sending it SMS.", code="endpoint_disabled")
        if sim.state not in SENDING_STATES:
            raise ApiError(
                409, f"The SIM is {State(sim.state).label.lower()}: only an active SIM receives SMS. Activate it first.", code="illegal_status_change"
            )
        if not carrier_sends_sms(sim):
            raise ApiError(409, "This SIM's carrier account cannot send SMS through SIM Console: send it from the carrier's own console.", code="carrier_cannot")
        message = send_to_sim(sim=sim, body=payload, user=caller.token.user)
    response = HttpResponse(status=201)
    del response["Content-Type"]
    response["Location"] = f"/api/v1/endpoint/{device.pk}/sms/{message.pk}"
    return response


def _check_send(body: dict[str, Any]) -> str:
    """The payload to send, once every field is as emnify takes it; a 400 naming the first that is not."""
    _refuse_unknown(body, SEND_FIELDS)
    if body.get("udh") is not None:
        raise ApiError(400, "SIM Console sends one SMS at a time: udh (a part of a concatenated SMS) is not supported. Send up to 160 characters without it.")
    if body.get("dest_address") is not None:
        raise ApiError(400, "dest_address (a reply address for person-to-application SMS) is not supported: leave it out; the device's answers are listed here.")
    payload = body.get("payload")
    if not isinstance(payload, str):
        raise ApiError(400, "payload is required: the message text, a string of up to 160 characters (70 with emoji and the like).")
    if "\x00" in payload:
        raise ApiError(400, "payload has a NUL character (\\u0000): no SMS carries one; take it out.")
    try:
        check_body(payload)
    except SmsBodyError as error:
        raise ApiError(400, f"payload: {error}") from None
    address_type = body.get("source_address_type")
    type_id = address_type.get("id") if isinstance(address_type, dict) else None
    if address_type is not None and (isinstance(type_id, bool) or type_id not in ADDRESS_TYPES):
        raise ApiError(400, 'source_address_type must be {"id": 145} (international), {"id": 161} (national) or {"id": 208} (alphanumeric).')
    address = body.get("source_address")
    if address is not None:
        alphanumeric = type_id == ALPHANUMERIC
        if not isinstance(address, str) or not address.strip():
            raise ApiError(400, "source_address must be a string: the sender shown on the device (a number, or up to 11 letters and digits).")
        if alphanumeric and not (address.isascii() and address.replace(" ", "").isalnum() and len(address) <= 11):
            raise ApiError(400, "An alphanumeric source_address is up to 11 letters, digits and spaces.")
        if not alphanumeric and not (address.lstrip("+").isascii() and address.lstrip("+").isdigit() and len(address.lstrip("+")) <= 15):
            raise ApiError(400, 'source_address must be a number of up to 15 digits (or up to 11 letters with source_address_type {"id": 208}).')
    dcs = body.get("dcs")
    if dcs is not None and (isinstance(dcs, bool) or dcs not in (GSM7_DCS, UCS2_DCS)):
        raise ApiError(400, "dcs must be 0 (GSM 7-bit) or 8 (UCS-2); the console picks the one the text needs either way.")
    expiry = body.get("expiry_date")
    if expiry is not None and _moment(expiry) <= timezone.now():
        raise ApiError(400, "expiry_date is in the past: give a later time, or leave it out.")
    return payload


def _moment(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ApiError(400, "expiry_date must be a date and time, ISO 8601 (2026-12-31T23:00:00Z).")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


sms_endpoint = emnify_view(GET=(Scope.SIMS_GET, list_sms), POST=(Scope.SIMS_UPDATE, send_sms))
one_sms_endpoint = emnify_view(GET=(Scope.SIMS_GET, get_sms), DELETE=(Scope.SIMS_UPDATE, cancel_sms))
