"""Network events: what the carrier's network saw of each SIM, and the connectivity kept from them.

Rows arrive from the carrier (pushed to the carrier endpoint, or fetched through its adapter on the
periodic tick) as NetworkEventRow; `ingest_network_events` stores the new ones (the event id makes it
idempotent, as a usage record's id does), keeps each SIM's SimConnectivity, and then sends
`network_events_ingested` so that what reacts to them (devices: which SIM is in which device, the IMEI
lock) does so without sims knowing of it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import batched
from typing import Any, cast

from django.db import IntegrityError, OperationalError, connection, models, transaction
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


CHUNK_SIZE = 100_000
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
CONNECTIVITY_COLUMNS = [
    "sim_id", "product_id", "status", "since", "last_event_at", "last_attach_at", "last_session_start_at",
    "last_session_end_at", "operator", "country", "rat", "imei", "last_reject_at", "last_reject_cause", "reset_requested_at",
]  # fmt: skip
CONNECTIVITY_STAGING = "connectivity_staging"
CONNECTIVITY_PG_TYPES = [
    "int8", "int8", "varchar", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "varchar",
    "varchar", "varchar", "varchar", "timestamptz", "varchar", "timestamptz",
]  # fmt: skip
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
        known: list[tuple[NetworkEventRow, int, int | None]] = []
        for row in acceptable:
            sim = directory.get(row.iccid)
            if sim is None:
                report.reject(line=row.line, event_id=row.event_id, reason=unknown_sim(row.iccid))
            else:
                known.append((row, sim[0], sim[1]))
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
    rows: list[tuple[NetworkEventRow, int, int | None]], now: datetime, report: NetworkEventReport
) -> list[tuple[int, int | None, NetworkEventRow]]:
    """Stage the chunk, insert its new events, keep their SIMs' connectivity: one transaction, a
    fixed number of statements whatever the chunk's size. Returns the new events."""
    if not rows:
        return []
    as_stored = _stored_form()
    with transaction.atomic():
        _temp_table(STAGING, COLUMNS, PG_TYPES)
        insert_rows(
            STAGING,
            COLUMNS,
            (
                (row.event_id, sim_id, product_id, row.kind, as_stored(row.at), row.imei, row.operator, row.country,
                 row.rat, row.cell, row.cause, row.bytes)  # fmt: skip
                for row, sim_id, product_id in rows
            ),
            pg_types=PG_TYPES,
        )
        table = NetworkEvent._meta.db_table
        columns = ", ".join(COLUMNS)
        received_at = connection.ops.adapt_datetimefield_value(now)
        if _insert_all_new(table, columns, received_at):
            new = [(sim_id, product_id, row) for row, sim_id, product_id in rows]
        else:
            with connection.cursor() as cursor:
                # ON CONFLICT skips what is stored, by anyone; RETURNING names what this chunk added.
                cursor.execute(
                    f"INSERT INTO {table} ({columns}, received_at) SELECT {columns}, %s FROM {STAGING} WHERE true "
                    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                    [received_at],
                )
                stored = {event_id for (event_id,) in cursor.fetchall()}
            new = [(sim_id, product_id, row) for row, sim_id, product_id in rows if row.event_id in stored]
        report.ingested += len(new)
        report.duplicates += len(rows) - len(new)
        report.sims += _keep_connectivity(new)
    return new


