import codecs
import io
import tracemalloc
from datetime import UTC, date, datetime, timedelta

import pytest

from lib.units import MB
from django.db import connection, transaction

from sims.models import ProductDailyUsage, SimDailyUsage, State, UsageRecord
from sims.usage_csv import UsageCsv, UsageFileError
from sims.usage_file import ingest_usage_csv
from tests.conftest import make_iccid

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HEADER = "record_id,iccid,start,end,bytes_up,bytes_down,sms,country"
UNKNOWN = make_iccid()  # a valid ICCID no SIM has


def line(record_id: str, iccid: str, *, start: str = "2026-11-20T09:00:00Z", end: str = "2026-11-20T09:30:00Z",
         up: object = 250_000, down: object = 750_000, sms: object = 0, country: str = "de") -> str:  # fmt: skip
    return f"{record_id},{iccid},{start},{end},{up},{down},{sms},{country}"


def csv_bytes(*lines: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *lines, ""]).encode()


def ingest(data: bytes, now: datetime = NOW):
    return ingest_usage_csv(io.BytesIO(data), now=now)


@pytest.fixture
def active_sim(product, make_sim):
    return make_sim(product, state=State.ACTIVE)


def test_each_bad_row_is_reported_with_its_line_and_reason_and_the_rest_go_in(product, active_sim):
    sim = active_sim.iccid
    data = csv_bytes(
        line("r1", sim),  # line 2
        "r2,{sim},2026-11-20T09:00:00Z,2026-11-20T09:30:00Z,1,2".format(sim=sim),  # 3: two fields short
        line("r3", UNKNOWN),  # 4
        line("r4", sim, up=-5),  # 5
        line("r5", sim, start="2026-11-20T18:00:00Z", end="2026-11-20T18:30:00Z"),  # 6: six hours ahead
        line("r1", sim, up=1, down=1),  # 7: r1 again
        line("r6", sim, up=100_000, down=400_000),  # 8
        line("r7", sim, start="yesterday"),  # 9
        line("r8", sim, down="12kB"),  # 10
        line("r9", sim[:-1] + str((int(sim[-1]) + 1) % 10)),  # 11: a mistyped last digit
    )

    report = ingest(data)

    reasons = {rejection.line: rejection.reason for rejection in report.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 9, 10, 11]
    assert "6 fields where the header has 8" in reasons[3]
    assert f"No SIM has ICCID {UNKNOWN}; import the SIM before its usage." == reasons[4]
    assert "cannot be negative" in reasons[5]
    assert "in the future" in reasons[6] and "check the sender's clock" in reasons[6]
    assert reasons[9].startswith("start: 'yesterday' is not an ISO 8601 time: write it as 2026-11-20T14:05:00Z")
    assert reasons[10].startswith("bytes_down: '12kB' is not a whole number")
    assert reasons[11].startswith("iccid:") and "Luhn" in reasons[11]
    assert (report.received, report.ingested, report.duplicates) == (10, 2, 1)
    # r1 and r6 only, r1 once: 1 MB + 0.5 MB.
    assert UsageRecord.objects.count() == 2
    assert SimDailyUsage.objects.get(sim=active_sim).bytes == 1_500_000
    assert ProductDailyUsage.objects.get(product=product).records == 2


def test_the_same_file_twice_changes_nothing(product, active_sim):
    data = csv_bytes(line("r1", active_sim.iccid), line("r2", active_sim.iccid, sms=3), line("r3", UNKNOWN))
    first = ingest(data)

    again = ingest(data)

    assert (first.ingested, again.ingested, again.duplicates, len(again.rejected)) == (2, 0, 2, 1)
    assert UsageRecord.objects.count() == 2
    day = SimDailyUsage.objects.get(sim=active_sim)
    assert (day.bytes, day.sms) == (2 * MB, 3)
    assert ProductDailyUsage.objects.get(product=product).records == 2


def test_a_sim_over_its_limit_is_paused_by_the_file(product, make_sim):
    small = make_sim(product, data_limit_mb=1)

    report = ingest(csv_bytes(line("r1", small.iccid, up=600_000, down=600_000)))

    small.refresh_from_db()
    assert (report.paused, small.state) == (1, State.PAUSED)


