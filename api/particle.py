"""Particle's SIM API under /v1/ (../shared/API.md), on the console's own domain functions:
every change goes through the lifecycle, the data limits and the import job, as a click does."""

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_countries import countries

from api.auth import ApiError, Caller, bearer, caller_for_secret, with_rate_headers
from api.models import Scope
from lib.calendar import billing_period_start
from lib.units import MB
from carriers.adapters.base import CarrierUnavailable
from imports.claiming import ClaimRefused, claim_own_sim
from imports.claims import NOT_HELD, NOT_HELD_DEVELOPER, check_claims
from imports.importing import (
    ALREADY,
    CARRIER_REFUSED,
    NEW,
    TERMINATED,
    CannotConfirm,
    confirm_import,
    count_input,
    importable,
    start_import,
)
from imports.sql import find_sims
from products.fleet import active_sim_count, fleet_usage
from products.models import Product
from sims.developer import NoSuchCountry, activate_own_sim
from sims.iccid import InvalidIccid, validate_iccid
from sims.lifecycle import Action, IllegalTransition, apply_action
from sims.limits import MAX_DATA_LIMIT_MB, change_sims
from sims.listing import select_sims
from sims.models import Sim, SimDailyUsage, SimEvent, State

PER_PAGE, MAX_PER_PAGE = 25, 100
DEVICE_FILTERS = ("deviceId", "deviceName")
MAX_IMPORT_ICCIDS = 10_000
STATUS = {
    State.ISSUED: "never_before_activated",
    State.PROVISIONED: "never_before_activated",
    State.ACTIVE: "active",
    State.PAUSED: "inactive_data_limit_reached",
    State.SUSPENDED: "inactive_user_deactivated",
    State.TERMINATED: "inactive_user_deactivated",
}


