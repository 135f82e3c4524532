"""The OpenAPI description of Particle's dialect under /v1/ (api/particle.py, ../shared/API.md).

Plain data, merged with the emnify dialect's by api/schema.py. Names of components start with
"Particle" so the two dialects never collide. Each operation's security requirement lists the token
scope it needs (OpenAPI 3.1 lets a non-OAuth scheme carry role names there); the docs page shows it.
"""

from typing import Any

from api.models import Scope
from sims.limits import MAX_DATA_LIMIT_MB

SIM_STATUSES = ["active", "never_before_activated", "inactive_user_deactivated", "inactive_data_limit_reached"]
EXAMPLE_ICCID = "89012600000000000011"
# Sent with every answer to a request with a live token (both dialects); a 429 adds Retry-After.
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "X-RateLimit-Limit": {"description": "Requests the token may make in each window.", "schema": {"type": "string"}},
    "X-RateLimit-Remaining": {"description": "Requests left in this window.", "schema": {"type": "string"}},
    "X-RateLimit-Reset": {"description": "When this window closes, a Unix time in seconds.", "schema": {"type": "string"}},
}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("schemas", schema_name)}}}


def _security(scope: str) -> list[dict[str, list[str]]]:
    # Either way of presenting the token works; both need the scope.
    return [{"particleAuth": [scope]}, {"particleAccessToken": [scope]}]


def _errors(*codes: int) -> dict[str, Any]:
    """The error answers every call shares (bad token, scope, rate limit), plus the given ones."""
    wanted = sorted({401, 403, 405, 429, *codes})
    return {str(code): _ref("responses", f"Particle{code}") for code in wanted}