def test_a_provisioned_sim_the_file_activates_over_its_limit_is_paused_too(product, make_sim):
    sim = make_sim(product, state=State.PROVISIONED, state_changed_at=NOW - timedelta(days=5), data_limit_mb=7)

    report = ingest(csv_bytes(line("r1", sim.iccid, up=2 * MB, down=6 * MB)))

    sim.refresh_from_db()
    assert (report.activated, report.paused, sim.state) == (1, 1, State.PAUSED)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode(),
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF16_BE + text.replace("\n", "\r\n").encode("utf-16-be"),
        lambda text: text.encode("utf-16-le"),
        lambda text: text.encode("cp1252"),
        lambda text: text.replace("\n", "\r").encode(),
    ],
    ids=["utf8-bom-crlf", "utf16le-bom", "utf16be-bom-crlf", "utf16le-bare", "cp1252", "old-mac-line-ends"],
)
def test_spreadsheet_encodings_and_line_ends_read_the_same(active_sim, encode):
    text = "\n".join([HEADER + ",note", line("r1", active_sim.iccid) + ",Café", line("r2", active_sim.iccid) + ",Zürich", ""])

    report = ingest(encode(text))

    assert (report.ingested, report.rejected) == (2, [])
    assert SimDailyUsage.objects.get(sim=active_sim).bytes == 2 * MB


def test_columns_may_come_in_any_order_with_extra_ones_and_without_country(product, active_sim):
    header = "ICCID, bytes_down ,sms,operator,bytes_up,end,start,record_id"
    row = f'{active_sim.iccid},750000,1,"Telekom, DE",250000,2026-11-20T09:30:00,2026-11-20T09:00:00,r1'

    report = ingest(csv_bytes(row, header=header))

    assert (report.ingested, report.rejected) == (1, [])
    record = UsageRecord.objects.get()
    assert (record.bytes_up, record.bytes_down, record.sms, record.country) == (250_000, 750_000, 1, "")


def test_a_time_without_an_offset_is_utc_and_one_with_an_offset_counts_on_its_utc_day(active_sim):
    ingest(
        csv_bytes(
            line("naive", active_sim.iccid, start="2026-11-19T23:30:00", end="2026-11-19T23:50:00"),
            line("offset", active_sim.iccid, start="2026-11-20T00:30:00+02:00", end="2026-11-20T00:50:00+02:00"),
        )
    )

    assert UsageRecord.objects.get(record_id="naive").started_at == datetime(2026, 11, 19, 23, 30, tzinfo=UTC)
    assert UsageRecord.objects.get(record_id="offset").started_at == datetime(2026, 11, 19, 22, 30, tzinfo=UTC)
    assert list(SimDailyUsage.objects.values_list("day", "bytes")) == [(date(2026, 11, 19), 2 * MB)]


def test_the_country_is_read_in_any_case(active_sim):
    ingest(csv_bytes(line("r1", active_sim.iccid, country=" at ")))

    assert UsageRecord.objects.get().country == "AT"


def test_a_year_typo_is_refused_rather_than_counted_in_the_distant_past(active_sim):
    report = ingest(csv_bytes(line("r1", active_sim.iccid, start="0226-11-20T09:00:00Z")))

    assert [r.reason for r in report.rejected] == ["start: '0226-11-20T09:00:00Z' is before 2000: check the year."]


def test_an_implausibly_large_count_is_refused_instead_of_overflowing_the_database(active_sim):
    report = ingest(csv_bytes(line("r1", active_sim.iccid, down=10**19), line("r2", active_sim.iccid, sms=10**10)))

    assert [r.line for r in report.rejected] == [2, 3]
    assert "not plausible" in report.rejected[0].reason
    assert not UsageRecord.objects.exists()


def test_blank_lines_and_rows_of_empty_cells_are_skipped_silently(active_sim):
    report = ingest(csv_bytes("", line("r1", active_sim.iccid), ",,,,,,,", "   ", ""))

    assert (report.received, report.ingested, report.rejected) == (1, 1, [])


def test_a_header_without_records_ingests_nothing_and_rejects_nothing(db):
    report = ingest(csv_bytes())

    assert (report.received, report.rejected) == (0, [])


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", codecs.BOM_UTF8])
def test_an_empty_file_is_an_error_that_shows_the_header_to_write(db, data):
    with pytest.raises(UsageFileError, match=f"The file is empty: a usage CSV starts with the header row {HEADER}"):
        ingest(data)


