"""Rules on usage, evaluated after each chunk of usage commits (sims.usage.usage_ingested), over the
chunk's SIMs: a day's data or SMS over an amount (SimDailyUsage), the billing period's data
(SimPeriodUsage), data in a rolling window (the whole UTC days that cover its hours, from SimDailyUsage:
usage records have no per-SIM index to sum hours by)."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection

from lib.units import MB
from rules.active import any_in_use
from rules.conditions import condition_of
from rules.engine import TOUCHED_SQL, enabled_rules, run_each, run_rule, stage_touched
from rules.firing import Candidates
from rules.kinds import ConditionKind
from rules.models import Rule
from rules.product_pass import products_touched, run_product_rules
from rules.sql import json_object, text
from sims.models import SimDailyUsage, SimPeriodUsage

COST_KINDS = [ConditionKind.COST_OVER_BUDGET]
USAGE_KINDS = [ConditionKind.USAGE_DAY, ConditionKind.USAGE_PERIOD, ConditionKind.USAGE_ROLLING, ConditionKind.SMS_COUNT]


def on_usage_ingested(sender: Any = None, *, sim_ids: list[int], days: list[date], now: datetime, **kwargs: Any) -> int:
    """The receiver of sims.usage.usage_ingested: how many new firings. The product's cost moves with its
    usage, so its rules (rules/product_pass.py) run too, for the products whose SIMs the chunk touched."""
    rules = enabled_rules(USAGE_KINDS) if any_in_use(USAGE_KINDS) else []
    cost_rules = enabled_rules(COST_KINDS) if any_in_use(COST_KINDS) else []
    if not (rules or cost_rules) or not sim_ids:
        return 0
    stage_touched(sim_ids)
    fired = run_each(rules, lambda rule: evaluate(rule, days=sorted(set(days)), now=now))
    if cost_rules:
        fired += run_product_rules(now=now, kinds=COST_KINDS, product_ids=products_touched(cost_rules, TOUCHED_SQL))
    return fired


def evaluate(rule: Rule, *, days: list[date], now: datetime) -> int:
    condition = condition_of(rule.condition_kind, rule.condition)
    if rule.condition_kind == ConditionKind.USAGE_ROLLING:
        return run_rule(rule, rolling(condition.mb, condition.hours, now), day=now.date(), now=now, among=TOUCHED_SQL)
    fired = 0
    for day in _days_of(rule, days):
        fired += run_rule(rule, candidates(rule, condition, day), day=day, now=now, among=TOUCHED_SQL)
    return fired


def _days_of(rule: Rule, days: list[date]) -> Iterable[date]:
    """A period's condition once per period the pass touched (its last day touched), a day's once per day."""
    if rule.condition_kind != ConditionKind.USAGE_PERIOD:
        return days
    last_of_period: dict[date, date] = {}
    for day in days:
        last_of_period[day.replace(day=1)] = max(day, last_of_period.get(day.replace(day=1), day))
    return sorted(last_of_period.values())


def _day(value: date) -> object:
    return connection.ops.adapt_datefield_value(value)


def candidates(rule: Rule, condition: Any, day: date) -> Candidates:
    if rule.condition_kind == ConditionKind.USAGE_PERIOD:
        table, period = SimPeriodUsage._meta.db_table, day.replace(day=1)
        figures = json_object("'bytes'", "u.bytes", "'period'", text())
        return Candidates(
            f"SELECT u.sim_id, {figures} AS figures FROM {table} u WHERE u.period = %s AND u.sim_id IN ({TOUCHED_SQL}) AND u.bytes > %s",
            [period.isoformat(), _day(period), int(condition.mb * MB)],
        )
    table = SimDailyUsage._meta.db_table
    column, amount = ("sms", condition.count) if rule.condition_kind == ConditionKind.SMS_COUNT else ("bytes", int(condition.mb * MB))
    figures = json_object(f"'{column}'", f"u.{column}", "'day'", text())
    return Candidates(
        f"SELECT u.sim_id, {figures} AS figures FROM {table} u WHERE u.day = %s AND u.sim_id IN ({TOUCHED_SQL}) AND u.{column} > %s",
        [day.isoformat(), _day(day), amount],
    )


def rolling(mb: float, hours: int, now: datetime) -> Candidates:
    since = (now - timedelta(hours=hours)).date()
    figures = json_object("'bytes'", "SUM(u.bytes)", "'since'", text())
    return Candidates(
        f"SELECT u.sim_id, {figures} AS figures FROM {SimDailyUsage._meta.db_table} u "
        f"WHERE u.day >= %s AND u.sim_id IN ({TOUCHED_SQL}) GROUP BY u.sim_id HAVING SUM(u.bytes) > %s",
        [since.isoformat(), _day(since), int(mb * MB)],
    )