def particle_error(error: ApiError) -> JsonResponse:
    if error.status == 401:
        return JsonResponse({"error": "invalid_token", "error_description": error.message}, status=401)
    response = JsonResponse({"ok": False, "error": error.message}, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def particle_view(**handlers: tuple[str, Callable]) -> Callable:
    """One URL, a handler per method: {"GET": (scope, handler)}. Token first (401), then the method (405)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        caller = None
        try:
            caller = caller_for_secret(bearer(request) or request.GET.get("access_token", ""))
            method = "GET" if request.method == "HEAD" and "HEAD" not in handlers else request.method
            if method not in handlers:
                raise ApiError(405, f"{request.method} is not allowed here: use {', '.join(sorted(handlers))}.")
            scope, handler = handlers[method]
            caller.require(scope)
            response = handler(request, caller, **kwargs)
        except ApiError as error:
            response = particle_error(error)
        # Django's own limits on a request, met while reading the query or the body: its default
        # answer is an HTML 400, which Particle's clients cannot read.
        except TooManyFieldsSent:
            response = particle_error(ApiError(400, f"Too many fields in the query or the form (over {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}): send a long list of ICCIDs as JSON."))
        except RequestDataTooBig:
            response = particle_error(ApiError(413, f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1_000_000:.1f} MB: split it."))
        return with_rate_headers(response, caller)

    return view


def body_of(request: HttpRequest, *, allowed: set[str]) -> dict[str, Any]:
    """The JSON (or form-encoded) body, refusing fields this call does not know."""
    if request.content_type == "application/x-www-form-urlencoded":
        body: Any = {key: request.POST.getlist(key) if key == "sims" else request.POST[key] for key in request.POST}
    elif not request.body:
        body = {}
    else:
        try:
            body = json.loads(request.body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ApiError(400, f"The body is not valid JSON ({error}): send a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, f"Unknown field {', '.join(unknown)}: this call takes {', '.join(sorted(allowed)) or 'no body'}.")
    return body


def _mb_limit(body: dict) -> int | None:
    if "mb_limit" not in body or body["mb_limit"] is None:
        return None
    value = body["mb_limit"]
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DATA_LIMIT_MB:
        raise ApiError(400, f"mb_limit must be a whole number of MB, 0 to {MAX_DATA_LIMIT_MB:,} (as in the console).")
    return value


def _country(body: dict) -> str:
    country = body.get("country")
    if not isinstance(country, str) or country.upper() not in countries:
        raise ApiError(400, "country must be the home country as an ISO 3166-1 alpha-2 code, such as US or DE.")
    return country.upper()


def sim_json(sim: Sim, last_action: str | None = None) -> dict[str, Any]:
    device = sim.device if sim.device_id is not None else None
    return {
        "_id": sim.iccid,
        "iccid": sim.iccid,
        "status": STATUS[State(sim.state)],
        "mb_limit": sim.effective_data_limit_mb,
        "base_country_code": sim.home_country.code or None,  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str
        "carrier": "SIM Console",
        "first_activated_on": sim.first_activated_at.isoformat() if sim.first_activated_at else None,
        "last_activated_on": sim.last_activated_at.isoformat() if sim.last_activated_at else None,
        "last_status_change_action": last_action,
        "activations_count": sim.activations_count,
        "deactivations_count": sim.deactivations_count,
        # The device the SIM is in now (Sim.device: select_related("device") where SIMs are listed), null when none.
        "last_device_id": device.device_id if device is not None else None,
        "last_device_name": (device.name or None) if device is not None else None,
        "updated_at": sim.state_changed_at.isoformat(),
        "product_id": sim.product_id,
    }


def _with_last_action(sims):
    last = SimEvent.objects.filter(sim=OuterRef("pk")).order_by("-id").values("action")[:1]
    return sims.annotate(last_action=Subquery(last))


def page_numbers(request: HttpRequest) -> tuple[int, int]:
    try:
        page = int(request.GET.get("page") or 1)
        per_page = int(request.GET.get("per_page") or PER_PAGE)
    except ValueError:
        raise ApiError(400, "page and per_page must be whole numbers.") from None
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(400, f"page starts at 1; per_page is 1 to {MAX_PER_PAGE}.")
    return page, per_page


def _digits(iccid: str) -> str:
    """An ICCID to look up: anything but ASCII digits cannot be one, and is not sent to the
    database (a NUL byte would make PostgreSQL refuse the query)."""
    if not (iccid.isascii() and iccid.isdigit()):
        raise ApiError(404, f"There is no SIM {iccid!r}: an ICCID is 19 or 20 digits.")
    return iccid


def _product_sim(product: Product, iccid: str) -> Sim:
    sim = Sim.objects.select_related("product").filter(product=product, iccid=_digits(iccid)).first()
    if sim is None:
        raise ApiError(404, f"The SIM {iccid} is not in this product.")
    return sim


def _own_sim(caller: Caller, iccid: str) -> Sim:
    caller.own_sims()
    sim = Sim.objects.filter(owner_user=caller.token.user, iccid=_digits(iccid)).first()
    if sim is None:
        raise ApiError(404, f"The SIM {iccid} is not one of your own SIMs.")
    return sim


def refused_claim(caller: Caller) -> ApiError:
    """A claim refused: the same status and words whether another product or person holds the SIM
    or no carrier account does (imports/claims.py), and no ICCID in them to tell two answers apart."""
    words = NOT_HELD if caller.token.product_id is not None else NOT_HELD_DEVELOPER
    return ApiError(403, f"This SIM cannot be claimed with this token. {words}")


def claim_check_unavailable(error: CarrierUnavailable) -> ApiError:
    return ApiError(
        503,
        f"The carrier could not be asked whether it holds this SIM ({error}): nothing was claimed. Try again in a minute.",
        headers={"Retry-After": "60"},
    )


def _held(caller: Caller, iccid: str) -> bool:
    """Whether the token's product's carrier accounts (a developer's: the built-in simulator) hold the ICCID."""
    try:
        return not check_claims(product_id=caller.token.product_id, iccids=[iccid]).refused
    except CarrierUnavailable as error:
        raise claim_check_unavailable(error) from None


def _claim(caller: Caller, iccid: str) -> Sim:
    """The developer's own SIM; one new to the console or waiting in inventory becomes theirs
    (Particle claims a SIM on activation) if the built-in carrier holds it. Someone else's, and one no
    carrier holds, answer the same 403."""
    caller.own_sims()
    try:
        iccid = validate_iccid(iccid)
    except InvalidIccid as error:
        raise ApiError(400, str(error.message)) from None
    try:
        return claim_own_sim(user=caller.token.user, iccid=iccid)
    except ClaimRefused:
        raise refused_claim(caller) from None
    except CarrierUnavailable as error:
        raise claim_check_unavailable(error) from None


def _illegal(error: IllegalTransition) -> ApiError:
    return ApiError(400, f"{error.iccid}: {error}")


# Product SIMs


def list_product_sims(request: HttpRequest, caller: Caller, product: str) -> HttpResponse:
    chosen = caller.product(product)
    page, per_page = page_numbers(request)
    fragment = "".join(ch for ch in request.GET.get("iccid", "") if ch.isdigit())
    selection = select_sims(product=chosen, fragment=fragment)
    device_id, device_name = (request.GET.get(name, "").strip() for name in DEVICE_FILTERS)
    if device_id or device_name:
        # The SIMs in the product's device(s) of that id or name. One that matches none is an empty page, as
        # Particle answers for a device without a SIM (never the whole fleet, whose sims[0] a script would act on).
        queryset = selection.queryset.filter(device__product=chosen)
        if device_id:
            queryset = queryset.filter(device__device_id__iexact=device_id)
        if device_name:
            queryset = queryset.filter(device__name=device_name)
        total = queryset.count()
    else:
        queryset, total = selection.queryset, selection.count()
    offset = (page - 1) * per_page
    # Past the last page there is nothing to fetch; a huge page would overflow the database's OFFSET.
    sims = list(_with_last_action(queryset.select_related("device").order_by("iccid"))[offset : offset + per_page]) if offset < total else []
    for sim in sims:
        sim.product = chosen
    return JsonResponse(
        {"sims": [sim_json(sim, sim.last_action) for sim in sims], "meta": {"total_pages": -(-total // per_page)}}
    )


def import_product_sims(request: HttpRequest, caller: Caller, product: str) -> HttpResponse:
    """Queues the console's import job and answers once it is queued (Particle answers then too)."""
    chosen = caller.product(product)
    body = body_of(request, allowed={"sims", "country"})
    iccids = body.get("sims")
    # A NUL byte is no part of an ICCID, and PostgreSQL cannot store it in the job's text.
    if not isinstance(iccids, list) or not iccids or not all(isinstance(i, str) and "\x00" not in i for i in iccids):
        raise ApiError(400, "sims must be a list of ICCIDs (strings).")
    if len(iccids) > MAX_IMPORT_ICCIDS:
        raise ApiError(400, f"At most {MAX_IMPORT_ICCIDS:,} ICCIDs a call: split the list, or import a file in the console.")
    country = _country(body)
    job = start_import(product=chosen, user=caller.token.user, typed_text="\n".join(iccids), token_name=caller.actor.name)
    count_input(job)
    try:
        confirm_import(job=job, country=country)
    except CannotConfirm as error:
        raise ApiError(400, f"{error} Invalid lines: {job.invalid}.") from None
    return JsonResponse({"ok": True, "import_id": job.pk, "valid": job.valid, "invalid": job.invalid})


def get_product_sim(request: HttpRequest, caller: Caller, product: str, iccid: str) -> HttpResponse:
    sim = _with_last_action(Sim.objects.select_related("product", "device").filter(product=caller.product(product), iccid=_digits(iccid))).first()
    if sim is None:
        raise ApiError(404, f"The SIM {iccid} is not in this product.")
    return JsonResponse(sim_json(sim, sim.last_action))


def update_product_sim(request: HttpRequest, caller: Caller, product: str, iccid: str) -> HttpResponse:
    sim = _product_sim(caller.product(product), iccid)
    _update(caller, sim, body_of(request, allowed={"action", "mb_limit"}))
    return JsonResponse({"ok": True})


def _update(caller: Caller, sim: Sim, body: dict) -> None:
    action, mb_limit = body.get("action"), _mb_limit(body)
    if action not in (None, "deactivate", "reactivate"):
        raise ApiError(400, f"Unknown action {action!r}: use deactivate or reactivate (or send mb_limit alone).")
    if action is None and mb_limit is None:
        raise ApiError(400, "Nothing to do: send an action (deactivate, reactivate) or mb_limit.")
    try:
        if mb_limit is not None:
            change_sims(sims=sim, action=Action.SET_DATA_LIMIT, data_limit_mb=mb_limit, actor=caller.actor, unpause=action == "reactivate")
        if action == "deactivate":
            change_sims(sims=sim, action=Action.DEACTIVATE, actor=caller.actor)
        elif action == "reactivate" and sim.state != State.ACTIVE:
            change_sims(sims=sim, action=Action.REACTIVATE, actor=caller.actor)
    except IllegalTransition as error:
        raise _illegal(error) from None


def remove_product_sim(request: HttpRequest, caller: Caller, product: str, iccid: str) -> HttpResponse:
    sim = _product_sim(caller.product(product), iccid)
    try:
        apply_action(sims=sim, action=Action.REMOVE, actor=caller.actor)
    except IllegalTransition as error:
        raise _illegal(error) from None
    return JsonResponse({"ok": True})


def product_sim_usage(request: HttpRequest, caller: Caller, product: str, iccid: str) -> HttpResponse:
    return JsonResponse(_sim_usage(_product_sim(caller.product(product), iccid)))


def fleet_data_usage(request: HttpRequest, caller: Caller, product: str) -> HttpResponse:
    chosen = caller.product(product)
    usage = fleet_usage(chosen, now=timezone.now())
    days = [(day.day, day.bytes) for day in usage.days if day.bytes is not None]
    return JsonResponse(
        {
            "total_mbs_used": round(usage.bytes / MB, 3),
            "total_active_sim_cards": active_sim_count(chosen),
            "usage_by_day": _by_day(days),
        }
    )


def _sim_usage(sim: Sim) -> dict[str, Any]:
    today = timezone.now().date()
    start = billing_period_start(timezone.now())
    amounts = dict(
        SimDailyUsage.objects.filter(sim=sim, day__gte=start, day__lte=today).values("day").annotate(b=Sum("bytes")).values_list("day", "b")
    )
    days = [(start + timedelta(days=n), amounts.get(start + timedelta(days=n), 0)) for n in range((today - start).days + 1)]
    return {"iccid": sim.iccid, "usage_by_day": _by_day(days)}


def _by_day(days: list[tuple[date, int]]) -> list[dict[str, Any]]:
    rows, total = [], 0
    for day, used in days:
        total += used
        rows.append({"date": day.isoformat(), "mbs_used": round(used / MB, 3), "mbs_used_cumulative": round(total / MB, 3)})
    return rows


# A developer's own SIMs


def list_own_sims(request: HttpRequest, caller: Caller) -> HttpResponse:
    caller.own_sims()
    sims = _with_last_action(Sim.objects.filter(owner_user=caller.token.user).select_related("device").order_by("iccid"))[:MAX_IMPORT_ICCIDS]
    return JsonResponse({"sims": [sim_json(sim, sim.last_action) for sim in sims]})


def check_sim(request: HttpRequest, caller: Caller, iccid: str) -> HttpResponse:
    """204 when the SIM can be imported with this token: into its product, or the caller's account."""
    try:
        iccid = validate_iccid(iccid)
    except InvalidIccid as error:
        raise ApiError(400, str(error.message)) from None
    row = find_sims([iccid], lock=False).get(iccid)
    verdict = importable(row, product_id=caller.token.product_id, user_id=caller.token.user_id)
    if verdict == TERMINATED:
        raise ApiError(403, f"The SIM {iccid} is terminated: it can never be activated again.")
    # Another's SIM and one no carrier account of the token holds: one answer (imports/claims.py).
    if verdict == CARRIER_REFUSED or verdict == NEW and not _held(caller, iccid):
        raise refused_claim(caller)
    if verdict == ALREADY:
        raise ApiError(409, f"The SIM {iccid} is already yours here.")
    return HttpResponse(status=204)


def get_own_sim(request: HttpRequest, caller: Caller, iccid: str) -> HttpResponse:
    sim = _own_sim(caller, iccid)
    return JsonResponse(sim_json(sim, SimEvent.objects.filter(sim=sim).order_by("-id").values_list("action", flat=True).first()))


def update_own_sim(request: HttpRequest, caller: Caller, iccid: str) -> HttpResponse:
    body = body_of(request, allowed={"action", "mb_limit", "country", "promoCode"})
    if body.get("action") == "activate":
        sim = _claim(caller, iccid)
        try:
            activate_own_sim(sim=sim, country=_country(body), actor=caller.actor)
        except NoSuchCountry as error:
            raise ApiError(400, str(error)) from None
        except IllegalTransition as error:
            raise _illegal(error) from None
        return JsonResponse({"ok": True})
    sim = _own_sim(caller, iccid)
    body.pop("country", None), body.pop("promoCode", None)
    _update(caller, sim, body)
    return JsonResponse({"ok": True})


def remove_own_sim(request: HttpRequest, caller: Caller, iccid: str) -> HttpResponse:
    sim = _own_sim(caller, iccid)
    try:
        apply_action(sims=sim, action=Action.REMOVE, actor=caller.actor)
    except IllegalTransition as error:
        raise _illegal(error) from None
    return JsonResponse({"ok": True})


def own_sim_usage(request: HttpRequest, caller: Caller, iccid: str) -> HttpResponse:
    return JsonResponse(_sim_usage(_own_sim(caller, iccid)))


product_sims = particle_view(GET=(Scope.SIMS_LIST, list_product_sims), POST=(Scope.SIMS_IMPORT, import_product_sims))
product_sim = particle_view(
    GET=(Scope.SIMS_GET, get_product_sim), PUT=(Scope.SIMS_UPDATE, update_product_sim), DELETE=(Scope.SIMS_REMOVE, remove_product_sim)
)
product_sim_data_usage = particle_view(GET=(Scope.USAGE_GET, product_sim_usage))
product_fleet_data_usage = particle_view(GET=(Scope.USAGE_GET, fleet_data_usage))
own_sims = particle_view(GET=(Scope.SIMS_LIST, list_own_sims))
own_sim = particle_view(
    HEAD=(Scope.SIMS_GET, check_sim), GET=(Scope.SIMS_GET, get_own_sim), PUT=(Scope.SIMS_UPDATE, update_own_sim),
    DELETE=(Scope.SIMS_REMOVE, remove_own_sim),
)
own_sim_data_usage = particle_view(GET=(Scope.USAGE_GET, own_sim_usage))
