"""Usage records in: stored once by record id, rolled up per SIM per day and per billing
period and per product per day, with data limits and automatic triggers enforced in the same
transaction.

Every source (the carrier adapter, `ingest_usage FILE`, the carrier push endpoint)
hands `ingest_usage` the same `UsageRow`s. Each chunk goes through a temporary
staging table so that the work is a handful of set-based statements, not a query
per record.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import batched

from django.db import connection, transaction
from django.utils import timezone
from django_countries import countries

from console.bulk_insert import in_list, insert_rows
from console.calendar import billing_period_start
from sims.limits import pause_sims_over_limit
from sims.models import ProductDailyUsage, Sim, SimDailyUsage, SimPeriodUsage, State, UsageRecord
from sims.triggers import apply_provisioning_triggers

CHUNK_SIZE = 100_000
# A sender's clock may run a little ahead; further ahead is a wrong time, not a fast network.
CLOCK_SKEW = timedelta(minutes=5)
RECORD_ID_MAX = UsageRecord._meta.get_field("record_id").max_length
# Far above any real record (a terabyte, a million SMS in one session) and far below what the
# bigint and integer columns, and their daily sums, can hold: a bigger count is a broken sender.
RECORD_BYTES_MAX = 10**12
RECORD_SMS_MAX = 10**6
STAGING = "usage_staging"
STAGED_COLUMNS = [
    "record_id", "sim_id", "product_id", "started_at", "ended_at", "bytes_up", "bytes_down", "sms", "country", "day",
    "period",
]  # fmt: skip
STAGED_PG_TYPES = [
    "varchar", "int8", "int8", "timestamptz", "timestamptz", "int8", "int8", "int4", "varchar", "date", "date",
]  # fmt: skip


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which makes
# building one 4-5 times slower (~3 s of a 1M-row file's parse); nothing changes a row anyway.
@dataclass
class UsageRow:
    record_id: str
    iccid: str
    started_at: datetime
    ended_at: datetime
    bytes_up: int
    bytes_down: int
    sms: int
    country: str = ""
    # Where the row came from (a file's line number), for the report.
    line: int = 0


@dataclass(frozen=True)
class Rejection:
    line: int
    record_id: str
    reason: str


# A file of a million bad rows reports them all in its count, and the first ones in detail:
# its memory stays bounded.
MAX_LISTED_REJECTIONS = 10_000


@dataclass
class IngestReport:
    received: int = 0
    ingested: int = 0
    duplicates: int = 0
    # Every rejected record counts; the first MAX_LISTED_REJECTIONS are listed with their reason.
    rejected_count: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    paused: int = 0
    activated: int = 0

    def reject(self, *, line: int, record_id: str, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_LISTED_REJECTIONS:
            self.rejected.append(Rejection(line, listed_id(record_id), reason))

    def summary(self) -> str:
        text = (
            f"{self.received:,} records: {self.ingested:,} ingested, {self.duplicates:,} already ingested, "
            f"{self.rejected_count:,} rejected"
        )
        if self.paused or self.activated:
            text += f"; {self.paused:,} SIMs paused at their data limit, {self.activated:,} activated by a trigger"
        return text + "."


def listed_id(record_id: str) -> str:
    """A rejected record's id as listed: a 100 KB id is cut, or 10,000 listed rejections could hold a GB."""
    return record_id if len(record_id) <= RECORD_ID_MAX else record_id[:RECORD_ID_MAX] + "..."


def problem_with(row: UsageRow, now: datetime) -> str | None:
    """What is wrong with a record on its own, in words a sender can act on (None: nothing)."""
    if not row.record_id:
        return "The record has no record id; every record needs a unique one."
    if len(row.record_id) > RECORD_ID_MAX:
        return f"The record id is longer than {RECORD_ID_MAX} characters."
    if min(row.bytes_up, row.bytes_down, row.sms) < 0:
        return "Bytes and SMS counts cannot be negative."
    if max(row.bytes_up, row.bytes_down) > RECORD_BYTES_MAX or row.sms > RECORD_SMS_MAX:
        return f"Counts over {RECORD_BYTES_MAX:,} bytes or {RECORD_SMS_MAX:,} SMS in one record are not plausible; check the sender."
    if row.started_at.tzinfo is None or row.ended_at.tzinfo is None:
        return "The record's times have no time zone; give them in UTC or with an offset."
    if row.ended_at < row.started_at:
        return "The record ends before it starts."
    if row.ended_at > now + CLOCK_SKEW:
        return f"The record ends in the future ({row.ended_at:%Y-%m-%d %H:%M} UTC); check the sender's clock."
    if row.country and row.country not in _country_codes():
        return f"{row.country!r} is not an ISO 3166 country code (use two letters, such as DE)."
    return None


