"""Data limits: a SIM's effective limit (its own, else its product's default, else the console's),
pausing at it, and unpausing under it or when a new billing period begins."""

from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from lib.bulk_insert import list_parameter
from lib.calendar import billing_period_start
from lib.units import MB, human_bytes
from products.limits import effective_limit_sql
from products.models import Product
from sims.builtin_rules import DATA_LIMIT, Acted, announce
from sims.lifecycle import Action, ActionReport, Actor, apply_action
from sims.models import Sim, SimPeriodUsage, State

# The largest data limit a person or a script may set, in MB (the forms and the API alike).
MAX_DATA_LIMIT_MB = 1_000_000

LIMIT_RULE = "data limit"
NEW_PERIOD_RULE = "new billing period"


def pause_sims_over_limit(*, sims_sql: str, sims_params: list, now: datetime) -> int:
    """Pause the active SIMs among `sims_sql` (a subquery of SIM ids) whose usage this period reached their limit."""
    period_start = billing_period_start(now)
    over = _sims_against_limit(sims_sql, sims_params, state=State.ACTIVE, at_or_over=True, now=now)
    if not over:
        return 0
    reasons = {
        sim_id: f"Data limit of {limit_mb} MB reached: {human_bytes(used)} used since {period_start:%b} 1."
        for sim_id, limit_mb, used in over
    }
    figures = {sim_id: {"bytes": used, "limit_mb": limit_mb, "period": period_start.isoformat()} for sim_id, limit_mb, used in over}
    report = apply_action(sims=list(reasons), action=Action.PAUSE, actor=Actor.system(LIMIT_RULE), reasons=reasons)
    done = [outcome.sim_id for outcome in report.done]
    announce(DATA_LIMIT, {sim_id: Acted(figures[sim_id], f"Paused: {reasons[sim_id]}") for sim_id in done}, now=now)
    return len(report.done)


def pause_if_over_limit(*, sim_ids: list[int], now: datetime | None = None) -> int:
    """After a limit was lowered: pause at once what is already over it."""
    sims_sql, sims_params = _listed(sim_ids)
    return pause_sims_over_limit(sims_sql=sims_sql, sims_params=sims_params, now=now or timezone.now())


def unpause_within_limit(*, sim_ids: list[int], actor: Actor, now: datetime | None = None) -> int:
    """After a limit was raised: unpause the paused SIMs whose usage this period is now under it."""
    sims_sql, sims_params = _listed(sim_ids)
    under = _sims_against_limit(sims_sql, sims_params, state=State.PAUSED, at_or_over=False, now=now or timezone.now())
    reasons = {
        sim_id: f"Data limit raised to {limit_mb} MB, above this period's {human_bytes(used)}."
        for sim_id, limit_mb, used in under
    }
    return len(apply_action(sims=list(reasons), action=Action.UNPAUSE, actor=actor, reasons=reasons).done)


def unpause_for_new_period(*, now: datetime | None = None) -> int:
    """A new billing period starts every SIM's usage from zero: SIMs paused before it run again."""
    now = now or timezone.now()
    period_start = billing_period_start(now)
    began = datetime.combine(period_start, time(), tzinfo=UTC)
    paused_before = Sim.objects.filter(state=State.PAUSED, state_changed_at__lt=began)
    report = apply_action(
        sims=paused_before,
        action=Action.UNPAUSE,
        actor=Actor.system(NEW_PERIOD_RULE),
        reason=f"A new billing period began on {period_start:%b} 1; usage counts from zero again.",
    )
    return len(report.done)


@dataclass(frozen=True)
class LimitChange:
    report: ActionReport
    # SIMs paused at once because the new limit is at or under their usage this period.
    paused: int
    # Paused SIMs that run again because the new limit is above their usage.
    unpaused: int


