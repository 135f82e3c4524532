"""The OpenAPI 3.1 description of emnify's dialect under /api/v1/ (api/emnify.py, ../shared/API.md).

Plain data, merged with Particle's by api/schema.py: EMNIFY_PATHS are path items, EMNIFY_COMPONENTS
are components by kind. Names of components start with "Emnify" so the two dialects never collide.
Each operation's security requirement lists the token scope it needs, as Particle's do.
"""

from typing import Any

from api.emnify import DESCRIPTIONS, MAX_PER_PAGE, PER_PAGE
from api.emnify_endpoints import CONNECTIVITY, ENDPOINT_STATUSES, EVENTS_PER_PAGE, FILTERS as ENDPOINT_FILTERS, SORTS as ENDPOINT_SORTS
from api.emnify_sms import ADDRESS_TYPES, SMS_PER_PAGE, SMS_STATUSES
from api.models import Scope
from api.schema_particle import RATE_LIMIT_HEADERS

SIMS_TAG = "emnify: SIMs"
AUTH_TAG = "emnify: authentication"
ENDPOINTS_TAG = "emnify: endpoints (devices)"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _errors(*codes: int) -> dict[str, Any]:
    """The answers every call with a token shares (bad token, scope, method, rate limit), plus these."""
    return {str(code): _ref("responses", f"Emnify{code}") for code in sorted({401, 403, 405, 429, *codes})}


def _operation(
    *, op_id: str, summary: str, description: str, scope: str | None, ok: dict[str, Any], errors: dict[str, Any],
    body: dict[str, Any] | None = None, parameters: list[dict[str, Any]] | None = None, tag: str = SIMS_TAG,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
        "security": [{"emnifyAuth": [scope]}] if scope else [],
        "responses": {**ok, **errors},
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


_SIM_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The SIM's id (its `id` in the list), not its ICCID.",
    "schema": {"type": "integer", "minimum": 1},
}
_NO_CONTENT = {"204": {"description": "Done: no body."}}
_STATUS_IDS = ", ".join(f"{status} {description}" for status, description in DESCRIPTIONS.items())


def _paging_header(description: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "integer", "minimum": 0}}


