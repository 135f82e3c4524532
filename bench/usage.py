"""Ingesting a million usage records with `manage.py ingest_usage`, limits and triggers included.

Standalone, not part of the pytest run. On a database it drops and re-creates:

- a product of --sims SIMs (94% active with some usage already this month, 5% provisioned
  and under the seed's automatic triggers, 1% suspended);
- a CSV of --records records, --records / --sims hourly records per SIM ending an hour ago
  (as a carrier delivers them, hour by hour: most SIMs a few KB to 50 KB an hour, one in
  fifty 300-800 KB an hour, so that some cross their 5 MB limit during the file);
- `manage.py ingest_usage FILE` in a subprocess: wall time, records per second, peak RSS;
- checks against the database: every record stored once, the rollups equal the file's sums,
  exactly the SIMs over their limit paused, exactly the provisioned SIMs over a trigger active;
- the same file again: nothing may change (idempotency), and how long that takes.

    .venv/bin/python bench/usage.py                     # SQLite in /tmp
    .venv/bin/python bench/usage.py --database-url postgres://postgres@127.0.0.1:5432/bench_usage

Target (issue 5): at least 100,000 records a second on PostgreSQL.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_1m as shared  # noqa: E402  (the database helpers of the import bench)

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_usage.sqlite3"
SEED = 11
MB = 1_000_000
LIMIT_MB = 5
TARGET_PER_SECOND = 100_000
PRELOAD_CHUNK = 100_000


@dataclass
class Fleet:
    product_id: int
    iccids: list[str]
    states: list[str]
    used_before: list[int]  # bytes this period before the file, per SIM


@dataclass
class Expected:
    records: int = 0
    bytes_by_sim: Counter = field(default_factory=Counter)  # this period, file only
    sms_by_sim: Counter = field(default_factory=Counter)
    total_bytes: int = 0


def build_fleet(sims: int, rng: random.Random) -> Fleet:
    from django.db import connection, transaction
    from django.utils import timezone

    from lib.bulk_insert import bulk_insert, db_datetime
    from lib.calendar import billing_period_start
    from sims.models import Sim, SimPeriodUsage, State

    product_id = shared.create_product("usage")
    iccids = [shared.with_check_digit(f"8944100{serial:011d}") for serial in range(sims)]
    states = [
        State.PROVISIONED.value if n % 20 == 3 else State.SUSPENDED.value if n % 100 == 7 else State.ACTIVE.value
        for n in range(sims)
    ]
    used_before = [rng.randrange(0, 4 * MB) if state == State.ACTIVE else 0 for state in states]
    now = timezone.now()
    changed = db_datetime(now - timedelta(days=3))
    period = connection.ops.adapt_datefield_value(billing_period_start(now))
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    with transaction.atomic():
        for start in range(0, sims, PRELOAD_CHUNK):
            rows = [(iccids[n], product_id, states[n], changed, "US", 1, 0, changed) for n in range(start, min(sims, start + PRELOAD_CHUNK))]
            bulk_insert(Sim, fields, rows)
    ids = dict(Sim.objects.filter(product_id=product_id).values_list("iccid", "pk"))
    with transaction.atomic():
        bulk_insert(
            SimPeriodUsage,
            ["sim", "period", "bytes", "sms"],
            [(ids[iccid], period, used, 0) for iccid, used in zip(iccids, used_before) if used],
        )
    shared.close_connections()
    return Fleet(product_id, iccids, states, used_before)


def write_records(path: Path, fleet: Fleet, records: int, rng: random.Random) -> Expected:
    from lib.calendar import billing_period_start

    hours = max(1, records // len(fleet.iccids))
    now = datetime.now(UTC)
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours + 1)
    period = billing_period_start(now)
    expected = Expected()
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["record_id", "iccid", "start", "end", "bytes_up", "bytes_down", "sms", "country"])
        for hour in range(hours):
            start = first_hour + timedelta(hours=hour)
            end = start + timedelta(minutes=59, seconds=59)
            stamp, start_text, end_text = f"{start:%Y%m%d%H}", start.isoformat(), end.isoformat()
            for n, iccid in enumerate(fleet.iccids):
                if expected.records == records:
                    break
                amount = rng.randrange(300_000, 800_000) if n % 50 == 1 else rng.randrange(0, 50_000)
                sms = 1 if rng.random() < 0.02 else 0
                writer.writerow([f"sim-{iccid}-{stamp}", iccid, start_text, end_text, amount // 3, amount - amount // 3, sms, "US"])
                expected.records += 1
                expected.total_bytes += amount
                if start.date() >= period:
                    expected.bytes_by_sim[n] += amount
                    expected.sms_by_sim[n] += sms
    return expected


def check(fleet: Fleet, expected: Expected) -> bool:
    from django.db.models import Sum

    from sims.models import ProductDailyUsage, Sim, SimDailyUsage, SimEvent, UsageRecord

    state_of = dict(Sim.objects.filter(product_id=fleet.product_id).values_list("iccid", "state"))
    should_pause = {
        n for n, state in enumerate(fleet.states) if state == "active" and fleet.used_before[n] + expected.bytes_by_sim[n] >= LIMIT_MB * MB
    }
    should_activate = {
        n for n, state in enumerate(fleet.states)
        if state == "provisioned" and (expected.bytes_by_sim[n] >= 5_000 or expected.sms_by_sim[n] >= 2)
    }  # fmt: skip
    paused = {n for n, iccid in enumerate(fleet.iccids) if state_of[iccid] == "paused"}
    activated = {n for n, state in enumerate(fleet.states) if state == "provisioned" and state_of[fleet.iccids[n]] == "active"}
    found = {
        "records stored": (UsageRecord.objects.count(), expected.records),
        "bytes in SIM daily rollups": (SimDailyUsage.objects.aggregate(t=Sum("bytes"))["t"], expected.total_bytes),
        "bytes in product daily rollups": (ProductDailyUsage.objects.aggregate(t=Sum("bytes"))["t"], expected.total_bytes),
        "SIMs paused at their limit": (len(paused), len(should_pause)),
        "provisioned SIMs activated by a trigger": (len(activated), len(should_activate)),
        "pause events": (SimEvent.objects.filter(action="pause").count(), len(should_pause)),
    }
    ok = paused == should_pause and activated == should_activate
    for name, (got, want) in found.items():
        ok = ok and got == want
        print(f"  {name}: {got:,} (expected {want:,}){'' if got == want else '  <-- MISMATCH'}")
    shared.close_connections()
    return ok


def ingest(path: Path) -> shared.Measured:
    command = [sys.executable, "manage.py", "ingest_usage", str(path)]
    print("$", " ".join(command).replace(sys.executable, ".venv/bin/python"), flush=True)
    measured = shared.measure(command)
    print(" ", measured.output.splitlines()[0] if measured.output else "(no output)")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    arguments = parser.parse_args()
    shared.setup_django(arguments.database_url)
    rng = random.Random(SEED)
    shared.reset_database()
    print(f"{shared.database_label()}; {arguments.sims:,} SIMs, {arguments.records:,} records; load {os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    fleet = build_fleet(arguments.sims, rng)
    path = Path(f"/tmp/bench_usage_{arguments.records}.csv")
    expected = write_records(path, fleet, arguments.records, rng)
    print(f"fleet and file ready in {time.perf_counter() - started:.1f} s ({path.stat().st_size / MB:.0f} MB)")

    load_before = os.getloadavg()[0]
    first = ingest(path)
    rate = expected.records / first.seconds
    ok = check(fleet, expected)
    second = ingest(path)
    ok = check(fleet, expected) and ok
    verdict = "met" if rate >= TARGET_PER_SECOND else "missed"
    print(
        f"\nfirst ingestion: {first.seconds:.1f} s, {rate:,.0f} records/s, peak RSS {first.peak_mb:.0f} MB "
        f"(load {load_before:.1f} -> {os.getloadavg()[0]:.1f}); target {TARGET_PER_SECOND:,}/s {verdict}"
    )
    print(f"same file again: {second.seconds:.1f} s, {expected.records / second.seconds:,.0f} records/s, nothing changed: {ok}")
    print("checks:", "all passed" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