def _operation(
    *, op_id: str, summary: str, description: str, scope: str, ok: dict[str, Any], errors: tuple[int, ...] = (),
    body: dict[str, Any] | None = None, parameters: list[dict[str, Any]] | None = None, tag: str,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
        "security": _security(scope),
        "responses": {**ok, **_errors(*errors)},
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
        operation["responses"]["413"] = _ref("responses", "Particle413")
    return operation


def _body(schema_name: str, *, required: bool = True) -> dict[str, Any]:
    schema = _ref("schemas", schema_name)
    return {
        "required": required,
        "description": "JSON; a form-encoded body with the same fields is accepted too.",
        "content": {"application/json": {"schema": schema}, "application/x-www-form-urlencoded": {"schema": schema}},
    }


OK = {"200": _json("ParticleOk", "Done.")}
PRODUCT_TAG, OWN_TAG = "Particle: a product's SIMs", "Particle: my own SIMs"
PRODUCT, ICCID = _ref("parameters", "ParticleProduct"), _ref("parameters", "ParticleIccid")

PARTICLE_PATHS: dict[str, Any] = {
    "/v1/products/{product}/sims": {
        "parameters": [PRODUCT],
        "get": _operation(
            op_id="particleListProductSims", tag=PRODUCT_TAG, scope=Scope.SIMS_LIST,
            summary="List a product's SIMs",
            description="The product's SIMs in ICCID order, a page at a time. particle-api-js: `listSIMs({product})`.",
            parameters=[
                {"name": "iccid", "in": "query", "description": "Part of an ICCID: SIMs whose ICCID contains these digits.",
                 "schema": {"type": "string"}, "example": "0000017"},
                {"name": "deviceId", "in": "query",
                 "description": "The SIM in the product's device with this device ID (any case). A device that does not exist or "
                                "holds no SIM matches no SIM: an empty list with `total_pages` 0, never the whole fleet. Empty: no filter.",
                 "schema": {"type": "string"}, "example": "e00fce681f2d0c1e5b3a4c2d"},
                {"name": "deviceName", "in": "query",
                 "description": "The SIMs in the product's devices of exactly this name; like `deviceId`, no match is an empty list. "
                                "With `deviceId`, both must match.",
                 "schema": {"type": "string"}, "example": "boiler-room"},
                {"name": "page", "in": "query", "description": "The page, from 1.", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query", "description": "SIMs a page.",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
            ],
            ok={"200": _json("ParticleSimPage", "A page of SIMs and the number of pages.")},
            errors=(400, 404),
        ),
        "post": _operation(
            op_id="particleImportSims", tag=PRODUCT_TAG, scope=Scope.SIMS_IMPORT,
            summary="Import and activate SIMs",
            description=(
                "Queues the console's import job for these ICCIDs with a home country, as the console's Import page "
                "does, and answers once it is queued: the task worker activates them in batches. Invalid lines are "
                "counted, not fatal, unless no ICCID is valid. particle-api-js 11: `activateSIM({product, iccids, country})`."
            ),
            body=_body("ParticleImportRequest"),
            ok={"200": _json("ParticleImportQueued", "The import job is queued.")},
            errors=(400, 404),
        ),
    },
    "/v1/products/{product}/sims/data_usage": {
        "parameters": [PRODUCT],
        "get": _operation(
            op_id="particleFleetDataUsage", tag=PRODUCT_TAG, scope=Scope.USAGE_GET,
            summary="The fleet's data usage this month",
            description="Data used by all the product's SIMs this calendar month (UTC), day by day, and the SIMs billed as active. particle-api-js: `getFleetDataUsage({product})`.",
            ok={"200": _json("ParticleFleetUsage", "The fleet's usage.")},
            errors=(404,),
        ),
    },
    "/v1/products/{product}/sims/{iccid}": {
        "parameters": [PRODUCT, ICCID],
        "get": _operation(
            op_id="particleGetProductSim", tag=PRODUCT_TAG, scope=Scope.SIMS_GET,
            summary="One SIM of a product",
            description="The SIM, if it is in this product.",
            ok={"200": _json("ParticleSim", "The SIM.")},
            errors=(404,),
        ),
        "put": _operation(
            op_id="particleUpdateProductSim", tag=PRODUCT_TAG, scope=Scope.SIMS_UPDATE,
            summary="Deactivate, reactivate or set the data limit",
            description=(
                "`{\"action\": \"deactivate\"}` suspends the SIM; `{\"action\": \"reactivate\"}` brings a suspended "
                "or paused SIM back (with `mb_limit`, the new limit is set first, so a paused SIM can go on); "
                "`{\"mb_limit\": N}` alone sets the limit, pausing the SIM at once if this month's usage is at or over "
                "it. Each change is a SIM event naming the token. A change the SIM's state forbids answers 400 naming "
                "the state. particle-api-js 11: `deactivateSIM`, `reactivateSIM`, `updateSIM` with `product`."
            ),
            body=_body("ParticleSimUpdate"),
            ok=OK,
            errors=(400, 404),
        ),
        "delete": _operation(
            op_id="particleRemoveProductSim", tag=PRODUCT_TAG, scope=Scope.SIMS_REMOVE,
            summary="Remove a SIM from the product",
            description="Suspends the SIM and releases it from the product, so another account can import it. particle-api-js: `removeSIM({product, iccid})`.",
            ok=OK,
            errors=(400, 404),
        ),
    },
    "/v1/products/{product}/sims/{iccid}/data_usage": {
        "parameters": [PRODUCT, ICCID],
        "get": _operation(
            op_id="particleProductSimDataUsage", tag=PRODUCT_TAG, scope=Scope.USAGE_GET,
            summary="One SIM's data usage this month",
            description="Every day of this calendar month (UTC) up to today, with the running total. particle-api-js: `getSIMDataUsage({product, iccid})`.",
            ok={"200": _json("ParticleSimUsage", "The SIM's usage.")},
            errors=(404,),
        ),
    },
    "/v1/sims": {
        "get": _operation(
            op_id="particleListOwnSims", tag=OWN_TAG, scope=Scope.SIMS_LIST,
            summary="List my own SIMs",
            description="The developer's own SIMs (those of no product), in ICCID order: needs a token made for \"My own SIMs\". particle-api-js: `listSIMs()`.",
            ok={"200": _json("ParticleSimList", "The SIMs.")},
        ),
    },
    "/v1/sims/{iccid}": {
        "parameters": [ICCID],
        "head": _operation(
            op_id="particleCheckSim", tag=OWN_TAG, scope=Scope.SIMS_GET,
            summary="Check whether a SIM can be imported",
            description=(
                "204 when the SIM could be imported with this token: into the token's product, or a developer's own "
                "account, because a carrier account of the product (a developer's: the console's built-in carrier) "
                "holds it. 403 when it is terminated, or not held: someone else's SIM and one no carrier account holds "
                "get the same answer. 409 when it is already there, 400 when the ICCID is malformed, 503 when the "
                "carrier could not be asked. A HEAD answer has no body. particle-api-js: `checkSIM({iccid})`."
            ),
            ok={"204": {"description": "The SIM can be imported."}},
            errors=(400, 409, 503),
        ),
        "get": _operation(
            op_id="particleGetOwnSim", tag=OWN_TAG, scope=Scope.SIMS_GET,
            summary="One of my own SIMs",
            description="The SIM, if it is one of the developer's own.",
            ok={"200": _json("ParticleSim", "The SIM.")},
            errors=(404,),
        ),
        "put": _operation(
            op_id="particleUpdateOwnSim", tag=OWN_TAG, scope=Scope.SIMS_UPDATE,
            summary="Activate my own SIM, or change it",
            description=(
                "`{\"action\": \"activate\", \"country\": \"US\"}` claims a SIM new to the console or waiting in "
                "inventory, if the console's built-in carrier holds it, and activates it on the developer's own plan "
                "(particle-api-js 11: `activateSIM({iccid, country})`); a SIM not held and someone else's SIM get the "
                "same 403. Otherwise the same changes as a product's SIM: deactivate, reactivate, `mb_limit`."
            ),
            body=_body("ParticleOwnSimUpdate"),
            ok=OK,
            errors=(400, 404, 503),
        ),
        "delete": _operation(
            op_id="particleRemoveOwnSim", tag=OWN_TAG, scope=Scope.SIMS_REMOVE,
            summary="Release my own SIM",
            description="Suspends the SIM and releases it from the developer's account. particle-api-js: `removeSIM({iccid})`.",
            ok=OK,
            errors=(400, 404),
        ),
    },
    "/v1/sims/{iccid}/data_usage": {
        "parameters": [ICCID],
        "get": _operation(
            op_id="particleOwnSimDataUsage", tag=OWN_TAG, scope=Scope.USAGE_GET,
            summary="My own SIM's data usage this month",
            description="Every day of this calendar month (UTC) up to today, with the running total. particle-api-js: `getSIMDataUsage({iccid})`.",
            ok={"200": _json("ParticleSimUsage", "The SIM's usage.")},
            errors=(404,),
        ),
    },
}

_SIM_EXAMPLE = {
    "_id": EXAMPLE_ICCID, "iccid": EXAMPLE_ICCID, "status": "active", "mb_limit": 5, "base_country_code": "US",
    "carrier": "SIM Console", "first_activated_on": "2026-11-02T09:14:03+00:00", "last_activated_on": "2026-11-02T09:14:03+00:00",
    "last_status_change_action": "import", "activations_count": 1, "deactivations_count": 0, "last_device_id": "e00fce681f2d0c1e5b3a4c2d",
    "last_device_name": "boiler-room", "updated_at": "2026-11-02T09:14:03+00:00", "product_id": 1,
}
_DAY = {
    "type": "object",
    "required": ["date", "mbs_used", "mbs_used_cumulative"],
    "properties": {
        "date": {"type": "string", "format": "date"},
        "mbs_used": {"type": "number", "minimum": 0, "description": "MB used that day (10^6 bytes)."},
        "mbs_used_cumulative": {"type": "number", "minimum": 0, "description": "MB used from the 1st to that day."},
    },
}
_DAYS_EXAMPLE = [
    {"date": "2026-11-01", "mbs_used": 0.0, "mbs_used_cumulative": 0.0},
    {"date": "2026-11-02", "mbs_used": 0.98, "mbs_used_cumulative": 0.98},
]
_MB_LIMIT = {
    "type": "integer", "minimum": 0, "maximum": MAX_DATA_LIMIT_MB,
    "description": "The SIM's monthly data limit in MB: the SIM pauses when this month's usage reaches it.",
}
_ACTION = {"type": "string", "enum": ["deactivate", "reactivate"]}


def _error_response(description: str, example: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("schemas", "ParticleError"), "example": {"ok": False, "error": example}}},
    }