def ingest_usage(rows: Iterable[UsageRow], *, now: datetime | None = None) -> IngestReport:
    """Store new records, skip ones seen before, roll them up and enforce limits and triggers."""
    now = now or timezone.now()
    report = IngestReport()
    directory = _SimDirectory()
    for chunk in batched(rows, CHUNK_SIZE):
        acceptable = list(_acceptable(chunk, now, report))
        _ingest_chunk(list(_with_sims(acceptable, directory, report)), now, report)
    return report


def _acceptable(chunk: Iterable[UsageRow], now: datetime, report: IngestReport) -> Iterator[UsageRow]:
    seen: set[str] = set()
    for row in chunk:
        report.received += 1
        problem = problem_with(row, now)
        if problem:
            report.reject(line=row.line, record_id=row.record_id, reason=problem)
        elif row.record_id in seen:
            report.duplicates += 1
        else:
            seen.add(row.record_id)
            yield row


class _SimDirectory:
    """ICCID -> (SIM id, product id, state), looked up a chunk at a time and kept for the rest of
    the delivery: an hourly delivery names each SIM once per hour it covers."""

    MAX_KEPT = 500_000

    def __init__(self) -> None:
        self.known: dict[str, tuple[int, int | None, str]] = {}

    def look_up(self, iccids: set[str]) -> None:
        missing = [iccid for iccid in iccids if iccid not in self.known]
        if len(self.known) + len(missing) > self.MAX_KEPT:
            self.known.clear()
            missing = list(iccids)
        if not missing:
            return
        condition, parameter = in_list(Sim._meta.get_field("iccid"), missing)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT iccid, id, product_id, state FROM {Sim._meta.db_table} WHERE {condition}", [parameter])
            for iccid, *sim in cursor.fetchall():
                self.known[iccid] = tuple(sim)

    def get(self, iccid: str) -> tuple[int, int | None, str] | None:
        return self.known.get(iccid)


def _with_sims(
    rows: list[UsageRow], directory: _SimDirectory, report: IngestReport
) -> Iterator[tuple[UsageRow, tuple[int, int | None, str]]]:
    directory.look_up({row.iccid for row in rows})
    for row in rows:
        sim = directory.get(row.iccid)
        if sim is None:
            reason = f"No SIM has ICCID {row.iccid}; import the SIM before its usage."
            report.reject(line=row.line, record_id=row.record_id, reason=reason)
        else:
            yield row, sim


def _ingest_chunk(rows: list[tuple[UsageRow, tuple]], now: datetime, report: IngestReport) -> None:
    if not rows:
        return
    with transaction.atomic():
        _stage(rows)
        stored = _store_new_records(now)
        report.duplicates += len(rows) - stored
        report.ingested += stored
        _roll_up()
        report.paused += pause_sims_over_limit(
            sims_sql=f"SELECT DISTINCT sim_id FROM {STAGING} WHERE period = %s",
            sims_params=[connection.ops.adapt_datefield_value(billing_period_start(now))],
            now=now,
        )
        provisioned = {sim_id for _, (sim_id, _, state) in rows if state == State.PROVISIONED}
        report.activated += apply_provisioning_triggers(sim_ids=sorted(provisioned), now=now)


def _stage(rows: list[tuple[UsageRow, tuple]]) -> None:
    timestamp = "timestamp with time zone"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (record_id varchar(64), sim_id bigint, product_id bigint, "
            f"started_at {timestamp}, ended_at {timestamp}, bytes_up bigint, bytes_down bigint, sms integer, "
            "country varchar(2), day date, period date)"
        )
        # TRUNCATE on PostgreSQL: deleted rows of a temporary table are never vacuumed.
        cursor.execute(f"{'TRUNCATE' if connection.vendor == 'postgresql' else 'DELETE FROM'} {STAGING}")
    as_stored = _stored_form()
    staged = []
    for row, (sim_id, product_id, _) in rows:
        day = _usage_day(row.started_at)
        staged.append(
            (
                row.record_id, sim_id, product_id, as_stored(row.started_at), as_stored(row.ended_at),
                row.bytes_up, row.bytes_down, row.sms, row.country, as_stored(day), as_stored(day.replace(day=1)),
            )  # fmt: skip
        )
    insert_rows(STAGING, STAGED_COLUMNS, staged, pg_types=STAGED_PG_TYPES)


