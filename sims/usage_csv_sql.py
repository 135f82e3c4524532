"""A usage CSV read by PostgreSQL.

First, optimistically, PostgreSQL's own CSV reader: the file goes in by COPY (FORMAT csv) to a
table of a column per field, the counts typed, and one statement checks and converts the rows
written the plain way (ISO times in UTC or with an offset like +01:00, a known ICCID) and keeps
them. A file that COPY could read differently from Python's csv (a quote, a backslash, a NUL) or
cannot read at all (a blank line, a wrong number of fields, a count that is not a number) is
undone and read the second way, line by line:

the file's text goes in by COPY a block at a time, and one statement splits the lines, checks
and converts the ones written the plain way (no quotes, ISO times in UTC or with an offset like
+01:00, digits, a known ICCID) and keeps them.

Either way, Python reads only what the statement cannot vouch for (quotes, another time format,
an unknown ICCID, a bad value), with the parser every source uses, so a row gets the same
verdict and the same reason as on SQLite. The rest (storing new records, rollups, limits, triggers) is
`sims.usage.apply_new_usage`, as for every source.
"""

import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import IO, Any, TextIO

import psycopg
from django.db import DataError, connection, transaction

from lib.bulk_insert import insert_rows
from sims import usage as usage_module
from sims.models import Sim
from sims.usage import (
    CLOCK_SKEW, RECORD_BYTES_MAX, RECORD_COLUMNS, RECORD_SMS_MAX, IngestReport, UsageRow, apply_new_usage, send_usage_ingested,
    country_codes, problem_with, unknown_sim,
)  # fmt: skip
from sims.usage_csv import UsageCsv
from sims.usage_fields import EARLIEST_YEAR

BLOCK_CHARS = 1 << 20
# An unclosed quote would make a block of the rest of the file: past this, cut it anyway.
MAX_BLOCK_CHARS = 16 * BLOCK_CHARS
ROWS_PER_BATCH = 10_000
BLOCKS = "usage_csv_blocks"
PARSED = "usage_csv_parsed"
# The file as COPY read it: a row per line, `n` its place (1 for the first line after the header).
COPIED = "usage_csv_copied"
# Each distinct time of a file whose times are shared, checked and cast (NULL: not plain).
TIMES = "usage_csv_times"
# Shared: in the first TIMES_SAMPLE rows, at most this many distinct times per time written.
TIMES_SAMPLE = 10_000
SHARED_TIMES = 0.25
COPIED_TYPES = {"bytes_up": "bigint", "bytes_down": "bigint", "sms": "integer"}
# What COPY's CSV reader could read otherwise than Python's csv (a quote: a field over lines; a
# backslash: the end-of-data marker \.) or refuses (a NUL).
NOT_FOR_COPY = ('"', "\\", "\x00")
# The blocks COPY was sent, kept for the line-by-line reading if COPY gives up: in memory up to
# this, then in a temporary file.
REPLAY_IN_MEMORY = 16 << 20
PARSED_COLUMNS = ["line", "record_id", "iccid", "started_at", "ended_at", "bytes_up", "bytes_down", "sms", "country"]
PARSED_PG_TYPES = ["int8", "text", "text", "timestamptz", "timestamptz", "int8", "int8", "int4", "text"]

# The shapes of the times the statement reads itself (digits as 0, a space as T, + as -).
_TIME_SHAPES = [
    f"0000-00-00T00:00{seconds}{offset}"
    for seconds in ["", ":00", *(":00." + "0" * digits for digits in range(1, 7))]
    for offset in ["", "Z", "-00:00"]
]


