"""emnify's SIM API under /api/v1/ (../shared/API.md), so emnify's Python SDK (emnify-sdk 0.5.3)
works against the console unchanged. Built on the console's domain functions: every status change
goes through the lifecycle as the console's buttons do, and its event names the token.

An application token is an API token from the Tokens page. `POST /api/v1/authenticate` exchanges
it for a short-lived auth token: signed (django.core.signing), carrying the API token's id and
secret hash, so revoking the API token, its expiry, or its creator leaving the product stops the
auth tokens made from it at the next call.

emnify's statuses and the console's states (DESIGN.md):

    0 Issued        issued
    1 Activated     active, and paused (at its data limit: still billed as active, and emnify
                    has no such status: its SIM stays Activated while service is blocked)
    2 Suspended     suspended
    3 Deleted       terminated
    4 Factory Test  provisioned
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api.auth import ApiError, Caller, bearer, caller_for_secret, caller_for_token, with_rate_headers
from api.models import Scope
from api.tokens import find_token_by_hash
from carriers.adapters.base import CarrierUnavailable
from billing.pricing import NoPriceForCountry
from imports.claiming import ClaimRefused, claim_into_product, claim_own_sim, default_country
from imports.claims import NOT_HELD, NOT_HELD_DEVELOPER
from imports.importing import CannotConfirm
from products.models import Product
from sims.developer import activate_own_sim
from sims.iccid import InvalidIccid, validate_iccid
from sims.lifecycle import Action, IllegalTransition, apply_action
from sims.listing import select_sims
from sims.models import Sim, State
from sims.network import carrier_refusal

ISSUED, ACTIVATED, SUSPENDED, DELETED, FACTORY_TEST = 0, 1, 2, 3, 4
DESCRIPTIONS = {ISSUED: "Issued", ACTIVATED: "Activated", SUSPENDED: "Suspended", DELETED: "Deleted", FACTORY_TEST: "Factory Test"}
STATUS_OF_STATE = {
    State.ISSUED: ISSUED,
    State.PROVISIONED: FACTORY_TEST,
    State.ACTIVE: ACTIVATED,
    State.PAUSED: ACTIVATED,
    State.SUSPENDED: SUSPENDED,
    State.TERMINATED: DELETED,
}
STATES_OF_STATUS = {status: [state for state, s in STATUS_OF_STATE.items() if s == status] for status in DESCRIPTIONS}

# What asking for a status does to a SIM in each state; a state missing here is refused with the
# lifecycle's own message. Nothing returns to Issued.
ACTIONS_FOR_STATUS: dict[int, dict[State, Action]] = {
    ACTIVATED: {
        State.ISSUED: Action.ACTIVATE,
        State.PROVISIONED: Action.ACTIVATE,
        State.SUSPENDED: Action.REACTIVATE,
        State.PAUSED: Action.UNPAUSE,
    },
    SUSPENDED: {state: Action.DEACTIVATE for state in State},
    DELETED: {state: Action.TERMINATE for state in State},
    FACTORY_TEST: {state: Action.PROVISION for state in State},
}
# The action whose refusal explains a status change that has no action in this state.
REFUSED_AS = {ACTIVATED: Action.ACTIVATE}

PER_PAGE, MAX_PER_PAGE = 2000, 2500
# The fields an answer shows: a page of 2000 is read as plain rows, not model objects (3x faster).
SIM_FIELDS = ("id", "iccid", "imsi", "msisdn", "created_at", "first_activated_at", "state", "device_id", "device__name", "device__device_id")
LIST_PARAMETERS = {"page", "per_page", "q", "sort"}
FILTERS = ("id", "iccid", "imsi", "msisdn", "status", "production_date", "customer_org", "endpoint")
# emnify's sort fields (emnify.constants.SimSort). Those every SIM of a listing shares (its
# organisations, no model) leave the ICCID order.
SORTS = {"id": "pk", "iccid": "iccid", "status": "status", "production_date": "created_at", "endpoint": "device"}
SHARED_SORTS = {"issuer_org", "reseller_org", "customer_org", "customer_prg", "model"}
ORGANISATION_FIELDS = {"issuer_organisation", "reseller_organisation", "customer_organisation"}

AUTH_SALT = "api.emnify.auth-token"
ERROR_TOKENS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "illegal_status_change",
    429: "too_many_requests",
    503: "service_unavailable",
}


# Answers


def emnify_error(error: ApiError) -> JsonResponse:
    # A conflict names its kind (illegal_status_change, sim_in_use, ...); other errors go by their status.
    token = error.code if error.status == 409 and error.code else ERROR_TOKENS.get(error.status, "error")
    response = JsonResponse({"error_code": error.status, "error_token": token, "message": error.message}, status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def _no_content() -> HttpResponse:
    response = HttpResponse(status=204)
    del response["Content-Type"]  # no body, so no type
    return response


def sim_json(row: dict[str, Any], product: Product | None) -> dict[str, Any]:
    status = STATUS_OF_STATE[State(row["state"])]
    return {
        "id": row["id"],
        "iccid": row["iccid"],
        "imsi": row["imsi"] or None,
        "msisdn": row["msisdn"] or None,
        "production_date": _timestamp(row["created_at"]),
        "activation_date": _timestamp(row["first_activated_at"]),
        "status": {"id": status, "description": DESCRIPTIONS[status]},
        # The device the SIM is in now (an emnify endpoint, api/emnify_endpoints.py).
        "endpoint": {"id": row["device_id"], "name": row["device__name"] or row["device__device_id"]} if row.get("device_id") else None,
        # emnify's organisation is the console's product; a developer's own SIM has none.
        "customer_org": {"id": product.pk, "name": product.name} if product else None,
    }


def sim_row(sim: Sim) -> dict[str, Any]:
    """One SIM as the list reads its rows."""
    device = sim.device
    return {
        **{field: getattr(sim, field) for field in SIM_FIELDS if "__" not in field},
        "device__name": device.name if device else "",
        "device__device_id": device.device_id if device else "",
    }


def _timestamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else None


# Authentication


def issue_auth_token(token) -> str:
    return signing.dumps({"token": token.pk, "hash": token.secret_hash}, salt=AUTH_SALT, compress=False)


def caller_for_auth_token(value: str) -> Caller:
    if not value:
        raise ApiError(401, "No auth token: send Authorization: Bearer <auth_token> from POST /api/v1/authenticate.")
    max_age = timedelta(minutes=settings.API_AUTH_TOKEN_MINUTES)
    try:
        claims = signing.loads(value, salt=AUTH_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ApiError(401, "The auth token expired: authenticate again with the application token.") from None
    except signing.BadSignature:
        raise ApiError(401, "The auth token is not one this console issued: authenticate with an application token.") from None
    token = find_token_by_hash(claims["token"], claims["hash"]) if isinstance(claims, dict) and {"token", "hash"} <= set(claims) else None
    if token is None:
        raise ApiError(401, "The application token behind this auth token is revoked, expired or no longer yours.")
    return caller_for_token(token)


@csrf_exempt
def authenticate(request: HttpRequest) -> HttpResponse:
    """POST {"application_token": ...} -> {"auth_token": ...}: a bad application token is 401."""
    try:
        if request.method != "POST":
            raise ApiError(405, f"{request.method} is not allowed here: use POST.")
        body = _json_body(request)
        if set(body) & {"username", "password", "refresh_token"}:
            raise ApiError(400, "SIM Console signs in with an application_token only: create one on the Tokens page.")
        _refuse_unknown(body, {"application_token"})
        secret = body.get("application_token")
        if not isinstance(secret, str) or not secret:
            raise ApiError(400, "application_token must be a string: an API token from the console's Tokens page.")
        try:
            caller = caller_for_secret(secret)
        except ApiError as error:
            if error.status == 401:
                raise ApiError(401, "The application token is wrong, expired or revoked.") from None
            raise
        return with_rate_headers(JsonResponse({"auth_token": issue_auth_token(caller.token)}), caller)
    except ApiError as error:
        return emnify_error(error)


def emnify_view(**handlers: tuple[str, Callable]) -> Callable:
    """One URL, a handler per method: {"GET": (scope, handler)}. Token first (401), then the method (405)."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        caller = None
        try:
            caller = caller_for_auth_token(bearer(request))
            if request.method not in handlers:
                raise ApiError(405, f"{request.method} is not allowed here: use {', '.join(sorted(handlers))}.")
            scope, handler = handlers[request.method]
            caller.require(scope)
            response = handler(request, caller, **kwargs)
        except ApiError as error:
            response = emnify_error(error)
            if error.status == 405:
                response["Allow"] = ", ".join(sorted(handlers))
        return with_rate_headers(response, caller)

    return view