EMNIFY_PATHS: dict[str, Any] = {
    "/api/v1/authenticate": {
        "post": _operation(
            op_id="emnifyAuthenticate",
            tag=AUTH_TAG,
            summary="Exchange an application token for an auth token",
            description=(
                "The application token is an API token from the console's Tokens page. The auth token it buys "
                "is a bearer token for the other calls, good for `API_AUTH_TOKEN_MINUTES` (60 by default) and "
                "only while the application token stays valid: revoking that stops it at once. A call with a "
                "missing, expired or refused auth token answers 401, and emnify-sdk then authenticates again."
            ),
            scope=None,
            body=_ref("schemas", "EmnifyAuthenticateRequest"),
            ok={"200": _json(_ref("schemas", "EmnifyAuthenticateResponse"), "The auth token.")},
            errors={
                "400": _ref("responses", "Emnify400"),
                "401": _ref("responses", "Emnify401"),
                "429": _ref("responses", "Emnify429"),
            },
        )
    },
    "/api/v1/sim": {
        "get": _operation(
            op_id="emnifyListSims",
            summary="List SIMs",
            description=(
                "The SIMs of the token's product (or, for a token made for \"My own SIMs\", its creator's own), "
                "as a bare array, a page at a time; the paging is in the headers. In ICCID order unless `sort` "
                "says otherwise. A SIM paused at its data limit is listed as 1 Activated: it is billed as active, "
                "and emnify has no paused status."
            ),
            scope=Scope.SIMS_LIST,
            parameters=[
                {"name": "page", "in": "query", "description": "The page, from 1.", "schema": {"type": "integer", "minimum": 1, "maximum": 10**9, "default": 1}},
                {
                    "name": "per_page", "in": "query", "description": f"SIMs a page: {PER_PAGE} by default, at most {MAX_PER_PAGE}.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
                },
                {
                    "name": "q",
                    "in": "query",
                    "description": (
                        "Filters, `field:value` separated by commas, each field once: `status` (an id: "
                        f"{_STATUS_IDS}), `iccid`, `imsi`, `msisdn` (digits found anywhere in it), `id`, "
                        "`production_date` (YYYY-MM-DD), `customer_org` (the product's id), `endpoint` (an endpoint's id: "
                        "the SIM in it; `endpoint:null`: SIMs in no device)."
                    ),
                    "schema": {"type": "string"},
                    "example": "status:1,iccid:8901260",
                },
                {
                    "name": "sort",
                    "in": "query",
                    "description": (
                        "Fields separated by commas, `-` first for descending: `iccid`, `id`, `status`, "
                        "`production_date`, `endpoint` (upper or lower case). `issuer_org`, `reseller_org`, `customer_org` "
                        "and `model` are the same for every SIM listed, so leave the ICCID order."
                    ),
                    "schema": {"type": "string"},
                    "example": "-iccid",
                },
            ],
            ok={
                "200": _json(
                    {"type": "array", "items": _ref("schemas", "EmnifySim")},
                    "A page of SIMs.",
                    headers={
                        "X-Total-Pages": _ref("headers", "EmnifyTotalPages"),
                        "X-Total-Count": _ref("headers", "EmnifyTotalCount"),
                        "X-Current-Page": _ref("headers", "EmnifyCurrentPage"),
                        "X-Count-Per-Page": _ref("headers", "EmnifyCountPerPage"),
                    },
                )
            },
            errors=_errors(400),
        )
    },
    "/api/v1/sim/{id}": {
        "parameters": [_SIM_ID],
        "get": _operation(
            op_id="emnifyGetSim",
            summary="One SIM",
            description="A SIM the token reaches; any other id answers 404.",
            scope=Scope.SIMS_GET,
            ok={"200": _json(_ref("schemas", "EmnifySim"), "The SIM.")},
            errors=_errors(404),
        ),
        "patch": _operation(
            op_id="emnifyUpdateSim",
            summary="Change a SIM's status",
            description=(
                "The change goes through the console's lifecycle, as its buttons do, and its event names the "
                "token. 1 Activated activates an Issued or Factory Test SIM, reactivates a Suspended one and "
                "unpauses one paused at its data limit; 2 Suspended deactivates; 4 Factory Test provisions an "
                "Issued SIM; 3 Deleted terminates for good (it needs the sims:remove scope too). Nothing returns "
                "to 0 Issued. A change the SIM's state does not allow answers 409, naming the state."
            ),
            scope=Scope.SIMS_UPDATE,
            body=_ref("schemas", "EmnifySimUpdate"),
            ok=_NO_CONTENT,
            errors=_errors(400, 404, 409),
        ),
        "delete": _operation(
            op_id="emnifyDeleteSim",
            summary="Terminate a SIM",
            description="The SIM becomes 3 Deleted (terminated) for good; it stays listed. A terminated SIM answers 409.",
            scope=Scope.SIMS_REMOVE,
            ok=_NO_CONTENT,
            errors=_errors(404, 409),
        ),
    },
    "/api/v1/sim_batch/bic/{bic}": {
        "parameters": [
            {
                "name": "bic",
                "in": "path",
                "required": True,
                "description": "The batch identification code. SIM Console has no batches: each SIM is its own, and its BIC is its ICCID.",
                "schema": {"type": "string"},
            }
        ],
        "patch": _operation(
            op_id="emnifyRegisterSimBatch",
            summary="Register (claim) a SIM and activate it",
            description=(
                "emnify-sdk: `sims.register_sim(bic=...)`. The SIM joins the token's product (an import of that ICCID, "
                "run at once, with its first month's charge; its home country: the product's latest import's, else US) "
                "or the developer's own SIMs, and is activated, but only if a carrier account of the product (a "
                "developer's: the console's built-in carrier) holds it. A SIM no account holds and someone else's SIM "
                "answer the same 404 with the same body. Registering a SIM already there answers it again. 503: the "
                "carrier could not be asked; nothing was registered."
            ),
            scope=Scope.SIMS_IMPORT,
            body={
                "anyOf": [
                    _ref("schemas", "EmnifySimUpdate"),
                    {
                        "type": "object",
                        "required": ["id"],
                        "properties": {
                            "id": {"type": "integer", "enum": list(DESCRIPTIONS), "description": "1 (Activated): the only status to register with."},
                            "description": {"type": ["string", "null"], "description": "May ride along; ignored."},
                        },
                        "additionalProperties": False,
                        "description": "The status itself, as emnify-sdk sends it.",
                    },
                ]
            },
            ok={"200": _json({"type": "array", "items": _ref("schemas", "EmnifySim")}, "The SIM registered, in a list (a batch of one).")},
            errors=_errors(400, 404, 409, 503),
        ),
    },
}


def _error_answer(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    answer = _json(_ref("schemas", "EmnifyError"), description)
    if retry_after:
        answer["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer", "minimum": 1}},
            **RATE_LIMIT_HEADERS,
        }
    return answer


