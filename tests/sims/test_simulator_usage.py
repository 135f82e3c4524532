"""The simulator's usage: deterministic by ICCID and hour, with the shape of a real fleet."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from sims.carriers.base import DAY, HOUR
from sims.carriers.simulator import SimulatorCarrier
from tests.conftest import make_iccid

NOW = datetime(2026, 11, 18, 15, 20, tzinfo=UTC)
FLEET = [(make_iccid(), "DE") for _ in range(1000)]


def fetch(*, since: datetime, until: datetime = NOW, sims=FLEET, step: timedelta = HOUR) -> list:
    return list(SimulatorCarrier().usage_records(sims=sims, since=since, until=until, step=step))


def total(rows) -> int:
    return sum(row.bytes_up + row.bytes_down for row in rows)


def test_the_same_window_fetched_twice_gives_the_same_records():
    assert fetch(since=NOW - timedelta(hours=6)) == fetch(since=NOW - timedelta(hours=6))


def test_record_ids_name_the_sim_and_the_hour_or_the_day():
    hourly = fetch(since=NOW - timedelta(hours=6), sims=FLEET[:50])
    daily = fetch(since=NOW - 3 * DAY, sims=FLEET[:50], step=DAY)
    row = hourly[0]
    assert row.record_id == f"sim-{row.iccid}-{row.started_at:%Y%m%d%H}" and row.ended_at - row.started_at == HOUR
    assert daily[0].record_id == f"sim-{daily[0].iccid}-{daily[0].started_at:%Y%m%d}"


def test_overlapping_windows_agree_on_the_records_they_share():
    earlier = {row.record_id: row for row in fetch(since=NOW - timedelta(hours=5), until=NOW - timedelta(hours=1))}
    later = {row.record_id: row for row in fetch(since=NOW - timedelta(hours=3))}
    shared = earlier.keys() & later.keys()
    assert shared and all(earlier[record_id] == later[record_id] for record_id in shared)


def test_only_records_that_ended_and_reached_the_carrier_are_returned():
    rows = fetch(since=NOW - timedelta(hours=3))
    assert all(NOW - timedelta(hours=3) < row.ended_at <= NOW for row in rows)
    # Some records of the last hour are still on their way (up to an hour late); an hour on, all are in.
    last_hour = NOW.replace(minute=0) - HOUR
    now_in = {row.record_id for row in rows if row.started_at == last_hour}
    later_in = {r.record_id for r in fetch(since=NOW - timedelta(hours=3), until=NOW + HOUR) if r.started_at == last_hour}
    assert now_in < later_in


def test_a_fleet_is_busier_in_the_day_than_at_night():
    rows = fetch(since=NOW - 3 * DAY)
    # Germany: UTC+1 in the simulator's rhythm.
    night = total(row for row in rows if 1 <= (row.started_at.hour + 1) % 24 < 5)
    day = total(row for row in rows if 10 <= (row.started_at.hour + 1) % 24 < 14)
    assert day > 4 * night


def test_most_sims_use_tens_to_hundreds_of_kb_a_day_and_a_few_use_megabytes():
    rows = fetch(since=NOW - 14 * DAY, step=DAY)
    per_sim = Counter()
    for row in rows:
        per_sim[row.iccid] += row.bytes_up + row.bytes_down
    daily = sorted(amount / 14 for amount in per_sim.values())
    median = daily[len(daily) // 2]
    assert 20_000 <= median <= 400_000
    heavy = sum(1 for amount in daily if amount >= 2_000_000)
    assert 0.01 * len(FLEET) <= heavy <= 0.08 * len(FLEET)


def test_some_sims_are_silent():
    with_traffic = {row.iccid for row in fetch(since=NOW - 7 * DAY, step=DAY)}
    silent = len(FLEET) - len(with_traffic)
    assert 0.02 * len(FLEET) <= silent <= 0.12 * len(FLEET)


def test_a_sim_now_and_then_has_a_day_ten_times_its_usual():
    rows = fetch(since=NOW - 30 * DAY, step=DAY)
    by_sim: dict[str, list[int]] = {}
    for row in rows:
        by_sim.setdefault(row.iccid, []).append(row.bytes_up + row.bytes_down)
    spiking = [days for days in by_sim.values() if len(days) > 10 and max(days) >= 10 * sorted(days)[len(days) // 2]]
    assert 0.05 * len(by_sim) <= len(spiking) <= 0.4 * len(by_sim)


def test_sims_mostly_stay_home_some_roam_and_a_few_send_sms():
    rows = fetch(since=NOW - 14 * DAY, step=DAY)
    countries = Counter(row.country for row in rows)
    assert countries["DE"] > 0.9 * len(rows) and countries["AT"] > 0
    assert 0 < sum(1 for row in rows if row.sms) < 0.3 * len(rows)


def test_the_simulator_refuses_a_record_length_it_cannot_make():
    with pytest.raises(ValueError, match="an hour or of a day"):
        fetch(since=NOW - DAY, step=timedelta(minutes=5))
