"""Network events: what the carrier's network saw of each SIM, and the connectivity kept from them.

Rows arrive from the carrier (pushed to the carrier endpoint, or fetched through its adapter on the
periodic tick) as NetworkEventRow; `ingest_network_events` stores the new ones (the event id makes it
idempotent, as a usage record's id does), keeps each SIM's SimConnectivity, and then sends
`network_events_ingested` so that what reacts to them (devices: which SIM is in which device, the IMEI
lock) does so without sims knowing of it.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import batched
from typing import Any, cast

from django.db import IntegrityError, OperationalError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from lib.bulk_insert import in_list, insert_rows
from sims.models import Connectivity, NetworkEvent, Sim, SimConnectivity
from sims.usage import DEADLOCK, MAX_LISTED_REJECTIONS, Rejection, _SimDirectory, _stored_form, country_codes

# Sent after each chunk of events commits, with `events`: the newly stored ones, as a list of
# (sim_id, product_id, NetworkEventRow). Receivers run outside the chunk's transaction.
network_events_ingested = Signal()


# Not frozen: a frozen dataclass sets each field through object.__setattr__, several times slower to
# build (a million rows from a push or an adapter); nothing changes a row anyway (as sims.usage.UsageRow).
@dataclass
class NetworkEventRow:
    event_id: str
    iccid: str
    kind: str  # sims.models.NetworkEvent.Kind
    at: datetime
    imei: str = ""
    operator: str = ""
    country: str = ""
    rat: str = ""
    cell: str = ""
    cause: str = ""
    bytes: int = 0
    # Where the row came from (a pushed list's index + 1), for the report.
    line: int = 0


CHUNK_SIZE = 500_000
# How many of a chunk's event ids `_some_stored` looks up.
PROBED = 1000
# A sender's clock may run a little ahead; further ahead is a wrong time.
CLOCK_SKEW = timedelta(minutes=5)
EVENT_ID_MAX = cast(int, NetworkEvent._meta.get_field("event_id").max_length)
KINDS = frozenset(NetworkEvent.Kind.values)
# The longest of each text field, as the columns hold them.
LIMITS = {name: cast(int, getattr(NetworkEvent._meta.get_field(name), "max_length")) for name in ("operator", "rat", "cell", "cause")}
BYTES_MAX = 10**12  # a terabyte in one session: a broken sender
STAGING = "network_event_staging"
COLUMNS = ["event_id", "sim_id", "product_id", "kind", "at", "imei", "operator", "country", "rat", "cell", "cause", "bytes"]
PG_TYPES = ["varchar", "int8", "int8", "varchar", "timestamptz", "varchar", "varchar", "varchar", "varchar", "varchar", "varchar", "int8"]
# One row per SIM of a chunk: what its new events say (`_summary`), merged into its row by `_merge_sql`.
SUMMARY = "connectivity_summary"
SUMMARY_COLUMNS = [
    "sim_id", "product_id", "last_event_at", "attach_at", "session_start_at", "session_end_at", "reject_at",
    "reject_cause", "operator", "operator_at", "country", "country_at", "rat", "rat_at", "imei", "imei_at", "status",
    "status_at", "run_start", "before_run", "run_times",
]  # fmt: skip
SUMMARY_PG_TYPES = [
    "int8", "int8", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "varchar", "varchar",
    "timestamptz", "varchar", "timestamptz", "varchar", "timestamptz", "varchar", "timestamptz", "varchar",
    "timestamptz", "timestamptz", "timestamptz", "text",
]  # fmt: skip
# SQLite's stand-in for a missing time when taking the latest (any time's text sorts after it).
EMPTY = ""
# What each kind makes of a SIM's status (location updates leave it).
STATUS_AFTER = {
    NetworkEvent.Kind.ATTACH: Connectivity.ATTACHED,
    NetworkEvent.Kind.SESSION_START: Connectivity.ONLINE,
    NetworkEvent.Kind.SESSION_END: Connectivity.ATTACHED,
    NetworkEvent.Kind.DETACH: Connectivity.OFFLINE,
    NetworkEvent.Kind.AUTH_REJECT: Connectivity.OFFLINE,
}
_STATUS_AFTER = {str(kind): str(status) for kind, status in STATUS_AFTER.items()}


@dataclass
class NetworkEventReport:
    received: int = 0
    ingested: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    # The first MAX_LISTED_REJECTIONS, with their line (a push's index + 1) and reason.
    rejected: list[Rejection] = field(default_factory=list)
    # SIMs whose connectivity changed.
    sims: int = 0

    def reject(self, *, line: int, event_id: str, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_LISTED_REJECTIONS:
            self.rejected.append(Rejection(line, event_id[:EVENT_ID_MAX], reason))

    def summary(self) -> str:
        return (
            f"{self.received:,} network events: {self.ingested:,} ingested, {self.duplicates:,} already ingested, "
            f"{self.rejected_count:,} rejected."
        )


def problem_with(row: NetworkEventRow, now: datetime) -> str | None:
    """What is wrong with an event on its own, in words a sender can act on (None: nothing)."""
    if not row.event_id:
        return "The event has no event id; every event needs a unique one."
    if len(row.event_id) > EVENT_ID_MAX:
        return f"The event id is longer than {EVENT_ID_MAX} characters."
    if row.kind not in KINDS:
        return f"{row.kind[:40]!r} is not a kind of network event (one of {', '.join(sorted(KINDS))})."
    if row.at.tzinfo is None:
        return "The event's time has no time zone; give it in UTC or with an offset."
    if row.at > now + CLOCK_SKEW:
        return f"The event is in the future ({row.at:%Y-%m-%d %H:%M} UTC); check the sender's clock."
    if row.imei and not (row.imei.isascii() and row.imei.isdigit() and len(row.imei) in (14, 15, 16)):
        return "An IMEI is 15 digits (14 without its check digit, 16 as an IMEISV); check the device's IMEI."
    if row.country and row.country not in country_codes():
        return f"{row.country[:20]!r} is not an ISO 3166 country code (use two letters, such as DE)."
    for name, limit in LIMITS.items():
        if len(getattr(row, name)) > limit:
            return f"The {name} is longer than {limit} characters."
    if not 0 <= row.bytes <= BYTES_MAX:
        return f"A session's bytes must be between 0 and {BYTES_MAX:,}."
    return None


def ingest_network_events(rows: Iterable[NetworkEventRow], *, now: datetime | None = None) -> NetworkEventReport:
    """Store the new events, skip ones seen before, keep each SIM's connectivity, and say so
    (network_events_ingested) after each chunk commits."""
    now = now or timezone.now()
    report = NetworkEventReport()
    directory = _SimDirectory()
    for chunk in batched(rows, CHUNK_SIZE):
        acceptable = _acceptable(chunk, now, report)
        directory.look_up({row.iccid for row in acceptable})
        # In the signal's form already: a chunk of new events, the usual one, is sent as it is.
        known: list[tuple[int, int | None, NetworkEventRow]] = []
        sims = directory.known
        for row in acceptable:
            sim = sims.get(row.iccid)
            if sim is None:
                report.reject(line=row.line, event_id=row.event_id, reason=unknown_sim(row.iccid))
            else:
                known.append((sim[0], sim[1], row))
        new = _ingest_chunk(known, now, report)
        if new:
            network_events_ingested.send(sender=NetworkEvent, events=new)
    report.rejected.sort(key=lambda rejection: rejection.line)
    return report


def unknown_sim(iccid: str) -> str:
    return f"No SIM has ICCID {iccid[:40]}; import the SIM before its network events."


def _acceptable(chunk: Iterable[NetworkEventRow], now: datetime, report: NetworkEventReport) -> list[NetworkEventRow]:
    seen: set[str] = set()
    kept = []
    latest, codes, kinds = now + CLOCK_SKEW, country_codes(), KINDS
    id_max, operator_max, rat_max, cell_max, cause_max = (
        EVENT_ID_MAX, LIMITS["operator"], LIMITS["rat"], LIMITS["cell"], LIMITS["cause"]
    )  # fmt: skip
    for row in chunk:
        report.received += 1
        imei, at = row.imei, row.at
        # The usual event, checked inline (a function call per event costs more than the checks);
        # anything else gets its reason from problem_with.
        if not (
            0 < len(row.event_id) <= id_max
            and row.kind in kinds
            and at.tzinfo is not None
            and at <= latest
            and (not imei or (len(imei) in (14, 15, 16) and imei.isdigit() and imei.isascii()))
            and (not row.country or row.country in codes)
            and len(row.operator) <= operator_max
            and len(row.rat) <= rat_max
            and len(row.cell) <= cell_max
            and len(row.cause) <= cause_max
            and 0 <= row.bytes <= BYTES_MAX
        ):
            problem = problem_with(row, now)
            if problem:
                report.reject(line=row.line, event_id=row.event_id, reason=problem)
                continue
        if row.event_id in seen:
            report.duplicates += 1
        else:
            seen.add(row.event_id)
            kept.append(row)
    return kept


def _ingest_chunk(
    rows: list[tuple[int, int | None, NetworkEventRow]], now: datetime, report: NetworkEventReport
) -> list[tuple[int, int | None, NetworkEventRow]]:
    """Store the chunk's new events and keep their SIMs' connectivity: one transaction, a fixed number
    of statements whatever the chunk's size. Returns the new events."""
    if not rows:
        return []
    as_stored = _stored_form()
    received_at = as_stored(now)
    values = (
        (row.event_id, sim_id, product_id, row.kind, as_stored(row.at), row.imei, row.operator, row.country,
         row.rat, row.cell, row.cause, row.bytes, received_at)  # fmt: skip
        for sim_id, product_id, row in rows
    )
    with transaction.atomic():
        if not _some_stored([row.event_id for _, _, row in rows[:: max(1, len(rows) // PROBED)]]) and _copy_all_new(values):
            new = rows
        else:
            stored = _insert_new(rows, received_at)
            new = [event for event in rows if event[2].event_id in stored]
        report.ingested += len(new)
        report.duplicates += len(rows) - len(new)
        report.sims += _keep_connectivity(new)
    return new


def _some_stored(event_ids: list[str]) -> bool:
    """Whether any of these events is stored: a sample of the chunk's, so that a delivery seen before
    goes straight to the insert that skips them, and a new one to the COPY."""
    condition, parameter = in_list(NetworkEvent._meta.get_field("event_id"), event_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {NetworkEvent._meta.db_table} WHERE {condition} LIMIT 1", [parameter])
        return cursor.fetchone() is not None


def _copy_all_new(values: Iterable[tuple]) -> bool:
    """COPY every event of the chunk straight into the events table, as new; False (and nothing done)
    if one is stored already.

    No staging table, no INSERT ... SELECT, no RETURNING rows: a chunk of new events, the usual one,
    costs one pass. A delivery at once with the same events makes this wait for it, then fail, or end
    in a deadlock: either way the savepoint undoes it (as usage's)."""
    try:
        with transaction.atomic():
            insert_rows(NetworkEvent._meta.db_table, [*COLUMNS, "received_at"], values, pg_types=[*PG_TYPES, "timestamptz"])
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) != DEADLOCK:
            raise
        return False
    return True


def _insert_new(rows: list[tuple[int, int | None, NetworkEventRow]], received_at: Any) -> set[str]:
    """Stage the chunk and insert the events not stored yet; the ids of those it inserted."""
    as_stored = _stored_form()
    _temp_table(STAGING, COLUMNS, PG_TYPES)
    insert_rows(
        STAGING,
        COLUMNS,
        (
            (row.event_id, sim_id, product_id, row.kind, as_stored(row.at), row.imei, row.operator, row.country,
             row.rat, row.cell, row.cause, row.bytes)  # fmt: skip
            for sim_id, product_id, row in rows
        ),
        pg_types=PG_TYPES,
    )
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        # ON CONFLICT skips what is stored, by anyone; RETURNING names what this chunk added.
        cursor.execute(
            f"INSERT INTO {NetworkEvent._meta.db_table} ({columns}, received_at) SELECT {columns}, %s FROM {STAGING} WHERE true "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            [received_at],
        )
        return {event_id for (event_id,) in cursor.fetchall()}


def _temp_table(name: str, columns: list[str], pg_types: list[str]) -> None:
    sql_types = {"varchar": "varchar(200)", "text": "text", "int8": "bigint", "timestamptz": "timestamp with time zone"}
    with connection.cursor() as cursor:
        definition = ", ".join(f"{column} {sql_types[kind]}" for column, kind in zip(columns, pg_types, strict=True))
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({definition})")
        # TRUNCATE on PostgreSQL: deleted rows of a temporary table are never vacuumed.
        cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {name}")


def _keep_connectivity(new: list[tuple[int, int | None, NetworkEventRow]]) -> int:
    """Each SIM's connectivity from its new events, merged in SQL over what is stored: each SIM's events
    summed up in Python (`_summary`), staged, then one insert (the SIMs without a row get a blank one) and
    one UPDATE ... FROM that merges each summary into the SIM's row as it is when the UPDATE locks it (no
    read into Python, and no lost update when two deliveries of one SIM meet). Returns how many SIMs."""
    if not new:
        return 0
    by_sim: dict[int, list[NetworkEventRow]] = {}
    products: dict[int, int | None] = {}
    for sim_id, product_id, row in new:
        events = by_sim.get(sim_id)
        if events is None:
            by_sim[sim_id] = [row]
            products[sim_id] = product_id
        else:
            events.append(row)
            products[sim_id] = product_id
    as_stored = _stored_form()
    postgresql = connection.vendor == "postgresql"
    _temp_table(SUMMARY, SUMMARY_COLUMNS, SUMMARY_PG_TYPES)
    insert_rows(
        SUMMARY,
        SUMMARY_COLUMNS,
        (_summary(sim_id, products[sim_id], events, as_stored, postgresql) for sim_id, events in by_sim.items()),
        pg_types=SUMMARY_PG_TYPES,
    )
    table = SimConnectivity._meta.db_table
    with connection.cursor() as cursor:
        # A blank row (as a SIM never seen: status unknown) for each SIM without one; ON CONFLICT for a
        # delivery at once that adds it first (this waits for it, then the UPDATE merges into its row). Filed
        # under the product the SIM is in now, and the merge leaves the product alone: a SIM removed or moved
        # while the chunk ran stays where it went (the SIM table's trigger moves its row, migration 0025).
        cursor.execute(
            f"INSERT INTO {table} (sim_id, product_id, status, operator, country, rat, imei, last_reject_cause) "
            f"SELECT s.sim_id, (SELECT product_id FROM {Sim._meta.db_table} WHERE id = s.sim_id), %s, '', '', '', '', '' FROM {SUMMARY} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} c WHERE c.sim_id = s.sim_id) ORDER BY s.sim_id "
            "ON CONFLICT (sim_id) DO NOTHING",
            [Connectivity.UNKNOWN.value],
        )
        cursor.execute(_merge_sql(table))
    return len(by_sim)


def _at(row: NetworkEventRow) -> datetime:
    return row.at


def _summary(sim_id: int, product_id: int | None, events: list[NetworkEventRow], as_stored: Any, postgresql: bool) -> tuple:
    """What one SIM's new events say, applied oldest first (ties: in the order received), whatever is
    stored: the newest time of each kind, the newest non-empty value of each location field and when,
    and the statuses' last run (its status, first and last times, the time of the status before it).
    `_merge_sql` puts that over the stored row."""
    if len(events) > 1:
        events.sort(key=_at)  # stable: same times stay in the order received
    attach = session_start = session_end = reject_at = None
    cause = operator = country = rat = imei = ""
    operator_at = country_at = rat_at = imei_at = None
    status: str | None = None
    status_at = run_start = before_run = None
    run: list[datetime] = []
    for row in events:
        at, kind = row.at, row.kind
        after = _STATUS_AFTER.get(kind)
        if after is not None:
            if after == status:
                run.append(at)
            else:
                before_run, status, run_start, run = status_at, after, at, [at]
            status_at = at
            if kind == "attach":
                attach = at
            elif kind == "session_start":
                session_start = at
            elif kind == "session_end":
                session_end = at
            elif kind == "auth_reject":
                reject_at, cause = at, row.cause
        if row.operator:
            operator, operator_at = row.operator, at
        if row.country:
            country, country_at = row.country, at
        if row.rat:
            rat, rat_at = row.rat, at
        if row.imei:
            imei, imei_at = row.imei, at
    # The run's times matter only when a stored status time falls inside the run (late events).
    values = (
        sim_id, product_id, events[-1].at, attach, session_start, session_end, reject_at, cause, operator, operator_at,
        country, country_at, rat, rat_at, imei, imei_at, status, status_at, run_start, before_run,
        json.dumps([str(as_stored(at)) for at in run]) if len(run) > 1 else None,
    )  # fmt: skip
    if postgresql:
        return values
    return tuple(as_stored(value) if isinstance(value, datetime) else value for value in values)


def _merge_sql(table: str) -> str:
    """UPDATE ... FROM the staged summaries: each SIM's row as `_State.apply` would leave it after the
    SIM's new events, oldest first. An event sets the status only if it is no older than the newest
    time that set it (`status_at`: since, and the last attach, session start or end, reject); the
    location fields come from events no older than the last event stored."""
    postgresql = connection.vendor == "postgresql"

    def later(*columns: str) -> str:  # the latest of these times, NULL if none (NULLs ignored)
        if postgresql:
            return f"GREATEST({', '.join(columns)})"
        return f"NULLIF(MAX({', '.join(f'COALESCE({column}, {EMPTY!r})' for column in columns)}), {EMPTY!r})"

    status_at = later("c.since", "c.last_attach_at", "c.last_session_start_at", "c.last_session_end_at", "c.last_reject_at")
    if postgresql:
        run_times = "(SELECT MIN(value::timestamptz) FROM json_array_elements_text(s.run_times::json) AS value WHERE value::timestamptz >= {0})"
    else:
        run_times = "(SELECT MIN(value) FROM json_each(s.run_times) WHERE value >= {0})"
    # Which of the statuses' outcomes holds (see _summary).
    keep = f"s.status IS NULL OR s.status_at < {status_at}"
    # The status before the last run counts: the run's start is since.
    changed = f"s.before_run IS NOT NULL AND (s.before_run >= {status_at} OR {status_at} IS NULL)"
    since = (
        f"CASE WHEN {keep} THEN c.since WHEN {changed} THEN s.run_start "
        "WHEN c.status = s.status AND c.since IS NOT NULL THEN c.since "
        f"WHEN s.run_start >= {status_at} OR {status_at} IS NULL THEN s.run_start "
        f"ELSE {run_times.format(status_at)} END"
    )
    newest = "c.last_event_at IS NULL OR s.{0} >= c.last_event_at"
    fields = {
        "status": f"CASE WHEN {keep} THEN c.status ELSE s.status END",
        "since": since,
        "last_event_at": later("c.last_event_at", "s.last_event_at"),
        "last_attach_at": later("c.last_attach_at", "s.attach_at"),
        "last_session_start_at": later("c.last_session_start_at", "s.session_start_at"),
        "last_session_end_at": later("c.last_session_end_at", "s.session_end_at"),
        "last_reject_at": later("c.last_reject_at", "s.reject_at"),
        "last_reject_cause": "CASE WHEN s.reject_at >= c.last_reject_at OR (c.last_reject_at IS NULL AND s.reject_at IS NOT NULL) "
        "THEN s.reject_cause ELSE c.last_reject_cause END",
        "reset_requested_at": "CASE WHEN s.attach_at >= c.reset_requested_at THEN NULL ELSE c.reset_requested_at END",
        **{
            name: f"CASE WHEN s.{name}_at IS NOT NULL AND ({newest.format(name + '_at')}) THEN s.{name} ELSE c.{name} END"
            for name in ("operator", "country", "rat", "imei")
        },
    }
    assignments = ", ".join(f"{column} = {value}" for column, value in fields.items())
    return f"UPDATE {table} AS c SET {assignments} FROM {SUMMARY} AS s WHERE c.sim_id = s.sim_id"