EMNIFY_COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "emnifyAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <auth_token>`, the auth token from POST /api/v1/authenticate.",
        }
    },
    "schemas": {
        "EmnifyAuthenticateRequest": {
            "type": "object",
            "required": ["application_token"],
            "properties": {"application_token": {"type": "string", "minLength": 1, "description": "An API token from the Tokens page."}},
            "additionalProperties": False,
        },
        "EmnifyAuthenticateResponse": {
            "type": "object",
            "required": ["auth_token"],
            "properties": {"auth_token": {"type": "string", "description": "The bearer token for the other calls."}},
        },
        "EmnifyStatus": {
            "type": "object",
            "required": ["id", "description"],
            "properties": {
                "id": {"type": "integer", "enum": list(DESCRIPTIONS)},
                "description": {"type": "string", "enum": list(DESCRIPTIONS.values())},
            },
            "description": _STATUS_IDS + " (Factory Test is the console's provisioned).",
        },
        "EmnifyOrganisation": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            "description": "The console's product that owns the SIM.",
        },
        "EmnifySim": {
            "type": "object",
            "required": ["id", "iccid", "imsi", "msisdn", "production_date", "activation_date", "status", "endpoint", "customer_org"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "iccid": {"type": "string", "pattern": "^[0-9]+$"},
                "imsi": {"type": ["string", "null"]},
                "msisdn": {"type": ["string", "null"]},
                "production_date": {"type": "string", "format": "date-time", "description": "When the SIM came into the console."},
                "activation_date": {"type": ["string", "null"], "format": "date-time", "description": "Its first activation."},
                "status": _ref("schemas", "EmnifyStatus"),
                "endpoint": {
                    "anyOf": [
                        {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                        {"type": "null"},
                    ],
                    "description": "The endpoint (device) the SIM is in now; null: in none.",
                },
                "customer_org": {"anyOf": [_ref("schemas", "EmnifyOrganisation"), {"type": "null"}], "description": "null for a developer's own SIM."},
            },
        },
        "EmnifySimUpdate": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": {"type": "integer", "enum": list(DESCRIPTIONS), "description": _STATUS_IDS},
                        "description": {"type": ["string", "null"], "description": "May ride along; ignored."},
                    },
                    "additionalProperties": False,
                }
            },
            "additionalProperties": False,
        },
        "EmnifyError": {
            "type": "object",
            "required": ["error_code", "error_token", "message"],
            "properties": {
                "error_code": {"type": "integer", "description": "The HTTP status."},
                "error_token": {
                    "type": "string",
                    "enum": [
                        "invalid_request", "unauthorized", "forbidden", "not_found", "method_not_allowed", "illegal_status_change",
                        "sim_in_use", "no_sim", "already_blacklisted", "carrier_cannot", "endpoint_disabled", "sms_not_cancelable",
                        "too_many_requests", "service_unavailable",
                    ],
                },
                "message": {"type": "string", "description": "What went wrong and what to do, for a person."},
            },
        },
    },
    "headers": {
        "EmnifyTotalPages": _paging_header("Pages in all (0 when nothing matches). emnify-sdk needs it to page."),
        "EmnifyTotalCount": _paging_header("Items matching, on all pages."),
        "EmnifyCurrentPage": _paging_header("This page."),
        "EmnifyCountPerPage": _paging_header("Items a page."),
    },
    "responses": {
        "Emnify400": _error_answer("Malformed: bad JSON, an unknown field or filter, a wrong type or value."),
        "Emnify401": _error_answer("No auth token, or an expired or refused one (or, at authenticate, a wrong application token)."),
        "Emnify403": _error_answer("The token lacks the scope this call needs."),
        "Emnify404": _error_answer("No such SIM or endpoint among the token's (another product's answers the same)."),
        "Emnify503": {
            **_error_answer("The carrier could not be asked whether it holds the SIM: nothing was registered; try again after Retry-After."),
            "headers": {"Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "string"}}},
        },
        "Emnify405": _error_answer("The method is not allowed on this path."),
        "Emnify409": _error_answer(
            "The state does not allow this change (error_token says which conflict: illegal_status_change, sim_in_use, no_sim, "
            "already_blacklisted, carrier_cannot, endpoint_disabled, sms_not_cancelable); the message names the state."
        ),
        "Emnify429": _error_answer(
            "Too many requests for this token in its window (10,000 in 5 minutes by default; emnify's own limits are lower).",
            retry_after=True,
        ),
    },
}


# The endpoint resource (api/emnify_endpoints.py): an emnify endpoint is the console's device.

_ENDPOINT_ID = {
    "name": "endpoint_id",
    "in": "path",
    "required": True,
    "description": "The endpoint's id (its `id` in the list): a device of the token's product.",
    "schema": {"type": "integer", "minimum": 1},
}
_ENDPOINT_STATUS_IDS = ", ".join(f"{status} {description}" for status, description in ENDPOINT_STATUSES.items())
_PAGING_HEADERS = {
    "X-Total-Pages": _ref("headers", "EmnifyTotalPages"),
    "X-Total-Count": _ref("headers", "EmnifyTotalCount"),
    "X-Current-Page": _ref("headers", "EmnifyCurrentPage"),
    "X-Count-Per-Page": _ref("headers", "EmnifyCountPerPage"),
}