def ingest_csv_in_sql(usage: UsageCsv, *, now: datetime) -> IngestReport:
    """Ingest the rest of an open usage CSV (its header read) in one transaction."""
    report = IngestReport()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Sorting and hashing a million rows in memory, not in temporary files.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            # Compiling these statements' expressions costs more than it saves.
            cursor.execute("SET LOCAL jit = off")
        _create_tables()
        first_line = usage.header_lines + 1
        blocks = _blocks(usage.text)
        with tempfile.SpooledTemporaryFile(max_size=REPLAY_IN_MEMORY) as replay:
            if _copy_file(usage, blocks, replay):
                _keep_plain_rows(usage, now, first_line=first_line)
            else:
                _copy_blocks(chain(_replayed(replay), blocks), first_line=first_line)
                _keep_plain_lines(usage, now)
        added_in_python = _read_the_rest(usage, now, report)
        kept = _count(PARSED)
        # So far only Python has rejected rows: each was a record too.
        report.received += kept + report.rejected_count
        unknown = _reject_unknown_sims(report) if added_in_python else 0
        # A file is mostly new records. If not, in line order: the first row of a record id is
        # the one stored.
        stored = apply_new_usage(
            source_sql=f"SELECT {RECORD_COLUMNS} FROM {PARSED}", order_by="ORDER BY line", all_new_likely=True,
            now=now, report=report,
        )
    report.duplicates += kept - unknown - stored
    report.keep_first_rejections()
    send_usage_ingested(report, now=now)
    return report


def _create_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {BLOCKS} (first_line bigint, text text, in_python bytea) ON COMMIT DROP"
        )
        # Blocks are read once: compressing them (TOAST's default) costs more than it saves.
        cursor.execute(f"ALTER TABLE {BLOCKS} ALTER COLUMN text SET STORAGE EXTERNAL")
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {PARSED} (line bigint, raw text, record_id varchar(64), iccid text, "
            "sim_id bigint, product_id bigint, started_at timestamptz, ended_at timestamptz, bytes_up bigint, "
            "bytes_down bigint, sms integer, country varchar(2)) ON COMMIT DROP"
        )
        # Still there if an outer transaction (a test's) holds this one.
        cursor.execute(f"TRUNCATE {BLOCKS}, {PARSED}")


class _NotForCopy(Exception):
    """The file has what COPY's CSV reader could read otherwise than Python's csv."""


def _copy_file(usage: UsageCsv, blocks: Iterator[str], replay: IO[bytes]) -> bool:
    """COPY the rest of the file (FORMAT csv) into COPIED, each block sent kept in `replay`.
    False, with COPIED and everything COPY did undone, if the file is not for COPY or COPY
    refused a row: then the line-by-line reading has it all, from `replay` and `blocks`."""
    names = {position: name for name, position in usage.columns.items()}
    columns = [
        f"{_copied_column(names.get(position, ''), position)} {COPIED_TYPES.get(names.get(position, ''), 'text')}"
        for position in range(usage.width)
    ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Its columns are the file's: one from an earlier file in this transaction (a test's) goes.
            cursor.execute(f"DROP TABLE IF EXISTS {COPIED}")
            cursor.execute(
                f"CREATE TEMP TABLE {COPIED} (n bigint GENERATED ALWAYS AS IDENTITY, {', '.join(columns)}) ON COMMIT DROP"
            )
            column_list = ", ".join(_copied_column(names.get(position, ""), position) for position in range(usage.width))
            with cursor.cursor.copy(f"COPY {COPIED} ({column_list}) FROM STDIN (FORMAT csv)") as copy:
                for block in blocks:
                    data = block.encode()
                    replay.write(struct.pack("<Q", len(data)))
                    replay.write(data)
                    if any(character in block for character in NOT_FOR_COPY):
                        raise _NotForCopy
                    copy.write(data)
                    copy.write(b"\n")
    except (_NotForCopy, psycopg.errors.DataError):
        return False
    return True


def _copied_column(name: str, position: int) -> str:
    return f"f_{name}" if name else f"extra_{position}"


def _replayed(replay: IO[bytes]) -> Iterator[str]:
    """The blocks `_copy_file` kept, as they were."""
    replay.seek(0)
    while size := replay.read(8):
        yield replay.read(struct.unpack("<Q", size)[0]).decode()


def _copy_blocks(blocks: Iterable[str], *, first_line: int) -> None:
    numbered = _numbered_blocks(blocks, first_line)
    insert_rows(BLOCKS, ["first_line", "text", "in_python"], numbered, pg_types=["int8", "text", "bytea"])


