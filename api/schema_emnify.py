"""The OpenAPI 3.1 description of emnify's dialect under /api/v1/ (api/emnify.py, ../shared/API.md).

Plain data, merged with Particle's by api/schema.py: EMNIFY_PATHS are path items, EMNIFY_COMPONENTS
are components by kind. Names of components start with "Emnify" so the two dialects never collide.
Each operation's security requirement lists the token scope it needs, as Particle's do.
"""

from typing import Any

from api.emnify import DESCRIPTIONS, MAX_PER_PAGE, PER_PAGE
from api.models import Scope
from api.schema_particle import RATE_LIMIT_HEADERS

SIMS_TAG = "emnify: SIMs"
AUTH_TAG = "emnify: authentication"


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
                        "`production_date` (YYYY-MM-DD), `customer_org` (the product's id), `endpoint:null`."
                    ),
                    "schema": {"type": "string"},
                    "example": "status:1,iccid:8901260",
                },
                {
                    "name": "sort",
                    "in": "query",
                    "description": (
                        "Fields separated by commas, `-` first for descending: `iccid`, `id`, `status`, "
                        "`production_date` (upper or lower case). `issuer_org`, `reseller_org`, `customer_org`, "
                        "`endpoint` and `model` are the same for every SIM listed, so leave the ICCID order."
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
                "endpoint": {"type": "null", "description": "The device: the console keeps none."},
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
                        "too_many_requests", "service_unavailable",
                    ],
                },
                "message": {"type": "string", "description": "What went wrong and what to do, for a person."},
            },
        },
    },
    "headers": {
        "EmnifyTotalPages": _paging_header("Pages in all (0 when nothing matches). emnify-sdk needs it to page."),
        "EmnifyTotalCount": _paging_header("SIMs matching, on all pages."),
        "EmnifyCurrentPage": _paging_header("This page."),
        "EmnifyCountPerPage": _paging_header("SIMs a page."),
    },
    "responses": {
        "Emnify400": _error_answer("Malformed: bad JSON, an unknown field or filter, a wrong type or value."),
        "Emnify401": _error_answer("No auth token, or an expired or refused one (or, at authenticate, a wrong application token)."),
        "Emnify403": _error_answer("The token lacks the scope this call needs."),
        "Emnify404": _error_answer("No such SIM among the token's."),
        "Emnify503": {
            **_error_answer("The carrier could not be asked whether it holds the SIM: nothing was registered; try again after Retry-After."),
            "headers": {"Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "string"}}},
        },
        "Emnify405": _error_answer("The method is not allowed on this path."),
        "Emnify409": _error_answer("The SIM's state does not allow this change; the message names the state."),
        "Emnify429": _error_answer(
            "Too many requests for this token in its window (10,000 in 5 minutes by default; emnify's own limits are lower).",
            retry_after=True,
        ),
    },
}
