"""Rules the periodic tick evaluates (sims.periodic.every_tick), over each rule's product: no data session
for N hours (SimConnectivity), and yesterday's spikes as sims/spikes.py's detector found them earlier in
the same tick (UsageSpike), at the rule's factor if it sets one; and the rules about the product (its
cost, its carrier accounts' failures: rules/product_pass.py)."""

from datetime import datetime, timedelta

from django.db import connection

from lib.bulk_insert import db_datetime
from rules.active import any_in_use
from rules.conditions import condition_of
from rules.engine import enabled_rules, run_each, run_rule
from rules.firing import Candidates
from rules.kinds import ConditionKind
from rules.models import Rule
from rules.product_pass import run_product_rules
from rules.sql import json_object, text
from sims.models import Connectivity, SimConnectivity, UsageSpike

TICK_KINDS = [ConditionKind.NO_SESSION, ConditionKind.SPIKE]


def run_tick_rules(*, now: datetime) -> str:
    fired = run_product_rules(now=now)
    if any_in_use(TICK_KINDS):
        fired += run_each(enabled_rules(TICK_KINDS), lambda rule: evaluate(rule, now=now))
    return f"{fired:,} rule firings" if fired else ""


def evaluate(rule: Rule, *, now: datetime) -> int:
    condition = condition_of(rule.condition_kind, rule.condition)
    if rule.condition_kind == ConditionKind.SPIKE:
        day = (now - timedelta(days=1)).date()
        factor = f"AND u.factor >= {float(condition.factor)!r}" if condition.factor is not None else ""
        figures = json_object("'bytes'", "u.bytes", "'factor'", "u.factor", "'day'", text())
        candidates = Candidates(
            f"SELECT u.sim_id, {figures} AS figures FROM {UsageSpike._meta.db_table} u WHERE u.product_id = %s AND u.day = %s {factor}",
            [day.isoformat(), rule.product_id, connection.ops.adapt_datefield_value(day)],
        )
        return run_rule(rule, candidates, day=day, now=now)
    last = "COALESCE(c.last_session_end_at, c.last_session_start_at, c.last_attach_at)"
    figures = json_object("'silent_since'", text(f"{last}"))
    candidates = Candidates(
        f"SELECT c.sim_id, {figures} AS figures FROM {SimConnectivity._meta.db_table} c "
        f"WHERE c.product_id = %s AND c.status <> %s AND {last} < %s",
        [rule.product_id, Connectivity.ONLINE, db_datetime(now - timedelta(hours=condition.hours))],
    )
    return run_rule(rule, candidates, day=now.date(), now=now)
