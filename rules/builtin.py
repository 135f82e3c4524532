"""The console's two built-in rules, as rules of the one mechanism: per product, "When a SIM reaches its data
limit, pause it" and "When a provisioned SIM reaches its product's test trigger, activate it". Each is a Rule
row (made by the migration for the products of the time, when a new product's creation commits, or by its
first firing), listed on the Rules tab as a sentence, audited in RuleFiring and shown in the SIM's timeline
and on the rule's page like any rule; it cannot be deleted or disabled (the product's settings and each
SIM's limit are its parameters, as before).

Why sims still evaluates them: they act inside the usage chunk's transaction (triggers first, then the limit,
so a SIM a trigger activates is held to its limit in the same pass), on the tick, and when a person lowers a
limit; the rules engine's passes run after a chunk commits. Moving them would change when a SIM is paused
and what ingestion reports. So sims evaluates and announces (sims.builtin_rules.builtin_rule_acted, once the
SIMs changed: inside the chunk's transaction in ingestion) and this module records the firings."""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import batched
from typing import Any

from django.db import connection, transaction

from lib.bulk_insert import db_datetime, listed

from products.models import Product
from rules.kinds import ConditionKind
from rules.models import Rule, RuleFiring
from sims import builtin_rules as sims_builtin
from sims.builtin_rules import Acted
from sims.models import Sim

IDS_PER_QUERY = 5_000


@dataclass(frozen=True)
class Builtin:
    name: str
    actions: list[dict[str, str]]


BUILTINS: dict[str, Builtin] = {
    ConditionKind.DATA_LIMIT: Builtin("Data limit", [{"kind": "pause"}]),
    ConditionKind.TEST_TRIGGER: Builtin("Test-state triggers", [{"kind": "activate"}]),
}
# sims names the kinds it announces; they are these.
assert {sims_builtin.DATA_LIMIT, sims_builtin.TEST_TRIGGER} == set(BUILTINS)

WINDOW = "each time it changes a SIM (it acts once on a SIM in a pass)"


def is_builtin(rule: Rule) -> bool:
    return rule.condition_kind in BUILTINS


def ensure_builtin_rules(product_ids: Iterable[int]) -> None:
    """Each product's built-in rules, made where missing (the unique constraint skips those that exist)."""
    rules = [
        Rule(product_id=product_id, name=builtin.name, condition_kind=kind, actions=builtin.actions)
        for product_id in product_ids
        for kind, builtin in BUILTINS.items()
    ]
    Rule.objects.bulk_create(rules, ignore_conflicts=True, batch_size=1000)


def on_product_saved(sender: Any, instance: Product, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """Connected to Product's post_save: a new product gets its built-in rules once its creation commits."""
    if created and not raw:
        product_id = instance.pk
        transaction.on_commit(lambda: ensure_builtin_rules([product_id]))


def record_builtin_firings(sender: Any = None, *, kind: str, acted: dict[int, Acted], now: datetime, **kwargs: Any) -> None:
    """The receiver of sims.builtin_rules.builtin_rule_acted: a firing per SIM changed, of its product's
    built-in rule, in the caller's transaction if any. SIMs of no product (a developer's) have no rule to fire."""
    for chunk in batched(acted, IDS_PER_QUERY):
        sim_ids = list(chunk)
        missing = (
            Sim.objects.filter(pk__in=listed(Sim._meta.pk, sim_ids), product__isnull=False)
            .exclude(product_id__in=Rule.objects.filter(condition_kind=kind).values("product_id"))
            .values_list("product_id", flat=True)
            .distinct()
        )
        if missing_ids := set(missing):
            ensure_builtin_rules(missing_ids)
        _insert_firings(kind, [(sim_id, acted[sim_id]) for sim_id in sim_ids], now=now)


def _insert_firings(kind: str, acted: list[tuple[int, Acted]], *, now: datetime) -> None:
    """One INSERT ... SELECT: each SIM's firing of its product's built-in rule of `kind`, from one JSON parameter
    (the ORM's bulk_create cost a third of a millisecond a firing, more than the change itself)."""
    firings = json.dumps([{"sim_id": sim_id, "figures": a.figures, "did": [a.did.rstrip(".")]} for sim_id, a in acted])
    if connection.vendor == "postgresql":
        source = "json_to_recordset(%s::json) AS j(sim_id bigint, figures jsonb, did jsonb)"
        columns = "j.sim_id AS sim_id, j.figures AS figures, j.did AS did"
    else:
        source = "json_each(%s)"
        columns = "json_extract(value, '$.sim_id') AS sim_id, json_extract(value, '$.figures') AS figures, json_extract(value, '$.did') AS did"
    # The pass is the window: a built-in rule fires each time it changes a SIM.
    window = f"t{now:%Y%m%dT%H%M%S.%f}"
    sql = (
        f"INSERT INTO {RuleFiring._meta.db_table} (rule_id, rule_version, window_key, fired_at, status, sim_id, figures, did) "
        f"SELECT r.id, r.version, %s, %s, %s, c.sim_id, c.figures, c.did FROM (SELECT {columns} FROM {source}) AS c "
        f"JOIN {Sim._meta.db_table} s ON s.id = c.sim_id JOIN {Rule._meta.db_table} r ON r.product_id = s.product_id AND r.condition_kind = %s "
        "WHERE true ON CONFLICT (rule_id, sim_id, window_key) DO NOTHING"
    )
    params: list[Any] = [window, db_datetime(now), RuleFiring.Status.DONE, firings, kind]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def builtin_sentence(rule: Rule, product: Product) -> str:
    """The built-in rule in words, with its parameters as they stand: the product's settings."""
    if rule.condition_kind == ConditionKind.DATA_LIMIT:
        return (
            f"When a SIM reaches its data limit (its own, else the product's default of "
            f"{product.effective_default_data_limit_mb:,} MB) in the billing period, pause it."
        )
    return f"When a provisioned SIM reaches its product's test trigger ({_triggers(product)}), activate it."


def _triggers(product: Product) -> str:
    reached = [
        f"{product.trigger_data_kb:,} KB of data" if product.trigger_data_kb is not None else "",
        f"{product.trigger_sms:,} SMS" if product.trigger_sms is not None else "",
        f"traffic on {product.trigger_traffic_days:,} days" if product.trigger_traffic_days is not None else "",
        f"{product.trigger_months:,} months since provisioning" if product.trigger_months is not None else "",
    ]
    reached = [phrase for phrase in reached if phrase]
    if not reached:
        return "none is set, so it never fires"
    if len(reached) == 1:
        return reached[0]
    return ", ".join(reached[:-1]) + f" or {reached[-1]}, whichever comes first"
