"""The OpenAPI description of a product's rules in Particle's dialect (api/particle_rules.py), built with
api/schema_particle.py's helpers and joined to the rest by api/schema.py."""

from typing import Any

from api.models import Scope
from api.schema_particle import OK, _body, _json, _operation, _ref
from rules.kinds import ActionKind, ConditionKind, ScopeKind, WindowKind
from rules.models import Rule

RULES_TAG = "Particle: a product's rules"
_ADMIN = " Needs a token whose creator is an admin of the product (403 otherwise)."
_NAME_LENGTH = Rule._meta.get_field("name").max_length


def _paths() -> dict[str, Any]:
    operation, json_answer, body, ok, ref = _operation, _json, _body, OK, _ref
    product, rule_id = ref("parameters", "ParticleProduct"), ref("parameters", "ParticleRuleId")
    return {
        "/v1/products/{product}/rules": {
            "parameters": [product],
            "get": operation(
                op_id="particleListRules", tag=RULES_TAG, scope=Scope.RULES_LIST,
                summary="List a product's rules",
                description="Every rule of the product, by name, each with its sentence (as the console reads it) and when it last fired.",
                ok={"200": json_answer("ParticleRuleList", "The rules.")},
                errors=(404,),
            ),
            "post": operation(
                op_id="particleCreateRule", tag=RULES_TAG, scope=Scope.RULES_UPDATE,
                summary="Create a rule",
                description=(
                    "`name`, `condition` and `actions` are needed; `scope` (every SIM), `window` (once a day), `enabled` (true) "
                    "and `approval_threshold` (none) have defaults. The rule is checked as the admin checks it: a bad "
                    "parameter answers 400 naming the field (`condition`, `actions`, `scope.value`, `window.hours`) and "
                    "what to do. In a form-encoded body, send `condition`, `scope`, `actions` and `window` as JSON text." + _ADMIN
                ),
                body=body("ParticleRuleWrite"),
                ok={"201": json_answer("ParticleRule", "The new rule, at version 1.")},
                errors=(400, 404),
            ),
        },
        "/v1/products/{product}/rules/{rule_id}": {
            "parameters": [product, rule_id],
            "get": operation(
                op_id="particleGetRule", tag=RULES_TAG, scope=Scope.RULES_LIST,
                summary="One rule", description="The rule, if it is in this product.",
                ok={"200": json_answer("ParticleRule", "The rule.")},
                errors=(404,),
            ),
            "put": operation(
                op_id="particleUpdateRule", tag=RULES_TAG, scope=Scope.RULES_UPDATE,
                summary="Change, enable or disable a rule",
                description=(
                    "The fields sent replace the rule's (those left out keep their values): `{\"enabled\": false}` disables it. "
                    "Each change bumps `version`; its firings from then on name the new version." + _ADMIN
                ),
                body=body("ParticleRuleWrite"),
                ok={"200": json_answer("ParticleRule", "The rule as changed.")},
                errors=(400, 404),
            ),
            "delete": operation(
                op_id="particleDeleteRule", tag=RULES_TAG, scope=Scope.RULES_UPDATE,
                summary="Delete a rule", description="Deletes the rule with its firings and approvals." + _ADMIN,
                ok=ok, errors=(404,),
            ),
        },
        "/v1/products/{product}/rules/{rule_id}/firings": {
            "parameters": [product, rule_id],
            "get": operation(
                op_id="particleRuleFirings", tag=RULES_TAG, scope=Scope.RULES_LIST,
                summary="A rule's firings",
                description=(
                    "Each time the rule fired for a SIM (once per SIM per window), newest first, a page at a time: what it "
                    "saw (`figures`), what it did (`did`), and, for a pass waiting for a person, its `approval_id`."
                ),
                parameters=[
                    {"name": "page", "in": "query", "description": "The page, from 1.", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                    {"name": "per_page", "in": "query", "description": "Firings a page.",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                ],
                ok={"200": json_answer("ParticleRuleFiringPage", "A page of firings and the number of pages.")},
                errors=(400, 404),
            ),
        },
        "/v1/products/{product}/rules/{rule_id}/approvals/{approval_id}": {
            "parameters": [product, rule_id, ref("parameters", "ParticleApprovalId")],
            "post": operation(
                op_id="particleDecideApproval", tag=RULES_TAG, scope=Scope.RULES_UPDATE,
                summary="Approve or refuse a waiting pass",
                description=(
                    "A pass that would have acted on more SIMs than the rule's `approval_threshold` waits: `approve` runs "
                    "the rule's actions for its SIMs, `refuse` does nothing for them, ever. Once only: a second decision "
                    "answers 409 and does nothing." + _ADMIN
                ),
                body=body("ParticleApprovalDecision"),
                ok={"200": json_answer("ParticleApprovalDecided", "Decided.")},
                errors=(400, 404, 409),
            ),
        },
    }


_KIND_AND_PARAMS = {"type": "object", "required": ["kind"], "additionalProperties": True}
_RULE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": _NAME_LENGTH},
    "enabled": {"type": "boolean"},
    "condition": {
        **_KIND_AND_PARAMS,
        "properties": {"kind": {"type": "string", "enum": ConditionKind.values}},
        "description": (
            "The condition's kind and its parameters: usage_day, usage_period `{mb}`; usage_rolling `{mb, hours}`; "
            "sms_count `{count}`; spike `{factor}` (optional); no_session `{hours}`; imei_changed; country `{countries}`; "
            "state_changed `{state}`."
        ),
    },
    "scope": {
        "type": "object", "required": ["kind"], "additionalProperties": False,
        "properties": {"kind": {"type": "string", "enum": ScopeKind.values}, "value": {"type": "string"}},
        "description": "Every SIM (`all`), a filter of the SIMs page (`value` its query string), a device tag, or a device model's TAC.",
    },
    "actions": {
        "type": "array", "minItems": 1,
        "items": {**_KIND_AND_PARAMS, "properties": {"kind": {"type": "string", "enum": ActionKind.values}}},
        "description": "pause, suspend, data_limit `{mb}`, tag `{tag}`, email `{users, roles}`, webhook, sms `{body}`.",
    },
    "window": {
        "type": "object", "required": ["kind"], "additionalProperties": False,
        "properties": {"kind": {"type": "string", "enum": WindowKind.values}, "hours": {"type": ["integer", "null"]}},
        "description": "The rule fires at most once per SIM in each window: a day, a billing period, or `hours` hours.",
    },
    "approval_threshold": {
        "type": ["integer", "null"], "minimum": 0,
        "description": "A pass that would act on more SIMs than this waits for a person's approval; null: never waits.",
    },
}
_RULE_EXAMPLE = {
    "id": 7, "name": "Heavy day", "enabled": True, "version": 1,
    "sentence": "When a SIM uses more than 50 MB in a day, pause it and email the admins.",
    "builtin": False,
    "condition": {"kind": "usage_day", "mb": 50}, "scope": {"kind": "all", "value": ""},
    "actions": [{"kind": "pause"}, {"kind": "email", "roles": ["admin"]}], "window": {"kind": "day", "hours": None},
    "approval_threshold": None, "created_at": "2026-11-02T09:14:03+00:00", "updated_at": "2026-11-02T09:14:03+00:00",
    "last_fired_at": None,
}
_FIRING_EXAMPLE = {
    "id": 31, "iccid": "89012600000000000011", "subject": "sim", "window": "d2026-11-02", "fired_at": "2026-11-02T18:40:00+00:00", "rule_version": 1,
    "figures": {"mb": 61.2, "day": "2026-11-02"}, "did": ["Paused"], "status": "done", "approval_id": None,
}
_TIME = {"type": "string", "format": "date-time"}


def _components() -> dict[str, Any]:
    ref = _ref
    return {
        "parameters": {
            "ParticleRuleId": {"name": "rule_id", "in": "path", "required": True, "description": "The rule's id.", "schema": {"type": "string"}, "example": "7"},
            "ParticleApprovalId": {
                "name": "approval_id", "in": "path", "required": True, "description": "The waiting pass's id (a firing's `approval_id`).",
                "schema": {"type": "string"}, "example": "3",
            },
        },
        "schemas": {
            "ParticleRule": {
                "type": "object",
                "required": [*_RULE_FIELDS, "id", "version", "sentence", "builtin", "created_at", "updated_at", "last_fired_at"],
                "properties": {
                    "id": {"type": "integer"}, **_RULE_FIELDS,
                    "scope": {**_RULE_FIELDS["scope"], "required": ["kind", "value"]},
                    "window": {**_RULE_FIELDS["window"], "required": ["kind", "hours"]},
                    "version": {"type": "integer", "minimum": 1, "description": "Bumped by each change."},
                    "sentence": {"type": "string", "description": "The rule in words, as the console shows it."},
                    "builtin": {"type": "boolean", "description": "The data limit's pause or the test triggers: set by the product's settings; a change or delete answers 409."},
                    "created_at": _TIME, "updated_at": _TIME,
                    "last_fired_at": {"type": ["string", "null"], "format": "date-time"},
                },
                "example": _RULE_EXAMPLE,
            },
            "ParticleRuleWrite": {
                "type": "object", "additionalProperties": False, "properties": _RULE_FIELDS,
                "example": {"name": "Heavy day", "condition": {"kind": "usage_day", "mb": 50}, "actions": [{"kind": "pause"}]},
            },
            "ParticleRuleList": {
                "type": "object", "required": ["rules"], "properties": {"rules": {"type": "array", "items": ref("schemas", "ParticleRule")}},
                "example": {"rules": [_RULE_EXAMPLE]},
            },
            "ParticleRuleFiringPage": {
                "type": "object",
                "required": ["firings", "meta"],
                "properties": {
                    "firings": {"type": "array", "items": {
                        "type": "object",
                        "required": list(_FIRING_EXAMPLE),
                        "properties": {
                            "id": {"type": "integer"},
                            "iccid": {"type": ["string", "null"], "description": "The SIM's ICCID; null for a condition about the product."},
                            "subject": {"type": "string", "description": "What fired: sim, product, or account:<id> (a carrier account's failure rate)."},
                            "window": {"type": "string", "description": "The window it fired in: a day (d…), a period (p…) or a slot of hours (h…)."},
                            "fired_at": _TIME, "rule_version": {"type": "integer"},
                            "figures": {"type": "object", "description": "What the rule saw."},
                            "did": {"type": "array", "items": {"type": "string"}, "description": "What it did, a line per action."},
                            "status": {"type": "string", "enum": ["done", "awaiting", "approved", "refused"]},
                            "approval_id": {"type": ["integer", "null"]},
                        },
                    }},
                    "meta": {"type": "object", "required": ["total_pages"], "properties": {"total_pages": {"type": "integer", "minimum": 0}}},
                },
                "example": {"firings": [_FIRING_EXAMPLE], "meta": {"total_pages": 1}},
            },
            "ParticleApprovalDecision": {
                "type": "object", "required": ["decision"], "additionalProperties": False,
                "properties": {"decision": {"type": "string", "enum": ["approve", "refuse"]}},
                "example": {"decision": "approve"},
            },
            "ParticleApprovalDecided": {
                "type": "object", "required": ["ok", "decision", "pending"],
                "properties": {
                    "ok": {"const": True}, "decision": {"type": "string", "enum": ["approved", "refused"]},
                    "pending": {"type": "integer", "minimum": 0, "description": "The SIMs the pass waited for."},
                },
                "example": {"ok": True, "decision": "approved", "pending": 240},
            },
        },
    }


RULES_PATHS: dict[str, Any] = _paths()
RULES_COMPONENTS: dict[str, Any] = _components()
