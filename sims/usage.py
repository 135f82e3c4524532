"""Usage records in: stored once by record id, rolled up per SIM per day and per billing
period and per product per day, with data limits and automatic triggers enforced in the same
transaction.

Every source (the carrier adapter, `ingest_usage FILE`, the carrier push endpoint)
hands `ingest_usage` the same `UsageRow`s. Each chunk goes through a temporary
staging table so that the work is a handful of set-based statements, not a query
per record. On PostgreSQL a CSV file is read by the database itself
(`sims.usage_csv_sql`), in one pass, and ends in the same `apply_new_usage`: the new
records, summed per SIM, day and country, feed the rollups, limits and triggers.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import cast
from functools import cache
from itertools import batched

from django.db import IntegrityError, OperationalError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django_countries import countries

from lib.bulk_insert import in_list, insert_rows
from lib.calendar import billing_period_start
from sims.limits import pause_sims_over_limit
from sims.models import ProductDailyUsage, Sim, SimCountryUsage, SimDailyUsage, SimPeriodUsage, State, UsageRecord
from sims.triggers import apply_provisioning_triggers

CHUNK_SIZE = 100_000

# Sent after each chunk of usage commits (a whole file's on PostgreSQL's CSV path), with `sim_ids` (the SIMs
# with new records), `days` (the UTC days those records fall on) and `now`: what reacts to usage (rules)
# does so in the same pass, without sims knowing of it. Receivers run outside the chunk's transaction.
usage_ingested = Signal()
# A sender's clock may run a little ahead; further ahead is a wrong time, not a fast network.
CLOCK_SKEW = timedelta(minutes=5)
RECORD_ID_MAX = cast(int, UsageRecord._meta.get_field("record_id").max_length)  # a CharField's is set
# Far above any real record (a terabyte, a million SMS in one session) and far below what the
# bigint and integer columns, and their daily sums, can hold: a bigger count is a broken sender.
RECORD_BYTES_MAX = 10**12
RECORD_SMS_MAX = 10**6
STAGING = "usage_staging"
# New usage per SIM, day and visited country: what the rollups, limits and triggers read.
DELTA = "usage_delta"
DELTA_COLUMNS = "sim_id, product_id, day, period, country, bytes, sms, records, newest_record_at"
DEADLOCK = "40P01"  # PostgreSQL's SQLSTATE
RECORD_COLUMNS = "record_id, sim_id, product_id, started_at, ended_at, bytes_up, bytes_down, sms, country"
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
    # The SIMs and days of chunks committed but not yet announced (usage_ingested): see send_usage_ingested.
    touched: list[tuple[list[int], list[date]]] = field(default_factory=list, repr=False)

    def reject(self, *, line: int, record_id: str, reason: str) -> None:
        self.rejected_count += 1
        self.rejected.append(Rejection(line, listed_id(record_id), reason))
        # Checks run one after the other, so a later check may reject an earlier line.
        if len(self.rejected) >= 2 * MAX_LISTED_REJECTIONS:
            self.keep_first_rejections()

    def keep_first_rejections(self) -> None:
        self.rejected = sorted(self.rejected, key=lambda rejection: rejection.line)[:MAX_LISTED_REJECTIONS]

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
    if row.country and row.country not in country_codes():
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
    report.keep_first_rejections()
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


def unknown_sim(iccid: str) -> str:
    return f"No SIM has ICCID {iccid}; import the SIM before its usage."


def _with_sims(
    rows: list[UsageRow], directory: _SimDirectory, report: IngestReport
) -> Iterator[tuple[UsageRow, tuple[int, int | None, str]]]:
    directory.look_up({row.iccid for row in rows})
    for row in rows:
        sim = directory.get(row.iccid)
        if sim is None:
            report.reject(line=row.line, record_id=row.record_id, reason=unknown_sim(row.iccid))
        else:
            yield row, sim


def _ingest_chunk(rows: list[tuple[UsageRow, tuple]], now: datetime, report: IngestReport) -> None:
    if not rows:
        return
    with transaction.atomic():
        _stage(rows)
        stored = apply_new_usage(source_sql=f"SELECT {RECORD_COLUMNS} FROM {STAGING}", now=now, report=report)
        report.duplicates += len(rows) - stored
    send_usage_ingested(report, now=now)


def send_usage_ingested(report: IngestReport, *, now: datetime) -> None:
    """Announce the chunks `report` holds (usage_ingested), once their transaction has committed."""
    while report.touched:
        sim_ids, days = report.touched.pop(0)
        usage_ingested.send(sender=UsageRecord, sim_ids=sim_ids, days=days, now=now)


def apply_new_usage(
    *, source_sql: str, now: datetime, report: IngestReport, order_by: str = "", all_new_likely: bool = False
) -> int:
    """Store the records of `source_sql` (RECORD_COLUMNS) whose id is new, roll those up, and
    enforce limits and triggers on their SIMs: every source ends here. Returns how many were new.

    On PostgreSQL a record id twice in `source_sql` is stored once, the first by `order_by`
    (SQLite's source, the staged chunk, has each once). `all_new_likely` (PostgreSQL): try
    the cheaper insert of a source without a stored record id first. Runs inside the caller's
    transaction."""
    stored = _store_all_new(source_sql, now) if all_new_likely else None
    if stored is None:
        stored = _store_new_records(f"{source_sql} {order_by}", now)
    report.ingested += stored
    _roll_up()
    if stored and usage_ingested.has_listeners():
        report.touched.append(_touched())
    # Triggers first: a SIM they activate is held to its limit in this pass, not the next one.
    report.activated += apply_provisioning_triggers(sim_ids=_provisioned_sims(), now=now)
    report.paused += pause_sims_over_limit(
        sims_sql=f"SELECT DISTINCT sim_id FROM {DELTA} WHERE period = %s",
        sims_params=[connection.ops.adapt_datefield_value(billing_period_start(now))],
        now=now,
    )
    return stored


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
        value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, datetime)
        else value.isoformat()
    )


@cache
def country_codes() -> frozenset[str]:
    # `code in countries` goes through translation machinery: ~10 us a record.
    return frozenset(code for code, _ in countries)


def _usage_day(started_at: datetime) -> date:
    """A record counts on the UTC day it starts (the parsers give UTC times)."""
    if started_at.tzinfo is not UTC:
        started_at = started_at.astimezone(UTC)
    return started_at.date()


def _store_new_records(source_sql: str, now: datetime) -> int:
    """Insert the new records and have DELTA hold just them (PostgreSQL: summed per SIM, day and
    country), so the rollups count each record once, even with two ingestions at once.
    Returns how many were new."""
    _create_delta()
    records = UsageRecord._meta.db_table
    received_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The RETURNING rows are the new ones: ON CONFLICT skips what is stored, by anyone.
            day = "(started_at AT TIME ZONE 'UTC')::date"
            cursor.execute(
                f"WITH new AS (INSERT INTO {records} ({RECORD_COLUMNS}, received_at) "
                f"SELECT {RECORD_COLUMNS}, %s FROM ({source_sql}) AS source "
                f"ON CONFLICT (record_id) DO NOTHING RETURNING {RECORD_COLUMNS}) "
                f"INSERT INTO {DELTA} ({DELTA_COLUMNS}) "
                f"SELECT sim_id, product_id, {day}, date_trunc('month', {day})::date, country, "
                "SUM(bytes_up + bytes_down), SUM(sms), COUNT(*), MAX(ended_at) "
                f"FROM new GROUP BY sim_id, product_id, {day}, country",
                [received_at],
            )
        else:
            # SQLite: the transaction holds the database's write lock, so no one else inserts meanwhile.
            cursor.execute(
                f"DELETE FROM {STAGING} WHERE EXISTS (SELECT 1 FROM {records} r WHERE r.record_id = {STAGING}.record_id)"
            )
            # The source is STAGING, which DELTA reads as a view (see _create_delta).
            cursor.execute(
                f"INSERT INTO {records} ({RECORD_COLUMNS}, received_at) SELECT {RECORD_COLUMNS}, %s FROM ({source_sql}) AS source",
                [received_at],
            )
        cursor.execute(f"SELECT COALESCE(SUM(records), 0) FROM {DELTA}")
        return int(cursor.fetchone()[0])  # PostgreSQL sums bigints as numeric


def _store_all_new(source_sql: str, now: datetime) -> int | None:
    """PostgreSQL: insert every record of the source, as new, and sum them all into DELTA; None
    (and nothing done) if one is stored already or twice in the source.

    A plain insert costs a third less than ON CONFLICT's, and the sums come from the source, not
    from a million RETURNING rows. A delivery at once with the same records makes this wait for
    it, then fail, or end in a deadlock: either way the savepoint undoes it."""
    _create_delta()
    records = UsageRecord._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {records} ({RECORD_COLUMNS}, received_at) SELECT {RECORD_COLUMNS}, %s FROM ({source_sql}) AS source",
                [connection.ops.adapt_datetimefield_value(now)],
            )
    except (IntegrityError, OperationalError) as error:
        if isinstance(error, OperationalError) and getattr(error.__cause__, "sqlstate", None) != DEADLOCK:
            raise
        return None
    day = "(started_at AT TIME ZONE 'UTC')::date"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DELTA} ({DELTA_COLUMNS}) "
            f"SELECT sim_id, product_id, {day}, date_trunc('month', {day})::date, country, "
            "SUM(bytes_up + bytes_down), SUM(sms), COUNT(*), MAX(ended_at) "
            f"FROM ({source_sql}) AS source GROUP BY sim_id, product_id, {day}, country"
        )
        cursor.execute(f"SELECT COALESCE(SUM(records), 0) FROM {DELTA}")
        return int(cursor.fetchone()[0])


def _create_delta() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {DELTA} (sim_id bigint, product_id bigint, day date, period date, "
                "country varchar(2), bytes bigint, sms bigint, records bigint, newest_record_at timestamp with time zone)"
            )
            cursor.execute(f"TRUNCATE {DELTA}")
        else:
            # SQLite ingests a chunk at a time, which names each SIM about once: summing first saves nothing.
            cursor.execute(
                f"CREATE TEMP VIEW IF NOT EXISTS {DELTA} ({DELTA_COLUMNS}) AS SELECT sim_id, product_id, day, period, "
                f"country, bytes_up + bytes_down, sms, 1, ended_at FROM {STAGING}"
            )


def _roll_up() -> None:
    """The rollups from DELTA: a row per SIM, day and country, a tenth of the records or less.
    A product's SIMs also get a row per period and visited country (roaming, the advisor)."""
    sim_days, sim_periods, product_days = (
        SimDailyUsage._meta.db_table,
        SimPeriodUsage._meta.db_table,
        ProductDailyUsage._meta.db_table,
    )
    sim_countries = SimCountryUsage._meta.db_table
    later = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {sim_days} (sim_id, product_id, day, bytes, sms) "
            f"SELECT sim_id, MAX(product_id), day, SUM(bytes), SUM(sms) FROM {DELTA} WHERE true "
            "GROUP BY sim_id, day ORDER BY sim_id, day "
            f"ON CONFLICT (sim_id, day) DO UPDATE SET bytes = {sim_days}.bytes + excluded.bytes, "
            f"sms = {sim_days}.sms + excluded.sms"
        )
        cursor.execute(
            f"INSERT INTO {sim_periods} (sim_id, product_id, period, bytes, sms) "
            f"SELECT sim_id, MAX(product_id), period, SUM(bytes), SUM(sms) FROM {DELTA} WHERE true "
            "GROUP BY sim_id, period ORDER BY sim_id, period "
            f"ON CONFLICT (sim_id, period) DO UPDATE SET bytes = {sim_periods}.bytes + excluded.bytes, "
            f"sms = {sim_periods}.sms + excluded.sms, product_id = excluded.product_id"
        )
        cursor.execute(
            f"INSERT INTO {sim_countries} (product_id, period, sim_id, country, bytes) "
            f"SELECT product_id, period, sim_id, country, SUM(bytes) FROM {DELTA} WHERE product_id IS NOT NULL "
            "GROUP BY product_id, period, sim_id, country ORDER BY product_id, period, sim_id, country "
            f"ON CONFLICT (product_id, period, sim_id, country) DO UPDATE SET bytes = {sim_countries}.bytes + excluded.bytes"
        )
        cursor.execute(
            f"INSERT INTO {product_days} (product_id, day, country, bytes, sms, records, newest_record_at) "
            f"SELECT product_id, day, country, SUM(bytes), SUM(sms), SUM(records), MAX(newest_record_at) "
            f"FROM {DELTA} WHERE product_id IS NOT NULL GROUP BY product_id, day, country "
            f"ON CONFLICT (product_id, day, country) DO UPDATE SET bytes = {product_days}.bytes + excluded.bytes, "
            f"sms = {product_days}.sms + excluded.sms, records = {product_days}.records + excluded.records, "
            f"newest_record_at = {later}({product_days}.newest_record_at, excluded.newest_record_at)"
        )


def _touched() -> tuple[list[int], list[date]]:
    """The SIMs and days of DELTA's new records, for usage_ingested."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT sim_id FROM {DELTA}")
        sim_ids = [sim_id for (sim_id,) in cursor.fetchall()]
        cursor.execute(f"SELECT DISTINCT day FROM {DELTA}")
        days = [day if isinstance(day, date) else date.fromisoformat(day) for (day,) in cursor.fetchall()]
    return sim_ids, sorted(days)


def _provisioned_sims() -> list[int]:
    """The provisioned SIMs with new usage: the ones a trigger may activate."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT d.sim_id FROM {DELTA} d JOIN {Sim._meta.db_table} s ON s.id = d.sim_id "
            "WHERE s.state = %s ORDER BY d.sim_id",
            [State.PROVISIONED.value],
        )
        return [sim_id for (sim_id,) in cursor.fetchall()]
