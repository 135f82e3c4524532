"""The backtest of a rule (issue 18) at 1,000,000 SIMs with 30 days of daily usage, on PostgreSQL.

Standalone, not part of the pytest run. It re-creates its database (the name must contain "bench"), loads
1,000,000 active SIMs (bench/import_1m.py's preload), then 30 days of SimDailyUsage for every SIM, written day
after day as ingestion writes them (30,000,000 rows, generated in the server by INSERT ... SELECT from the
SIMs: faster than COPY from Python, and the same table), and each SIM's period totals from them. Usage: 0-5 MB
a day; one SIM-day in 997 adds 100 MB (a heavy day); no SMS.

Then it times backtest() for three unsaved rules, 3 runs each (p50 and all runs printed, with the load average):
a day over 50 MB, the billing period over 150 MB, and the last 24 hours over 80 MB. Target: under 10 s each.
On a shared machine the clock's time is mostly waiting for a CPU, so one more run is measured in the database
server's CPU time (parallel workers off, read from /proc: the server must run on this machine).

    .venv/bin/python bench/rules_backtest.py --database-url postgres://postgres@127.0.0.1:5432/rules_backtest_bench

Options: --sims N, --runs N, --keep (reuse the database a previous run loaded; skip the loading).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, time as clock_time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_1m as shared  # noqa: E402

DAYS = 30
SLUG = "backtest-bench"
RULES = [
    ("a day over 50 MB", {"condition_kind": "usage_day", "condition": {"mb": 50}}),
    ("the period over 150 MB", {"condition_kind": "usage_period", "condition": {"mb": 150}}),
    ("the last 24 hours over 80 MB", {"condition_kind": "usage_rolling", "condition": {"mb": 80, "hours": 24}}),
]


def load(sims: int) -> float:
    """Seconds to load the fleet and its usage."""
    from django.db import connection
    from django.utils import timezone

    started = time.perf_counter()
    shared.reset_database()
    product_id = shared.create_product(SLUG)
    shared.preload(product_id, shared.unique_iccids("8988", sims, random.Random(18)))
    today = timezone.now().date()
    with connection.cursor() as cursor:
        for days_ago in range(DAYS - 1, -1, -1):
            # Day after day, as ingestion writes them: a day's rows lie together, not each SIM's.
            cursor.execute(
                "INSERT INTO sims_simdailyusage (sim_id, product_id, day, bytes, sms) "
                "SELECT s.id, s.product_id, %s::date, (s.id * 2654435761 + %s * 40503) %% 5000000 "
                "+ CASE WHEN (s.id * 31 + %s * 17) %% 997 = 0 THEN 100000000 ELSE 0 END, 0 FROM sims_sim s WHERE s.product_id = %s",
                [today - timedelta(days=days_ago), days_ago, days_ago, product_id],
            )
            print(f"  usage of {today - timedelta(days=days_ago)} loaded", flush=True)
        cursor.execute(
            "INSERT INTO sims_simperiodusage (sim_id, product_id, period, bytes, sms) "
            "SELECT sim_id, product_id, date_trunc('month', day)::date, SUM(bytes), SUM(sms) FROM sims_simdailyusage "
            "GROUP BY sim_id, product_id, date_trunc('month', day)"
        )
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def time_rules(runs: int) -> None:
    from django.db import connection

    from products.models import Product
    from rules.backtest import backtest
    from rules.models import Rule
    from sims.models import Sim

    product = Product.objects.get(slug=SLUG)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT day), max(day) FROM sims_simdailyusage")
        rows, days, newest = cursor.fetchone()
    # At the end of the newest day loaded: the 30 days replayed are the 30 loaded, whenever the bench runs.
    now = datetime.combine(newest, clock_time(23, 59), tzinfo=UTC)
    print(f"\n{Sim.objects.filter(product=product).count():,} SIMs, {rows:,} daily usage rows over {days} days; {shared.database_label()}")
    print(f"{'rule':<32} {'p50 s':>7}  {'runs s':<24} {'server CPU s':>12} {'firings':>9} {'SIMs':>8}  load average")
    for label, fields in RULES:
        rule = Rule(product=product, name=label, actions=[{"kind": "pause"}], **fields)
        rule.full_clean()
        seconds, result = [], None
        for _ in range(runs):
            started = time.perf_counter()
            result = backtest(rule, now=now)
            seconds.append(time.perf_counter() - started)
        assert result is not None
        cpu = server_cpu_seconds(lambda: backtest(rule, now=now))
        load_average = " ".join(f"{x:.1f}" for x in os.getloadavg())
        runs_text = ", ".join(f"{s:.2f}" for s in seconds)
        verdict = "" if statistics.median(seconds) < 10 else "  OVER the 10 s target"
        print(f"{label:<32} {statistics.median(seconds):>7.2f}  {runs_text:<24} {cpu:>12} {result.firings:>9,} {result.sims:>8,}  {load_average}{verdict}")


def server_cpu_seconds(run) -> str:  # noqa: ANN001 - a callable
    """The CPU time the database server spent on one more run, without parallel workers (so it is all in our
    backend, read from /proc when the server is on this machine): the work itself, whatever the machine's load
    makes the clock's time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        if not stat.exists():
            return "-"
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        before = _cpu(stat)
        run()
        spent = _cpu(stat) - before
        cursor.execute("RESET max_parallel_workers_per_gather")
    return f"{spent:.2f}"


def _cpu(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rules_backtest_bench")
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse the loaded database")
    arguments = parser.parse_args()
    shared.setup_django(arguments.database_url)
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("This bench loads with PostgreSQL's SQL: give a postgres:// database URL.")
    if not arguments.keep:
        print(f"Loading {arguments.sims:,} SIMs and {DAYS} days of their usage...", flush=True)
        print(f"Loaded in {load(arguments.sims):.0f} s (load average {os.getloadavg()[0]:.1f})")
    time_rules(arguments.runs)


if __name__ == "__main__":
    main()