def _insert_all_new(table: str, columns: str, received_at: Any) -> bool:
    """Insert every staged event as new; False (and nothing done) if one is stored already.

    A plain insert costs less than ON CONFLICT's, and a chunk of new events needs no RETURNING rows; a
    chunk seen before fails at its first event, cheaply. A delivery at once with the same events makes
    this wait for it, then fail, or end in a deadlock: either way the savepoint undoes it (as usage's)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}, received_at) SELECT {columns}, %s FROM {STAGING}", [received_at])
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) != DEADLOCK:
            raise
        return False
    return True


def _temp_table(name: str, columns: list[str], pg_types: list[str]) -> None:
    sql_types = {"varchar": "varchar(200)", "int8": "bigint", "timestamptz": "timestamp with time zone"}
    with connection.cursor() as cursor:
        definition = ", ".join(f"{column} {sql_types[kind]}" for column, kind in zip(columns, pg_types, strict=True))
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({definition})")
        # TRUNCATE on PostgreSQL: deleted rows of a temporary table are never vacuumed.
        cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {name}")


class _State:
    """One SIM's connectivity while a chunk's events are applied, oldest first."""

    sim_id: int
    product_id: int | None
    status: str
    since: datetime | None
    last_event_at: datetime | None
    last_attach_at: datetime | None
    last_session_start_at: datetime | None
    last_session_end_at: datetime | None
    operator: str
    country: str
    rat: str
    imei: str
    last_reject_at: datetime | None
    last_reject_cause: str
    reset_requested_at: datetime | None

    __slots__ = tuple(CONNECTIVITY_COLUMNS)

    def __init__(self, values: tuple) -> None:
        # One unpacking, not a setattr per column: this runs for every SIM of every chunk.
        (
            self.sim_id, self.product_id, self.status, self.since, self.last_event_at, self.last_attach_at,
            self.last_session_start_at, self.last_session_end_at, self.operator, self.country, self.rat, self.imei,
            self.last_reject_at, self.last_reject_cause, self.reset_requested_at,
        ) = values  # fmt: skip

    def status_at(self) -> datetime | None:
        """When the newest event that set the status happened: an older one arriving late changes nothing."""
        times = [
            t
            for t in (self.since, self.last_attach_at, self.last_session_start_at, self.last_session_end_at, self.last_reject_at)
            if t is not None
        ]
        return max(times) if times else None

    def apply(self, row: NetworkEventRow) -> None:
        at = row.at
        newest = self.last_event_at is None or at >= self.last_event_at
        status = _STATUS_AFTER.get(row.kind)
        if status is not None:
            status_at = self.status_at()
            if status_at is None or at >= status_at:
                if status != self.status or self.since is None:
                    self.status, self.since = status, at
        kind = row.kind
        if kind == "attach":
            self.last_attach_at = _later(self.last_attach_at, at)
            if self.reset_requested_at is not None and at >= self.reset_requested_at:
                self.reset_requested_at = None  # the reset is done: the SIM attached again
        elif kind == "session_start":
            self.last_session_start_at = _later(self.last_session_start_at, at)
        elif kind == "session_end":
            self.last_session_end_at = _later(self.last_session_end_at, at)
        elif kind == "auth_reject" and (self.last_reject_at is None or at >= self.last_reject_at):
            self.last_reject_at, self.last_reject_cause = at, row.cause
        if newest:
            self.last_event_at = at
            # Where the SIM is: from the newest event that says (a location update, an attach).
            if row.operator:
                self.operator = row.operator
            if row.country:
                self.country = row.country
            if row.rat:
                self.rat = row.rat
            if row.imei:
                self.imei = row.imei

    def values(self) -> tuple:
        return (
            self.sim_id, self.product_id, self.status, self.since, self.last_event_at, self.last_attach_at,
            self.last_session_start_at, self.last_session_end_at, self.operator, self.country, self.rat, self.imei,
            self.last_reject_at, self.last_reject_cause, self.reset_requested_at,
        )  # fmt: skip


def _later(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def _keep_connectivity(new: list[tuple[int, int | None, NetworkEventRow]]) -> int:
    """Each SIM's connectivity from its new events, applied oldest first over what is stored: one
    read and one upsert for the chunk. Returns how many SIMs."""
    if not new:
        return 0
    by_sim: dict[int, list[NetworkEventRow]] = {}
    products: dict[int, int | None] = {}
    for sim_id, product_id, row in new:
        by_sim.setdefault(sim_id, []).append(row)
        products[sim_id] = product_id
    stored = _stored_connectivity(sorted(by_sim))
    states = []
    for sim_id, events in by_sim.items():
        state = stored.get(sim_id) or _State(
            (sim_id, None, Connectivity.UNKNOWN.value, None, None, None, None, None, "", "", "", "", None, "", None)
        )
        state.product_id = products[sim_id]
        events.sort(key=lambda row: row.at)
        for row in events:
            state.apply(row)
        states.append(state)
    _upsert(states)
    return len(states)


def _stored_connectivity(sim_ids: list[int]) -> dict[int, _State]:
    """The stored connectivity of these SIMs, locked (PostgreSQL) until the chunk commits."""
    condition, parameter = in_list(SimConnectivity._meta.get_field("sim"), sim_ids)
    lock = " ORDER BY sim_id FOR UPDATE" if connection.vendor == "postgresql" else ""
    fields = {name: SimConnectivity._meta.get_field(name.removesuffix("_id")) for name in CONNECTIVITY_COLUMNS}
    converters = {
        name: field for name, model_field in fields.items() if isinstance(model_field, models.DateTimeField)
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(CONNECTIVITY_COLUMNS)} FROM {SimConnectivity._meta.db_table} WHERE {condition}{lock}",
            [parameter],
        )
        rows = cursor.fetchall()
    states = {}
    for values in rows:
        state = _State(values)
        if connection.vendor == "postgresql":  # aware datetimes already
            states[state.sim_id] = state
            continue
        for name in converters:
            value = getattr(state, name)
            if isinstance(value, str):  # SQLite's text
                value = datetime.fromisoformat(value)
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            setattr(state, name, value)
        states[state.sim_id] = state
    return states


def _upsert(states: list[_State]) -> None:
    _temp_table(CONNECTIVITY_STAGING, CONNECTIVITY_COLUMNS, CONNECTIVITY_PG_TYPES)
    if connection.vendor == "postgresql":
        rows: Iterable[tuple] = (state.values() for state in states)
    else:
        as_stored = _stored_form()
        dates = {i for i, kind in enumerate(CONNECTIVITY_PG_TYPES) if kind == "timestamptz"}
        rows = (
            tuple(as_stored(v) if i in dates and v is not None else v for i, v in enumerate(state.values()))
            for state in states
        )
    insert_rows(CONNECTIVITY_STAGING, CONNECTIVITY_COLUMNS, rows, pg_types=CONNECTIVITY_PG_TYPES)
    columns = ", ".join(CONNECTIVITY_COLUMNS)
    # The product the SIM is in as the upsert runs, not as the chunk began: a SIM removed or moved
    # meanwhile (the SIM table's trigger moves its row, migration 0025) stays where it went.
    sims = Sim._meta.db_table
    selected = columns.replace("product_id", f"(SELECT product_id FROM {sims} WHERE {sims}.id = {CONNECTIVITY_STAGING}.sim_id)", 1)
    updates = ", ".join(f"{column} = excluded.{column}" for column in CONNECTIVITY_COLUMNS[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SimConnectivity._meta.db_table} ({columns}) SELECT {selected} FROM {CONNECTIVITY_STAGING} "
            f"WHERE true ORDER BY sim_id ON CONFLICT (sim_id) DO UPDATE SET {updates}"
        )
