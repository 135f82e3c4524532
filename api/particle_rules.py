"""A product's rules in Particle's dialect, under /v1/products/{product}/rules (issue 18: rules are
managed in the console, the admin and the API alike).

A rule reads and writes as one JSON shape: its condition `{kind, ...params}`, scope `{kind, value}`,
actions `[{kind, ...}]` and window `{kind, hours}`, checked by Rule.clean as the admin checks it.
Reading needs rules:list; every change (create, change, delete, approve or refuse) needs rules:update
and a token whose creator is an admin of the product, as the console's buttons are for admins."""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse

from api.auth import ApiError, Caller
from api.models import Scope
from api.particle import body_of, page_numbers, particle_view
from products.models import Product
from rules.approval import AlreadyDecided, decide
from rules.builtin import builtin_sentence, is_builtin
from rules.kinds import ConditionKind, ScopeKind, WindowKind
from rules.models import Rule, RuleApproval, RuleFiring
from rules.sentence import sentence

RULE_FIELDS = {"name", "enabled", "condition", "scope", "actions", "window", "approval_threshold"}
# Rule.clean's field names, as the API's body spells them.
FIELD_NAMES = {"condition": "condition", "actions": "actions", "scope_value": "scope.value", "window_hours": "window.hours"}
NAME_LENGTH: int = Rule._meta.get_field("name").max_length or 100


def rule_json(rule: Rule) -> dict[str, Any]:
    last_fired = getattr(rule, "last_fired_at", None)
    return {
        "id": rule.pk,
        "name": rule.name,
        "enabled": rule.enabled,
        "version": rule.version,
        "sentence": builtin_sentence(rule, rule.product) if is_builtin(rule) else sentence(rule),
        # The data limit's pause and the test triggers: read-only here, set by the product's settings.
        "builtin": is_builtin(rule),
        "condition": {"kind": rule.condition_kind, **rule.condition},
        "scope": {"kind": rule.scope_kind, "value": rule.scope_value},
        "actions": rule.actions,
        "window": {"kind": rule.window_kind, "hours": rule.window_hours},
        "approval_threshold": rule.approval_threshold,
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
        "last_fired_at": last_fired.isoformat() if last_fired else None,
    }


def firing_json(firing: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": firing["pk"],
        "iccid": firing["sim__iccid"],
        # A condition about the product fires with no SIM: "product", or "account:12" for a carrier account.
        "subject": "sim" if firing["sim__iccid"] else (firing["subject"] or "product"),
        "window": firing["window_key"],
        "fired_at": firing["fired_at"].isoformat(),
        "rule_version": firing["rule_version"],
        "figures": firing["figures"],
        "did": firing["did"],
        "status": firing["status"],
        "approval_id": firing["approval_id"],
    }


def _rules(product: Product) -> QuerySet[Rule]:
    # The newest firing by the (rule, fired_at) index: one row read per rule, however many firings it has.
    last = RuleFiring.objects.filter(rule=OuterRef("pk")).order_by("-fired_at").values("fired_at")[:1]
    return Rule.objects.filter(product=product).select_related("product").annotate(last_fired_at=Subquery(last))


def _rule(product: Product, rule_id: str) -> Rule:
    rule = _rules(product).filter(pk=int(rule_id)).first() if rule_id.isascii() and rule_id.isdigit() and len(rule_id) < 19 else None
    if rule is None:
        raise ApiError(404, f"There is no rule {rule_id} in this product.")
    return rule


def _changeable(rule: Rule) -> Rule:
    if is_builtin(rule):
        raise ApiError(
            409,
            f"“{rule.name}” is built in: it cannot be changed or deleted. Change its figures instead: the test triggers "
            "in the product's settings, the default data limit, or a SIM's own limit (mb_limit).",
        )
    return rule


def _writable_product(caller: Caller, key: str) -> Product:
    product = caller.product(key)
    caller.require_admin(product)
    return product


# Reading a body