def _paging(default: int) -> list[dict[str, Any]]:
    return [
        {"name": "page", "in": "query", "description": "The page, from 1.", "schema": {"type": "integer", "minimum": 1, "maximum": 10**9, "default": 1}},
        {
            "name": "per_page", "in": "query", "description": f"Items a page: {default} by default, at most {MAX_PER_PAGE}.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": default},
        },
    ]


def _endpoint_operation(**kwargs: Any) -> dict[str, Any]:
    return _operation(tag=ENDPOINTS_TAG, **kwargs)


EMNIFY_PATHS.update(
    {
        "/api/v1/endpoint": {
            "get": _endpoint_operation(
                op_id="emnifyListEndpoints",
                summary="List endpoints (devices)",
                description=(
                    "The devices of the token's product as emnify endpoints, a bare array a page at a time (paging in the "
                    "headers), by id unless `sort` says otherwise. A token for \"My own SIMs\" reaches no endpoint: its list "
                    "is empty. emnify-sdk: `devices.get_devices_list(filter_model=..., sort_enum=...)`."
                ),
                scope=Scope.SIMS_LIST,
                parameters=[
                    *_paging(PER_PAGE),
                    {
                        "name": "q", "in": "query", "schema": {"type": "string"}, "example": "status:0,name:tracker",
                        "description": (
                            f"Filters, `field:value` separated by commas, each once: {', '.join(f'`{f}`' for f in ENDPOINT_FILTERS)}. "
                            f"`status` is {_ENDPOINT_STATUS_IDS}; `sim_status` the status of the SIM in it; `name`, `imei`, "
                            "`iccid` match a part; `tags` every tag given (separated by `;`); `created` and `last_updated` "
                            "(a date, or a date and time) match endpoints since then."
                        ),
                    },
                    {
                        "name": "sort", "in": "query", "schema": {"type": "string"}, "example": "-created",
                        "description": f"Fields separated by commas, `-` first for descending: {', '.join(f'`{f}`' for f in ENDPOINT_SORTS)} (upper or lower case).",
                    },
                ],
                ok={"200": _json({"type": "array", "items": _ref("schemas", "EmnifyEndpoint")}, "A page of endpoints.", headers=_PAGING_HEADERS)},
                errors=_errors(400),
            ),
            "post": _endpoint_operation(
                op_id="emnifyCreateEndpoint",
                summary="Create an endpoint",
                description=(
                    "Makes a device in the token's product (its device ID generated: 24 hex characters). `sim` puts a SIM "
                    "of the product in it (one in another endpoint answers 409 sim_in_use); with `\"activate\": true` or "
                    "`\"status\": {\"id\": 1}` the SIM is activated too, through the lifecycle. Answers 201 with the new "
                    "endpoint's address in `Location` and no body (emnify-sdk reads the id from it). A token for \"My own "
                    "SIMs\" answers 403: endpoints belong to a product."
                ),
                scope=Scope.SIMS_UPDATE,
                body=_ref("schemas", "EmnifyEndpointWrite"),
                ok={
                    "201": {
                        "description": "Created: no body.",
                        "headers": {"Location": {"description": "/api/v1/endpoint/{id}", "required": True, "schema": {"type": "string"}}},
                    }
                },
                errors=_errors(400, 404, 409),
            ),
        },
        "/api/v1/endpoint/{endpoint_id}": {
            "parameters": [_ENDPOINT_ID],
            "get": _endpoint_operation(
                op_id="emnifyGetEndpoint",
                summary="One endpoint",
                description="The endpoint with its SIM whole (as `GET /api/v1/sim/{id}` answers it). Another product's endpoint answers 404.",
                scope=Scope.SIMS_GET,
                ok={"200": _json(_ref("schemas", "EmnifyEndpointDetails"), "The endpoint.")},
                errors=_errors(404),
            ),
            "patch": _endpoint_operation(
                op_id="emnifyUpdateEndpoint",
                summary="Change an endpoint, its status, or its SIM",
                description=(
                    "Any of the fields. `status` Enabled or Disabled (emnify-sdk's `change_status` then changes the SIM's "
                    "status with its own call). `sim: {\"id\": N}` puts SIM N in the endpoint (the SIM there before leaves it; "
                    "the history is kept), `sim: {\"id\": null}` takes its SIM out: emnify-sdk's `assign_sim` and `release_sim`."
                ),
                scope=Scope.SIMS_UPDATE,
                body=_ref("schemas", "EmnifyEndpointUpdate"),
                ok=_NO_CONTENT,
                errors=_errors(400, 404, 409),
            ),
            "delete": _endpoint_operation(
                op_id="emnifyDeleteEndpoint",
                summary="Delete an endpoint",
                description="The device is deleted; its SIM stays in the product, in no device, in its state.",
                scope=Scope.SIMS_REMOVE,
                ok=_NO_CONTENT,
                errors=_errors(404),
            ),
        },
        "/api/v1/endpoint/{endpoint_id}/connectivity": {
            "parameters": [_ENDPOINT_ID],
            "get": _endpoint_operation(
                op_id="emnifyGetEndpointConnectivity",
                summary="Connectivity status",
                description=(
                    "From the network events of the endpoint's SIM: ONLINE (in a data session), ATTACHED (on the network), "
                    "OFFLINE (detached, never seen, or no SIM), BLOCKED (the endpoint disabled, or its SIM not active)."
                ),
                scope=Scope.SIMS_GET,
                ok={"200": _json(_ref("schemas", "EmnifyConnectivity"), "Where the endpoint stands with the network.")},
                errors=_errors(404),
            ),
            "patch": _endpoint_operation(
                op_id="emnifyResetEndpointConnectivity",
                summary="Reset connectivity",
                description=(
                    "`{\"location\": null}` resets the network registration (a fresh attach), `{\"pdp_context\": null}` the "
                    "data session: recorded on the SIM's connectivity (`reset_requested_at`) until its next attach. An "
                    "endpoint without a SIM answers 409 no_sim; a SIM that is not active, 409 illegal_status_change."
                ),
                scope=Scope.SIMS_UPDATE,
                body=_ref("schemas", "EmnifyConnectivityReset"),
                ok=_NO_CONTENT,
                errors=_errors(400, 404, 409),
            ),
        },
        "/api/v1/endpoint/{endpoint_id}/event": {
            "parameters": [_ENDPOINT_ID],
            "get": _endpoint_operation(
                op_id="emnifyListEndpointEvents",
                summary="The endpoint's events",
                description=(
                    "The network events of each SIM while it was in this endpoint, newest first, paged, as emnify's event "
                    "objects: attach is 2 Update GPRS location, a location update 1 Update location, detach 16 Purge GPRS "
                    "location, a data session's start and end 3 Create and 5 Delete PDP Context, a reject 1 Update location "
                    "with `alert` true, severity Warn and the network's cause in the description."
                ),
                scope=Scope.SIMS_GET,
                parameters=_paging(EVENTS_PER_PAGE),
                ok={"200": _json({"type": "array", "items": _ref("schemas", "EmnifyEvent")}, "A page of events.", headers=_PAGING_HEADERS)},
                errors=_errors(400, 404),
            ),
        },
        "/api/v1/endpoint/{endpoint_id}/operator_blacklist": {
            "parameters": [_ENDPOINT_ID],
            "get": _endpoint_operation(
                op_id="emnifyListOperatorBlacklist",
                summary="The operator blacklist",
                description="The operators the endpoint's SIM must not use, in id order.",
                scope=Scope.SIMS_GET,
                ok={"200": _json({"type": "array", "items": _ref("schemas", "EmnifyOperator")}, "The blacklisted operators.")},
                errors=_errors(404),
            ),
        },
        "/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}": {
            "parameters": [
                _ENDPOINT_ID,
                {
                    "name": "operator_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 20000, "maximum": 799999},
                    "description": "The operator's MCC and MNC as one number: 26201 for 262-01, 310410 for 310-410.",
                },
            ],
            "put": _endpoint_operation(
                op_id="emnifyAddToOperatorBlacklist",
                summary="Blacklist an operator",
                description="Kept per endpoint. One already there answers 409 already_blacklisted.",
                scope=Scope.SIMS_UPDATE,
                ok=_NO_CONTENT,
                errors=_errors(400, 404, 409),
            ),
            "delete": _endpoint_operation(
                op_id="emnifyRemoveFromOperatorBlacklist",
                summary="Take an operator off the blacklist",
                description="One not on the list answers 404.",
                scope=Scope.SIMS_UPDATE,
                ok=_NO_CONTENT,
                errors=_errors(400, 404),
            ),
        },
    }
)

