"""Bulk suspend of 100,000 SIMs on a Twilio Super SIM account, through the push worker and the Twilio
adapter, against the fake Super SIM API at 50 ms per call: how long until the network agrees, with
how many requests.

Standalone, not part of the pytest run. On a database it drops and re-creates, it loads --sims active
SIMs of one product on a carrier account with the adapter "twilio" pointing at the fake
(tests/carriers/twilio_fake.py, started here in its own process with the same SIMs active in its
Fleet "simconsole-active", every request and answer validated against Twilio's OpenAPI description);
deactivates them all with `sims.lifecycle.apply_action` (each SIM suspended and pending on the
network, as a person's bulk deactivate leaves them); then runs `carriers.push.push` for the account,
as the worker's task does, and prints how long it took until every SIM is synced here and inactive
at the fake, the HTTP requests the fake received by operation, and its answers' violations (none).

    .venv/bin/python bench/carrier_push.py                     # SQLite in /tmp
    .venv/bin/python bench/carrier_push.py --database-url postgres://postgres@127.0.0.1:5432/bench_carrier_push

Options: --sims N (100,000), --latency-ms (50), --workers (the adapter's thread pool, 32), --port (8766).
The PostgreSQL database is dropped and created with psql (trust auth); its name must contain "bench".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_1m import close_connections, code_version, create_product, database_label, reset_database, setup_django  # noqa: E402

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_carrier_push.sqlite3"
SLUG = "bench-carrier-push"
CHUNK = 50_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--workers", type=int, default=32, help="the Twilio adapter's thread pool (concurrent requests)")
    parser.add_argument("--port", type=int, default=8766)
    return parser.parse_args()


def start_fake(args: argparse.Namespace) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.carriers.twilio_fake", "--port", str(args.port), "--latency-ms", str(args.latency_ms)]
    fake = subprocess.Popen([*command, "--sims", str(args.sims)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    print(fake.stdout.readline().strip(), flush=True)  # it serves once it has said so
    return fake


def fake_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_fake/stats", timeout=60) as answer:
        return json.loads(answer.read())


def load_sims(product_id: int, account_id: int, sims: int) -> float:
    from django.db import connection, transaction
    from django.utils import timezone

    from lib.bulk_insert import bulk_insert, db_datetime
    from sims.models import Sim
    from tests.carriers.twilio_fake import bench_iccid

    now = db_datetime(timezone.now())
    fields = ["iccid", "product", "carrier_account", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, sims, CHUNK):
            rows = [(bench_iccid(n), product_id, account_id, "active", now, "US", 1, 0, now) for n in range(start, min(sims, start + CHUNK))]
            bulk_insert(Sim, fields, rows)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    from carriers.credentials import encrypt
    from carriers.models import CarrierAccount
    from carriers.push import push
    from sims.lifecycle import Action, Actor, apply_action
    from sims.models import NetworkStatus, Sim, State
    from tests.carriers.twilio_fake import ACCOUNT_SID, AUTH_TOKEN

    print(code_version())
    reset_database()
    product_id = create_product(SLUG)
    fake = start_fake(args)
    try:
        account = CarrierAccount.objects.create(
            product_id=product_id,
            name="Twilio (fake)",
            adapter="twilio",
            settings={"api_base_url": f"http://127.0.0.1:{args.port}", "workers": args.workers, "timeout_s": 30},
            credentials=encrypt({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
        )
        loaded = load_sims(product_id, account.pk, args.sims)
        print(f"{args.sims:,} SIMs loaded in {loaded:.1f} s", flush=True)

        started = time.perf_counter()
        report = apply_action(sims=Sim.objects.filter(product_id=product_id), action=Action.DEACTIVATE, actor=Actor.system("bench"))
        deactivate_s = time.perf_counter() - started
        pending = Sim.objects.filter(network_status=NetworkStatus.PENDING).count()
        print(f"Deactivate: {len(report.done):,} SIMs suspended in {deactivate_s:.1f} s, {pending:,} pending on the network", flush=True)
        close_connections()

        before = fake_stats(args.port)["requests"]
        started = time.perf_counter()
        pushed = push(account_key=account.pk)
        push_s = time.perf_counter() - started
        stats = fake_stats(args.port)
        requests = stats["requests"] - before

        synced = Sim.objects.filter(product_id=product_id, state=State.SUSPENDED, network_status=NetworkStatus.SYNCED).count()
        inactive = sum(n for state, n in stats["states"].items() if state.startswith("inactive"))
        print(f"push: {pushed.summary()} in {push_s:.1f} s", flush=True)
        assert synced == args.sims, f"{synced:,} synced of {args.sims:,}"
        assert inactive == args.sims, stats["states"]
        assert not stats["violations"], stats["violations"]
    finally:
        fake.terminate()
        fake.wait(timeout=30)
    load = os.getloadavg()
    print(f"\n{database_label()}, {args.sims:,} SIMs, fake at {args.latency_ms:g} ms per call, {args.workers} concurrent requests; "
          f"{os.cpu_count()} CPUs, load {load[0]:.2f}")  # fmt: skip
    print("| SIMs | deactivate s | push until the network agrees s | SIMs/s | HTTP requests | by operation | adapter batches | violations |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    operations = ", ".join(f"{name} {count:,}" for name, count in sorted(stats["operations"].items()))
    print(
        f"| {args.sims:,} | {deactivate_s:.1f} | {push_s:.1f} | {args.sims / push_s:,.0f} | {requests:,} | {operations} | "
        f"{pushed.requests} | {len(stats['violations'])} |"
    )


if __name__ == "__main__":
    main()