def test_a_missing_column_is_an_error_that_names_it(db):
    with pytest.raises(UsageFileError, match="The header row has no bytes_down column"):
        ingest(csv_bytes(header=HEADER.replace(",bytes_down", "")))
    with pytest.raises(UsageFileError, match="no start, end columns"):
        ingest(csv_bytes(header="record_id,iccid,bytes_up,bytes_down,sms"))


def test_a_file_without_a_header_row_is_an_error_not_a_million_rejections(active_sim):
    with pytest.raises(UsageFileError, match="The header row has no record_id, iccid, start"):
        ingest(line("r1", active_sim.iccid).encode() + b"\n")
    assert not UsageRecord.objects.exists()


def test_a_binary_file_is_an_error(db):
    with pytest.raises(UsageFileError, match="not text"):
        ingest(b"PK\x03\x04\x00\x00binary zip")


def test_a_big_file_is_read_as_a_stream_not_held_in_memory(db):
    rows, fleet = 50_000, [make_iccid() for _ in range(500)]
    data = csv_bytes(*(line(f"r{n}", fleet[n % 500]) for n in range(rows)))
    assert len(data) > 4_000_000

    tracemalloc.start()
    try:
        usage = UsageCsv(io.BytesIO(data))
        read = sum(1 for _ in usage.rows())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (read, usage.rejected) == (rows, [])
    # The decoded text alone would take 4 MB (a list of its rows far more): the 1 MB read buffer
    # stays well under that.
    assert peak < 3_000_000


def test_a_record_ending_within_the_clock_skew_is_accepted(active_sim):
    soon = NOW + timedelta(minutes=4)
    report = ingest(csv_bytes(line("r1", active_sim.iccid, start=NOW.isoformat(), end=soon.isoformat())))

    assert report.ingested == 1


def test_a_file_of_many_bad_rows_counts_them_all_and_lists_the_first(product, active_sim, monkeypatch):
    monkeypatch.setattr("sims.usage.MAX_LISTED_REJECTIONS", 3)
    unreadable = [line(f"u{n}", active_sim.iccid, up="lots") for n in range(4)]  # lines 2-5
    unknown = [line(f"k{n}", UNKNOWN) for n in range(3)]  # lines 6-8

    report = ingest(csv_bytes(*unreadable, *unknown, line("ok", active_sim.iccid)))

    assert (report.received, report.ingested, report.rejected_count) == (8, 1, 7)
    assert [rejection.line for rejection in report.rejected] == [2, 3, 4]
    assert "7 rejected" in report.summary()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_line_numbers_hold_however_the_file_is_cut_and_its_lines_end(active_sim, monkeypatch, newline):
    monkeypatch.setattr("sims.usage_csv_sql.BLOCK_CHARS", 50)  # PostgreSQL reads the file in blocks this small
    rows = [line(f"r{n}", active_sim.iccid, up=-1 if n % 7 == 3 else 1) for n in range(40)]

    report = ingest(csv_bytes(*rows, newline=newline))

    assert [rejection.line for rejection in report.rejected] == [n + 2 for n in range(40) if n % 7 == 3]
    assert report.ingested == 40 - len(report.rejected)


def test_a_quoted_field_across_lines_is_one_row_and_the_next_rows_keep_their_line_numbers(active_sim):
    rows = [line("r1", active_sim.iccid) + ',"two\nlines, one field"', line("r2", active_sim.iccid, up=-1) + ",plain"]

    report = ingest(csv_bytes(*rows, header=HEADER + ",note"))

    assert [(rejection.line, "cannot be negative" in rejection.reason) for rejection in report.rejected] == [(4, True)]
    assert report.ingested == 1


def test_a_date_the_month_does_not_have_is_rejected_and_the_other_rows_go_in(active_sim):
    report = ingest(csv_bytes(line("r1", active_sim.iccid), line("r2", active_sim.iccid, start="2026-02-30T09:00:00Z")))

    assert [rejection.line for rejection in report.rejected] == [3]
    assert report.rejected[0].reason.startswith("start: '2026-02-30T09:00:00Z' is not an ISO 8601 time")
    assert report.ingested == 1


def test_a_record_id_first_seen_with_an_unknown_iccid_is_rejected_and_its_repeat_is_a_duplicate(active_sim):
    report = ingest(csv_bytes(line("r1", UNKNOWN), line("r1", active_sim.iccid), line("r2", active_sim.iccid)))

    assert [rejection.line for rejection in report.rejected] == [2]
    assert (report.received, report.ingested, report.duplicates) == (3, 1, 1)


