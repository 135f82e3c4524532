"""emnify's endpoint resource under /api/v1/endpoint, as emnify-sdk 0.5.3 calls it (its DeviceManager:
emnify/modules/device/). An emnify endpoint is the console's Device (devices/); its SIM is the SIM in
the device now (Sim.device, with the history in DeviceAssignment). What emnify keeps about an endpoint
that a Device has no field for (its Enabled/Disabled status, profile ids, IP address, IMEI lock flag,
operator blacklist) is in api.models.EndpointSettings and BlacklistedOperator.

Endpoints belong to a product: a token for its creator's own SIMs reaches none (the list is empty, the
rest 404), and another product's endpoint answers 404 as one that does not exist.

Scopes, the SIM scopes the tokens already carry: sims:list for the list, sims:get to read one (its
connectivity, events, blacklist), sims:update to create and change, sims:remove to delete.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from api.auth import ApiError, Caller
from api.emnify import (
    ACTIVATED,
    DESCRIPTIONS,
    MAX_PER_PAGE,
    PER_PAGE,
    STATES_OF_STATUS,
    STATUS_OF_STATE,
    _change_status,
    _json_body,
    _no_content,
    _refuse_unknown,
    _sims_of,
    _timestamp,
    _whole_number,
    emnify_view,
    sim_json,
    sim_row,
)
from api.models import BlacklistedOperator, EndpointSettings, Scope
from devices.models import Device, DeviceAssignment
from sims.models import Connectivity, NetworkEvent, Sim, SimConnectivity, State

ENABLED, DISABLED, DELETED = EndpointSettings.ENABLED, EndpointSettings.DISABLED, 2
ENDPOINT_STATUSES = {ENABLED: "Enabled", DISABLED: "Disabled", DELETED: "Deleted"}

# emnify's connectivity statuses (GET /api/v1/endpoint/{id}/connectivity).
ATTACHED, ONLINE, OFFLINE, BLOCKED = 0, 1, 2, 3
CONNECTIVITY = {ATTACHED: "ATTACHED", ONLINE: "ONLINE", OFFLINE: "OFFLINE", BLOCKED: "BLOCKED"}
CONNECTIVITY_OF = {Connectivity.ONLINE: ONLINE, Connectivity.ATTACHED: ATTACHED, Connectivity.OFFLINE: OFFLINE, Connectivity.UNKNOWN: OFFLINE}

# emnify's event types (docs.emnify.com, system events) for the console's network events.
EVENT_TYPES = {
    NetworkEvent.Kind.ATTACH: (2, "Update GPRS location"),
    NetworkEvent.Kind.LOCATION: (1, "Update location"),
    NetworkEvent.Kind.DETACH: (16, "Purge GPRS location"),
    NetworkEvent.Kind.SESSION_START: (3, "Create PDP Context"),
    NetworkEvent.Kind.SESSION_END: (5, "Delete PDP Context"),
    NetworkEvent.Kind.AUTH_REJECT: (1, "Update location"),  # emnify reports a reject as a failed update location, an alert
}
NETWORK_SOURCE = {"id": 0, "description": "Network"}
INFO, WARN = {"id": 0, "description": "Info"}, {"id": 1, "description": "Warn"}

LIST_PARAMETERS = {"page", "per_page", "q", "sort"}
FILTERS = ("id", "status", "name", "tags", "imei", "ip_address", "iccid", "sim_status", "created", "last_updated")
SORTS = {
    "id": "pk",
    "name": "name",
    "created": "created_at",
    "imei": "imei",
    "status": "emnify__status",
    "last_updated": "updated",
    "ip_address": "emnify__ip_address",
    "tags": "tags",
}
FIELDS = {"name", "tags", "status", "service_profile", "tariff_profile", "ip_address", "ip_address_space", "sim", "imei", "imei_lock"}
EVENTS_PER_PAGE = 100


# Reaching endpoints


def _devices_of(caller: Caller) -> QuerySet[Device]:
    if caller.token.product_id is None:
        return Device.objects.none()  # endpoints belong to a product
    return Device.objects.filter(product=caller.token.product_id)


def _device(caller: Caller, endpoint_id: str, *, lock: bool = False) -> Device:
    found = None
    if endpoint_id.isascii() and endpoint_id.isdigit() and 0 < int(endpoint_id) < 2**63:
        devices = _devices_of(caller)
        # Locked alone (select_for_update(of=...) is not everywhere): the product row is never locked with it.
        devices = devices.select_for_update() if lock else devices.select_related("product")
        found = devices.filter(pk=int(endpoint_id)).first()
    if found is None:
        raise ApiError(404, f"There is no endpoint {endpoint_id[:40]} reachable with this token.")
    return found


def _settings(device: Device) -> EndpointSettings:
    return EndpointSettings.objects.get_or_create(device=device, defaults={"last_updated": device.created_at})[0]


def _sim_in(device: Device) -> Sim | None:
    return Sim.objects.filter(device=device).select_related("device").order_by("pk").first()


# Answers


def endpoint_json(device: Device, settings: EndpointSettings | None, sim: Sim | None, *, detailed: bool = False) -> dict[str, Any]:
    status = settings.status if settings else ENABLED
    answer: dict[str, Any] = {
        "id": device.pk,
        "name": device.name or device.device_id,
        "tags": ",".join(str(tag) for tag in device.tags) if device.tags else None,
        "created": _timestamp(device.created_at),
        "last_updated": _timestamp(settings.last_updated if settings else device.created_at),
        "status": {"id": status, "description": ENDPOINT_STATUSES[status]},
        "service_profile": {"id": settings.service_profile_id if settings else 1},
        "tariff_profile": {"id": settings.tariff_profile_id if settings else 1},
        "ip_address": (settings.ip_address or None) if settings else None,
        "ip_address_space": None,
        "imei": device.imei or None,
        "imei_lock": settings.imei_lock if settings else False,
        "sim": None,
    }
    if sim is not None:
        if detailed:
            answer["sim"] = sim_json(sim_row(sim), device.product)
        else:
            sim_status = STATUS_OF_STATE[State(sim.state)]
            answer["sim"] = {
                "id": sim.pk,
                "iccid": sim.iccid,
                "imsi": sim.imsi or None,
                "msisdn": sim.msisdn or None,
                "status": {"id": sim_status, "description": DESCRIPTIONS[sim_status]},
            }
    if detailed:
        answer["runtime_data"] = None
    return answer


def _paged(request: HttpRequest, rows: list[Any], total: int, page: int, per_page: int) -> JsonResponse:
    response = JsonResponse(rows, safe=False)
    response["X-Total-Pages"] = str(-(-total // per_page))
    response["X-Total-Count"] = str(total)
    response["X-Current-Page"] = str(page)
    response["X-Count-Per-Page"] = str(per_page)
    return response


def _paging(request: HttpRequest, default: int) -> tuple[int, int]:
    page = _whole_number(request.GET.get("page") or "1", "page", low=1, high=10**9)
    per_page = _whole_number(request.GET.get("per_page") or str(default), "per_page", low=1, high=MAX_PER_PAGE)
    return page, per_page


# The list


def list_endpoints(request: HttpRequest, caller: Caller) -> HttpResponse:
    _refuse_unknown(set(request.GET), LIST_PARAMETERS, what="parameter")
    page, per_page = _paging(request, PER_PAGE)
    devices = _filtered(_devices_of(caller).annotate(updated=Coalesce("emnify__last_updated", "created_at")), _filters(request.GET.get("q", "")))
    order = _order(request.GET.get("sort", ""))
    total = devices.count()
    offset = (page - 1) * per_page
    rows = list(devices.select_related("emnify").order_by(*order)[offset : offset + per_page]) if offset < total else []
    sims = {sim.device_id: sim for sim in Sim.objects.filter(device__in=[d.pk for d in rows]).order_by("-pk")}
    answer = [endpoint_json(d, getattr(d, "emnify", None), sims.get(d.pk)) for d in rows]
    return _paged(request, answer, total, page, per_page)


def _filters(q: str) -> dict[str, str]:
    """q=field:value,... as emnify-sdk's FilterDeviceModel sends it (a date's own colons stay in its value)."""
    filters: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in q.split(","))):
        field, colon, value = part.partition(":")
        field = field.strip().lower()
        if not colon or not value.strip():
            raise ApiError(400, f"The filter {part!r} is not field:value: q is a comma-separated list such as status:0,name:tracker.")
        if field not in FILTERS:
            raise ApiError(400, f"Unknown filter {field}: q filters endpoints by {', '.join(FILTERS)}.")
        if field in filters:
            raise ApiError(400, f"The filter {field} is given twice: give each field once.")
        filters[field] = value.strip()
    return filters


def _filtered(devices: QuerySet[Device], filters: dict[str, str]) -> QuerySet[Device]:
    if "id" in filters:
        devices = devices.filter(pk=_whole_number(filters["id"], "id", low=1, high=2**63 - 1))
    if "status" in filters:
        status = _whole_number(filters["status"], "status", low=0, high=2)
        enabled = Q(emnify__isnull=True) | Q(emnify__status=ENABLED)
        devices = devices.none() if status == DELETED else devices.filter(enabled if status == ENABLED else Q(emnify__status=DISABLED))
    if "name" in filters:
        devices = devices.filter(Q(name__icontains=filters["name"]) | Q(name="", device_id__icontains=filters["name"]))
    if "tags" in filters:
        for tag in filter(None, (t.strip() for t in filters["tags"].split(";"))):
            devices = devices.filter(tags__icontains=tag)
    if "ip_address" in filters:
        devices = devices.filter(emnify__ip_address=filters["ip_address"])
    for field, attribute in (("imei", "imei"), ("iccid", "sims__iccid")):
        if field in filters:
            if not (filters[field].isascii() and filters[field].isdigit()):
                raise ApiError(400, f"{field} must be digits: a whole {field.upper()}, or a part of one.")
            devices = devices.filter(**{f"{attribute}__contains": filters[field]}).distinct()
    if "sim_status" in filters:
        status = _whole_number(filters["sim_status"], "sim_status", low=0, high=4)
        devices = devices.filter(sims__state__in=STATES_OF_STATUS[status]).distinct()
    for field, attribute in (("created", "created_at"), ("last_updated", "updated")):
        if field in filters:
            devices = devices.filter(**{f"{attribute}__gte": _moment(filters[field], field)})
    return devices


def _moment(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name} must be a date or a date and time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ): endpoints since then match.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _order(sort: str) -> list[str]:
    """sort=[-]field,... emnify-sdk puts its DeviceSort member itself in the query ("DeviceSort.NAME")."""
    order: list[str] = []
    for part in filter(None, (p.strip() for p in sort.split(","))):
        descending = part.startswith("-")
        field = part.lstrip("-+").lower().removeprefix("devicesort.")
        if field not in SORTS:
            raise ApiError(400, f"Unknown sort field {field}: sort by {', '.join(SORTS)}, - first for descending.")
        order.append(f"-{SORTS[field]}" if descending else SORTS[field])
    return [*order, "pk"]


# One endpoint


def create_endpoint(request: HttpRequest, caller: Caller) -> HttpResponse:
    """POST an endpoint: 201 with its address in Location (emnify-sdk reads the id from it), no body."""
    if caller.token.product_id is None:
        raise ApiError(403, "Endpoints belong to a product: use a token of a product to create one.", code="forbidden")
    body = _json_body(request)
    _refuse_unknown(body, FIELDS | {"id", "created", "last_updated", "runtime_data"})
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise ApiError(400, "name is required: the endpoint's name, a string of up to 100 characters.")
    with transaction.atomic():
        device = Device(product_id=caller.token.product_id, device_id=uuid.uuid4().hex[:24])
        settings = EndpointSettings(device=device)
        _apply(caller, device, settings, {k: v for k, v in body.items() if k in FIELDS and k != "sim"}, creating=True)
        device.save()
        settings.device = device
        settings.save()
        if body.get("sim") is not None:
            _apply_sim(caller, device, body["sim"])
    response = HttpResponse(status=201)
    del response["Content-Type"]
    response["Location"] = f"/api/v1/endpoint/{device.pk}"
    return response


def get_endpoint(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    device = _device(caller, endpoint_id)
    return JsonResponse(endpoint_json(device, EndpointSettings.objects.filter(device=device).first(), _sim_in(device), detailed=True))


def update_endpoint(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    """PATCH any of the endpoint's fields; {"sim": {"id": N}} puts SIM N in it, {"sim": {"id": null}} takes its SIM out."""
    body = _json_body(request)
    _refuse_unknown(body, FIELDS)
    if not body:
        raise ApiError(400, f"Nothing to change: send one or more of {', '.join(sorted(FIELDS))}.")
    with transaction.atomic():
        device = _device(caller, endpoint_id, lock=True)
        settings = _settings(device)
        _apply(caller, device, settings, {k: v for k, v in body.items() if k != "sim"}, creating=False)
        settings.last_updated = timezone.now()
        device.save()
        settings.save()
        if "sim" in body:
            _apply_sim(caller, device, body["sim"])
    return _no_content()


