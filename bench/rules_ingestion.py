"""Usage ingestion with the rules engine (issue 18): the same 1,000,000-record file ingested with no rule and
with 20 active usage rules, in one run, each on a fresh database with the same fleet (bench/usage.py's fleet
and generator, the same seed; the SIM table analysed, as autovacuum would). Rules are evaluated in the same
pass (sims.usage.usage_ingested): per condition kind one statement keeps the chunk's SIMs over the kind's
lowest amount, then each rule is one INSERT ... SELECT over those, and acts on its new firings.

    .venv/bin/python bench/rules_ingestion.py --database-url postgres://postgres@127.0.0.1:5432/rules_engine_bench

Options: --sims N, --records N, --repeat N (alternate the two cases N times; the best of each is compared),
--unanalysed (no statistics on the SIM table: PostgreSQL then guesses a product has 240 SIMs).
Target: with the rules, at least 80% of the rate without them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_1m as shared  # noqa: E402
import usage as usage_bench  # noqa: E402

TARGET_SHARE = 0.8


def twenty_rules(product_id: int) -> int:
    """20 enabled usage rules of every usage kind and scope; a few fire on the file's heavy SIMs (one in
    fifty uses 300-800 KB an hour), most do not. Their actions: a webhook event, a device tag, a data
    limit; one pauses, held for approval over 100 SIMs."""
    from rules.models import Rule

    specs: list[dict] = []
    for mb in (2, 3, 50, 100, 200, 500):
        specs.append({"condition_kind": "usage_day", "condition": {"mb": mb}, "actions": [{"kind": "webhook"}]})
    for mb in (4, 100, 1000):
        specs.append({"condition_kind": "usage_period", "condition": {"mb": mb}, "actions": [{"kind": "tag", "tag": "heavy"}]})
    for hours, mb in ((24, 5), (48, 200), (168, 1000)):
        specs.append({"condition_kind": "usage_rolling", "condition": {"mb": mb, "hours": hours}, "actions": [{"kind": "webhook"}]})
    specs.append({"condition_kind": "usage_day", "condition": {"mb": 10}, "actions": [{"kind": "webhook"}]})
    specs.append({"condition_kind": "usage_period", "condition": {"mb": 20}, "actions": [{"kind": "webhook"}]})
    for count in (3, 50):
        specs.append({"condition_kind": "sms_count", "condition": {"count": count}, "actions": [{"kind": "webhook"}]})
    specs.append({"condition_kind": "usage_day", "condition": {"mb": 4}, "actions": [{"kind": "pause"}], "approval_threshold": 100})
    specs.append({"condition_kind": "usage_day", "condition": {"mb": 1000}, "actions": [{"kind": "data_limit", "mb": 2000}]})
    specs.append({"condition_kind": "usage_day", "condition": {"mb": 3}, "scope_kind": "filter", "scope_value": "state=active", "actions": [{"kind": "webhook"}]})
    specs.append({"condition_kind": "usage_day", "condition": {"mb": 3}, "scope_kind": "tag", "scope_value": "fridge", "actions": [{"kind": "webhook"}]})
    assert len(specs) == 20
    for n, spec in enumerate(specs):
        rule = Rule(product_id=product_id, name=f"Bench rule {n + 1}", **spec)
        rule.full_clean(exclude=["product"])
        rule.save()
    shared.close_connections()
    return len(specs)


def analyze_fleet() -> None:
    """The SIMs' statistics, as autovacuum gathers them after a bulk load (the bench server runs without
    it): a never-analysed SIM table makes PostgreSQL guess a product has 240 SIMs, and plan by that."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sims_sim")
    shared.close_connections()