def set_data_limit(
    *,
    sims: Sim | QuerySet[Sim] | list[int],
    data_limit_mb: int,
    actor: Actor,
    unpause: bool,
    now: datetime | None = None,
    product_id: int | None = None,
) -> LimitChange:
    """Set SIMs' own data limit, then pause what is over it and, if asked, unpause what is now under it.

    One SIM raises IllegalTransition like apply_action (and is refreshed); a list is reported SIM by SIM
    (`product_id` as for apply_action).
    """
    now = now or timezone.now()
    report = apply_action(
        sims=sims, action=Action.SET_DATA_LIMIT, actor=actor, data_limit_mb=data_limit_mb, product_id=product_id
    )
    changed = [outcome.sim_id for outcome in report.done]
    paused = pause_if_over_limit(sim_ids=changed, now=now)
    unpaused = unpause_within_limit(sim_ids=changed, actor=actor, now=now) if unpause else 0
    if isinstance(sims, Sim) and (paused or unpaused):
        sims.refresh_from_db()
    return LimitChange(report=report, paused=paused, unpaused=unpaused)


def change_sims(
    *,
    sims: Sim | QuerySet[Sim] | list[int],
    action: Action,
    actor: Actor,
    data_limit_mb: int | None = None,
    unpause: bool = False,
    product_id: int | None = None,
    now: datetime | None = None,
) -> LimitChange:
    """A change chosen for SIMs by a person or a script: a new data limit (`data_limit_mb`, then what
    is over it paused and, if `unpause`, what is under it unpaused: `set_data_limit`) or a lifecycle
    action (`data_limit_mb` and `unpause` ignored: nothing paused or unpaused by a limit). One SIM
    raises IllegalTransition; many are reported SIM by SIM (`product_id` as for apply_action)."""
    if action == Action.SET_DATA_LIMIT:
        if data_limit_mb is None:
            raise ValueError("set_data_limit needs data_limit_mb, a whole number of MB")
        return set_data_limit(sims=sims, data_limit_mb=data_limit_mb, actor=actor, unpause=unpause, now=now, product_id=product_id)
    report = apply_action(sims=sims, action=action, actor=actor, product_id=product_id)
    return LimitChange(report=report, paused=0, unpaused=0)


def period_usage(sim_ids: list[int], *, now: datetime | None = None) -> dict[int, int]:
    """Bytes each SIM used this billing period (SIMs without usage are missing)."""
    period_start = billing_period_start(now or timezone.now())
    rows = SimPeriodUsage.objects.filter(sim_id__in=sim_ids, period=period_start).values_list("sim_id", "bytes")
    return dict(rows)


def _sims_against_limit(
    sims_sql: str, sims_params: list, *, state: State, at_or_over: bool, now: datetime
) -> list[tuple[int, int, int]]:
    """(SIM id, effective limit in MB, bytes used this period) of the SIMs in `state` at/over or under their limit."""
    limit_mb = effective_limit_sql("s", "p")
    # In bytes as a BIGINT: the MB column is a 32-bit integer on PostgreSQL, and over 2,147 MB the
    # product overflowed it ("integer out of range").
    compare = ">=" if at_or_over else "<"
    period_start = connection.ops.adapt_datefield_value(billing_period_start(now))
    sql = (
        f"SELECT id, limit_mb, used FROM (SELECT s.id AS id, {limit_mb} AS limit_mb, COALESCE(u.bytes, 0) AS used "
        f"FROM {Sim._meta.db_table} s LEFT JOIN {Product._meta.db_table} p ON p.id = s.product_id "
        f"LEFT JOIN {SimPeriodUsage._meta.db_table} u ON u.sim_id = s.id AND u.period = %s "
        f"WHERE s.state = %s AND s.id IN ({sims_sql})) AS candidates WHERE used {compare} CAST(limit_mb AS BIGINT) * {MB}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [period_start, state.value, *sims_params])
        return cursor.fetchall()


def _listed(sim_ids: list[int]) -> tuple[str, list]:
    """A subquery of these SIM ids, sent as one parameter however many there are."""
    relation, parameter = list_parameter(Sim._meta.pk, list(sim_ids))
    return f"SELECT value FROM {relation}", [parameter]