# Requests


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        raise ApiError(400, "The body is empty: send a JSON object.")
    try:
        body = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, f"The body is not valid JSON ({error}): send a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return body


def _refuse_unknown(fields: dict | set, known: set[str], *, what: str = "field") -> None:
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ApiError(400, f"Unknown {what} {', '.join(unknown)}: this call takes {', '.join(sorted(known))}.")


def _whole_number(text: str, name: str, *, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}.")
    return int(text)


def _sims_of(caller: Caller) -> QuerySet[Sim]:
    """The SIMs the token reaches: its product's, or its creator's own. Checked in the queryset."""
    if caller.token.product_id is not None:
        return Sim.objects.filter(product=caller.token.product_id)
    return Sim.objects.filter(owner_user=caller.token.user_id)


def _sim(caller: Caller, sim_id: str) -> Sim:
    # An id that is no whole number, or out of range, names no SIM.
    found = None
    if sim_id.isascii() and sim_id.isdigit() and 0 < int(sim_id) < 2**63:
        found = _sims_of(caller).select_related("product", "device").filter(pk=int(sim_id)).first()
    if found is None:
        raise ApiError(404, f"There is no SIM {sim_id[:40]} reachable with this token.")
    return found


# The list


def list_sims(request: HttpRequest, caller: Caller) -> HttpResponse:
    _refuse_unknown(set(request.GET), LIST_PARAMETERS, what="parameter")
    page = _whole_number(request.GET.get("page") or "1", "page", low=1, high=10**9)
    per_page = _whole_number(request.GET.get("per_page") or str(PER_PAGE), "per_page", low=1, high=MAX_PER_PAGE)
    sims = _filtered(caller, _filters(request.GET.get("q", "")))
    order = _order(request.GET.get("sort", ""))
    total = sims.count()
    offset = (page - 1) * per_page
    rows = _page(sims, order, offset, per_page) if offset < total else []
    product = caller.token.product  # the product of every SIM listed (None: the creator's own)
    response = JsonResponse([sim_json(row, product) for row in rows], safe=False)
    response["X-Total-Pages"] = str(-(-total // per_page))
    response["X-Total-Count"] = str(total)
    response["X-Current-Page"] = str(page)
    response["X-Count-Per-Page"] = str(per_page)
    return response


def _filters(q: str) -> dict[str, str]:
    """q=field:value,field:value. emnify-sdk 0.5.3 appends "endpoint:null" for SIMs without a device
    with no comma before it (emnify/modules/sim/manager.py, __transform_sim_filter_params): taken apart here."""
    filters: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in q.split(","))):
        field, colon, value = part.partition(":")
        if value.endswith("endpoint:null") and value != "endpoint:null" and field != "endpoint":
            value = value.removesuffix("endpoint:null")
            filters["endpoint"] = "null"
        field = field.strip().lower()
        if not colon or not value.strip():
            raise ApiError(400, f"The filter {part!r} is not field:value: q is a comma-separated list such as status:1,iccid:8901.")
        if field not in FILTERS:
            raise ApiError(400, f"Unknown filter {field}: q filters by {', '.join(FILTERS)}.")
        if field in filters:
            raise ApiError(400, f"The filter {field} is given twice: give each field once.")
        filters[field] = value.strip()
    return filters


