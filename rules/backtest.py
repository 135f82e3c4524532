"""The backtest of a rule (issue 18): what it would have done over the last days of history, before it is saved
or changed. One SQL statement over the kept history finds the (SIM, window) pairs the rule would have fired in,
as the live passes would have recorded them (rules/usage_pass.py, network_pass.py, event_pass.py, tick_pass.py:
the same conditions, the rule's current scope, window keys from rules/windows.py), and returns their count, the
SIMs, the count per day and the most recent few. It writes nothing: the rule may be unsaved.

History replayed: the daily usage (day, period and rolling data, SMS), the spikes the detector kept, the network
events (countries, IMEI changes) and the SIMs' state changes. Usage is replayed as if each day were evaluated at
its end (`replay_moment`): by then the whole day is in, so a day's, a period's or a whole-day rolling amount fires
on the same day as live; where the moment within the day matters, the result says so in its caveat."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_date, parse_datetime

from lib.units import MB
from rules.acting import describe_figures
from rules.conditions import condition_of, countries_of
from rules.kinds import ActionKind, ConditionKind, WindowKind
from rules.models import Rule
from rules.network_pass import imei_changed_sql
from rules.scope import scope_sql
from rules.windows import window_key
from sims.models import NetworkEvent, Sim, SimDailyUsage, SimEvent, SimPeriodUsage, UsageSpike

DAYS = 30
SAMPLE = 20
DAY_END = time(23, 59)

NOT_REPLAYED: dict[str, str] = {
    ConditionKind.NO_SESSION: (
        "Not replayed: “no data session for some hours” is checked against each SIM's connectivity as it stands at "
        "each tick, and only the latest connectivity is kept, so what it would have done cannot be counted. "
        "No count is shown for it."
    ),
    ConditionKind.COST_OVER_BUDGET: (
        "Not replayed: the product's estimated cost is priced as it stands, and past estimates are not kept day by day, "
        "so when it would have crossed the amount cannot be counted. No count is shown for it."
    ),
    ConditionKind.CARRIER_FAILURES: (
        "Not replayed: the calls to carriers are kept for a week only, not the 30 days a backtest covers. "
        "No count is shown for it."
    ),
}


@dataclass(frozen=True)
class Firing:
    sim_id: int
    iccid: str
    # A day for usage conditions, the moment for network events and state changes.
    when: date | datetime
    figures: dict[str, Any]

    @property
    def description(self) -> str:
        return describe_figures(self.figures)

    @property
    def timed(self) -> bool:
        return isinstance(self.when, datetime)


@dataclass(frozen=True)
class Backtest:
    firings: int
    sims: int
    # Every day of the backtest, oldest first, zeros included.
    per_day: list[tuple[date, int]]
    # The most recent firings, newest first.
    sample: list[Firing]
    # Empty when the count is exact; otherwise what it leaves out, in words for the person editing the rule.
    caveat: str = ""
    # False for a condition whose history is not kept (NOT_REPLAYED): then there is no count at all.
    replayed: bool = True
    days: int = DAYS

    @property
    def exact(self) -> bool:
        return not self.caveat


def replay_moment(day: date, now: datetime) -> datetime:
    """When a day's usage counts as evaluated: at its end (all of it in), or now for today."""
    return min(datetime.combine(day, DAY_END, tzinfo=UTC), now)


def backtest(rule: Rule, *, now: datetime, days: int = DAYS) -> Backtest:
    """What `rule` (saved or not; its condition already valid) would have done in the `days` days up to `now`."""
    first = now.date() - timedelta(days=days - 1)
    every_day = _days_from(first, now)
    if rule.condition_kind not in _REPLAYS:
        caveat = NOT_REPLAYED.get(rule.condition_kind, "Not replayed: this condition's history is not kept. No count is shown for it.")
        return Backtest(0, 0, [(day, 0) for day in every_day], [], caveat=caveat, replayed=False, days=days)
    replay = _REPLAYS[rule.condition_kind](rule, condition_of(rule.condition_kind, rule.condition), first, now)
    counts, sims, sample = _run(rule, replay)
    return Backtest(
        firings=sum(counts.values()),
        sims=sims,
        per_day=[(day, counts.get(day, 0)) for day in every_day],
        sample=sample,
        caveat=replay.caveat,
        days=days,
    )