def test_the_listing_keeps_the_first_lines_whichever_check_rejected_them(active_sim, monkeypatch):
    monkeypatch.setattr("sims.usage.MAX_LISTED_REJECTIONS", 2)
    negative = [line(f"n{n}", active_sim.iccid, up=-1) for n in range(3)]  # lines 3-5

    report = ingest(csv_bytes(line("k", UNKNOWN), *negative))

    assert [rejection.line for rejection in report.rejected] == [2, 3]
    assert report.rejected_count == 4


def test_a_record_id_over_64_characters_is_one_rejected_row(active_sim):
    report = ingest(csv_bytes(line("x" * 65, active_sim.iccid), line("r2", active_sim.iccid)))

    assert [(rejection.line, rejection.reason) for rejection in report.rejected] == [
        (2, "The record id is longer than 64 characters.")
    ]
    assert report.ingested == 1


def test_a_country_written_as_a_name_is_one_rejected_row_and_the_rest_go_in(active_sim):
    sim = active_sim.iccid
    report = ingest(csv_bytes(line("r1", sim), line("r2", sim, country="Germany"), line("r3", sim, country="DEU")))

    assert [(rejection.line, rejection.reason) for rejection in report.rejected] == [
        (3, "'GERMANY' is not an ISO 3166 country code (use two letters, such as DE)."),
        (4, "'DEU' is not an ISO 3166 country code (use two letters, such as DE)."),
    ]
    assert (report.received, report.ingested) == (3, 1)


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's COPY reading of the file")


def _ingested_both_ways(data: bytes, monkeypatch) -> tuple[list[str], object, object]:
    """The file ingested as it comes (then rolled back), and line by line: which reading kept the
    rows each time, and the two reports."""
    from sims import usage_csv_sql

    readings: list[str] = []
    for name in ["_keep_plain_rows", "_keep_plain_lines"]:
        original = getattr(usage_csv_sql, name)
        monkeypatch.setattr(usage_csv_sql, name, lambda *a, _f=original, _n=name, **k: (readings.append(_n), _f(*a, **k))[1])
    with transaction.atomic():
        as_it_comes = ingest(data)
        transaction.set_rollback(True)
    with monkeypatch.context() as patch:
        patch.setattr(usage_csv_sql, "_copy_file", lambda usage, blocks, replay: False)
        line_by_line = ingest(data)
    return readings, as_it_comes, line_by_line


def _verdicts(report) -> tuple:
    return (report.received, report.ingested, report.duplicates, report.rejected_count, report.rejected)


# The COPY reading checks each row's times, or each distinct time once when the rows share them.
times_checked = pytest.mark.parametrize("shared_times", [0.0, 1.0], ids=["times-per-row", "times-looked-up"])


@postgresql_only
@times_checked
def test_a_plain_file_is_read_by_copy_and_its_bad_rows_get_the_line_by_line_verdicts(active_sim, monkeypatch, shared_times):
    monkeypatch.setattr("sims.usage_csv_sql.SHARED_TIMES", shared_times)
    sim = active_sim.iccid
    clean = [line(f"r{n}", sim) for n in range(5)]

    readings, as_it_comes, line_by_line = _ingested_both_ways(csv_bytes(*clean), monkeypatch)

    assert readings == ["_keep_plain_rows", "_keep_plain_lines"]
    assert _verdicts(as_it_comes) == _verdicts(line_by_line) == (5, 5, 0, 0, [])

    bad = [  # after the 5 clean rows (lines 2-6) and c1 (line 7)
        line("b1", sim, up=-1),  # line 8
        line("b2", UNKNOWN),  # 9
        line("b3", sim[:-1] + str((int(sim[-1]) + 1) % 10)),  # 10: not an ICCID
        line("b4", sim, start="2026-11-20T10:00:00Z"),  # 11: ends before it starts
        line("b5", sim, start="2026-11-20T18:00:00Z", end="2026-11-20T18:30:00Z"),  # 12: in the future
        line("b6", sim, start="1999-12-31T23:00:00Z"),  # 13: too old
        line("b7", sim, country="xx"),  # 14
        line("r1", sim),  # 15: a repeat of line 3
        line(" b8 ", sim, country=" at "),  # 16: spaces Python strips: accepted
        line("b9", sim, start="2026-11-20 09:00:00+01:00", end="2026-11-20T09:30:00.5+01:00"),  # 17: accepted
        line("b10", sim, up=10**12 + 1),  # 18: implausible
        line("b11", sim, start="2026-11-20T24:00:00Z"),  # 19: PostgreSQL would read the next day
        line("x" * 65, sim),  # 20: too long an id
        line("b12", sim, sms=""),  # 21
        line("b13", sim, country=""),  # 22: accepted
    ]
    readings, as_it_comes, line_by_line = _ingested_both_ways(csv_bytes(*clean, line("c1", sim), *bad), monkeypatch)

    assert readings == ["_keep_plain_rows", "_keep_plain_lines"]
    assert _verdicts(as_it_comes) == _verdicts(line_by_line)
    assert [rejection.line for rejection in as_it_comes.rejected] == [8, 9, 10, 11, 12, 13, 14, 18, 19, 20, 21]
    # r0-r4 were stored with the clean file; r1 is there twice.
    assert (as_it_comes.received, as_it_comes.ingested, as_it_comes.duplicates) == (21, 4, 6)


