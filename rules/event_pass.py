"""Rules on state changes: a sims.changed domain event, as it is published (sims.events.event_published,
inside the publishing transaction), fires the product's 'changes state to X' rules for its SIMs now in X."""

from datetime import datetime
from typing import Any

from rules.active import any_in_use
from rules.conditions import condition_of
from rules.engine import enabled_rules, run_each, run_rule
from rules.firing import Candidates
from rules.kinds import ConditionKind
from rules.models import Rule
from rules.sql import json_object, text
from sims.models import DomainEvent, Sim


def on_event_published(sender: Any = None, *, event: DomainEvent, **kwargs: Any) -> int:
    if event.kind != DomainEvent.Kind.SIMS_CHANGED or event.product_id is None or not any_in_use([ConditionKind.STATE_CHANGED]):
        return 0
    rules = enabled_rules([ConditionKind.STATE_CHANGED], product_ids=[event.product_id])
    if not rules:
        return 0
    now = datetime.fromisoformat(event.data["occurred_at"])
    by_state: dict[str, list[str]] = {}
    for change in event.data["changes"]:
        if change["to_state"] != change["from_state"]:
            by_state.setdefault(change["to_state"], []).extend(change["iccids"])
    return run_each(rules, lambda rule: _evaluate(rule, by_state, now))


def _evaluate(rule: Rule, by_state: dict[str, list[str]], now: datetime) -> int:
    state = condition_of(rule.condition_kind, rule.condition).state
    iccids = by_state.get(state)
    if not iccids:
        return 0
    marks = ", ".join(["%s"] * len(iccids))
    # Still in that state: a later change (published after) is its own event.
    candidates = Candidates(
        f"SELECT x.id AS sim_id, {json_object("'state'", text())} AS figures FROM {Sim._meta.db_table} x "
        f"WHERE x.product_id = %s AND x.iccid IN ({marks}) AND x.state = %s",
        [state, rule.product_id, *iccids, state],
    )
    return run_rule(rule, candidates, day=now.date(), now=now)