@dataclass(frozen=True)
class Replay:
    """A condition's hits over history: rows of (sim_id, day, at, wkey, amount, detail), the CTEs they read (a
    calendar of windows first), and how a hit's row reads as the live firing's figures."""

    ctes: str
    hits: str
    params: list
    figures: Callable[[date, Any, Any], dict[str, Any]]
    caveat: str = ""
    timed: bool = False


def _run(rule: Rule, replay: Replay) -> tuple[dict[date, int], int, list[Firing]]:
    """Once per (SIM, window), in the rule's product and scope: the firings per day, the SIMs, the newest few."""
    scope_condition, scope_params = scope_sql(rule)
    # The sample comes first: PostgreSQL types a UNION's columns from its first member, the others hold NULLs.
    sql = (
        f"WITH {replay.ctes}, hits AS ({replay.hits}), "
        "ranked AS (SELECT h.sim_id, h.day, h.at, h.amount, h.detail, s.iccid, "
        "ROW_NUMBER() OVER (PARTITION BY h.sim_id, h.wkey ORDER BY h.day, h.at) AS nth "
        f"FROM hits h JOIN {Sim._meta.db_table} s ON s.id = h.sim_id WHERE s.product_id = %s AND {scope_condition}), "
        "fired AS (SELECT sim_id, day, at, amount, detail, iccid FROM ranked WHERE nth = 1) "
        "SELECT * FROM (SELECT 'sample' AS part, day, 0 AS n, sim_id, iccid, at, amount, detail FROM fired "
        f"ORDER BY day DESC, at DESC, sim_id DESC LIMIT {SAMPLE}) newest "
        "UNION ALL SELECT 'day', day, COUNT(*), NULL, NULL, NULL, NULL, NULL FROM fired GROUP BY day "
        "UNION ALL SELECT 'sims', NULL, COUNT(DISTINCT sim_id), NULL, NULL, NULL, NULL, NULL FROM fired"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*replay.params, rule.product_id, *scope_params])
        rows = cursor.fetchall()
    counts: dict[date, int] = {}
    sims, sample = 0, []
    for part, day, n, sim_id, iccid, at, amount, detail in rows:
        if part == "day":
            counts[_date(day)] = int(n)
        elif part == "sims":
            sims = int(n)
        else:
            when = _datetime(at) if replay.timed else _date(day)
            sample.append(Firing(sim_id=int(sim_id), iccid=iccid, when=when, figures=replay.figures(_date(day), amount, detail)))
    return counts, sims, sample


def _date(value: Any) -> date:
    return value if isinstance(value, date) else parse_date(str(value))  # type: ignore[return-value]