_ID_OBJECT = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
_WHOLE = {"type": "number", "multipleOf": 1, "description": "A whole number (emnify-sdk sends 0.0)."}
_NAMED = {"type": "object", "required": ["id", "description"], "properties": {"id": {"type": "integer"}, "description": {"type": "string"}}}
_ENDPOINT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer", "minimum": 1},
    "name": {"type": "string", "description": "The device's name (its device ID when it has none)."},
    "tags": {"type": ["string", "null"], "description": "The device's tags, separated by commas."},
    "created": {"type": "string", "format": "date-time"},
    "last_updated": {"type": "string", "format": "date-time"},
    "status": {
        "type": "object", "required": ["id", "description"],
        "properties": {"id": {"type": "integer", "enum": [0, 1]}, "description": {"type": "string", "enum": ["Enabled", "Disabled"]}},
    },
    "service_profile": {**_ID_OBJECT, "description": "Kept and answered back: the console has no service profiles."},
    "tariff_profile": {**_ID_OBJECT, "description": "Kept and answered back: the product's pricing applies."},
    "ip_address": {"type": ["string", "null"]},
    "ip_address_space": {"type": "null"},
    "imei": {"type": ["string", "null"]},
    "imei_lock": {"type": "boolean", "description": "Kept and answered back."},
}
_ENDPOINT_REQUIRED = ["id", "name", "tags", "created", "last_updated", "status", "service_profile", "tariff_profile", "ip_address", "imei", "imei_lock", "sim"]
_WRITE_PROPERTIES: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "tags": {"type": ["string", "null"], "description": "Tags separated by commas."},
    "status": {
        "type": "object", "required": ["id"],
        "properties": {"id": {**_WHOLE, "enum": [0, 1]}, "description": {"type": ["string", "null"]}},
        "description": _ENDPOINT_STATUS_IDS + ": 2 is DELETE's.",
    },
    "service_profile": {"type": ["object", "null"], "properties": {"id": _WHOLE}},
    "tariff_profile": {"type": ["object", "null"], "properties": {"id": _WHOLE}},
    "ip_address_space": {"type": ["object", "null"], "properties": {"id": _WHOLE}, "description": "Taken, not kept."},
    "ip_address": {"type": ["string", "null"], "maxLength": 45},
    "imei": {"type": ["string", "null"], "pattern": "^([0-9]{14,16})?$"},
    "imei_lock": {"type": "boolean"},
    "sim": {
        "type": ["object", "null"],
        "properties": {
            "id": {"type": ["number", "null"], "description": "A SIM of the product; null takes the SIM out."},
            "activate": {"type": ["boolean", "null"]},
            "status": {"type": ["object", "null"]},
        },
    },
}
EMNIFY_COMPONENTS["schemas"].update(
    {
        "EmnifyEndpoint": {
            "type": "object",
            "required": _ENDPOINT_REQUIRED,
            "properties": {
                **_ENDPOINT_PROPERTIES,
                "sim": {
                    "anyOf": [
                        {
                            "type": "object", "required": ["id", "iccid", "imsi", "msisdn", "status"],
                            "properties": {
                                "id": {"type": "integer"}, "iccid": {"type": "string"}, "imsi": {"type": ["string", "null"]},
                                "msisdn": {"type": ["string", "null"]}, "status": _ref("schemas", "EmnifyStatus"),
                            },
                        },
                        {"type": "null"},
                    ],
                    "description": "The SIM in the endpoint now.",
                },
            },
        },
        "EmnifyEndpointDetails": {
            "type": "object",
            "required": [*_ENDPOINT_REQUIRED, "runtime_data"],
            "properties": {
                **_ENDPOINT_PROPERTIES,
                "sim": {"anyOf": [_ref("schemas", "EmnifySim"), {"type": "null"}], "description": "The SIM in the endpoint now, whole."},
                "runtime_data": {"type": "null"},
            },
        },
        "EmnifyEndpointWrite": {
            "type": "object",
            "required": ["name"],
            "properties": {
                **_WRITE_PROPERTIES,
                "id": {"description": "Ignored (emnify-sdk may send its model whole)."},
                "created": {"description": "Ignored."},
                "last_updated": {"description": "Ignored."},
                "runtime_data": {"description": "Ignored."},
            },
            "additionalProperties": False,
        },
        "EmnifyEndpointUpdate": {"type": "object", "minProperties": 1, "properties": _WRITE_PROPERTIES, "additionalProperties": False},
        "EmnifyConnectivity": {
            "type": "object",
            "required": ["status", "location", "pdp_context", "services", "offline_since", "reset_requested_at"],
            "properties": {
                "status": {
                    "type": "object", "required": ["id", "description"],
                    "properties": {
                        "id": {"type": "integer", "enum": list(CONNECTIVITY)},
                        "description": {"type": "string", "enum": list(CONNECTIVITY.values())},
                    },
                },
                "location": {
                    "type": ["object", "null"],
                    "description": "The network it is on (attached or online): operator, country, radio, when last heard of.",
                },
                "pdp_context": {"type": ["object", "null"], "description": "The data session, when online: its start_time."},
                "services": {"type": ["array", "null"], "items": {"type": "string"}},
                "offline_since": {"type": ["string", "null"], "format": "date-time"},
                "reset_requested_at": {"type": ["string", "null"], "format": "date-time", "description": "The last reset asked, until the next attach."},
            },
        },
        "EmnifyConnectivityReset": {
            "type": "object",
            "minProperties": 1,
            "properties": {"location": {"type": "null"}, "pdp_context": {"type": "null"}},
            "additionalProperties": False,
        },
        "EmnifyEvent": {
            "type": "object",
            "required": ["id", "alert", "description", "timestamp", "event_type", "event_source", "event_severity", "organisation", "endpoint", "sim", "imsi", "detail"],
            "properties": {
                "id": {"type": "integer"},
                "alert": {"type": "boolean"},
                "description": {"type": "string"},
                "timestamp": {"type": "string", "format": "date-time"},
                "event_type": _NAMED,
                "event_source": _NAMED,
                "event_severity": _NAMED,
                "organisation": _ref("schemas", "EmnifyOrganisation"),
                "endpoint": {"type": "object"},
                "sim": {"type": ["object", "null"]},
                "imsi": {"type": ["object", "null"]},
                "detail": {"type": ["object", "null"], "description": "The operator and its country."},
            },
        },
        "EmnifyOperator": {
            "type": "object",
            "required": ["id", "name", "country", "mnc"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string", "description": "MCC-MNC."},
                "country": {"type": "object", "properties": {"mcc": {"type": "string"}, "iso_code": {"type": ["string", "null"]}}},
                "mnc": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "mnc": {"type": "string"}}}},
            },
        },
    }
)


