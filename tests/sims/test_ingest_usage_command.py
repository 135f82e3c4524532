import io
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from sims.models import SimDailyUsage, State, UsageRecord
from tests.conftest import make_iccid

HEADER = "record_id,iccid,start,end,bytes_up,bytes_down,sms,country"
UNKNOWN = make_iccid()


def usage_file(tmp_path, *rows: tuple[str, str, int], name: str = "usage.csv"):
    """A CSV of (record id, ICCID, bytes down) records of this minute (in this billing period, not in the future)."""
    start = timezone.now().replace(second=0, microsecond=0)
    end = start + timedelta(minutes=1)
    lines = [HEADER] + [f"{rid},{iccid},{start.isoformat()},{end.isoformat()},0,{down},0,DE" for rid, iccid, down in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*files) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_usage", *map(str, files), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def sim(product, make_sim):
    return make_sim(product, state=State.ACTIVE, data_limit_mb=100)


def test_prints_the_summary_then_each_rejected_row_with_its_line(tmp_path, sim):
    path = usage_file(tmp_path, ("r1", sim.iccid, 1000), ("r2", UNKNOWN, 1000), ("r3", sim.iccid, -1), ("r4", sim.iccid, 500))

    out, _ = run(path)

    assert out.splitlines() == [
        f"{path}: 4 records: 2 ingested, 0 already ingested, 2 rejected.",
        f"line 3: No SIM has ICCID {UNKNOWN}; import the SIM before its usage.",
        "line 4: Bytes and SMS counts cannot be negative.",
    ]
    assert SimDailyUsage.objects.get(sim=sim).bytes == 1500


def test_running_the_same_file_again_changes_nothing_and_succeeds(tmp_path, sim):
    path = usage_file(tmp_path, ("r1", sim.iccid, 1000), ("r2", sim.iccid, 2000), ("r3", UNKNOWN, 1))
    run(path)

    out, _ = run(path)

    assert out.splitlines()[0] == f"{path}: 3 records: 0 ingested, 2 already ingested, 1 rejected."
    assert UsageRecord.objects.count() == 2
    assert SimDailyUsage.objects.get(sim=sim).bytes == 3000


def test_a_file_of_nothing_but_rejected_rows_fails(tmp_path, db):
    path = usage_file(tmp_path, ("r1", UNKNOWN, 1), ("r2", UNKNOWN, 2))

    with pytest.raises(CommandError, match="Nothing could be ingested: every record was rejected."):
        run(path)


def test_a_file_with_only_a_header_succeeds(tmp_path, db):
    out, _ = run(usage_file(tmp_path))

    assert "0 records: 0 ingested" in out


def test_the_listing_stops_at_50_rejected_rows_and_says_how_many_more(tmp_path, sim):
    path = usage_file(tmp_path, ("ok", sim.iccid, 1), *((f"r{n}", UNKNOWN, 1) for n in range(70)))

    out, _ = run(path)

    lines = out.splitlines()
    assert len(lines) == 1 + 50 + 1
    assert lines[1].startswith("line 3: ") and lines[50].startswith("line 52: ")
    assert lines[-1] == "and 20 more rejected rows."


def test_a_dash_reads_the_records_from_stdin(tmp_path, sim, monkeypatch):
    data = usage_file(tmp_path, ("r1", sim.iccid, 1234)).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    out, _ = run("-")

    assert out.startswith("-: 1 records: 1 ingested")
    assert SimDailyUsage.objects.get(sim=sim).bytes == 1234


def test_several_files_are_ingested_one_after_the_other(tmp_path, sim):
    first = usage_file(tmp_path, ("r1", sim.iccid, 1), name="a.csv")
    second = usage_file(tmp_path, ("r1", sim.iccid, 1), ("r2", sim.iccid, 2), name="b.csv")

    out, _ = run(first, second)

    assert out.splitlines() == [
        f"{first}: 1 records: 1 ingested, 0 already ingested, 0 rejected.",
        f"{second}: 2 records: 1 ingested, 1 already ingested, 0 rejected.",
    ]


def test_a_file_that_cannot_be_read_is_named_and_the_others_still_go_in(tmp_path, sim):
    good = usage_file(tmp_path, ("r1", sim.iccid, 1))
    no_column = tmp_path / "old-format.csv"
    no_column.write_text("record_id,iccid,start,end,bytes,sms\n")
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"Could not read .*missing.csv, .*old-format.csv: nothing in them was ingested."):
        call_command("ingest_usage", str(tmp_path / "missing.csv"), str(good), str(no_column), stdout=io.StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        f"{tmp_path / 'missing.csv'}: cannot read it (No such file or directory).",
        f"{no_column}: The header row has no bytes_up, bytes_down columns: it must name {HEADER} "
        "(in any order; country may be left out).",
    ]
    assert UsageRecord.objects.count() == 1


def test_a_sim_over_its_limit_is_paused_and_the_summary_says_so(tmp_path, product, make_sim):
    small = make_sim(product, state=State.ACTIVE, data_limit_mb=1)

    out, _ = run(usage_file(tmp_path, ("r1", small.iccid, 2_000_000)))

    assert "1 SIMs paused at their data limit" in out
    small.refresh_from_db()
    assert small.state == State.PAUSED