def _numbered_blocks(blocks: Iterable[str], first_line: int) -> Iterator[tuple]:
    """Blocks of whole lines, each with the number of its first line, read as COPY sends them.
    Blocks with a quote or a NUL are Python's (as bytes: PostgreSQL's text cannot hold a NUL)."""
    for block in blocks:
        if '"' in block or "\x00" in block:
            yield first_line, None, block.encode()
        else:
            yield first_line, block, None
        first_line += block.count("\n") + 1


def _blocks(text: TextIO) -> Iterator[str]:
    """Whole lines, ended by \\n whatever the file's line ends, the last one's left off; a quoted
    field's line breaks stay inside one block."""
    rest = ""
    while chunk := text.read(BLOCK_CHARS):
        rest += chunk
        # A \r at the very end may be the first half of a \r\n.
        end = max(rest.rfind("\n"), rest.rfind("\r", 0, len(rest) - 1)) + 1
        if end == 0 or (rest.count('"', 0, end) % 2 and len(rest) < MAX_BLOCK_CHARS):
            continue
        yield _plain_line_ends(rest[:end])[:-1]
        rest = rest[end:]
    if rest:
        yield _plain_line_ends(rest).removesuffix("\n")


def _plain_line_ends(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _keep_plain_rows(usage: UsageCsv, now: datetime, *, first_line: int) -> None:
    """One statement over every row COPY read: the plain ones converted, the others kept as text
    for Python. It first trusts PostgreSQL's casts to refuse a malformed time, as
    `_keep_plain_lines` does; if one does, it runs again checking first."""
    try:
        with transaction.atomic():
            _keep_rows(usage, now, first_line, time_check=_time_for_the_cast)
    except DataError:
        _keep_rows(usage, now, first_line, time_check=_plain_time)


def _keep_rows(usage: UsageCsv, now: datetime, first_line: int, *, time_check: Callable) -> None:
    names = {position: name for name, position in usage.columns.items()}
    columns = [_copied_column(names.get(position, ""), position) for position in range(usage.width)]
    field = {name: _copied_column(name, position) for name, position in usage.columns.items()}
    start, end = field["start"], field["end"]
    # The line as Python reads it when a check fails: its fields, a count as its number (which
    # Python reads as COPY did).
    raw = " || ',' || ".join(f"COALESCE({column}::text, '')" for column in columns)
    up, down, sms = field["bytes_up"], field["bytes_down"], field["sms"]
    country = f"upper(btrim(COALESCE({field['country']}, '')))" if "country" in field else "''"
    # Printable ASCII but the space, which Python would strip, and 64 characters at most.
    plain_id = f"{field['record_id']} !~ '[^!-~]' AND octet_length({field['record_id']}) BETWEEN 1 AND 64"
    parameters: dict[str, Any] = {"earliest": datetime(EARLIEST_YEAR, 1, 1, tzinfo=now.tzinfo), "latest": now + CLOCK_SKEW, "shapes": _TIME_SHAPES}
    with connection.cursor() as cursor:
        if _times_shared(cursor, start, end):
            # Each time is checked and cast once (NULL: not plain), not once per row.
            cursor.execute(f"DROP TABLE IF EXISTS {TIMES}")
            cursor.execute(
                f"CREATE TEMP TABLE {TIMES} ON COMMIT DROP AS "
                f"SELECT text, CASE WHEN {time_check('text')} THEN text::timestamptz END AS moment "
                f"FROM (SELECT {start} FROM {COPIED} UNION SELECT {end} FROM {COPIED}) AS times(text)",
                parameters,
            )
            # Its size, so that the rows look their times up in a hash of it.
            cursor.execute(f"ANALYZE {TIMES}")
            timed = f"""
                SELECT c.*, {country} AS country, t_start.moment AS started_at, t_end.moment AS ended_at,
                       {plain_id} AND t_start.moment IS NOT NULL AND t_end.moment IS NOT NULL AS plain
                FROM {COPIED} c
                LEFT JOIN {TIMES} t_start ON t_start.text = c.{start}
                LEFT JOIN {TIMES} t_end ON t_end.text = c.{end}
                OFFSET 0
            """
        else:
            timed = f"""
                SELECT p.*, CASE WHEN plain THEN {start}::timestamptz END AS started_at,
                       CASE WHEN plain THEN {end}::timestamptz END AS ended_at
                FROM (
                    SELECT c.*, {country} AS country, {plain_id} AND {time_check(start)} AND {time_check(end)} AS plain
                    FROM {COPIED} c OFFSET 0
                ) p
                OFFSET 0
            """
        # OFFSET 0 keeps a level a subquery, so what it works out is worked out once a row, not
        # at every use above. A row that is not ok keeps its text only: its country may be a name,
        # which PARSED's column cannot hold, and Python gives it its verdict.
        cursor.execute(
            f"""
            INSERT INTO {PARSED} (line, raw, record_id, sim_id, product_id, started_at, ended_at, bytes_up, bytes_down, sms, country)
            SELECT n + {int(first_line) - 1}, CASE WHEN ok THEN NULL ELSE {raw} END, CASE WHEN ok THEN {field['record_id']} END,
                   sim_id, product_id, started_at, ended_at, {up}, {down}, {sms}, CASE WHEN ok THEN country END
            FROM (
                SELECT t.*, s.id AS sim_id, s.product_id,
                       COALESCE(s.id IS NOT NULL AND t.ended_at >= t.started_at
                                AND {up} BETWEEN 0 AND {RECORD_BYTES_MAX} AND {down} BETWEEN 0 AND {RECORD_BYTES_MAX}
                                AND {sms} BETWEEN 0 AND {RECORD_SMS_MAX}
                                AND t.started_at >= %(earliest)s AND t.ended_at <= %(latest)s
                                AND (t.country = '' OR t.country = ANY({_constant_array(country_codes())})), false) AS ok
                FROM ({timed}) t
                LEFT JOIN {Sim._meta.db_table} s ON t.plain AND s.iccid = t.{field['iccid']}
            ) checked
            """,
            parameters,
        )


def _times_shared(cursor, start: str, end: str) -> bool:
    """Whether the file's rows share their times, as a delivery's do (an hour's records, its
    start and end), judged by the first rows stored: then looking each time up beats checking it on
    every row; a file of times all different would pay twice."""
    cursor.execute(
        f"SELECT COUNT(DISTINCT moment), 2 * COUNT(*) FROM (SELECT {start}, {end} FROM {COPIED} LIMIT %s) AS first, "
        f"LATERAL (VALUES ({start}), ({end})) AS times(moment)",
        [TIMES_SAMPLE],
    )
    distinct, times = cursor.fetchone()
    return distinct <= SHARED_TIMES * times


def _keep_plain_lines(usage: UsageCsv, now: datetime) -> None:
    """One statement over every line: the plain ones converted, the others kept as text for Python.

    It first trusts PostgreSQL's casts to refuse a malformed time or count (a tenth of the
    checks' cost); if one does, which fails the whole statement, it runs again checking first."""
    try:
        with transaction.atomic():
            _keep_lines(usage, now, time_check=_time_for_the_cast, count_check=_count_for_the_cast)
    except DataError:
        _keep_lines(usage, now, time_check=_plain_time, count_check=_plain_count)


def _keep_lines(usage: UsageCsv, now: datetime, *, time_check: Callable, count_check: Callable) -> None:
    field = {name: f"f[{position + 1}]" for name, position in usage.columns.items()}
    country = f"upper(btrim({field['country']}))" if "country" in field else "''"
    plain = " AND ".join(
        [
            f"cardinality(f) = {usage.width}",
            # Printable ASCII but the space, which Python would strip, and 64 characters at most.
            f"{field['record_id']} !~ '[^!-~]' AND octet_length({field['record_id']}) BETWEEN 1 AND 64",
            time_check(field["start"]),
            time_check(field["end"]),
            *(count_check(field[name], digits) for name, digits in [("bytes_up", 12), ("bytes_down", 12), ("sms", 6)]),
        ]
    )
    # A line that is not ok keeps its text only (its country may be a name, too long for PARSED).
    sql = f"""
        INSERT INTO {PARSED} (line, raw, record_id, sim_id, product_id, started_at, ended_at, bytes_up, bytes_down, sms, country)
        SELECT line, CASE WHEN ok THEN NULL ELSE raw END, CASE WHEN ok THEN record_id END, sim_id, product_id,
               started_at, ended_at, bytes_up, bytes_down, sms, CASE WHEN ok THEN country END
        FROM (
            SELECT p.line, p.raw, {field['record_id']} AS record_id, s.id AS sim_id, s.product_id,
                   t_start.started_at, t_end.ended_at, CASE WHEN plain THEN {field['bytes_up']}::bigint END AS bytes_up,
                   CASE WHEN plain THEN {field['bytes_down']}::bigint END AS bytes_down,
                   CASE WHEN plain THEN {field['sms']}::integer END AS sms, c.country,
                   COALESCE(s.id IS NOT NULL AND t_end.ended_at >= t_start.started_at
                            AND {field['bytes_up']}::bigint >= 0 AND {field['bytes_down']}::bigint >= 0 AND {field['sms']}::integer >= 0
                            AND t_start.started_at >= %(earliest)s AND t_end.ended_at <= %(latest)s
                            AND (c.country = '' OR c.country = ANY({_constant_array(country_codes())})), false) AS ok
            FROM (
                -- OFFSET 0 keeps this a subquery, so `plain` is worked out once a line, not at every use.
                SELECT l.line, l.raw, f, {plain} AS plain
                FROM (
                    SELECT b.first_line + l.n - 1 AS line, l.raw
                    FROM {BLOCKS} b, unnest(string_to_array(b.text, E'\\n')) WITH ORDINALITY AS l(raw, n)
                    WHERE b.text IS NOT NULL
                ) l, string_to_array(l.raw, ',') AS f
                OFFSET 0
            ) p
            LEFT JOIN {Sim._meta.db_table} s ON p.plain AND s.iccid = {field['iccid'].replace('f[', 'p.f[')}
            CROSS JOIN LATERAL CAST(CASE WHEN plain THEN {field['start']} END AS timestamptz) AS t_start(started_at)
            CROSS JOIN LATERAL CAST(CASE WHEN plain THEN {field['end']} END AS timestamptz) AS t_end(ended_at)
            CROSS JOIN LATERAL CAST(CASE WHEN plain THEN {country} END AS text) AS c(country)
        ) checked
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "earliest": datetime(EARLIEST_YEAR, 1, 1, tzinfo=now.tzinfo),
                "latest": now + CLOCK_SKEW,
                "shapes": _TIME_SHAPES,
            },
        )


def _constant_array(codes: frozenset[str]) -> str:
    """Two-letter codes as an array in the statement's text: PostgreSQL hashes a constant array
    for `= ANY`, and scans a parameter's item by item."""
    assert all(code.isalpha() and code.isascii() for code in codes)
    return "'{" + ",".join(sorted(codes)) + "}'::text[]"


def _plain_time(value: str) -> str:
    """SQL: `value` has one of the _TIME_SHAPES and in-range digits, so its cast cannot fail
    (the days a month lacks and 29 February are left to Python) and reads as Python reads it."""
    c = 'COLLATE "C"'
    def part(start: int, length: int) -> str:
        return f"substr({value}, {start}, {length}) {c}"
    days = "CASE substr({v}, 6, 2) WHEN '02' THEN '28' WHEN '04' THEN '30' WHEN '06' THEN '30' WHEN '09' THEN '30' WHEN '11' THEN '30' ELSE '31' END"
    return (
        f"(translate({value}, '123456789+ ', '000000000-T') = ANY(%(shapes)s) AND left({value}, 1) = '2' "
        f"AND {part(6, 2)} BETWEEN '01' AND '12' AND {part(9, 2)} BETWEEN '01' AND {days.format(v=value)} "
        f"AND {part(12, 2)} <= '23' AND {part(15, 1)} <= '5' AND ({part(17, 1)} <> ':' OR {part(18, 1)} <= '5') "
        f"AND (substr({value}, length({value}) - 5, 1) NOT IN ('+', '-') "
        f"OR (substr({value}, length({value}) - 4, 2) {c} <= '14' AND substr({value}, length({value}) - 1, 1) {c} <= '5')))"
    )


def _time_for_the_cast(value: str) -> str:
    """SQL: `value` looks like an ISO time PostgreSQL reads as Python does, if it reads it at all:
    digits and separators only (no zone names), hours to 23, seconds to 59, microseconds at most."""
    c = 'COLLATE "C"'
    return (
        f"({value} LIKE '2___-__-__T__:__%%' OR {value} LIKE '2___-__-__ __:__%%') "
        f"AND substr({value}, 12) !~ '[^-0-9:.+Z]' AND substr({value}, 12, 2) {c} <= '23' "
        f"AND (substr({value}, 17, 1) <> ':' OR substr({value}, 18, 1) {c} <= '5') "
        f"AND (strpos({value}, '.') = 0 OR {value} !~ '[.][0-9]{{7}}')"
    )


def _count_for_the_cast(value: str, digits: int) -> str:
    """SQL: short enough to be under the plausible maximum (the cast refuses what is not a number)."""
    return f"octet_length({value}) BETWEEN 1 AND {digits}"


def _plain_count(value: str, digits: int) -> str:
    """SQL: `value` is 1 to `digits` digits (under the plausible maximum)."""
    return f"(octet_length({value}) BETWEEN 1 AND {digits} AND translate({value}, '0123456789', '') = '')"


def _read_the_rest(usage: UsageCsv, now: datetime, report: IngestReport) -> int:
    """Python reads the lines the statement left and the blocks with quotes, in line order, and
    puts the acceptable rows in PARSED instead (their SIM still to find). Returns how many it put."""
    read = added = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT line, raw, NULL::bytea FROM {PARSED} WHERE raw IS NOT NULL "
            f"UNION ALL SELECT first_line, NULL, in_python FROM {BLOCKS} WHERE in_python IS NOT NULL ORDER BY 1"
        )
        while batch := cursor.fetchmany(ROWS_PER_BATCH):
            acceptable = []
            for first_line, raw, in_python in batch:
                read += raw is not None
                text = raw if raw is not None else bytes(in_python).decode()
                for row in usage.rows_of(text, first_line=first_line):
                    problem = problem_with(row, now)
                    if problem:
                        report.reject(line=row.line, record_id=row.record_id, reason=problem)
                    else:
                        acceptable.append(_parsed(row))
            added += insert_rows(PARSED, PARSED_COLUMNS, acceptable, pg_types=PARSED_PG_TYPES)
    if read:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PARSED} WHERE raw IS NOT NULL")
    return added


