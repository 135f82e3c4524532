"""Bulk terminate of 100,000 SIMs from the console at 1,000,000: the confirmation, then a background job.

Standalone, not part of the pytest run. On a database it drops and re-creates, it loads a fleet of
--sims SIMs into one product (every tenth at home in France: --sims / 10 of them), then does what a
person does on the SIMs page, through Django's test Client, timing each request:

1. the count of the filter "home country France" (the page's sim_count request);
2. Apply "Terminate" on all matching: the confirmation, which counts the SIMs and asks for their number;
3. the typed number sent: the request that starts the background job (it must answer well under 1 s);
4. the progress page, then its fragment polled every second (as the page's htmx does) while a real
   worker (`manage.py db_worker`, started here) runs the job, until it is done.

It prints each request's time, the job's own run (started_at to finished_at, from the job row) and the
time from the apply to the report, checks that exactly the French SIMs were terminated (one event each),
and prints a table. With --all, a second job deactivates every SIM still active (--sims * 0.9): the
"all N matching" of a million that took ~45 s inside one request before.

    .venv/bin/python bench/bulk_terminate.py                     # SQLite in /tmp
    .venv/bin/python bench/bulk_terminate.py --database-url postgres://postgres@127.0.0.1:5432/bench_bulk_terminate

Options: --sims N (default 1,000,000), --all. The PostgreSQL database is dropped and created with psql
(trust auth); its name must contain "bench".
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_1m import (  # noqa: E402  (after the path)
    USERNAME, close_connections, code_version, create_product, database_label, reset_database, setup_django,
    with_check_digit,
)  # fmt: skip

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_bulk_terminate.sqlite3"
SLUG = "bench-bulk-terminate"
PREFIX = "8901260"
CHUNK = 100_000
HTMX = {"HX-Request": "true"}
TARGET_MS = 1000.0


@dataclass
class Timings:
    label: str
    list_ms: float = 0.0
    count_ms: float = 0.0
    confirm_ms: float = 0.0
    apply_ms: float = 0.0
    page_ms: float = 0.0
    polls_ms: list[float] = field(default_factory=list)
    job_s: float = 0.0
    queued_s: float = 0.0
    apply_to_report_s: float = 0.0
    changed: int = 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--sims", type=int, default=1_000_000, help="SIMs in the product (default 1,000,000)")
    parser.add_argument("--all", action="store_true", help="then deactivate every SIM still active, as a second job")
    return parser.parse_args()


def load_fleet(product_id: int, sims: int) -> float:
    """`sims` active SIMs, every tenth at home in France, as an established database holds them (analyzed)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from lib.bulk_insert import bulk_insert, db_datetime
    from sims.models import Sim

    now = db_datetime(timezone.now())
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, sims, CHUNK):
            rows = [
                (with_check_digit(f"{PREFIX}{n:011d}"), product_id, "active", now, "FR" if n % 10 == 0 else "US", 1, 0, now)
                for n in range(start, min(sims, start + CHUNK))
            ]
            bulk_insert(Sim, fields, rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    close_connections()
    return time.perf_counter() - started


def start_worker(database_url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "SECRET_KEY": "bench-bulk-terminate"}
    command = [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def timed(call) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def bulk_job_run(client, *, label: str, action: str, filters: dict[str, str], expected: int) -> Timings:
    """A person's bulk action on all SIMs matching `filters`: count, confirmation, apply, progress to the end."""
    from django.urls import reverse

    from sims.models import BulkJob

    timings = Timings(label=label)
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    page, timings.list_ms = timed(lambda: client.get(f"{reverse('sim_list', args=[SLUG])}?{query}"))  # what the person opens first
    assert page.status_code == 200
    count, timings.count_ms = timed(lambda: client.get(f"{reverse('sim_count', args=[SLUG])}?{query}", headers=HTMX))
    assert f"{expected:,}" in count.content.decode(), count.content[:300]
    form = {"action": action, "scope": "matching", "confirm_terminate": "on", "submission": f"bench-{label}", **filters}
    url = reverse("sims_bulk", args=[SLUG])
    asked, timings.confirm_ms = timed(lambda: client.post(url, form, headers=HTMX))
    text = asked.content.decode()
    assert f"Type {expected:,} to" in text, text[:500]
    form.update(confirm_count=f"{expected:,}", shown_count=str(expected))
    applied, timings.apply_ms = timed(lambda: client.post(url, form, headers=HTMX))
    applied_at = time.perf_counter()
    job_url = applied.headers.get("HX-Redirect")
    assert job_url, applied.content[:500]
    page, timings.page_ms = timed(lambda: client.get(job_url))
    assert page.status_code == 200
    while True:
        time.sleep(1)  # the page's hx-trigger="every 1s"
        poll, ms = timed(lambda: client.get(job_url, headers={**HTMX, "HX-Target": "progress"}))
        timings.polls_ms.append(ms)
        if "every 1s" not in poll.content.decode():
            break
        if len(timings.polls_ms) % 10 == 0:
            print(f"  {label}: poll {len(timings.polls_ms)}, {ms:.0f} ms", flush=True)
    timings.apply_to_report_s = time.perf_counter() - applied_at
    job = BulkJob.objects.get(submission=f"bench-{label}")
    assert job.status == "done", (job.status, job.error)
    timings.job_s = (job.finished_at - job.started_at).total_seconds()
    timings.queued_s = (job.started_at - job.created_at).total_seconds()
    timings.changed = job.changed
    close_connections()
    return timings


def print_timings(t: Timings) -> None:
    polls = t.polls_ms
    print(
        f"\n{t.label}: SIMs page {t.list_ms:.0f} ms, sim_count {t.count_ms:.0f} ms, confirmation {t.confirm_ms:.0f} ms, apply (starts the job) {t.apply_ms:.0f} ms, "
        f"progress page {t.page_ms:.0f} ms; {len(polls)} polls: median {statistics.median(polls):.0f} ms, max {max(polls):.0f} ms; "
        f"job {t.job_s:.1f} s for {t.changed:,} SIMs ({t.changed / t.job_s:,.0f}/s), queued {t.queued_s:.1f} s, "
        f"apply to report {t.apply_to_report_s:.1f} s"
    )


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from sims.models import Sim, SimEvent, State

    print(code_version())
    reset_database()
    product_id = create_product(SLUG)
    loaded = load_fleet(product_id, args.sims)
    french = (args.sims + 9) // 10
    print(f"{args.sims:,} SIMs loaded in {loaded:.1f} s ({french:,} at home in France)", flush=True)
    # SERVER_NAME: 'testserver' is not in ALLOWED_HOSTS outside the test runner.
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.get(username=USERNAME))
    worker = start_worker(args.database_url)
    try:
        runs = [bulk_job_run(client, label="terminate-france", action="terminate", filters={"country": "FR"}, expected=french)]
        print_timings(runs[-1])
        terminated = Sim.objects.filter(product_id=product_id, state=State.TERMINATED)
        assert terminated.count() == french and not terminated.exclude(home_country="FR").exists()
        assert SimEvent.objects.filter(action="terminate").count() == french
        if args.all:
            rest = args.sims - french
            runs.append(bulk_job_run(client, label="deactivate-all-active", action="deactivate", filters={"state": "active"}, expected=rest))
            print_timings(runs[-1])
            assert Sim.objects.filter(product_id=product_id, state=State.SUSPENDED).count() == rest
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    load = os.getloadavg()
    print(f"\n{database_label()}, {args.sims:,} SIMs; {os.cpu_count()} CPUs, load {load[0]:.2f}")
    print("| job | SIMs changed | SIMs page ms | sim_count ms | confirmation ms | apply ms | progress page ms | polls | poll median ms | poll max ms | job run s | SIMs/s | apply to report s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for t in runs:
        print(
            f"| {t.label} | {t.changed:,} | {t.list_ms:.0f} | {t.count_ms:.0f} | {t.confirm_ms:.0f} | {t.apply_ms:.0f} | {t.page_ms:.0f} | {len(t.polls_ms)} | "
            f"{statistics.median(t.polls_ms):.0f} | {max(t.polls_ms):.0f} | {t.job_s:.1f} | {t.changed / t.job_s:,.0f} | {t.apply_to_report_s:.1f} |"
        )
    slow = [t.label for t in runs if max(t.count_ms, t.confirm_ms, t.apply_ms, t.page_ms, *t.polls_ms) > TARGET_MS]
    print("Every request under 1 s." if not slow else f"Requests over 1 s in: {', '.join(slow)}")


if __name__ == "__main__":
    main()