def _whole(value: Any) -> int | None:
    """A JSON id as a whole number: emnify-sdk's generated Status model types ids as floats (0.0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def _apply(caller: Caller, device: Device, settings: EndpointSettings, body: dict[str, Any], *, creating: bool) -> None:
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"].strip() or len(body["name"].strip()) > 100:
            raise ApiError(400, "name must be a string of 1 to 100 characters.")
        device.name = body["name"].strip()
    if "tags" in body:
        if not isinstance(body["tags"], str | None):
            raise ApiError(400, "tags must be a string of comma-separated tags, or null.")
        device.tags = [tag.strip() for tag in (body["tags"] or "").split(",") if tag.strip()]
    if "status" in body:
        status = body["status"]
        status_id = _whole(status.get("id")) if isinstance(status, dict) else None
        if status_id not in ENDPOINT_STATUSES:
            raise ApiError(400, 'status must be {"id": 0} (Enabled) or {"id": 1} (Disabled).')
        if status_id == DELETED:
            raise ApiError(400, "An endpoint is deleted with DELETE /api/v1/endpoint/{id}, not by its status.")
        settings.status = status_id
    for field in ("service_profile", "tariff_profile", "ip_address_space"):
        if field in body and body[field] is not None:
            value = body[field]
            profile_id = _whole(value.get("id")) if isinstance(value, dict) else None
            if profile_id is None or not 0 < profile_id < 2**31:
                raise ApiError(400, f'{field} must be an object with a positive whole id: {{"id": 1}}.')
            if field != "ip_address_space":
                setattr(settings, f"{field}_id", profile_id)
    if "ip_address" in body:
        if not isinstance(body["ip_address"], str | None) or len(body["ip_address"] or "") > 45:
            raise ApiError(400, "ip_address must be an IP address as a string, or null.")
        settings.ip_address = body["ip_address"] or ""
    if "imei" in body:
        imei = body["imei"] or ""
        if not isinstance(imei, str) or (imei and not (imei.isascii() and imei.isdigit() and 14 <= len(imei) <= 16)):
            raise ApiError(400, "imei must be the device's IMEI, 14 to 16 digits (or null to clear it).")
        device.imei = imei
    if "imei_lock" in body:
        if not isinstance(body["imei_lock"], bool):
            raise ApiError(400, "imei_lock must be true or false.")
        settings.imei_lock = body["imei_lock"]


def _apply_sim(caller: Caller, device: Device, value: Any) -> None:
    sim_id = _whole(value.get("id")) if isinstance(value, dict) else None
    if not isinstance(value, dict) or (value.get("id") is not None and sim_id is None):
        raise ApiError(400, 'sim must be {"id": N} (the SIM to put in the endpoint) or {"id": null} (take its SIM out).')
    if sim_id is None:
        release_sim(device=device, caller=caller)
        return
    sim = _sims_of(caller).select_for_update().filter(pk=sim_id).first() if 0 < sim_id < 2**63 else None
    if sim is None:
        raise ApiError(404, f"There is no SIM {sim_id} reachable with this token.")
    if sim.device_id not in (None, device.pk):
        raise ApiError(409, f"The SIM is in endpoint {sim.device_id}: take it out there first (PATCH that endpoint with {{\"sim\": {{\"id\": null}}}}).", code="sim_in_use")
    put_sim_in(device=device, sim=sim, caller=caller)
    wanted = _whole(value["status"].get("id")) if isinstance(value.get("status"), dict) else None
    if (value.get("activate") is True or wanted == ACTIVATED) and STATUS_OF_STATE[State(sim.state)] != ACTIVATED:
        _change_status(caller, sim, ACTIVATED)


# Which SIM is in which device. The minimal assignment the endpoint resource needs (devices/assignment.py,
# from the devices pages, replaces these when both are merged): the history in DeviceAssignment, the
# current device in Sim.device.


def put_sim_in(*, device: Device, sim: Sim, caller: Caller) -> None:
    if sim.device_id == device.pk:
        return
    now = timezone.now()
    release_sim(device=device, caller=caller, now=now)  # an endpoint holds one SIM: the one there leaves
    DeviceAssignment.objects.create(sim=sim, device=device, started_at=now, source=DeviceAssignment.Source.API, by_user=caller.token.user)
    Sim.objects.filter(pk=sim.pk).update(device=device)
    sim.device = device


def release_sim(*, device: Device, caller: Caller, now: Any = None) -> None:
    now = now or timezone.now()
    DeviceAssignment.objects.filter(device=device, ended_at__isnull=True).update(ended_at=now)
    Sim.objects.filter(device=device).update(device=None)


def delete_endpoint(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    """Deletes the endpoint; its SIM stays in the product, in no device."""
    with transaction.atomic():
        device = _device(caller, endpoint_id, lock=True)
        release_sim(device=device, caller=caller)
        device.delete()
    return _no_content()


# Connectivity


def _connectivity(device: Device) -> tuple[Sim | None, SimConnectivity | None]:
    sim = _sim_in(device)
    return sim, (SimConnectivity.objects.filter(sim=sim).first() if sim else None)


def get_connectivity(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    """ONLINE in a data session, ATTACHED on the network, OFFLINE, or BLOCKED: the endpoint disabled or its SIM not active."""
    device = _device(caller, endpoint_id)
    sim, seen = _connectivity(device)
    settings = EndpointSettings.objects.filter(device=device).first()
    status = CONNECTIVITY_OF[Connectivity(seen.status)] if seen else OFFLINE
    if sim is not None and ((settings and settings.status == DISABLED) or sim.state != State.ACTIVE):
        status = BLOCKED
    location = None
    if seen and seen.status in (Connectivity.ONLINE, Connectivity.ATTACHED):
        location = {
            "operator": {"name": seen.operator or None},
            "country": {"iso_code": seen.country.code.lower() or None},  # type: ignore[attr-defined]  # a Country
            "rat_type": {"description": seen.rat or None},
            "last_updated": _timestamp(seen.last_event_at),
        }
    answer = {
        "status": {"id": status, "description": CONNECTIVITY[status]},
        "location": location,
        "pdp_context": {"start_time": _timestamp(seen.last_session_start_at)} if seen and seen.status == Connectivity.ONLINE else None,
        "services": ["GPRS"] if status in (ATTACHED, ONLINE) else None,
        "offline_since": _timestamp(seen.since) if seen and status == OFFLINE else None,
        "reset_requested_at": _timestamp(seen.reset_requested_at) if seen else None,
    }
    return JsonResponse(answer)


def reset_connectivity(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    """PATCH {"location": null} (a fresh attach) and/or {"pdp_context": null} (a fresh data session): recorded
    on the SIM's connectivity until its next attach; the carrier is asked by the console's reset."""
    body = _json_body(request)
    _refuse_unknown(body, {"location", "pdp_context"})
    if not body or any(value is not None for value in body.values()):
        raise ApiError(400, 'Send {"location": null} to reset the network registration, {"pdp_context": null} for the data session, or both.')
    with transaction.atomic():
        device = _device(caller, endpoint_id, lock=True)
        sim = _sim_in(device)
        if sim is None:
            raise ApiError(409, "The endpoint has no SIM: put a SIM in it before resetting its connectivity.", code="no_sim")
        if sim.state not in (State.ACTIVE, State.PAUSED):
            raise ApiError(409, f"The SIM is {State(sim.state).label.lower()}: only an active SIM's connectivity can be reset.", code="illegal_status_change")
        now = timezone.now()
        if not SimConnectivity.objects.filter(sim=sim).update(reset_requested_at=now):
            SimConnectivity.objects.create(sim=sim, product_id=sim.product_id, reset_requested_at=now)
    return _no_content()


# Events


def while_in(device: Device, moment: str) -> Q:
    """What happened to each SIM while it was in the device (by its `moment` field): empty when no SIM ever was."""
    windows = Q()
    for sim_id, started, ended in DeviceAssignment.objects.filter(device=device).values_list("sim_id", "started_at", "ended_at"):
        window = Q(sim_id=sim_id, **{f"{moment}__gte": started})
        windows |= window & Q(**{f"{moment}__lt": ended}) if ended else window
    return windows


def list_events(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    """The network events of the SIMs while they were in this endpoint, newest first, paged."""
    _refuse_unknown(set(request.GET), {"page", "per_page"}, what="parameter")
    page, per_page = _paging(request, EVENTS_PER_PAGE)
    device = _device(caller, endpoint_id)
    windows = while_in(device, "at")
    if not windows:
        return _paged(request, [], 0, page, per_page)
    events = NetworkEvent.objects.filter(windows)
    total = events.count()
    offset = (page - 1) * per_page
    rows = list(events.order_by("-at", "-pk")[offset : offset + per_page]) if offset < total else []
    sims = {s["pk"]: s for s in Sim.objects.filter(pk__in={e.sim_id for e in rows}).values("pk", "iccid", "imsi", "created_at")}
    product = device.product
    return _paged(request, [_event_json(e, device, sims.get(e.sim_id), product) for e in rows], total, page, per_page)


def _event_json(event: NetworkEvent, device: Device, sim: Any, product: Any) -> dict[str, Any]:
    type_id, type_description = EVENT_TYPES[NetworkEvent.Kind(event.kind)]
    rejected = event.kind == NetworkEvent.Kind.AUTH_REJECT
    description = NetworkEvent.Kind(event.kind).label
    if event.operator:
        description += f" on {event.operator}"
    if event.rat:
        description += f" ({event.rat})"
    if rejected and event.cause:
        description += f": {event.cause}"
    return {
        "id": event.pk,
        "alert": rejected,
        "description": description + ".",
        "timestamp": _timestamp(event.at),
        "event_type": {"id": type_id, "description": type_description},
        "event_source": NETWORK_SOURCE,
        "event_severity": WARN if rejected else INFO,
        "organisation": {"id": product.pk, "name": product.name},
        "endpoint": {"id": device.pk, "name": device.name or device.device_id, "imei": event.imei or device.imei or None},
        "sim": {"id": event.sim_id, "iccid": sim["iccid"], "production_date": _timestamp(sim["created_at"])} if sim else None,
        "imsi": {"imsi": sim["imsi"]} if sim and sim["imsi"] else None,
        "detail": {"name": event.operator or None, "country": {"iso_code": event.country.code.lower() or None}} if event.operator else None,  # type: ignore[attr-defined]  # a Country
    }


# The operator blacklist. emnify's operator id is written here as its MCC and MNC: 26201 for 262-01.


def _operator_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 5 <= len(text) <= 6 and 200 <= int(text[:3]) <= 799):
        raise ApiError(400, f"{text[:20]!r} is no operator id: give its MCC and MNC as one number, 26201 for 262-01 or 310410 for 310-410.")
    return int(text)


def operator_json(operator_id: int) -> dict[str, Any]:
    code = str(operator_id)
    mcc, mnc = code[:3], code[3:]
    return {"id": operator_id, "name": f"{mcc}-{mnc}", "country": {"mcc": mcc}, "mnc": [{"id": int(mnc), "mnc": mnc}]}


def list_blacklist(request: HttpRequest, caller: Caller, endpoint_id: str) -> HttpResponse:
    device = _device(caller, endpoint_id)
    ids = BlacklistedOperator.objects.filter(device=device).values_list("operator_id", flat=True)
    return JsonResponse([operator_json(i) for i in ids], safe=False)


def add_to_blacklist(request: HttpRequest, caller: Caller, endpoint_id: str, operator_id: str) -> HttpResponse:
    operator = _operator_id(operator_id)
    device = _device(caller, endpoint_id)
    try:
        with transaction.atomic():
            BlacklistedOperator.objects.create(device=device, operator_id=operator)
    except IntegrityError:
        raise ApiError(409, f"The operator {operator} is already in this endpoint's blacklist.", code="already_blacklisted") from None
    return _no_content()


def remove_from_blacklist(request: HttpRequest, caller: Caller, endpoint_id: str, operator_id: str) -> HttpResponse:
    operator = _operator_id(operator_id)
    device = _device(caller, endpoint_id)
    if not BlacklistedOperator.objects.filter(device=device, operator_id=operator).delete()[0]:
        raise ApiError(404, f"The operator {operator} is not in this endpoint's blacklist.")
    return _no_content()


endpoints_endpoint = emnify_view(GET=(Scope.SIMS_LIST, list_endpoints), POST=(Scope.SIMS_UPDATE, create_endpoint))
endpoint_endpoint = emnify_view(
    GET=(Scope.SIMS_GET, get_endpoint), PATCH=(Scope.SIMS_UPDATE, update_endpoint), DELETE=(Scope.SIMS_REMOVE, delete_endpoint)
)
connectivity_endpoint = emnify_view(GET=(Scope.SIMS_GET, get_connectivity), PATCH=(Scope.SIMS_UPDATE, reset_connectivity))
events_endpoint = emnify_view(GET=(Scope.SIMS_GET, list_events))
blacklist_endpoint = emnify_view(GET=(Scope.SIMS_GET, list_blacklist))
blacklisted_operator_endpoint = emnify_view(PUT=(Scope.SIMS_UPDATE, add_to_blacklist), DELETE=(Scope.SIMS_UPDATE, remove_from_blacklist))