def _stored_form() -> Callable[[date | datetime], object]:
    """How the database takes a date or time. Django's own adapters cost ~10 us a value (two
    million calls per million records); SQLite keeps what they make, UTC as ISO text, directly."""
    if connection.vendor == "postgresql":
        return lambda value: value
    return lambda value: (
        value.astimezone(timezone.UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, datetime)
        else value.isoformat()
    )


@cache
def _country_codes() -> frozenset[str]:
    # `code in countries` goes through translation machinery: ~10 us a record.
    return frozenset(code for code, _ in countries)


def _usage_day(started_at: datetime) -> date:
    """A record counts on the UTC day it starts (the parsers give UTC times)."""
    if started_at.tzinfo is not timezone.UTC:
        started_at = started_at.astimezone(timezone.UTC)
    return started_at.date()


def _store_new_records(now: datetime) -> int:
    """Store the staged records whose id is new and drop the others from staging, so the
    rollups count each record once, even with two ingestions at once. Returns how many were new."""
    records = UsageRecord._meta.db_table
    columns = "record_id, sim_id, product_id, started_at, ended_at, bytes_up, bytes_down, sms, country"
    received_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH new AS (INSERT INTO {records} ({columns}, received_at) SELECT {columns}, %s FROM {STAGING} "
                "ON CONFLICT (record_id) DO NOTHING RETURNING record_id) "
                f"DELETE FROM {STAGING} WHERE NOT EXISTS (SELECT 1 FROM new WHERE new.record_id = {STAGING}.record_id)",
                [received_at],
            )
            cursor.execute(f"SELECT COUNT(*) FROM {STAGING}")
            return cursor.fetchone()[0]
        # SQLite: the transaction holds the database's write lock, so no one else inserts meanwhile.
        cursor.execute(
            f"DELETE FROM {STAGING} WHERE EXISTS (SELECT 1 FROM {records} r WHERE r.record_id = {STAGING}.record_id)"
        )
        cursor.execute(f"INSERT INTO {records} ({columns}, received_at) SELECT {columns}, %s FROM {STAGING}", [received_at])
        return cursor.rowcount


def _roll_up() -> None:
    sim_days, sim_periods, product_days = (
        SimDailyUsage._meta.db_table,
        SimPeriodUsage._meta.db_table,
        ProductDailyUsage._meta.db_table,
    )
    later = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {sim_days} (sim_id, product_id, day, bytes, sms) "
            f"SELECT sim_id, MAX(product_id), day, SUM(bytes_up + bytes_down), SUM(sms) FROM {STAGING} WHERE true "
            "GROUP BY sim_id, day ORDER BY sim_id, day "
            f"ON CONFLICT (sim_id, day) DO UPDATE SET bytes = {sim_days}.bytes + excluded.bytes, "
            f"sms = {sim_days}.sms + excluded.sms"
        )
        cursor.execute(
            f"INSERT INTO {sim_periods} (sim_id, period, bytes, sms) "
            f"SELECT sim_id, period, SUM(bytes_up + bytes_down), SUM(sms) FROM {STAGING} WHERE true "
            "GROUP BY sim_id, period ORDER BY sim_id, period "
            f"ON CONFLICT (sim_id, period) DO UPDATE SET bytes = {sim_periods}.bytes + excluded.bytes, "
            f"sms = {sim_periods}.sms + excluded.sms"
        )
        cursor.execute(
            f"INSERT INTO {product_days} (product_id, day, country, bytes, sms, records, newest_record_at) "
            f"SELECT product_id, day, country, SUM(bytes_up + bytes_down), SUM(sms), COUNT(*), MAX(ended_at) "
            f"FROM {STAGING} WHERE product_id IS NOT NULL GROUP BY product_id, day, country "
            f"ON CONFLICT (product_id, day, country) DO UPDATE SET bytes = {product_days}.bytes + excluded.bytes, "
            f"sms = {product_days}.sms + excluded.sms, records = {product_days}.records + excluded.records, "
            f"newest_record_at = {later}({product_days}.newest_record_at, excluded.newest_record_at)"
        )