def _datetime(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(value: date) -> object:
    return connection.ops.adapt_datefield_value(value)


def _values(name: str, columns: list[str], rows: Iterable[tuple]) -> tuple[str, list]:
    """A small table of constants as a CTE (both databases take `name(columns) AS (VALUES ...)`)."""
    rows = list(rows)
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"{name}({', '.join(columns)}) AS (VALUES {', '.join([marks] * len(rows))})", [v for row in rows for v in row]


# Usage: a calendar of days (its billing period, a rolling window's first day, the window key).

DAILY, PERIODS, SPIKES = SimDailyUsage._meta.db_table, SimPeriodUsage._meta.db_table, UsageSpike._meta.db_table


def _days_calendar(rule: Rule, since: Callable[[date], date], first: date, now: datetime, moment: Callable[[date], datetime]) -> tuple[date, str, list]:
    """Days from the earliest one the replay reads (its period's start, a rolling window's) to today."""
    start = min(first.replace(day=1), since(first))
    cte, params = _values(
        "cal",
        ["day", "period", "since", "wkey"],
        ((_day(d), _day(d.replace(day=1)), _day(since(d)), _key(rule, d, moment(d))) for d in _days_from(start, now)),
    )
    return start, cte, params


def _days_from(start: date, now: datetime) -> list[date]:
    return [start + timedelta(days=n) for n in range((now.date() - start).days + 1)]


def _end_of(day: date) -> datetime:
    return datetime.combine(day, DAY_END, tzinfo=UTC)


def _key(rule: Rule, day: date, moment: datetime) -> str:
    return window_key(kind=rule.window_kind, hours=rule.window_hours, day=day, now=moment)


def _hours_caveat(rule: Rule) -> str:
    if rule.window_kind != WindowKind.HOURS:
        return ""
    return (
        f"Usage is kept per day, so each day counts as evaluated at its end: live passes earlier in a day "
        f"may fall in another {rule.window_hours}-hour window and fire once more."
    )


def _usage_day(rule: Rule, condition: Any, first: date, now: datetime) -> Replay:
    column, amount = ("sms", condition.count) if rule.condition_kind == ConditionKind.SMS_COUNT else ("bytes", int(condition.mb * MB))
    _, cte, params = _days_calendar(rule, lambda d: d, first, now, lambda d: replay_moment(d, now))
    hits = (
        f"SELECT u.sim_id, u.day, NULL AS at, cal.wkey, u.{column} AS amount, NULL AS detail FROM {DAILY} u "
        f"JOIN cal ON cal.day = u.day WHERE u.product_id = %s AND u.day >= %s AND u.day <= %s AND u.{column} > %s"
    )
    return Replay(
        cte, hits, [*params, rule.product_id, _day(first), _day(now.date()), amount],
        lambda day, value, _: {column: int(value), "day": day.isoformat()},
        caveat=_hours_caveat(rule),
    )  # fmt: skip


def _usage_period(rule: Rule, condition: Any, first: date, now: datetime) -> Replay:
    """Each day's period total so far, from the daily rows (a running sum). Only a SIM whose period total is over
    the amount can cross it in that period: those few (SIM, period) pairs come from the period totals' index, and
    their daily rows are read by (SIM, day) through the unique index, not by scanning every SIM's."""
    amount = int(condition.mb * MB)
    start, cte, params = _days_calendar(rule, lambda d: d, first, now, lambda d: replay_moment(d, now))
    periods = sorted({day.replace(day=1) for day in _days_from(first, now)})
    marks = ", ".join(["%s"] * len(periods))
    hits = (
        "SELECT r.sim_id, r.day, NULL AS at, cal.wkey, r.total AS amount, NULL AS detail FROM ("
        "SELECT u.sim_id, u.day, u.product_id, "
        "SUM(u.bytes) OVER (PARTITION BY u.sim_id, p.period ORDER BY u.day ROWS UNBOUNDED PRECEDING) AS total "
        f"FROM {PERIODS} pu JOIN cal p ON p.period = pu.period JOIN {DAILY} u ON u.sim_id = pu.sim_id AND u.day = p.day "
        f"WHERE pu.product_id = %s AND pu.period IN ({marks}) AND pu.bytes > %s"
        ") r JOIN cal ON cal.day = r.day WHERE r.product_id = %s AND r.day >= %s AND r.total > %s"
    )
    return Replay(
        cte, hits,
        [*params, rule.product_id, *map(_day, periods), amount, rule.product_id, _day(first), amount],
        lambda day, value, _: {"bytes": int(value), "period": day.replace(day=1).isoformat()},
        caveat=_hours_caveat(rule),
    )  # fmt: skip


def _usage_rolling(rule: Rule, condition: Any, first: date, now: datetime) -> Replay:
    """The sum of the whole days a window of hours covers, as usage_pass.rolling sums them at each day's end. A
    sum of n days over the amount has a day over amount/n: one scan finds those heavy days (a constant the
    planner can weigh against the column's statistics), and only the days whose window covers one are summed,
    each of their rows read by (SIM, day) through the unique index: a few rows per heavy day, not every row of
    the SIMs that have one (a day's rows lie together, so a SIM's rows are as many pages)."""
    amount, hours = int(condition.mb * MB), condition.hours

    def since(day: date) -> date:
        return (replay_moment(day, now) - timedelta(hours=hours)).date()

    start, cte, params = _days_calendar(rule, since, first, now, lambda d: replay_moment(d, now))
    widest = max((day - since(day)).days + 1 for day in _days_from(first, now))
    # Each day with the days its window sums: the sum joins on (SIM, day) equality, not a range per SIM.
    covered, covered_params = _values(
        "covered", ["day", "summed"], ((_day(day), _day(summed)) for day in _days_from(first, now) for summed in _days_from(since(day), _end_of(day)))
    )
    cte += (
        f", {covered}, heavy AS (SELECT c.sim_id, c.day FROM {DAILY} c WHERE c.day >= %s AND c.day <= %s AND c.bytes > %s), "
        "windows AS (SELECT DISTINCT h.sim_id, w.day FROM heavy h JOIN covered w ON w.summed = h.day)"
    )
    params += [*covered_params, _day(start), _day(now.date()), amount // widest]
    hits = (
        "SELECT t.sim_id, t.day, NULL AS at, cal.wkey, SUM(u.bytes) AS amount, NULL AS detail "
        f"FROM windows c JOIN {DAILY} t ON t.sim_id = c.sim_id AND t.day = c.day JOIN cal ON cal.day = t.day "
        f"JOIN covered w ON w.day = t.day JOIN {DAILY} u ON u.sim_id = t.sim_id AND u.day = w.summed "
        "WHERE t.product_id = %s GROUP BY t.sim_id, t.day, cal.wkey HAVING SUM(u.bytes) > %s"
    )
    caveat = _hours_caveat(rule)
    if hours % 24:
        caveat = (
            f"Usage is kept per day, so the last {hours} hours count as the whole days they touch, taken at each "
            "day's end: live passes earlier in a day reach one day further back and may fire where this does not."
        )
    return Replay(
        cte, hits,
        [*params, rule.product_id, amount],
        lambda day, value, _: {"bytes": int(value), "since": since(day).isoformat()},
        caveat=caveat,
    )  # fmt: skip


def _spike(rule: Rule, condition: Any, first: date, now: datetime) -> Replay:
    """The spikes the detector kept; the tick after midnight fires on yesterday's."""
    _, cte, params = _days_calendar(rule, lambda d: d, first, now, lambda d: min(datetime.combine(d + timedelta(days=1), time(), tzinfo=UTC), now))
    factor = "AND u.factor >= %s" if condition.factor is not None else ""
    hits = (
        f"SELECT u.sim_id, u.day, NULL AS at, cal.wkey, u.bytes AS amount, CAST(u.factor AS text) AS detail FROM {SPIKES} u "
        f"JOIN cal ON cal.day = u.day WHERE u.product_id = %s AND u.day >= %s AND u.day < %s {factor}"
    )
    extra = [float(condition.factor)] if condition.factor is not None else []
    return Replay(
        cte, hits, [*params, rule.product_id, _day(first), _day(now.date()), *extra],
        lambda day, value, detail: {"bytes": int(value), "factor": round(float(detail), 1), "day": day.isoformat()},
    )  # fmt: skip


# Events: pieces of time, each inside one day and one window, since a window of hours need not start at midnight.


def _pieces(rule: Rule, first: date, now: datetime) -> tuple[str, list]:
    start = datetime.combine(first, time(), tzinfo=UTC)
    bounds = {datetime.combine(day, time(), tzinfo=UTC) for day in _days_from(first, now)}
    if rule.window_kind == WindowKind.HOURS:
        width = (rule.window_hours or 24) * 3600
        slot = int(start.timestamp()) // width * width
        bounds |= {datetime.fromtimestamp(s, tz=UTC) for s in range(slot + width, int(now.timestamp()) + 1, width)}
    ordered = sorted(b for b in bounds if b < now) + [now]
    rows = (
        (connection.ops.adapt_datetimefield_value(a), connection.ops.adapt_datetimefield_value(b), _day(a.date()), _key(rule, a.date(), a))
        for a, b in zip(ordered, ordered[1:])
    )
    return _values("pieces", ["starts", "ends", "day", "wkey"], rows)


def _events(rule: Rule, table: str, at: str, detail: str, condition: str, params: list, first: date, now: datetime, key: str) -> Replay:
    cte, piece_params = _pieces(rule, first, now)
    hits = (
        f"SELECT e.sim_id, p.day, e.{at} AS at, p.wkey, NULL AS amount, {detail} AS detail FROM {table} e "
        f"JOIN pieces p ON e.{at} >= p.starts AND e.{at} < p.ends WHERE e.product_id = %s AND {condition}"
    )
    return Replay(cte, hits, [*piece_params, rule.product_id, *params], lambda day, value, text: {key: text}, timed=True)


def _state_changed(rule: Rule, condition: Any, first: date, now: datetime) -> Replay:
    """The SIMs' own log of state changes (SimEvent), as event_pass fires on them when they are published."""
    return _events(
        rule, SimEvent._meta.db_table, "created_at", "e.to_state", "e.to_state = %s AND e.from_state <> e.to_state",
        [condition.state], first, now, "state",
    )  # fmt: skip


def _country(rule: Rule, condition: Any, first: date, now: datetime) -> Replay:
    """Attaches and location updates in the countries, at the moment they were received (the live pass's)."""
    countries: list[str | None] = [*countries_of(condition)] or [None]
    marks = ", ".join(["%s"] * len(countries))
    return _events(
        rule, NetworkEvent._meta.db_table, "received_at", "e.country", f"e.kind IN (%s, %s) AND e.country IN ({marks})",
        [NetworkEvent.Kind.ATTACH, NetworkEvent.Kind.LOCATION, *countries], first, now, "country",
    )  # fmt: skip


def _imei_changed(rule: Rule, condition: Any, first: date, now: datetime) -> Replay:
    changed, params = imei_changed_sql()
    return _events(rule, NetworkEvent._meta.db_table, "received_at", "e.imei", changed, params, first, now, "imei")


_REPLAYS: dict[str, Callable[[Rule, Any, date, datetime], Replay]] = {
    ConditionKind.USAGE_DAY: _usage_day,
    ConditionKind.SMS_COUNT: _usage_day,
    ConditionKind.USAGE_PERIOD: _usage_period,
    ConditionKind.USAGE_ROLLING: _usage_rolling,
    ConditionKind.SPIKE: _spike,
    ConditionKind.STATE_CHANGED: _state_changed,
    ConditionKind.COUNTRY: _country,
    ConditionKind.IMEI_CHANGED: _imei_changed,
}


# Comparing two versions of a rule.

_NOUNS = {
    ActionKind.PAUSE: ("pause", "pauses"),
    ActionKind.SUSPEND: ("suspension", "suspensions"),
    ActionKind.DATA_LIMIT: ("data limit set", "data limits set"),
    ActionKind.TAG: ("device tagged", "devices tagged"),
    ActionKind.EMAIL: ("email", "emails"),
    ActionKind.WEBHOOK: ("webhook call", "webhook calls"),
    ActionKind.SMS: ("SMS", "SMS"),
}
# What a rule mainly does: what changes the SIM, before what tells people about it.
_MAIN_FIRST = [ActionKind.PAUSE, ActionKind.SUSPEND, ActionKind.DATA_LIMIT, ActionKind.TAG, ActionKind.SMS, ActionKind.WEBHOOK, ActionKind.EMAIL]


def main_action(rule: Rule) -> str | None:
    kinds = [a.get("kind") for a in rule.actions or [] if isinstance(a, dict)]
    return next((kind for kind in _MAIN_FIRST if kind in kinds), None)


def compare(new: Backtest, current: Backtest, rule: Rule) -> str:
    """The changed rule against the saved one, in the words of its main action: "37 fewer pauses than the current version"."""
    if not (new.replayed and current.replayed):
        return "Neither version can be replayed, so they cannot be compared." if not new.replayed else "The current version cannot be replayed to compare."
    one, many = _NOUNS.get(main_action(rule) or "", ("firing", "firings"))  # type: ignore[call-overload]
    difference = new.firings - current.firings
    if difference:
        noun = one if abs(difference) == 1 else many
        return f"{abs(difference):,} {'more' if difference > 0 else 'fewer'} {noun} than the current version"
    if new.sims != current.sims:
        return f"The same number of {many} as the current version, on {new.sims:,} SIMs instead of {current.sims:,}"
    return "The same as the current version"

