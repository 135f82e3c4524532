"""Ingesting a million network events with `sims.network_events.ingest_network_events`.

Standalone, not part of the pytest run. On a database it drops and re-creates:

- a product of --sims SIMs, each in its own device (with its own IMEI), as a fleet that has attached
  before: an attach from the device a SIM is in costs the devices' receiver nothing more (--new-devices:
  no devices yet, so each SIM's first attach creates its device and puts the SIM in it, one by one);
- --events events, --events / --sims per SIM over the last hours, delivered hour by hour as a carrier
  would (each chunk of 100,000 names every SIM: the connectivity upsert's worst case): attach,
  location update, three data sessions, and last a detach (a third of the SIMs), an auth reject
  (a third) or a session start (the rest);
- a raw COPY of the same rows (built the same way) into a bare table with the events' indexes, in one
  transaction: the yardstick, as loaded as the ingestion (the machine is shared: read the ratio);
- the ingestion in this process: wall time, events per second, peak RSS (and the time to build the
  rows alone, which a push's JSON parse or an adapter would spend anyway);
- checks against the database: every event stored once, one connectivity row per SIM with the status,
  since and cause its last event gives;
- the same events again: all duplicates, nothing changed (idempotency), and how long that takes.

    .venv/bin/python bench/network_events.py                    # SQLite in /tmp
    .venv/bin/python bench/network_events.py --database-url postgres://postgres@127.0.0.1:5432/bench_network_events

Target (issue 17): at least 100,000 events a second on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_1m as shared  # noqa: E402  (the database helpers of the import bench)

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_network_events.sqlite3"
TARGET_PER_SECOND = 100_000
NOW = datetime.now(UTC).replace(microsecond=0)
TAC = "35693803"  # each SIM its own IMEI: TAC, six serial digits, check digit
STEPS = ["attach", "location", "session_start", "session_end", "session_start", "session_end", "session_start", "session_end"]
LAST = ["detach", "auth_reject", "session_start"]
CAUSE = "#13 Roaming not allowed in this tracking area"


def imei_of(n: int) -> str:
    return shared.with_check_digit(f"{TAC}{n:06d}")


def build_fleet(sims: int, *, devices: bool) -> tuple[int, list[tuple[int, str]]]:
    from django.db import connection, transaction

    from devices.models import Device, DeviceAssignment
    from lib.bulk_insert import bulk_insert, db_datetime
    from sims.models import Sim

    product_id = shared.create_product("network-events")
    iccids = [shared.with_check_digit(f"8944200{serial:011d}") for serial in range(sims)]
    changed = db_datetime(NOW - timedelta(days=3))
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    with transaction.atomic():
        bulk_insert(Sim, fields, ((iccid, product_id, "active", changed, "DE", 1, 0, changed) for iccid in iccids))
    ids = dict(Sim.objects.filter(product_id=product_id).values_list("iccid", "pk"))
    fleet = [(ids[iccid], iccid) for iccid in iccids]
    if devices:
        with transaction.atomic():
            fields = ["product", "device_id", "name", "imei", "model", "tags", "created_at"]
            bulk_insert(Device, fields, ((product_id, imei_of(n), f"Device {n:06d}", imei_of(n), "", "[]", changed) for n in range(sims)))
            device_of = dict(Device.objects.filter(product_id=product_id).values_list("imei", "pk"))
            fields = ["sim", "device", "started_at", "source"]
            rows = ((sim_id, device_of[imei_of(n)], changed, "network") for n, (sim_id, _) in enumerate(fleet))
            bulk_insert(DeviceAssignment, fields, rows)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE sims_sim SET device_id = a.device_id FROM devices_deviceassignment a WHERE a.sim_id = sims_sim.id"
                    if connection.vendor == "postgresql"
                    else "UPDATE sims_sim SET device_id = (SELECT a.device_id FROM devices_deviceassignment a WHERE a.sim_id = sims_sim.id)"
                )
    return product_id, fleet


def events(iccids: list[str], per_sim: int) -> Iterator:
    """Hour by hour (an event per SIM per step), as a carrier's deliveries come."""
    from sims.network_events import NetworkEventRow

    kinds = (STEPS * (per_sim // len(STEPS) + 1))[: per_sim - 1]
    imeis = [imei_of(n) for n in range(len(iccids))]
    first = NOW - timedelta(minutes=10 * per_sim)
    line = 0
    for step, kind in enumerate([*kinds, None]):
        at = first + timedelta(minutes=10 * step)
        for n, iccid in enumerate(iccids):
            line += 1
            this = kind or LAST[n % 3]
            yield NetworkEventRow(
                f"{iccid}-{step}", iccid, this, at, imei=imeis[n], operator="Telekom.de 262-01", country="DE",
                rat="LTE-M", cause=CAUSE if this == "auth_reject" else "", bytes=40_000 if this == "session_end" else 0,
                line=line,
            )


def raw_copy(fleet: list[tuple[int, str]], per_sim: int) -> float:
    """The same events, built the same way, COPYed (SQLite: one executemany) into a bare table of the events'
    columns with their indexes (event id, SIM and time), in one transaction: the load-independent yardstick."""
    from django.db import connection, transaction

    from lib.bulk_insert import insert_rows
    from sims.network_events import COLUMNS, PG_TYPES
    from sims.usage import _stored_form

    sim_of = {iccid: sim_id for sim_id, iccid in fleet}
    columns = [*COLUMNS, "received_at"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE raw_network_events AS SELECT {', '.join(columns)} FROM sims_networkevent WHERE 1 = 0")
        cursor.execute("CREATE UNIQUE INDEX raw_network_events_id ON raw_network_events (event_id)")
        cursor.execute("CREATE INDEX raw_network_events_sim_at ON raw_network_events (sim_id, at)")
    as_stored = _stored_form()
    received = as_stored(NOW)
    started = time.perf_counter()
    with transaction.atomic():
        rows = (
            (row.event_id, sim_of[row.iccid], None, row.kind, as_stored(row.at),
             row.imei, row.operator, row.country, row.rat, row.cell, row.cause, row.bytes, received)  # fmt: skip
            for row in events([iccid for _, iccid in fleet], per_sim)
        )
        insert_rows("raw_network_events", columns, rows, pg_types=[*PG_TYPES, "timestamptz"])
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE raw_network_events")
    return elapsed


def snapshot() -> tuple:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(ended_at) FROM devices_deviceassignment")
        assignments = cursor.fetchone()
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM sims_networkevent")
        stored = cursor.fetchone()
        cursor.execute(
            "SELECT status, COUNT(*), MIN(since), MAX(since), COUNT(NULLIF(last_reject_cause, '')), COUNT(DISTINCT imei) "
            "FROM sims_simconnectivity GROUP BY status ORDER BY status"
        )
        return stored, cursor.fetchall(), assignments


def load() -> str:
    """The load averages (1, 5, 15 minutes): the machine is shared, read the figures beside them."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--new-devices", action="store_true", help="no devices seeded: each SIM's first attach creates its own")
    arguments = parser.parse_args()
    shared.setup_django(arguments.database_url)
    shared.reset_database()
    from sims.network_events import ingest_network_events

    per_sim = arguments.events // arguments.sims
    total = per_sim * arguments.sims
    print(f"{shared.database_label()}; {arguments.sims:,} SIMs, {total:,} events; load {load()}")
    product_id, fleet = build_fleet(arguments.sims, devices=not arguments.new_devices)
    iccids = [iccid for _, iccid in fleet]

    started = time.perf_counter()
    built = sum(1 for _ in events(iccids, per_sim))
    building = time.perf_counter() - started
    print(f"building the {built:,} rows alone: {building:.1f} s")

    raw = raw_copy(fleet, per_sim)
    print(f"raw COPY of the same rows into a bare table with the events' indexes: {raw:.1f} s, {total / raw:,.0f} events/s; load {load()}")

    print(f"load before the first ingestion: {load()}")
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    report = ingest_network_events(events(iccids, per_sim), now=NOW)
    first = time.perf_counter() - started
    rss_after = peak_rss_mb()
    print(
        f"first ingestion: {first:.1f} s, {total / first:,.0f} events/s ({total / (first - building):,.0f} without building "
        f"the rows); {first / raw:.1f} times the raw COPY; peak RSS {rss_before:.0f} -> {rss_after:.0f} MB; {report.summary()}"
    )
    after_first = snapshot()
    print(f"load after it: {load()}")

    started = time.perf_counter()
    again = ingest_network_events(events(iccids, per_sim), now=NOW)
    second = time.perf_counter() - started
    print(f"same events again: {second:.1f} s ({total / second:,.0f} events/s); {again.summary().rstrip(".")}; load after it: {load()}")
    after_second = snapshot()

    (stored, distinct), statuses, (assignments, ended) = after_first
    by_status = {status: count for status, count, *_ in statuses}
    detached, rejects = (arguments.sims + 2) // 3, (arguments.sims + 1) // 3  # n % 3 == 0, n % 3 == 1
    rejected = next(row[4] for row in statuses if row[0] == "offline")
    checks = {
        "every event stored once": stored == distinct == total and report.ingested == total,
        "one connectivity row per SIM": sum(by_status.values()) == arguments.sims,
        "statuses from each SIM's last event": by_status.get("online") == arguments.sims - detached - rejects
        and by_status.get("offline") == detached + rejects,
        "rejects with their cause": rejected == rejects,
        "each SIM in its own device, once": assignments == arguments.sims and ended == 0,
        "second run all duplicates": (again.ingested, again.duplicates, again.rejected_count) == (0, total, 0),
        "second run changed nothing": after_first == after_second,
    }
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {name}")
    rate = total / first
    print(f"{'met' if rate >= TARGET_PER_SECOND else 'below'} the target of {TARGET_PER_SECOND:,} events/s: {rate:,.0f}")
    shared.close_connections()
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
