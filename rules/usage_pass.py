"""Rules on usage, evaluated after each chunk of usage commits (sims.usage.usage_ingested), over the
chunk's SIMs: a day's data or SMS over an amount (SimDailyUsage), the billing period's data
(SimPeriodUsage), data in a rolling window (the whole UTC days that cover its hours, from SimDailyUsage:
usage records have no per-SIM index to sum hours by).

A chunk touches every SIM of a delivery, and few of them go over any amount. So the pass first keeps,
per condition kind, the SIMs over the kind's lowest amount (rules_likely: one statement per kind over all
the touched SIMs), and each rule's own statement then reads those few SIMs only."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection

from lib.units import MB
from rules.active import any_in_use
from rules.conditions import condition_of
from rules.engine import TOUCHED_SQL, create_temp_table, enabled_rules, run_each, run_rule, stage_touched
from rules.firing import Candidates
from rules.kinds import ConditionKind
from rules.models import Rule
from rules.params import ParamError
from rules.product_pass import products_touched, run_product_rules
from rules.sql import json_object, text
from sims.models import SimDailyUsage, SimPeriodUsage

COST_KINDS = [ConditionKind.COST_OVER_BUDGET]
USAGE_KINDS = [ConditionKind.USAGE_DAY, ConditionKind.USAGE_PERIOD, ConditionKind.USAGE_ROLLING, ConditionKind.SMS_COUNT]
# The touched SIMs that may meet a rule of a kind (over the lowest amount of the kind's rules).
LIKELY = "rules_likely"
# The kinds whose SIMs LIKELY keeps: each an amount that a SIM over a higher one is over too.
NARROWED = {ConditionKind.USAGE_DAY, ConditionKind.USAGE_PERIOD, ConditionKind.USAGE_ROLLING, ConditionKind.SMS_COUNT}


def on_usage_ingested(sender: Any = None, *, sim_ids: list[int], days: list[date], now: datetime, **kwargs: Any) -> int:
    """The receiver of sims.usage.usage_ingested: how many new firings. The product's cost moves with its
    usage, so its rules (rules/product_pass.py) run too, for the products whose SIMs the chunk touched."""
    rules = enabled_rules(USAGE_KINDS) if any_in_use(USAGE_KINDS) else []
    cost_rules = enabled_rules(COST_KINDS) if any_in_use(COST_KINDS) else []
    if not (rules or cost_rules) or not sim_ids:
        return 0
    days = sorted(set(days))
    stage_touched(sim_ids)
    fired = 0
    if rules:
        kept = keep_likely(rules, days=days, now=now)
        fired += run_each(rules, lambda rule: evaluate(rule, days=days, now=now, among=among_for(rule.condition_kind, kept)))
    if cost_rules:
        fired += run_product_rules(now=now, kinds=COST_KINDS, product_ids=products_touched(cost_rules, TOUCHED_SQL))
    return fired


def keep_likely(rules: list[Rule], *, days: list[date], now: datetime) -> set[str]:
    """Per condition kind, the touched SIMs over the lowest amount of its rules, in LIKELY: which kinds.
    A SIM over a rule's amount is over the lowest one; over a rolling window, over the longest window's
    sum. A kind not in NARROWED (one added later) reads all the touched SIMs."""
    create_temp_table(LIKELY, "kind varchar(16), sim_id bigint, PRIMARY KEY (kind, sim_id)")
    by_kind: dict[str, list[Any]] = {}
    for rule in (rule for rule in rules if rule.condition_kind in NARROWED):
        try:
            by_kind.setdefault(rule.condition_kind, []).append(condition_of(rule.condition_kind, rule.condition))
        except ParamError:
            continue  # its own evaluation fails, and says so (run_each)
    for kind, conditions in by_kind.items():
        if kind == ConditionKind.USAGE_ROLLING:
            loosest = [rolling(min(c.mb for c in conditions), max(c.hours for c in conditions), now, among=TOUCHED_SQL)]
        else:
            lowest = min(conditions, key=lambda c: c.count if kind == ConditionKind.SMS_COUNT else c.mb)
            loosest = [candidates(kind, lowest, day, among=TOUCHED_SQL) for day in _days_of(kind, days)]
        for selected in loosest:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {LIKELY} (kind, sim_id) SELECT DISTINCT %s, c.sim_id FROM ({selected.sql}) c WHERE true "
                    "ON CONFLICT DO NOTHING",
                    [kind, *selected.params],
                )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {LIKELY}")
    return set(by_kind)


def among_for(kind: str, kept: set[str]) -> str:
    """The SIMs a rule of `kind` reads: those LIKELY kept for the kind, or else all the touched ones."""
    if kind not in kept:
        return TOUCHED_SQL
    # The kind is one of ConditionKind's values, never a user's text.
    return f"SELECT sim_id FROM {LIKELY} WHERE kind = '{ConditionKind(kind).value}'"


def evaluate(rule: Rule, *, days: list[date], now: datetime, among: str) -> int:
    condition = condition_of(rule.condition_kind, rule.condition)
    if rule.condition_kind == ConditionKind.USAGE_ROLLING:
        return run_rule(rule, rolling(condition.mb, condition.hours, now, among=among), day=now.date(), now=now, among=among)
    fired = 0
    for day in _days_of(rule.condition_kind, days):
        fired += run_rule(rule, candidates(rule.condition_kind, condition, day, among=among), day=day, now=now, among=among)
    return fired


def _days_of(kind: str, days: list[date]) -> Iterable[date]:
    """A period's condition once per period the pass touched (its last day touched), a day's once per day."""
    if kind != ConditionKind.USAGE_PERIOD:
        return days
    last_of_period: dict[date, date] = {}
    for day in days:
        last_of_period[day.replace(day=1)] = max(day, last_of_period.get(day.replace(day=1), day))
    return sorted(last_of_period.values())


def _day(value: date) -> object:
    return connection.ops.adapt_datefield_value(value)


def candidates(kind: str, condition: Any, day: date, *, among: str) -> Candidates:
    """The SIMs of `among` whose day (or period) is over the condition's amount."""
    if kind == ConditionKind.USAGE_PERIOD:
        table, period = SimPeriodUsage._meta.db_table, day.replace(day=1)
        figures = json_object("'bytes'", "u.bytes", "'period'", text())
        return Candidates(
            f"SELECT u.sim_id, {figures} AS figures FROM {table} u WHERE u.period = %s AND u.sim_id IN ({among}) AND u.bytes > %s",
            [period.isoformat(), _day(period), int(condition.mb * MB)],
        )
    table = SimDailyUsage._meta.db_table
    column, amount = ("sms", condition.count) if kind == ConditionKind.SMS_COUNT else ("bytes", int(condition.mb * MB))
    figures = json_object(f"'{column}'", f"u.{column}", "'day'", text())
    return Candidates(
        f"SELECT u.sim_id, {figures} AS figures FROM {table} u WHERE u.day = %s AND u.sim_id IN ({among}) AND u.{column} > %s",
        [day.isoformat(), _day(day), amount],
    )


def rolling(mb: float, hours: int, now: datetime, *, among: str) -> Candidates:
    since = (now - timedelta(hours=hours)).date()
    figures = json_object("'bytes'", "SUM(u.bytes)", "'since'", text())
    return Candidates(
        f"SELECT u.sim_id, {figures} AS figures FROM {SimDailyUsage._meta.db_table} u "
        f"WHERE u.day >= %s AND u.sim_id IN ({among}) GROUP BY u.sim_id HAVING SUM(u.bytes) > %s",
        [since.isoformat(), _day(since), int(mb * MB)],
    )