PARTICLE_COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "particleAuth": {
            "type": "http", "scheme": "bearer",
            "description": (
                "An API token from the console's Tokens page, as `Authorization: Bearer simc_…` (or, the same "
                "token, as the `access_token` query parameter). It acts for one product, or for its creator's own "
                "SIMs, with the scopes chosen when it was made."
            ),
        },
        "particleAccessToken": {
            "type": "apiKey", "in": "query", "name": "access_token",
            "description": "The same API token as `particleAuth`, in the query string, as Particle also accepts it.",
        },
    },
    "parameters": {
        "ParticleProduct": {
            "name": "product", "in": "path", "required": True,
            "description": "The product's id or slug; the token must act for this product.",
            "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}, "example": "acme-trackers",
        },
        "ParticleIccid": {
            "name": "iccid", "in": "path", "required": True, "description": "The SIM's ICCID: 19 or 20 digits.",
            "schema": {"type": "string", "pattern": "^[0-9]{19,20}$"}, "example": EXAMPLE_ICCID,
        },
    },
    "schemas": {
        "ParticleSim": {
            "type": "object",
            "required": ["_id", "iccid", "status", "mb_limit", "base_country_code", "carrier", "updated_at"],
            "properties": {
                "_id": {"type": "string", "description": "The ICCID again, as Particle's clients read it."},
                "iccid": {"type": "string"},
                "status": {"type": "string", "enum": SIM_STATUSES, "description": (
                    "issued and provisioned SIMs are `never_before_activated`; paused at the data limit, "
                    "`inactive_data_limit_reached`; suspended or terminated, `inactive_user_deactivated`."
                )},
                "mb_limit": {"type": "integer", "minimum": 0, "description": "The data limit in force, in MB (the product's default when the SIM has none of its own)."},
                "base_country_code": {"type": ["string", "null"], "description": "The home country, ISO 3166-1 alpha-2."},
                "carrier": {"type": "string"},
                "first_activated_on": {"type": ["string", "null"], "format": "date-time"},
                "last_activated_on": {"type": ["string", "null"], "format": "date-time"},
                "last_status_change_action": {"type": ["string", "null"], "description": "The action of the SIM's latest event (import, deactivate, set_data_limit, …)."},
                "activations_count": {"type": "integer", "minimum": 0},
                "deactivations_count": {"type": "integer", "minimum": 0},
                "last_device_id": {"type": ["string", "null"], "description": "The device ID of the device the SIM is in now; null when it is in none."},
                "last_device_name": {"type": ["string", "null"], "description": "That device's name; null when it has none or the SIM is in no device."},
                "updated_at": {"type": "string", "format": "date-time", "description": "When the SIM's state last changed."},
                "product_id": {"type": ["integer", "null"]},
            },
            "example": _SIM_EXAMPLE,
        },
        "ParticleSimPage": {
            "type": "object",
            "required": ["sims", "meta"],
            "properties": {
                "sims": {"type": "array", "items": _ref("schemas", "ParticleSim")},
                "meta": {"type": "object", "required": ["total_pages"], "properties": {"total_pages": {"type": "integer", "minimum": 0}}},
            },
            "example": {"sims": [_SIM_EXAMPLE], "meta": {"total_pages": 1}},
        },
        "ParticleSimList": {
            "type": "object",
            "required": ["sims"],
            "properties": {"sims": {"type": "array", "items": _ref("schemas", "ParticleSim")}},
            "example": {"sims": [{**_SIM_EXAMPLE, "product_id": None}]},
        },
        "ParticleImportRequest": {
            "type": "object",
            "required": ["sims", "country"],
            "additionalProperties": False,
            "properties": {
                "sims": {"type": "array", "minItems": 1, "maxItems": 10_000, "items": {"type": "string"},
                         "description": "ICCIDs, at most 10,000 a call."},
                "country": {"type": "string", "description": "The SIMs' home country, ISO 3166-1 alpha-2.", "example": "US"},
            },
            "example": {"sims": [EXAMPLE_ICCID, "89012600000000000029"], "country": "US"},
        },
        "ParticleImportQueued": {
            "type": "object",
            "required": ["ok", "import_id", "valid", "invalid"],
            "properties": {
                "ok": {"const": True},
                "import_id": {"type": "integer", "description": "The console's import job; its page shows the progress."},
                "valid": {"type": "integer", "minimum": 0, "description": "ICCIDs that will be imported."},
                "invalid": {"type": "integer", "minimum": 0, "description": "Lines that are not ICCIDs."},
            },
            "example": {"ok": True, "import_id": 42, "valid": 2, "invalid": 0},
        },
        "ParticleSimUpdate": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {"action": _ACTION, "mb_limit": _MB_LIMIT},
            "example": {"action": "reactivate", "mb_limit": 20},
        },
        "ParticleOwnSimUpdate": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "action": {"type": "string", "enum": ["activate", "deactivate", "reactivate"]},
                "country": {"type": "string", "description": "With `activate`: the home country, ISO 3166-1 alpha-2."},
                "promoCode": {"type": "string", "description": "Sent by old clients; ignored."},
                "mb_limit": _MB_LIMIT,
            },
            "example": {"action": "activate", "country": "US"},
        },
        "ParticleSimUsage": {
            "type": "object",
            "required": ["iccid", "usage_by_day"],
            "properties": {"iccid": {"type": "string"}, "usage_by_day": {"type": "array", "items": _DAY}},
            "example": {"iccid": EXAMPLE_ICCID, "usage_by_day": _DAYS_EXAMPLE},
        },
        "ParticleFleetUsage": {
            "type": "object",
            "required": ["total_mbs_used", "total_active_sim_cards", "usage_by_day"],
            "properties": {
                "total_mbs_used": {"type": "number", "minimum": 0},
                "total_active_sim_cards": {"type": "integer", "minimum": 0, "description": "Active and paused SIMs: both are billed."},
                "usage_by_day": {"type": "array", "items": _DAY},
            },
            "example": {"total_mbs_used": 0.98, "total_active_sim_cards": 2, "usage_by_day": _DAYS_EXAMPLE},
        },
        "ParticleOk": {
            "type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}, "example": {"ok": True},
        },
        "ParticleError": {
            "type": "object",
            "required": ["ok", "error"],
            "properties": {"ok": {"const": False}, "error": {"type": "string", "description": "What went wrong and what to do."}},
        },
        "ParticleTokenError": {
            "type": "object",
            "required": ["error", "error_description"],
            "properties": {"error": {"const": "invalid_token"}, "error_description": {"type": "string"}},
        },
    },
    "responses": {
        "Particle400": _error_response("The request is malformed; the message names the field or the SIM's state.", "mb_limit must be a whole number of MB, 0 or more."),
        "Particle401": {
            "description": "The token is missing, wrong, expired or revoked, or its creator left the product.",
            "content": {"application/json": {"schema": _ref("schemas", "ParticleTokenError"), "example": {
                "error": "invalid_token", "error_description": "The access token is missing, wrong, expired or revoked."}}},
        },
        "Particle403": _error_response("The token lacks the scope, acts for another product (or for a product when this is about own SIMs), or the SIM cannot be claimed: someone else's SIM and one no carrier account of the token holds get the same answer. A change to a rule also needs the token's creator to be an admin of the product.", "This token lacks the scope sims:update: create a token with it on the Tokens page."),
        "Particle404": _error_response("No such product, SIM, rule or approval for this token.", "The SIM 89012600000000000011 is not in this product."),
        "Particle405": _error_response("The method is not one this path answers; the `Allow` header lists those it does.", "PATCH is not allowed here: use GET, POST."),
        "Particle409": _error_response("The SIM is already here, or the approval was decided already (nothing more was done).", "The SIM 89012600000000000011 is already yours here."),
        "Particle503": {
            **_error_response(
                "The carrier could not be asked whether it holds the SIM: nothing was claimed; try again after `Retry-After`.",
                "The carrier could not be asked whether it holds this SIM (timed out): nothing was claimed. Try again in a minute.",
            ),
            "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}},
        },
        "Particle413": _error_response("The body is larger than the server accepts (2.6 MB by default).", "The body is over 2.6 MB: split it."),
        "Particle429": {
            **_error_response(
                "Too many requests for this token in its window (10,000 in 5 minutes by default, Particle's own limit); "
                "`Retry-After` says when to try again.",
                "Too many requests for this token: over 10,000 requests in 5 minutes. Try again in 42 seconds (Retry-After), or pace the calls.",
            ),
            "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}, **RATE_LIMIT_HEADERS},
        },
    },
}