def _json_field(body: dict, name: str) -> Any:
    """A field's value; from a form, the nested ones (condition, scope, actions, window) come as JSON text."""
    value = body[name]
    if isinstance(value, str) and name in ("condition", "scope", "actions", "window"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(400, f"{name} must be JSON, such as {EXAMPLES[name]}.") from None
    return value


EXAMPLES = {
    "condition": '{"kind": "usage_day", "mb": 50}',
    "scope": '{"kind": "all"}',
    "actions": '[{"kind": "pause"}]',
    "window": '{"kind": "day"}',
}


def _kind_and_rest(value: Any, name: str, kinds: list[str]) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise ApiError(400, f"{name} must be an object with its kind, such as {EXAMPLES[name]}.")
    kind, rest = value["kind"], {key: item for key, item in value.items() if key != "kind"}
    if kind not in kinds:
        raise ApiError(400, f"{name}.kind {kind!r} is not one: choose one of {', '.join(kinds)}.")
    return kind, rest


def _boolean(value: Any, name: str) -> bool:
    if value in (True, "true", "on", "1"):
        return True
    if value in (False, "false", "off", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false.")


def _threshold(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 2_000_000_000:
        raise ApiError(400, "approval_threshold must be a whole number of SIMs, 0 or more, or null for a rule that never waits.")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > NAME_LENGTH:
        raise ApiError(400, f"name must be text, 1 to {NAME_LENGTH} characters, such as \"Heavy day\".")
    return value.strip()


def _apply(rule: Rule, body: dict) -> None:
    """The body's fields onto the rule (those left out keep their values), then Rule.clean."""
    if "name" in body:
        rule.name = _name(body["name"])
    if "enabled" in body:
        rule.enabled = _boolean(body["enabled"], "enabled")
    if "condition" in body:
        rule.condition_kind, rule.condition = _kind_and_rest(_json_field(body, "condition"), "condition", ConditionKind.values)
    if "scope" in body:
        kind, rest = _kind_and_rest(_json_field(body, "scope"), "scope", ScopeKind.values)
        if set(rest) - {"value"} or not isinstance(rest.get("value", ""), str):
            raise ApiError(400, 'scope takes kind and value (text), such as {"kind": "tag", "value": "boilers"}.')
        rule.scope_kind, rule.scope_value = kind, rest.get("value", "")
    if "actions" in body:
        rule.actions = _json_field(body, "actions")
    if "window" in body:
        kind, rest = _kind_and_rest(_json_field(body, "window"), "window", WindowKind.values)
        if set(rest) - {"hours"}:
            raise ApiError(400, 'window takes kind and hours, such as {"kind": "hours", "hours": 6}.')
        hours = rest.get("hours")
        if hours is not None and (not isinstance(hours, int) or isinstance(hours, bool)):
            raise ApiError(400, "window.hours must be a whole number of hours, or null.")
        rule.window_kind, rule.window_hours = kind, hours
    if "approval_threshold" in body:
        rule.approval_threshold = _threshold(body["approval_threshold"])
    try:
        rule.clean()
    except ValidationError as error:
        problems = [f"{FIELD_NAMES.get(field, field)}: {' '.join(messages)}" for field, messages in error.message_dict.items()]
        raise ApiError(400, "The rule is not valid. " + " ".join(problems)) from None


# The calls


def list_rules(request: HttpRequest, caller: Caller, product: str) -> HttpResponse:
    rules = _rules(caller.product(product)).order_by("name", "pk")
    return JsonResponse({"rules": [rule_json(rule) for rule in rules]})


def create_rule(request: HttpRequest, caller: Caller, product: str) -> HttpResponse:
    chosen = _writable_product(caller, product)
    body = body_of(request, allowed=RULE_FIELDS)
    missing = sorted({"name", "condition", "actions"} - set(body))
    if missing:
        raise ApiError(400, f"A new rule needs {', '.join(missing)}: see the example on /api/docs/.")
    rule = Rule(product=chosen, created_by=caller.token.user)
    _apply(rule, body)
    rule.save()
    return JsonResponse(rule_json(rule), status=201)


def get_rule(request: HttpRequest, caller: Caller, product: str, rule_id: str) -> HttpResponse:
    return JsonResponse(rule_json(_rule(caller.product(product), rule_id)))


def update_rule(request: HttpRequest, caller: Caller, product: str, rule_id: str) -> HttpResponse:
    rule = _changeable(_rule(_writable_product(caller, product), rule_id))
    body = body_of(request, allowed=RULE_FIELDS)
    if not body:
        raise ApiError(400, f"Nothing to change: send one or more of {', '.join(sorted(RULE_FIELDS))}.")
    _apply(rule, body)
    rule.save()  # bumps the version: the firings from now on name the new one
    return JsonResponse(rule_json(rule))


def delete_rule(request: HttpRequest, caller: Caller, product: str, rule_id: str) -> HttpResponse:
    _changeable(_rule(_writable_product(caller, product), rule_id)).delete()
    return JsonResponse({"ok": True})


def rule_firings(request: HttpRequest, caller: Caller, product: str, rule_id: str) -> HttpResponse:
    """The rule's firings, newest first, a page at a time (as the SIM list pages)."""
    rule = _rule(caller.product(product), rule_id)
    page, per_page = page_numbers(request)
    firings = RuleFiring.objects.filter(rule=rule)
    total = firings.count()
    offset = (page - 1) * per_page
    fields = ("pk", "sim__iccid", "subject", "window_key", "fired_at", "rule_version", "figures", "did", "status", "approval_id")
    rows = list(firings.order_by("-fired_at", "-pk").values(*fields)[offset : offset + per_page]) if offset < total else []
    return JsonResponse({"firings": [firing_json(row) for row in rows], "meta": {"total_pages": -(-total // per_page)}})


def decide_approval(request: HttpRequest, caller: Caller, product: str, rule_id: str, approval_id: str) -> HttpResponse:
    """Approve (the rule's actions run for the waiting SIMs) or refuse (nothing is done for them): once only."""
    rule = _rule(_writable_product(caller, product), rule_id)
    approval = None
    if approval_id.isascii() and approval_id.isdigit() and len(approval_id) < 19:
        approval = RuleApproval.objects.filter(pk=int(approval_id), rule=rule).first()
    if approval is None:
        raise ApiError(404, f"There is no approval {approval_id} of this rule.")
    choice = body_of(request, allowed={"decision"}).get("decision")
    if choice not in ("approve", "refuse"):
        raise ApiError(400, 'decision must be "approve" (the rule\'s actions run for the waiting SIMs) or "refuse" (nothing is done for them).')
    try:
        decided = decide(approval, approve=choice == "approve", user=caller.token.user)
    except AlreadyDecided as error:
        raise ApiError(409, f"{error} Nothing more was done.") from None
    return JsonResponse({"ok": True, "decision": decided.decision, "pending": decided.pending})


product_rules = particle_view(GET=(Scope.RULES_LIST, list_rules), POST=(Scope.RULES_UPDATE, create_rule))
product_rule = particle_view(
    GET=(Scope.RULES_LIST, get_rule), PUT=(Scope.RULES_UPDATE, update_rule), DELETE=(Scope.RULES_UPDATE, delete_rule)
)
product_rule_firings = particle_view(GET=(Scope.RULES_LIST, rule_firings))
product_rule_approval = particle_view(POST=(Scope.RULES_UPDATE, decide_approval))
