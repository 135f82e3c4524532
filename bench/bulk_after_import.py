"""A bulk action right after a big import: deactivating ticked SIMs of a product just filled.

Standalone, not part of the pytest run. On a database it drops and re-creates, it imports a
file of --sims random ICCIDs into an empty product with `manage.py import_sims` (the console's
import job), then deactivates --ticked SIMs drawn at random from the product through the
console's bulk action (a POST to `sims_bulk`, scope "selected", as the page sends the ticked
ids), twice:

- right after the import, with whatever statistics the import left on the SIM table;
- after an explicit ANALYZE, on another draw of SIMs: what an established database does.

Each action prints its wall time, its slowest statements and the SIM table's statistics
(PostgreSQL: reltuples and last analyze) at that moment.

    .venv/bin/python bench/bulk_after_import.py --database-url postgres://postgres@127.0.0.1:5432/bench_bulk
    .venv/bin/python bench/bulk_after_import.py                     # SQLite in /tmp

The console's page ticks at most a page of SIMs (50), and Django refuses a form of more than
DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) fields: the bench raises that limit in its own process to
tick 10,000, which makes the selection's cost visible.

Options: --sims N (default 1,000,000), --ticked N (default 10,000). The PostgreSQL database
is dropped and created with psql (trust auth); its name must contain "bench".
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_1m import (  # noqa: E402  (after the path)
    COUNTRY, USERNAME, close_connections, code_version, create_product, database_label, measure, reset_database,
    setup_django, unique_iccids,
)  # fmt: skip

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_bulk.sqlite3"
SLUG = "bench-bulk"
PREFIX = "8901260"
SEED = 11
SLOWEST_SHOWN = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--sims", type=int, default=1_000_000, help="SIMs imported (default 1,000,000)")
    parser.add_argument("--ticked", type=int, default=10_000, help="SIMs ticked and deactivated (default 10,000)")
    return parser.parse_args()


def import_file(sims: int, rng: random.Random) -> float:
    path = Path(f"/tmp/bench_bulk_{sims}.txt")
    path.write_text("".join(f"{iccid}\n" for iccid in unique_iccids(PREFIX, sims, rng)))
    command = [sys.executable, "manage.py", "import_sims", str(path), "--product", SLUG, "--country", COUNTRY]
    print("$", " ".join(command).replace(sys.executable, ".venv/bin/python"), flush=True)
    measured = measure(command)
    print(measured.output)
    return measured.seconds


def statistics() -> str:
    """What the planner knows of the SIM table now."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return "SQLite"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples::bigint, COALESCE(s.last_analyze, s.last_autoanalyze) FROM pg_class c "
            "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'sims_sim'"
        )
        reltuples, analyzed = cursor.fetchone()
    # reltuples -1: never analyzed.
    return f"reltuples {reltuples:,}, " + (f"last analyzed {analyzed:%H:%M:%S}" if analyzed else "never analyzed")


def deactivate_ticked(ticked: int, rng: random.Random, label: str) -> float:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from sims.models import Sim, State

    ids = list(Sim.objects.filter(product__slug=SLUG, state=State.ACTIVE).values_list("pk", flat=True))
    chosen = rng.sample(ids, ticked)
    # SERVER_NAME: 'testserver' is not in ALLOWED_HOSTS outside the test runner.
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.get(username=USERNAME))
    print(f"\n== {label}: {statistics()} ==", flush=True)
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.post(
            reverse("sims_bulk", args=[SLUG]), {"action": "deactivate", "scope": "selected", "ids": chosen, "confirm_count": str(ticked), "shown_count": str(ticked)}, headers={"HX-Request": "true"}
        )
        seconds = time.perf_counter() - started
    if response.status_code != 200:
        sys.exit(f"The bulk action answered {response.status_code}: {response.content[:500]!r}")
    done = Sim.objects.filter(pk__in=chosen, state=State.SUSPENDED).count()
    sql_seconds = sum(float(query["time"]) for query in captured.captured_queries)
    print(f"Deactivated {done:,} of {ticked:,} ticked SIMs in {seconds:.2f} s ({len(captured)} statements, {sql_seconds:.2f} s in SQL)")
    for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:SLOWEST_SHOWN]:
        print(f"  {float(query['time']):6.2f} s  {query['sql'][:160]}")
    close_connections()
    if done != ticked:
        sys.exit("Not every ticked SIM was deactivated: see above.")
    return seconds


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sims_sim" if connection.vendor == "postgresql" else "ANALYZE")
    close_connections()


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    from django.conf import settings

    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = args.ticked + 100
    print(code_version())
    rng = random.Random(SEED)
    reset_database()
    create_product(SLUG)
    close_connections()
    imported = import_file(args.sims, rng)
    right_after = deactivate_ticked(args.ticked, rng, "Right after the import")
    analyze()
    analyzed = deactivate_ticked(args.ticked, rng, "After ANALYZE")
    load = os.getloadavg()
    print(f"\n{database_label()}, {args.sims:,} SIMs imported in {imported:.1f} s; {os.cpu_count()} CPUs, load {load[0]:.2f}")
    print("| SIMs | ticked | bulk action right after the import s | after ANALYZE s |")
    print("| ---: | ---: | ---: | ---: |")
    print(f"| {args.sims:,} | {args.ticked:,} | {right_after:.2f} | {analyzed:.2f} |")


if __name__ == "__main__":
    main()
