"""Rules on network events, evaluated after each chunk commits (sims.network_events.network_events_ingested),
after devices' receivers (devices is installed first): attached in a country, and IMEI changed (the SIM
moved by the network from one device to another, or an IMEI lock refused the IMEI it was seen with)."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from devices.models import DeviceAssignment, ImeiMismatch
from lib.bulk_insert import db_datetime, insert_rows
from rules.active import any_in_use
from rules.conditions import condition_of, countries_of
from rules.engine import enabled_rules, run_each, run_rule
from rules.firing import Candidates
from rules.kinds import ConditionKind
from rules.models import Rule
from rules.sql import json_object
from sims.models import NetworkEvent

NETWORK_KINDS = [ConditionKind.COUNTRY, ConditionKind.IMEI_CHANGED]
EVENTS = "rules_network_events"
EVENTS_SQL = f"SELECT sim_id FROM {EVENTS}"


def on_network_events(sender: Any = None, *, events: Iterable, now: datetime | None = None, **kwargs: Any) -> int:
    """The receiver: `events` are (sim_id, product_id, NetworkEventRow), the chunk's new ones."""
    events = [(sim_id, product_id, row) for sim_id, product_id, row in events if product_id is not None and _may_matter(row)]
    if not events or not any_in_use(NETWORK_KINDS):
        return 0
    now = now or timezone.now()
    rules = enabled_rules(NETWORK_KINDS, product_ids={product_id for _, product_id, _ in events})
    if not rules:
        return 0
    _stage(events)
    return run_each(rules, lambda rule: run_rule(rule, candidates(rule), day=now.date(), now=now, among=EVENTS_SQL))


def _may_matter(row: Any) -> bool:
    """An attach or location update with a country, or an attach with an IMEI: what these conditions read."""
    return (row.kind in (NetworkEvent.Kind.ATTACH, NetworkEvent.Kind.LOCATION) and bool(row.country)) or (
        row.kind == NetworkEvent.Kind.ATTACH and bool(row.imei)
    )


def _stage(events: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {EVENTS} (sim_id bigint, event_id varchar(64), kind varchar(16), "
            "country varchar(2), imei varchar(16), at timestamp with time zone)"
        )
        cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {EVENTS}")
    rows = ((sim_id, row.event_id, row.kind, row.country, row.imei, db_datetime(row.at)) for sim_id, _, row in events)
    insert_rows(EVENTS, ["sim_id", "event_id", "kind", "country", "imei", "at"], rows, pg_types=["int8", "text", "text", "text", "text", "timestamptz"])


def candidates(rule: Rule) -> Candidates:
    if rule.condition_kind == ConditionKind.COUNTRY:
        # A zone with no countries left selects nothing (NULL matches no country).
        countries: list[str | None] = [*countries_of(condition_of(rule.condition_kind, rule.condition))] or [None]
        marks = ", ".join(["%s"] * len(countries))
        return Candidates(
            f"SELECT e.sim_id, {json_object("'country'", 'MAX(e.country)')} AS figures FROM {EVENTS} e "
            f"WHERE e.kind IN (%s, %s) AND e.country IN ({marks}) GROUP BY e.sim_id",
            [NetworkEvent.Kind.ATTACH, NetworkEvent.Kind.LOCATION, *countries],
        )
    changed, params = imei_changed_sql()
    return Candidates(
        f"SELECT e.sim_id, {json_object("'imei'", 'MAX(e.imei)')} AS figures FROM {EVENTS} e WHERE {changed} GROUP BY e.sim_id",
        params,
    )


def imei_changed_sql() -> tuple[str, list]:
    """The attaches `e` (columns of NetworkEvent) that moved the SIM into another device, or that its IMEI lock
    refused: a condition with its parameters, shared with the backtest (rules/backtest.py)."""
    assignments, mismatches = DeviceAssignment._meta.db_table, ImeiMismatch._meta.db_table
    moved = (
        f"EXISTS (SELECT 1 FROM {assignments} a WHERE a.sim_id = e.sim_id AND a.source = %s AND a.started_at = e.at "
        f"AND EXISTS (SELECT 1 FROM {assignments} b WHERE b.sim_id = e.sim_id AND b.started_at < e.at))"
    )
    refused = f"EXISTS (SELECT 1 FROM {mismatches} m WHERE m.event_id = e.event_id)"
    return f"e.kind = %s AND e.imei <> '' AND ({moved} OR {refused})", [NetworkEvent.Kind.ATTACH, DeviceAssignment.Source.NETWORK]
