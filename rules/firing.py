"""Recording firings: the SIMs a condition selects go into RuleFiring in one INSERT ... SELECT whose
ON CONFLICT DO NOTHING skips those that fired in the window already; only the new rows come back,
and only they are acted on (rules/acting.py)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from lib.bulk_insert import db_datetime
from rules.models import Rule, RuleFiring
from sims.models import Sim


@dataclass(frozen=True)
class Candidates:
    """A SELECT of (sim_id, figures) over the alias `s` for the SIMs: the condition's SIMs before the scope."""

    sql: str
    params: list


def record_firings(rule: Rule, candidates: Candidates, *, scope: tuple[str, list], window: str, now: datetime) -> list[tuple[int, int]]:
    """The new firings' (id, sim_id): the candidates in the rule's product and scope that had not fired in `window`."""
    scope_condition, scope_params = scope
    firings = RuleFiring._meta.db_table
    # In the statement's order: the SELECT list's constants, the candidates', the product and the scope's.
    params: list[Any] = [rule.pk, rule.version, window, db_datetime(now), RuleFiring.Status.DONE]
    sql = (
        f"INSERT INTO {firings} (rule_id, rule_version, sim_id, window_key, fired_at, did, status, figures) "
        f"SELECT %s, %s, c.sim_id, %s, %s, '[]', %s, c.figures FROM ({candidates.sql}) c "
        f"JOIN {Sim._meta.db_table} s ON s.id = c.sim_id WHERE s.product_id = %s AND {scope_condition} "
        "ON CONFLICT (rule_id, sim_id, window_key) DO NOTHING RETURNING id, sim_id"
    )
    params += [*candidates.params, rule.product_id, *scope_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall(), key=lambda row: row[1])