def back_to_the_start(fleet: usage_bench.Fleet) -> None:
    """The database as build_fleet left it, without migrating again: usage, rules and events emptied, each
    SIM's state and limit as the fleet had them, the period's earlier usage put back."""
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from lib.bulk_insert import bulk_insert, db_datetime
    from lib.calendar import billing_period_start
    from django.utils import timezone
    from rules.models import Rule, RuleApproval, RuleFiring
    from sims.models import DomainEvent, ProductDailyUsage, Sim, SimCountryUsage, SimDailyUsage, SimEvent, SimPeriodUsage, UsageRecord

    models = [RuleFiring, RuleApproval, Rule, UsageRecord, SimDailyUsage, SimPeriodUsage, SimCountryUsage, ProductDailyUsage, SimEvent, DomainEvent]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(model._meta.db_table for model in [*models, DBTaskResult]))
        serial = "CAST(substr(iccid, 8, 11) AS bigint)"
        cursor.execute(
            f"UPDATE {Sim._meta.db_table} SET data_limit_mb = NULL, state = CASE WHEN {serial} %% 20 = 3 THEN 'provisioned' "
            f"WHEN {serial} %% 100 = 7 THEN 'suspended' ELSE 'active' END, state_changed_at = %s WHERE product_id = %s",
            # As build_fleet: changed 3 days ago, so the provisioning trigger activates the same SIMs each run.
            [db_datetime(timezone.now() - timedelta(days=3)), fleet.product_id],
        )
        ids = dict(Sim.objects.filter(product_id=fleet.product_id).values_list("iccid", "pk"))
        period = connection.ops.adapt_datefield_value(billing_period_start(timezone.now()))
        bulk_insert(SimPeriodUsage, ["sim", "period", "bytes", "sms"], [(ids[i], period, used, 0) for i, used in zip(fleet.iccids, fleet.used_before) if used])
    shared.close_connections()


def run(path: Path, records: int, fleet: usage_bench.Fleet, *, rules: bool) -> float:
    """One ingestion of the file, the rules in place if asked: its seconds."""
    if rules:
        twenty_rules(fleet.product_id)
    measured = usage_bench.ingest(path)
    from rules.models import RuleApproval, RuleFiring

    firings, approvals = RuleFiring.objects.count(), RuleApproval.objects.count()
    shared.close_connections()
    print(f"  {'20 rules' if rules else 'no rule'}: {measured.seconds:.1f} s, {records / measured.seconds:,.0f} records/s, "
          f"{firings:,} firings, {approvals} held for approval; loadavg {Path('/proc/loadavg').read_text().strip()}", flush=True)  # fmt: skip
    return measured.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rules_engine_bench")
    parser.add_argument("--sims", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--unanalysed", action="store_true", help="leave the SIM table without statistics (as before 2026-12-08)")
    arguments = parser.parse_args()
    shared.setup_django(arguments.database_url)
    rng = random.Random(usage_bench.SEED)
    shared.reset_database()
    print(f"{shared.database_label()}; {arguments.sims:,} SIMs, {arguments.records:,} records; loadavg {Path('/proc/loadavg').read_text().strip()}")
    fleet = usage_bench.build_fleet(arguments.sims, rng)
    if not arguments.unanalysed:
        analyze_fleet()
    path = Path(f"/tmp/bench_rules_usage_{arguments.records}.csv")
    usage_bench.write_records(path, fleet, arguments.records, rng)
    without: list[float] = []
    with_rules: list[float] = []
    for _ in range(arguments.repeat):
        without.append(run(path, arguments.records, fleet, rules=False))
        back_to_the_start(fleet)
        with_rules.append(run(path, arguments.records, fleet, rules=True))
        back_to_the_start(fleet)
    best_without, best_with = min(without), min(with_rules)
    share = best_without / best_with
    print(
        f"\nbest of {arguments.repeat}: no rule {arguments.records / best_without:,.0f} records/s, 20 rules "
        f"{arguments.records / best_with:,.0f} records/s: {share:.0%} of the rate (target {TARGET_SHARE:.0%}: "
        f"{'met' if share >= TARGET_SHARE else 'missed'}); loadavg {Path('/proc/loadavg').read_text().strip()}"
    )


if __name__ == "__main__":
    main()
