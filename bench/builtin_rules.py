"""The cost of recording the built-in rules' firings (issue 18): a usage delivery in which every SIM of a product
goes over its 5 MB limit (half of them provisioned, so a trigger activates them first: 1.5 firings a SIM),
ingested once with the rules app's recorder disconnected (as before the built-in rules) and once with it, each on
a product of its own with the same fleet, alternately, in one run. The SIMs' states and events must come out the
same; the second case also writes a RuleFiring per change.

    .venv/bin/python bench/builtin_rules.py --database-url postgres://postgres@127.0.0.1:5432/builtin_rules_bench

Options: --sims N (per product), --repeat N (pairs of cases; the best of each is compared).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_1m as shared  # noqa: E402

MB = 1_000_000


def build_product(slug: str, sims: int, serial_from: int) -> list[str]:
    from django.db import transaction
    from django.utils import timezone

    from lib.bulk_insert import bulk_insert, db_datetime
    from sims.models import Sim, State

    product_id = shared.create_product(slug)
    iccids = [shared.with_check_digit(f"8944200{serial:011d}") for serial in range(serial_from, serial_from + sims)]
    changed = db_datetime(timezone.now() - timedelta(days=3))
    fields = ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"]
    states = [State.PROVISIONED.value if n % 2 else State.ACTIVE.value for n in range(sims)]
    with transaction.atomic():
        bulk_insert(Sim, fields, [(iccid, product_id, state, changed, "US", 1, 0, changed) for iccid, state in zip(iccids, states)])
    return iccids


def ingest(iccids: list[str], *, recording: bool) -> tuple[float, int, int]:
    from django.utils import timezone

    from rules.builtin import record_builtin_firings
    from rules.models import RuleFiring
    from sims.builtin_rules import builtin_rule_acted
    from sims.usage import UsageRow, ingest_usage

    now = timezone.now()
    rows = [
        UsageRow(record_id=f"{iccid}-1", iccid=iccid, started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1),
                 bytes_up=MB, bytes_down=5 * MB, sms=0, country="US")
        for iccid in iccids
    ]  # fmt: skip
    uid = "rules.builtin.record_builtin_firings"
    if not recording:
        builtin_rule_acted.disconnect(dispatch_uid=uid)
    firings_before = RuleFiring.objects.count()
    started = time.perf_counter()
    report = ingest_usage(rows, now=now)
    seconds = time.perf_counter() - started
    if not recording:
        builtin_rule_acted.connect(record_builtin_firings, dispatch_uid=uid)
    return seconds, report.activated + report.paused, RuleFiring.objects.count() - firings_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/builtin_rules_bench.sqlite3")
    parser.add_argument("--sims", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    shared.setup_django(args.database_url)
    shared.reset_database()
    print(f"{shared.database_label()}, {args.sims:,} SIMs a product; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    best: dict[bool, float] = {}
    for round_ in range(args.repeat):
        for recording in (False, True):
            iccids = build_product(f"r{round_}-{int(recording)}", args.sims, serial_from=(2 * round_ + recording) * args.sims)
            seconds, changes, firings = ingest(iccids, recording=recording)
            best[recording] = min(seconds, best.get(recording, seconds))
            label = "with the firings recorded" if recording else "recorder disconnected"
            print(f"  {label:<26} {seconds:7.2f} s  {changes:,} state changes, {firings:,} firings  (load {os.getloadavg()[0]:.2f})")
    print(f"Best of each: {best[False]:.2f} s without, {best[True]:.2f} s with: recording costs {best[True] / best[False] - 1:+.0%}.")


if __name__ == "__main__":
    main()