def _parsed(row: UsageRow) -> tuple:
    return (
        row.line, row.record_id, row.iccid, row.started_at, row.ended_at, row.bytes_up, row.bytes_down, row.sms, row.country,
    )  # fmt: skip


def _reject_unknown_sims(report: IngestReport) -> int:
    """Find the SIMs of the rows Python added; reject the rows whose ICCID no SIM has, unless an
    earlier row has their record id (then they are duplicates), and drop them and their duplicates."""
    sims = Sim._meta.db_table
    # The first row of each record id with a row of an unknown SIM.
    firsts = (
        f"SELECT DISTINCT ON (record_id) line, record_id, iccid, sim_id FROM {PARSED} "
        f"WHERE record_id IN (SELECT record_id FROM {PARSED} WHERE sim_id IS NULL) ORDER BY record_id, line"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {PARSED} p SET sim_id = s.id, product_id = s.product_id FROM {sims} s "
            "WHERE p.sim_id IS NULL AND s.iccid = p.iccid"
        )
        unknown = f"SELECT line, record_id, iccid FROM ({firsts}) f WHERE sim_id IS NULL"
        cursor.execute(f"SELECT COUNT(*) FROM ({unknown}) u")
        count = cursor.fetchone()[0]
        cursor.execute(f"{unknown} ORDER BY line LIMIT %s", [usage_module.MAX_LISTED_REJECTIONS])
        listed = cursor.fetchall()
        cursor.execute(
            f"DELETE FROM {PARSED} p USING ({firsts}) f "
            "WHERE p.record_id = f.record_id AND (f.sim_id IS NULL OR p.sim_id IS NULL)"
        )
    for line, record_id, iccid in listed:
        report.reject(line=line, record_id=record_id, reason=unknown_sim(iccid))
    report.rejected_count += count - len(listed)
    return count


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]