# The endpoint's SMS (api/emnify_sms.py), as emnify publishes them.

_SMS_STATUS_IDS = ", ".join(f"{status} {description}" for status, description in SMS_STATUSES.items())
_SMS_ID = {
    "name": "sms_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1},
    "description": "The SMS's id (its `id` in the endpoint's list).",
}
EMNIFY_PATHS.update(
    {
        "/api/v1/endpoint/{endpoint_id}/sms": {
            "parameters": [_ENDPOINT_ID],
            "get": _endpoint_operation(
                op_id="emnifyListEndpointSms",
                summary="The endpoint's SMS",
                description=(
                    "The SMS to and from each SIM while it was in this endpoint, newest first, paged (emnify-sdk's "
                    f"`devices.get_device_sms_list` reads the first page only, {SMS_PER_PAGE} SMS). Statuses: {_SMS_STATUS_IDS}. "
                    "Queued and not yet handed to the carrier is 1; queued again after the carrier was unavailable or asked to "
                    "slow down is 3, with `retry_count` and `retry_date`; taken by the carrier, 2; an SMS from the device "
                    "(`sms_type` 2 MO) is 4. The console keeps no expiry: never 6."
                ),
                scope=Scope.SIMS_GET,
                parameters=_paging(SMS_PER_PAGE),
                ok={"200": _json({"type": "array", "items": _ref("schemas", "EmnifySms")}, "A page of SMS.", headers=_PAGING_HEADERS)},
                errors=_errors(400, 404),
            ),
            "post": _endpoint_operation(
                op_id="emnifySendEndpointSms",
                summary="Send an SMS to the endpoint",
                description=(
                    "One SMS to the SIM in the endpoint, through the console's SMS path: recorded queued now, handed to the "
                    "SIM's carrier by the SMS worker at the carrier's pace. One SMS: 160 characters of the GSM alphabet, 70 "
                    "with others. Answers 201 with the SMS's address in `Location` and no body (emnify-sdk's "
                    "`devices.send_sms` answers True). An endpoint with no SIM answers 409 no_sim; a disabled endpoint, "
                    "409 endpoint_disabled; a SIM that is not active, 409 illegal_status_change; a carrier account that "
                    "sends no SMS through the console, 409 carrier_cannot."
                ),
                scope=Scope.SIMS_UPDATE,
                body=_ref("schemas", "EmnifySmsSend"),
                ok={
                    "201": {
                        "description": "Queued: no body.",
                        "headers": {"Location": {"description": "/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", "required": True, "schema": {"type": "string"}}},
                    }
                },
                errors=_errors(400, 404, 409),
            ),
        },
        "/api/v1/endpoint/{endpoint_id}/sms/{sms_id}": {
            "parameters": [_ENDPOINT_ID, _SMS_ID],
            "get": _endpoint_operation(
                op_id="emnifyGetEndpointSms",
                summary="One SMS",
                description="One SMS of the endpoint, as the list has it. Another endpoint's SMS answers 404.",
                scope=Scope.SIMS_GET,
                ok={"200": _json(_ref("schemas", "EmnifySms"), "The SMS.")},
                errors=_errors(404),
            ),
            "delete": _endpoint_operation(
                op_id="emnifyCancelEndpointSms",
                summary="Cancel an SMS",
                description=(
                    "Cancels an SMS still waiting for the carrier (status 1 or 3): it becomes 7 Canceled and is never sent. "
                    "One the carrier took already, or a worker is handing over now, answers 409 sms_not_cancelable."
                ),
                scope=Scope.SIMS_UPDATE,
                ok={"200": _json({"type": "object", "maxProperties": 0}, "Canceled: an empty object.")},
                errors=_errors(404, 409),
            ),
        },
    }
)

