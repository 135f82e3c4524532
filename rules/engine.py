"""The rules engine: each pass evaluates a product's enabled rules of the kinds the pass concerns, each in
SQL over the SIMs the pass touched (never SIM by SIM in Python), records the firings (rules/firing.py)
and acts on the new ones (rules/acting.py), or holds them for approval (rules/approval.py).

Passes: a chunk of usage once committed (sims.usage.usage_ingested), a chunk of network events
(sims.network_events.network_events_ingested), a sims.changed domain event (state changed to X), and
the periodic tick (no data session for N hours; yesterday's spikes)."""

import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.db import connection, transaction

from lib.bulk_insert import insert_rows
from rules.acting import act
from rules.approval import hold_for_approval
from rules.firing import Candidates, record_firings
from rules.models import Rule
from rules.scope import scope_sql
from rules.windows import window_key

log = logging.getLogger(__name__)

# The SIM ids of the pass, staged once for every rule's statement.
TOUCHED = "rules_touched"
TOUCHED_SQL = f"SELECT sim_id FROM {TOUCHED}"


def enabled_rules(kinds: Iterable[str], *, product_ids: Iterable[int] | None = None) -> list[Rule]:
    rules = Rule.objects.filter(enabled=True, condition_kind__in=list(kinds)).select_related("product").order_by("pk")
    if product_ids is not None:
        rules = rules.filter(product_id__in=list(product_ids))
    return list(rules)


def create_temp_table(name: str, columns: str) -> None:
    """A pass's temporary table, emptied (TRUNCATE on PostgreSQL: a temporary table is never vacuumed)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
        cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {name}")


def stage_touched(sim_ids: Iterable[int]) -> None:
    """The pass's SIMs in a temporary table (COPY on PostgreSQL), so each rule's statement joins them."""
    create_temp_table(TOUCHED, "sim_id bigint PRIMARY KEY")
    insert_rows(TOUCHED, ["sim_id"], ((sim_id,) for sim_id in sim_ids), pg_types=["int8"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TOUCHED}")


def run_rule(rule: Rule, candidates: Candidates, *, day: date, now: datetime, among: str = "") -> int:
    """One rule over one pass, in its own transaction: the new firings recorded, then acted on or held
    for approval. How many new firings."""
    window = window_key(kind=rule.window_kind, hours=rule.window_hours, day=day, now=now)
    with transaction.atomic():
        new = record_firings(rule, candidates, scope=scope_sql(rule, among=among), window=window, now=now)
        if not new:
            return 0
        if rule.approval_threshold is not None and len(new) > rule.approval_threshold:
            hold_for_approval(rule, new, now=now)
        else:
            act(rule, new, now=now)
    return len(new)


def run_each(rules: list[Rule], evaluate: Callable[[Rule], int]) -> int:
    """Each rule in turn: one that fails is logged and rolled back, the others still run (as the tick's work)."""
    fired = 0
    for rule in rules:
        try:
            fired += evaluate(rule)
        except Exception:
            log.exception("Rule %s (%s) failed in this pass; its firings were not recorded.", rule.pk, rule.name)
    return fired