@postgresql_only
@times_checked
def test_a_country_written_as_a_name_gets_the_same_verdict_from_copy_and_line_by_line(active_sim, monkeypatch, shared_times):
    monkeypatch.setattr("sims.usage_csv_sql.SHARED_TIMES", shared_times)
    sim = active_sim.iccid
    data = csv_bytes(line("r1", sim), line("r2", sim, country="Germany"), line("r3", sim), line("r4", sim, country=" deu "))

    readings, as_it_comes, line_by_line = _ingested_both_ways(data, monkeypatch)

    assert readings == ["_keep_plain_rows", "_keep_plain_lines"]
    assert _verdicts(as_it_comes) == _verdicts(line_by_line)
    assert [(rejection.line, rejection.reason) for rejection in line_by_line.rejected] == [
        (3, "'GERMANY' is not an ISO 3166 country code (use two letters, such as DE)."),
        (5, "'DEU' is not an ISO 3166 country code (use two letters, such as DE)."),
    ]
    assert (line_by_line.received, line_by_line.ingested) == (4, 2)


@postgresql_only
@pytest.mark.parametrize(
    ("odd", "read_by_copy"),
    [
        ("b1,{sim},2026-11-20T09:00:00Z,2026-11-20T09:30:00Z,1,2", False),  # fields missing: COPY refuses it
        ("", False),  # a blank line: COPY refuses it
        ("b1,{sim},2026-11-20T09:00:00Z,2026-11-20T09:30:00Z,lots,2,0,DE", False),  # not a count: COPY refuses it
        ("b1,{sim},2026-02-30T09:00:00Z,2026-11-20T09:30:00Z,1,2,0,DE", True),  # a day February lacks: the cast fails
        ("b1,{sim},2026-11-20T09:00:00 CET,2026-11-20T09:30:00Z,1,2,0,DE", True),  # a zone name PostgreSQL would read
        ('"b1",{sim},2026-11-20T09:00:00Z,2026-11-20T09:30:00Z,1,2,0,DE', False),  # a quote: not for COPY
        ('"b1\nb2",{sim},2026-11-20T09:00:00Z,2026-11-20T09:30:00Z,1,2,0,DE', False),  # a field over two lines
        ("b1\\,{sim},2026-11-20T09:00:00Z,2026-11-20T09:30:00Z,1,2,0,DE", False),  # a backslash: not for COPY
        ("\\.", False),  # COPY's end of data
    ],
)
@times_checked
def test_a_file_copy_cannot_read_as_python_does_gets_the_line_by_line_verdicts(
    active_sim, monkeypatch, odd, read_by_copy, shared_times
):
    monkeypatch.setattr("sims.usage_csv_sql.SHARED_TIMES", shared_times)
    monkeypatch.setattr("sims.usage_csv_sql.BLOCK_CHARS", 100)  # some blocks sent before the odd one
    sim = active_sim.iccid
    rows = [line(f"r{n}", sim, up=-1 if n % 5 == 3 else 1) for n in range(12)]

    readings, as_it_comes, line_by_line = _ingested_both_ways(
        csv_bytes(*rows[:8], odd.format(sim=sim), *rows[8:]), monkeypatch
    )

    assert readings[0] == ("_keep_plain_rows" if read_by_copy else "_keep_plain_lines")
    assert _verdicts(as_it_comes) == _verdicts(line_by_line)
    assert {rejection.line for rejection in as_it_comes.rejected} >= {5, 11 + odd.count("\n")}
    assert as_it_comes.ingested >= 9