_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
EMNIFY_COMPONENTS["schemas"].update(
    {
        "EmnifySms": {
            "type": "object",
            "required": [
                "id", "submit_date", "delivery_date", "expiry_date", "final_date", "retry_date", "last_delivery_attempt", "retry_count",
                "gsm_map_error", "dcs", "pid", "source_address", "source_address_type", "endpoint", "sim_id", "iccid", "msisdn", "imsi",
                "msc", "udh", "payload", "status", "sms_type",
            ],
            "properties": {
                "id": {"type": "integer"},
                "submit_date": {"type": "string", "format": "date-time"},
                "delivery_date": {**_TIME_OR_NULL, "description": "Delivered to the device (MT), or reached the carrier (MO)."},
                "expiry_date": {"type": "null", "description": "The console keeps no expiry."},
                "final_date": {**_TIME_OR_NULL, "description": "When it was delivered, failed or was canceled."},
                "retry_date": {**_TIME_OR_NULL, "description": "Buffered: when it is tried again."},
                "last_delivery_attempt": {**_TIME_OR_NULL, "description": "When the carrier took it."},
                "retry_count": {"type": "integer", "minimum": 0},
                "gsm_map_error": {"type": ["string", "null"], "description": "Why it failed, or why it is still buffered."},
                "dcs": {"type": "integer", "enum": [0, 8], "description": "0 GSM 7-bit, 8 UCS-2: as the text needs."},
                "pid": {"type": "integer"},
                "source_address": {"type": ["string", "null"], "description": "From the device: its MSISDN. To it: null (the carrier's sender)."},
                "source_address_type": {"anyOf": [_NAMED, {"type": "null"}]},
                "endpoint": {"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                "sim_id": {"type": "string"},
                "iccid": {"type": "string"},
                "msisdn": {"type": ["string", "null"]},
                "imsi": {"type": ["string", "null"]},
                "msc": {"type": "null"},
                "udh": {"type": "null"},
                "payload": {"type": "string"},
                "status": {
                    "type": "object", "required": ["id", "description"], "description": _SMS_STATUS_IDS,
                    "properties": {"id": {"type": "integer", "enum": list(SMS_STATUSES)}, "description": {"type": "string", "enum": list(SMS_STATUSES.values())}},
                },
                "sms_type": {
                    "type": "object", "required": ["id", "description"],
                    "properties": {"id": {"type": "integer", "enum": [1, 2]}, "description": {"type": "string", "enum": ["MT", "MO"]}},
                },
            },
        },
        "EmnifySmsSend": {
            "type": "object",
            "required": ["payload"],
            "properties": {
                "payload": {"type": "string", "minLength": 1, "description": "One SMS: 160 GSM characters, or 70 with others."},
                "source_address": {
                    "type": "string", "maxLength": 16,
                    "description": "The sender: a number of up to 15 digits, or up to 11 letters with type 208. Checked, not kept: the carrier sends from its own.",
                },
                "source_address_type": {
                    "type": "object", "required": ["id"],
                    "properties": {"id": {"type": "integer", "enum": list(ADDRESS_TYPES)}},
                    "description": ", ".join(f"{i} {name}" for i, name in ADDRESS_TYPES.items()) + ".",
                },
                "expiry_date": {"type": "string", "format": "date-time", "description": "In the future. Checked, not kept."},
                "dcs": {"type": "integer", "enum": [0, 8], "description": "Taken; the console encodes as the text needs."},
                "udh": {"type": "null", "description": "Concatenated SMS are not supported: a udh answers 400."},
                "dest_address": {"type": "null", "description": "Not supported: a dest_address answers 400."},
            },
            "additionalProperties": False,
        },
    }
)

EMNIFY_PATHS["/api/v1/operator"] = {
    "get": _endpoint_operation(
        op_id="emnifyListOperators",
        summary="Operators",
        description=(
            "The networks the console knows of for the token, in id order: those its SIMs are on now (from their "
            "connectivity) and those in its endpoints' blacklists. An operator's id is its MCC and MNC as one number "
            "(26201 for 262-01), as the blacklist takes it. emnify-sdk: `operator.get_operators()`."
        ),
        scope=Scope.SIMS_LIST,
        ok={"200": _json({"type": "array", "items": _ref("schemas", "EmnifyOperator")}, "The operators.")},
        errors=_errors(400),
    )
}