def _filtered(caller: Caller, filters: dict[str, str]) -> QuerySet[Sim]:
    product = caller.token.product
    iccid = filters.get("iccid")
    if iccid is not None and not (iccid.isascii() and iccid.isdigit()):
        raise ApiError(400, "iccid must be digits: a whole ICCID, or a part of one.")
    if iccid and product is not None:
        # The SIMs page's search: ICCIDs containing the digits, read by index ranges.
        sims = select_sims(product=product, fragment=iccid).queryset
    else:
        sims = _sims_of(caller)
        if iccid:
            sims = sims.filter(iccid__contains=iccid)
    if "status" in filters:
        status = _whole_number(filters["status"], "status", low=0, high=4)
        sims = sims.filter(state__in=STATES_OF_STATUS[status])
    if "id" in filters:
        sims = sims.filter(pk=_whole_number(filters["id"], "id", low=1, high=2**63 - 1))
    for field in ("imsi", "msisdn"):
        if field in filters:
            if not (filters[field].isascii() and filters[field].isdigit()):
                raise ApiError(400, f"{field} must be digits: a whole {field.upper()}, or a part of one.")
            sims = sims.filter(**{f"{field}__contains": filters[field]})
    if "production_date" in filters:
        try:
            day = datetime.strptime(filters["production_date"], "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise ApiError(400, "production_date must be a date, YYYY-MM-DD.") from None
        sims = sims.filter(created_at__gte=day, created_at__lt=day + timedelta(days=1))
    if "customer_org" in filters:
        org = _whole_number(filters["customer_org"], "customer_org", low=1, high=2**63 - 1)
        if product is None or org != product.pk:
            sims = sims.none()
    if "endpoint" in filters:
        if filters["endpoint"].lower() == "null":
            sims = sims.filter(device__isnull=True)
        else:
            sims = sims.filter(device=_whole_number(filters["endpoint"], "endpoint", low=1, high=2**63 - 1))
    return sims


def _order(sort: str) -> list[Any]:
    """sort=[-]field,... in emnify's names, upper or lower case. emnify-sdk 0.5.3 puts its SimSort
    member itself in the query (emnify/modules/sim/manager.py), which requests sends as "SimSort.iccid"."""
    order: list[Any] = []
    for part in filter(None, (p.strip() for p in sort.split(","))):
        descending = part.startswith("-")
        field = part.lstrip("-+").lower().removeprefix("simsort.")
        if field in SHARED_SORTS:
            continue
        if field not in SORTS:
            raise ApiError(400, f"Unknown sort field {field}: sort by {', '.join([*SORTS, *sorted(SHARED_SORTS - {'customer_prg'})])}, - first for descending.")
        key = SORTS[field]
        if key == "status":
            expression = Case(
                *[When(state=state, then=Value(status)) for state, status in STATUS_OF_STATE.items()], output_field=IntegerField()
            )
            order.append(expression.desc() if descending else expression.asc())
        else:
            order.append(f"-{key}" if descending else key)
        if key in ("pk", "iccid"):
            return order  # unique: nothing after it changes the order
    return [*order, "iccid"]


def _page(sims: QuerySet[Sim], order: list[Any], offset: int, per_page: int) -> list[dict[str, Any]]:
    if order in (["iccid"], ["-iccid"]):
        # The page's ICCIDs come from the (product[, state], iccid) index alone, skipping the rows
        # before the page without reading them; then only the page's rows are read.
        iccids = list(sims.order_by(*order).values_list("iccid", flat=True)[offset : offset + per_page])
        return list(sims.filter(iccid__in=iccids).order_by(*order).values(*SIM_FIELDS))
    return list(sims.order_by(*order).values(*SIM_FIELDS)[offset : offset + per_page])


# One SIM


def get_sim(request: HttpRequest, caller: Caller, id: str) -> HttpResponse:
    sim = _sim(caller, id)
    return JsonResponse(sim_json(sim_row(sim), sim.product))


def update_sim(request: HttpRequest, caller: Caller, id: str) -> HttpResponse:
    """PATCH {"status": {"id": N}}: the status change through the lifecycle, as the console's buttons."""
    body = _json_body(request)
    organisations = sorted(set(body) & ORGANISATION_FIELDS)
    if organisations:
        raise ApiError(400, f"SIM Console does not move SIMs between organisations ({', '.join(organisations)}): send status only.")
    _refuse_unknown(body, {"status"})
    if "status" not in body:
        raise ApiError(400, 'Nothing to change: send {"status": {"id": N}}.')
    status = _status_id(body["status"])
    if status == DELETED:
        caller.require(Scope.SIMS_REMOVE)
    sim = _sim(caller, id)
    _change_status(caller, sim, status)
    return _no_content()


def _status_id(status: Any) -> int:
    if not isinstance(status, dict):
        raise ApiError(400, 'status must be an object: {"id": N}, N one of ' + _statuses() + ".")
    _refuse_unknown(status, {"id", "description"}, what="status field")
    status_id = status.get("id")
    if not isinstance(status_id, int) or isinstance(status_id, bool) or status_id not in DESCRIPTIONS:
        raise ApiError(400, f"status.id must be one of {_statuses()}.")
    if "description" in status and not isinstance(status["description"], str | None):
        raise ApiError(400, "status.description, if given, must be a string.")
    return status_id


def _statuses() -> str:
    return ", ".join(f"{status} {description}" for status, description in DESCRIPTIONS.items())


def _change_status(caller: Caller, sim: Sim, status: int) -> None:
    state = State(sim.state)
    wanted = f"{status} {DESCRIPTIONS[status]}"
    action = ACTIONS_FOR_STATUS.get(status, {}).get(state)
    if action is None and STATUS_OF_STATE[state] == status:
        raise ApiError(409, f"The SIM is {state}: its status is {wanted} already.", code="illegal_status_change")
    if action is None and status == ISSUED:
        raise ApiError(409, f"Cannot change the SIM to {wanted}: the SIM is {state}, and nothing returns to Issued.", code="illegal_status_change")
    action = action or REFUSED_AS[status]
    if (cannot := carrier_refusal(sim, action)) is not None:  # Terminate on Twilio, say: never silently half-done
        raise ApiError(409, cannot, code="carrier_cannot")
    try:
        apply_action(sims=sim, action=action, actor=caller.actor)
    except IllegalTransition as error:
        raise ApiError(409, f"Cannot change the SIM to {wanted}. {error}", code="illegal_status_change") from None


def delete_sim(request: HttpRequest, caller: Caller, id: str) -> HttpResponse:
    """Terminates the SIM: emnify's Deleted, for good."""
    _change_status(caller, _sim(caller, id), DELETED)
    return _no_content()


# Registration: emnify's "register a SIM batch by its BIC" (emnify-sdk: `sims.register_sim(bic=...)`).
# SIM Console has no batches of its own: each SIM is its own batch, and its BIC is its ICCID.


def register_sim_batch(request: HttpRequest, caller: Caller, bic: str) -> HttpResponse:
    """PATCH /api/v1/sim_batch/bic/{bic} {"id": 1} (or {"status": {"id": 1}}): claims the SIM into the token's product
    (an import of that ICCID, run at once) or the developer's own SIMs, and activates it, if the
    product's carrier accounts (a developer's: the built-in carrier) hold it. A SIM not held and
    someone else's SIM answer the same 404, with the same body."""
    body = _json_body(request) if request.body else {}
    # emnify-sdk sends the status itself ({"id": 1, "description": "Activated"}); {"status": {...}} is taken too.
    status = body if "id" in body else body.get("status") if set(body) == {"status"} else None
    if body and status is None:
        _refuse_unknown(body, {"status", "id", "description"})
        raise ApiError(400, 'Send the status to register with: {"id": 1} or {"status": {"id": 1}}.')
    if status is not None and _status_id(status) != ACTIVATED:
        raise ApiError(400, f"Registering a SIM activates it: send status.id {ACTIVATED} ({DESCRIPTIONS[ACTIVATED]}), or no status.")
    try:
        iccid = validate_iccid(bic) if bic.isascii() else None
    except InvalidIccid:
        iccid = None
    if iccid is None:
        raise ApiError(400, "The BIC of a SIM Console SIM is its ICCID: 19 or 20 digits starting with 89.")
    try:
        if caller.token.product_id is None:
            sim = claim_own_sim(user=caller.token.user, iccid=iccid)
            if sim.state in (State.ISSUED, State.PROVISIONED, State.SUSPENDED):
                activate_own_sim(sim=sim, country=sim.home_country.code or "US", actor=caller.actor)  # type: ignore[attr-defined]  # a Country: django-stubs types django-countries' CountryField as a str
        else:
            product = caller.token.product
            assert product is not None  # a product token
            job = claim_into_product(
                product=product, user=caller.token.user, iccid=iccid, token_name=caller.actor.name, country=default_country(product)
            )
            if job.terminated:
                raise ApiError(409, "The SIM is terminated: it can never be activated again.", code="illegal_status_change")
    except ClaimRefused:
        words = NOT_HELD if caller.token.product_id is not None else NOT_HELD_DEVELOPER
        raise ApiError(404, f"No SIM batch with this BIC can be registered with this token. {words}") from None
    except CarrierUnavailable as error:
        raise ApiError(
            503,
            f"The carrier could not be asked whether it holds this SIM ({error}): nothing was registered. Try again in a minute.",
            headers={"Retry-After": "60"},
        ) from None
    except IllegalTransition as error:
        raise ApiError(409, f"Cannot activate the SIM. {error}", code="illegal_status_change") from None
    except (CannotConfirm, NoPriceForCountry) as error:
        raise ApiError(400, f"Cannot register the SIM: {error}") from None
    row = _sims_of(caller).filter(iccid=iccid).values(*SIM_FIELDS).get()
    return JsonResponse([sim_json(row, caller.token.product)], safe=False)


sims_endpoint = emnify_view(GET=(Scope.SIMS_LIST, list_sims))
sim_endpoint = emnify_view(GET=(Scope.SIMS_GET, get_sim), PATCH=(Scope.SIMS_UPDATE, update_sim), DELETE=(Scope.SIMS_REMOVE, delete_sim))
sim_batch_endpoint = emnify_view(PATCH=(Scope.SIMS_IMPORT, register_sim_batch))
