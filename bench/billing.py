"""Closing a billing period with `manage.py close_billing_period` for a product of a million SIMs.

Standalone, not part of the pytest run. On a database it drops and re-creates (or reuses, with
--reuse), it builds the previous month as a closed period of one product:

- --sims SIMs imported 20-60 days before the period (one `import` event each), with a mix of
  states at the period's start (65% active, 10% paused at their limit, 25% suspended off-season:
  one `pause` or `deactivate` event each before the period);
- pairs of events spread over the period (deactivate/reactivate, pause/unpause, reactivate/
  deactivate, unpause/pause), 0 to 2 pairs per SIM, about --events in the period; each SIM's
  events chain (the from_state of one is the to_state of the one before) and its row ends in
  the state its last event left it in. Off-season SIMs with one pair are back on the network
  mid-period (on in the second quarter, off in the third), so the peak is not the period's first
  slot; 2% of the SIMs change exactly on 12-hour slot boundaries (many changes at one instant);
- 45 days of usage ending on the period's last day for --usage-sims SIMs: SimDailyUsage rows
  and the matching ProductDailyUsage totals by visited country (10% of those SIMs roam).

Then `manage.py close_billing_period --period YYYY-MM` in a subprocess (bench/import_1m.py's
launcher: its own wall time, CPU seconds and peak RSS), under the product's pricing model (--model), and
checks from the database: one invoice for the product, its peak equals a brute-force count of
the SIMs billable at every instant something changes (numpy, over the generated intervals, not
billing.py's sweep), the per-SIM plan's SIMs and overage (or
pay as you go's data by zone) equal the generated data's, and closing again issues nothing.

    .venv/bin/python bench/billing.py                   # SQLite in /tmp
    .venv/bin/python bench/billing.py --database-url postgres://postgres@127.0.0.1:5432/bench_billing

Targets (issue 6): under 60 s on PostgreSQL, peak RSS under 500 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import import_1m as shared  # noqa: E402  (the database helpers of the import bench)

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_billing.sqlite3"
SLUG = "billing"
SEED = 13
MB = 1_000_000
SLOT_SECONDS = 12 * 3600
USAGE_DAYS = 45
CHUNK = 200_000
TARGET_SECONDS = 60.0
TARGET_PEAK_MB = 500.0
# Home countries in zones 1, 2 and 3 (billing/default_prices.py), with their weights.
COUNTRIES = {"US": 40, "DE": 15, "GB": 10, "FR": 5, "MX": 8, "BR": 6, "PL": 5, "JP": 4, "ZA": 3, "NG": 2, "KE": 1, "EG": 1}
STATES = ["active", "paused", "suspended"]  # at the period's start: 65%, 10%, 25%
BILLABLE = {"active", "paused"}
# A pair of events from a state: (action, to_state) twice.
PAIRS = {
    "active": [(("deactivate", "suspended"), ("reactivate", "active")), (("pause", "paused"), ("unpause", "active"))],
    "suspended": [(("reactivate", "active"), ("deactivate", "suspended"))],
    "paused": [(("unpause", "active"), ("pause", "paused")), (("deactivate", "suspended"), ("reactivate", "active"))],
}
ACTORS = {"import": ("user", "bench"), "pause": ("system", "data limit"), "unpause": ("user", "bench"),
          "deactivate": ("user", "bench"), "reactivate": ("token", "fleet-api")}  # fmt: skip
NEVER, FOREVER = -(10**12), 10**12  # interval ends, in seconds from the period's start


@dataclass
class Fleet:
    """The generated data, compact, and what the database must say about it."""

    period: object  # billing.billing.Period
    countries: list[str]  # by SIM index (id - 1)
    final_states: list[str]
    # The event log, in time order: SIM index, seconds from the period's start, action, from, to.
    event_sim: np.ndarray = None
    event_at: np.ndarray = None
    event_kind: list[tuple[str, str, str]] = field(default_factory=list)  # distinct (action, from, to)
    event_kind_index: np.ndarray = None
    # Billable intervals [on, off) of every SIM, in seconds from the period's start.
    on_sim: array = field(default_factory=lambda: array("l"))
    on_from: array = field(default_factory=lambda: array("q"))
    on_until: array = field(default_factory=lambda: array("q"))
    # Usage: SIM indexes, days (first to last) and bytes/SMS per SIM per day (0: no row).
    usage_sims: np.ndarray = None
    usage_days: list = field(default_factory=list)
    usage_bytes: np.ndarray = None
    usage_sms: np.ndarray = None
    visited: list[str] = field(default_factory=list)  # per usage SIM

    @property
    def events(self) -> int:
        return len(self.event_sim)


# --- the generated data ---------------------------------------------------------


def generate(sims: int, events: int, usage_sims: int, period) -> Fleet:
    """Everything in memory first, with a fixed seed: --reuse regenerates the same data."""
    rng = random.Random(SEED)
    length = int((period.ends_at - period.starts_at).total_seconds())
    boundaries = list(range(SLOT_SECONDS, length, SLOT_SECONDS))
    countries = rng.choices(list(COUNTRIES), weights=list(COUNTRIES.values()), k=sims)
    starts = rng.choices(STATES, weights=[65, 10, 25], k=sims)
    # Pairs per SIM (0, 1 or 2): about `events` in the period.
    mean_pairs = events / 2 / sims
    two = max(0.0, min(1.0, mean_pairs - 0.7)) if mean_pairs > 0.7 else 0.0
    one = max(0.0, min(1.0 - two, mean_pairs - 2 * two))
    kinds: dict[tuple[str, str, str], int] = {}
    event_sim, event_at, event_kind = array("l"), array("q"), array("b")

    def log(sim: int, at: int, action: str, from_state: str, to_state: str) -> None:
        event_sim.append(sim)
        event_at.append(at)
        event_kind.append(kinds.setdefault((action, from_state, to_state), len(kinds)))

    fleet = Fleet(period=period, countries=countries, final_states=[])

    def billable(sim: int, since: int, until: int) -> None:
        fleet.on_sim.append(sim)
        fleet.on_from.append(since)
        fleet.on_until.append(until)

    for sim in range(sims):
        imported = -rng.randrange(20 * 86400, 60 * 86400)
        log(sim, imported, "import", "issued", "active")
        state = starts[sim]
        if state != "active":
            action = "pause" if state == "paused" else "deactivate"
            log(sim, rng.randrange(imported + 3600, -3600), action, "active", state)
        on = NEVER if state in BILLABLE else None
        draw = rng.random()
        pairs = 2 if draw < two else 1 if draw < two + one else 0
        if pairs:
            if rng.random() < 0.02:
                moments = sorted(rng.sample(boundaries, 2 * pairs))
            elif state == "suspended" and pairs == 1:  # the season: back on the network mid-period
                moments = [rng.randrange(length // 4, length // 2), rng.randrange(length // 2 + 86400, length * 3 // 4)]
            else:
                moments = sorted(rng.sample(range(1, length), 2 * pairs))
            for pair in range(pairs):
                for action, to_state in rng.choice(PAIRS[state]):
                    at = moments.pop(0)
                    log(sim, at, action, state, to_state)
                    if on is None and to_state in BILLABLE:
                        on = at
                    elif on is not None and to_state not in BILLABLE:
                        billable(sim, on, at)
                        on = None
                    state = to_state
        if on is not None:
            billable(sim, on, FOREVER)
        fleet.final_states.append(state)
    order = np.argsort(np.frombuffer(event_at, dtype=np.int64), kind="stable")
    fleet.event_sim = np.frombuffer(event_sim, dtype=np.int64 if event_sim.itemsize == 8 else np.int32)[order]
    fleet.event_at = np.frombuffer(event_at, dtype=np.int64)[order]
    fleet.event_kind_index = np.frombuffer(event_kind, dtype=np.int8)[order]
    fleet.event_kind = list(kinds)
    generate_usage(fleet, usage_sims, np.random.default_rng(SEED), rng)
    return fleet


def generate_usage(fleet: Fleet, usage_sims: int, nprng: np.random.Generator, rng: random.Random) -> None:
    period = fleet.period
    fleet.usage_days = [period.end - timedelta(days=USAGE_DAYS - n) for n in range(USAGE_DAYS)]
    fleet.usage_sims = np.sort(nprng.choice(len(fleet.countries), size=min(usage_sims, len(fleet.countries)), replace=False))
    count = len(fleet.usage_sims)
    # Most SIMs a few KB to 60 KB a day (under or near the plan's 1 MB a month); one in fifty
    # 100-400 KB a day; a day in ten without traffic (no row).
    daily = nprng.integers(2_000, 60_000, size=(count, USAGE_DAYS), dtype=np.int64)
    heavy = nprng.random(count) < 0.02
    daily[heavy] = nprng.integers(100_000, 400_000, size=(int(heavy.sum()), USAGE_DAYS))
    daily[nprng.random((count, USAGE_DAYS)) < 0.1] = 0
    sms = (nprng.random((count, USAGE_DAYS)) < 0.03).astype(np.int64) * (daily > 0)
    fleet.usage_bytes, fleet.usage_sms = daily, sms
    names = list(COUNTRIES)
    fleet.visited = [fleet.countries[sim] if rng.random() >= 0.1 else rng.choice(names) for sim in fleet.usage_sims.tolist()]


# --- the database ------------------------------------------------------------------


def build(fleet: Fleet, model: str) -> None:
    from django.db import connection, transaction

    from lib.bulk_insert import bulk_insert, db_datetime, reset_id_sequences
    from sims.models import ProductDailyUsage, Sim, SimDailyUsage, SimEvent

    product_id = shared.create_product(SLUG)
    set_model(model)
    start = fleet.period.starts_at
    sims = len(fleet.countries)
    # Every SIM's last change: its row's state_changed_at.
    last_change = np.full(sims, NEVER, dtype=np.int64)
    np.maximum.at(last_change, fleet.event_sim, fleet.event_at)
    sim_fields = ["id", "iccid", "product", "state", "state_changed_at", "home_country", "activations_count",
                  "deactivations_count", "first_activated_at", "last_activated_at", "created_at"]  # fmt: skip
    with transaction.atomic():
        for first in range(0, sims, CHUNK):
            rows = []
            for n in range(first, min(sims, first + CHUNK)):
                changed = db_datetime(start + timedelta(seconds=int(last_change[n])))
                rows.append((n + 1, shared.with_check_digit(f"8944200{n:011d}"), product_id, fleet.final_states[n], changed,
                             fleet.countries[n], 1, 0, None, None, changed))  # fmt: skip
            bulk_insert(Sim, sim_fields, rows)
        reset_id_sequences(Sim)
    kinds = fleet.event_kind
    event_fields = ["sim", "product", "action", "from_state", "to_state", "actor_kind", "actor_name", "reason", "created_at"]
    with transaction.atomic():
        for first in range(0, fleet.events, CHUNK):
            rows = []
            chunk = slice(first, first + CHUNK)
            for sim, at, kind in zip(fleet.event_sim[chunk].tolist(), fleet.event_at[chunk].tolist(), fleet.event_kind_index[chunk].tolist()):
                action, from_state, to_state = kinds[kind]
                rows.append((sim + 1, product_id, action, from_state, to_state, *ACTORS[action], "",
                             db_datetime(start + timedelta(seconds=at))))  # fmt: skip
            bulk_insert(SimEvent, event_fields, rows)
    days = [connection.ops.adapt_datefield_value(day) for day in fleet.usage_days]
    ids = (fleet.usage_sims + 1).tolist()
    totals: Counter = Counter()
    with transaction.atomic():
        for column, day in enumerate(days):
            used, sms = fleet.usage_bytes[:, column].tolist(), fleet.usage_sms[:, column].tolist()
            rows = [(sim, product_id, day, b, s) for sim, b, s in zip(ids, used, sms) if b]
            bulk_insert(SimDailyUsage, ["sim", "product", "day", "bytes", "sms"], rows)
            for country, b, s in zip(fleet.visited, used, sms):
                if b:
                    totals[column, country, "bytes"] += b
                    totals[column, country, "sms"] += s
                    totals[column, country, "records"] += 24
        rows = []
        for column, day in enumerate(fleet.usage_days):
            newest = db_datetime(datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23, minutes=40))
            for country in sorted({c for (n, c, _) in totals if n == column}):
                rows.append((product_id, days[column], country, totals[column, country, "bytes"], totals[column, country, "sms"],
                             totals[column, country, "records"], newest))  # fmt: skip
        bulk_insert(ProductDailyUsage, ["product", "day", "country", "bytes", "sms", "records", "newest_record_at"], rows)
    with connection.cursor() as cursor:  # an established database has statistics
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    shared.close_connections()


def set_model(model: str) -> None:
    from products.models import Product

    Product.objects.filter(slug=SLUG).update(pricing_model=model, pending_pricing_model="", pending_from=None)
    shared.close_connections()


def forget_invoices() -> int:
    """--reuse: the database holds a closed period from an earlier run; open it again."""
    from django.db import transaction

    from billing.models import Charge, Invoice, InvoiceLine

    with transaction.atomic():
        Charge.objects.filter(invoice__isnull=False).update(invoice=None)
        InvoiceLine.objects.all().delete()
        deleted, _ = Invoice.objects.all().delete()
    shared.close_connections()
    return deleted


def database_holds(fleet: Fleet) -> bool:
    from sims.models import Sim, SimEvent

    found = Sim.objects.filter(product__slug=SLUG).count() == len(fleet.countries)
    found = found and SimEvent.objects.filter(product__slug=SLUG).count() == fleet.events
    shared.close_connections()
    return found


# --- what the invoice must say --------------------------------------------------------


@dataclass
class Expected:
    peak: int
    slot_counts: np.ndarray
    plan_sims_by_zone: Counter
    overage_mb_by_zone: dict[str, Decimal]
    data_mb_by_zone: dict[str, Decimal]
    in_period_events: int


def expected(fleet: Fleet) -> Expected:
    """By brute force over the generated intervals, not with billing.py's sweep."""
    from billing.default_prices import zone_of_country

    length = int((fleet.period.ends_at - fleet.period.starts_at).total_seconds())
    slots = -(-length // SLOT_SECONDS)
    sim = np.frombuffer(fleet.on_sim, dtype=np.int64 if fleet.on_sim.itemsize == 8 else np.int32)
    on, off = np.frombuffer(fleet.on_from, dtype=np.int64), np.frombuffer(fleet.on_until, dtype=np.int64)
    # Billable at instant t: the SIMs with an interval [on, off) holding t, counted at the period's
    # start, at every slot's start and at every instant where an interval begins or ends.
    changes = np.concatenate([on, off])
    instants = np.unique(np.concatenate([np.arange(slots) * SLOT_SECONDS, changes[(changes >= 0) & (changes < length)]]))
    at_once = np.searchsorted(np.sort(on), instants, side="right") - np.searchsorted(np.sort(off), instants, side="right")
    # Each slot's peak: the most at once at its start or at an instant within it.
    slot_counts = np.maximum.reduceat(at_once, np.searchsorted(instants, np.arange(slots) * SLOT_SECONDS))
    billable_in_period = (on < length) & (off > 0)
    plan = Counter(zone_of_country(fleet.countries[n]) for n in np.unique(sim[billable_in_period]).tolist())
    in_period = (fleet.usage_days.index(fleet.period.start), len(fleet.usage_days))
    used = fleet.usage_bytes[:, in_period[0] : in_period[1]].sum(axis=1)
    over = np.maximum(used - MB, 0)  # every zone's plan includes 1 MB
    overage: Counter = Counter()
    data: Counter = Counter()
    for n, sim_index in enumerate(fleet.usage_sims.tolist()):
        overage[zone_of_country(fleet.countries[sim_index])] += int(over[n])
        data[zone_of_country(fleet.visited[n])] += int(used[n])
    mb = lambda amount: (Decimal(amount) / MB).quantize(Decimal("0.0001"))  # noqa: E731
    return Expected(
        peak=int(slot_counts.max()), slot_counts=slot_counts, plan_sims_by_zone=plan,
        overage_mb_by_zone={zone: mb(amount) for zone, amount in overage.items() if amount},
        data_mb_by_zone={zone: mb(amount) for zone, amount in data.items() if amount},
        in_period_events=int(((fleet.event_at >= 0) & (fleet.event_at < length)).sum()),
    )  # fmt: skip


def check(model: str, want: Expected) -> tuple[bool, list]:
    from billing.models import Invoice

    invoices = list(Invoice.objects.filter(product__slug=SLUG).prefetch_related("lines__zone"))
    found: dict[str, tuple[object, object]] = {"invoices for the product": (len(invoices), 1)}
    lines = []
    if len(invoices) == 1:
        invoice = invoices[0]
        lines = [(line.kind, line.zone.code if line.zone else "", line.quantity, line.amount) for line in invoice.lines.all()]
        found["pricing model"] = (invoice.pricing_model, model)
        found["peak SIMs at once"] = (invoice.peak_sims, want.peak)
        found["invoice total = sum of its lines"] = (invoice.total, sum((line[3] for line in lines), Decimal("0.00")))
        if model == "per_sim":
            found["plan SIMs by zone"] = (by_zone(lines, "plan"), {z: Decimal(n) for z, n in want.plan_sims_by_zone.items()})
            found["overage MB by zone"] = (by_zone(lines, "overage"), want.overage_mb_by_zone)
        elif model == "payg":
            found["hosting fee SIMs"] = (sum(q for k, _, q, _ in lines if k == "hosting"), want.peak)
            found["data MB by zone"] = (by_zone(lines, "data"), want.data_mb_by_zone)
        else:
            found["pool fee SIMs"] = (sum(q for k, _, q, _ in lines if k == "pool"), want.peak)
    shared.close_connections()
    ok = True
    for name, (got, expected_value) in found.items():
        ok = ok and got == expected_value
        mark = "" if got == expected_value else "  <-- MISMATCH"
        print(f"  {name}: {fmt(got)} (expected {fmt(expected_value)}){mark}")
    return ok, lines


def by_zone(lines: list, kind: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for line_kind, zone, quantity, _ in lines:
        if line_kind == kind:
            totals[zone] = totals.get(zone, Decimal(0)) + quantity
    return totals


def fmt(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {fmt(value[key])}" for key in sorted(value)) + "}"
    if isinstance(value, int | Decimal):
        return f"{value:,}"
    return str(value)


# --- the close --------------------------------------------------------------------


# bench/import_1m.py's launcher (the command's own peak RSS), also reporting its CPU seconds: under
# the load of other work the wall time stretches, the CPU time much less (the database's is not in it).
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Closed:
    seconds: float
    cpu_seconds: float
    peak_mb: float
    output: str
    load_before: float
    load_after: float


def close(period, profile: Path | None) -> Closed:
    python = [sys.executable, "-m", "pyinstrument", "-o", str(profile), "-r", "text"] if profile else [sys.executable]
    command = [*python, "manage.py", "close_billing_period", "--period", str(period)]
    print("$", " ".join(command).replace(sys.executable, ".venv/bin/python"), flush=True)
    load_before = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile() as figures:
        started = time.perf_counter()
        process = subprocess.run([sys.executable, "-c", LAUNCHER, figures.name, *command], cwd=shared.ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_kib, cpu_seconds = Path(figures.name).read_text().split()
    output = (process.stdout + process.stderr).strip()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
    print(" ", output.splitlines()[-1] if output else "(no output)")
    return Closed(seconds, float(cpu_seconds), int(peak_kib) / 1024, output, load_before, os.getloadavg()[0])


def previous_period():
    from django.utils import timezone

    from billing.billing import Period
    from billing.invoicing import LATE_USAGE

    now = timezone.now()
    period = Period.of(now).previous()
    while period.ends_at + LATE_USAGE > now:  # the first hour of a month: the one before
        period = period.previous()
    return period


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=2_000_000, help="events in the period, about (default 2,000,000; the imports and the changes before the period add 1.35 per SIM)")
    parser.add_argument("--usage-sims", type=int, default=100_000, help="SIMs with 45 days of usage")
    parser.add_argument("--model", choices=["per_sim", "payg", "pooled"], default="per_sim", help="the product's pricing model")
    parser.add_argument("--reuse", action="store_true", help="keep a database an earlier run built (same sizes): forget its invoices")
    parser.add_argument("--profile", type=Path, help="run the close under pyinstrument, writing a text report here (slower)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    shared.setup_django(args.database_url)
    print(shared.code_version())
    period = previous_period()
    started = time.perf_counter()
    fleet = generate(args.sims, args.events, args.usage_sims, period)
    want = expected(fleet)
    print(f"generated {len(fleet.countries):,} SIMs, {fleet.events:,} events ({want.in_period_events:,} in {period}), "
          f"{int((fleet.usage_bytes > 0).sum()):,} SIM-days of usage in {time.perf_counter() - started:.1f} s")  # fmt: skip
    peak_slot = int(want.slot_counts.argmax())
    print(f"expected peak {want.peak:,} SIMs at once, in the slot from {period.starts_at + timedelta(seconds=peak_slot * SLOT_SECONDS):%b %-d %H:%M}; "
          f"slots count {int(want.slot_counts.min()):,} to {want.peak:,}")  # fmt: skip
    build_seconds = None
    if args.reuse and database_holds(fleet):
        print(f"reusing the database: {forget_invoices()} invoices forgotten")
        set_model(args.model)
    else:
        shared.reset_database()
        started = time.perf_counter()
        build(fleet, args.model)
        build_seconds = time.perf_counter() - started
        print(f"database built in {build_seconds:.1f} s (ANALYZE included)")
    label = shared.database_label()
    print(f"{label}; load {os.getloadavg()[0]:.2f}")

    first = close(period, args.profile)
    ok, lines = check(args.model, want)
    second = close(period, None)
    ok_again, lines_again = check(args.model, want)
    nothing_new = "0 invoices issued" in second.output and lines_again == lines
    print(f"  closing again issued nothing new: {nothing_new}")
    ok = ok and ok_again and nothing_new
    met = first.seconds < TARGET_SECONDS and first.peak_mb < TARGET_PEAK_MB
    print(f"\n{label}: {len(fleet.countries):,} SIMs, {fleet.events:,} events, usage of {len(fleet.usage_sims):,} SIMs; {os.cpu_count()} CPUs")
    print("| model | build s | close s | close CPU s | peak RSS MB | target (<60 s, <500 MB) | peak SIMs | checks | load avg before -> after | close again s |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- | ---: |")
    print(f"| {args.model} | {'reused' if build_seconds is None else f'{build_seconds:.0f}'} | {first.seconds:.1f} | {first.cpu_seconds:.1f} | "
          f"{first.peak_mb:.0f} | {'met' if met else 'MISSED'} | {want.peak:,} | {'ok' if ok else 'WRONG'} | "
          f"{first.load_before:.2f} -> {first.load_after:.2f} | {second.seconds:.1f} |")  # fmt: skip
    if args.profile:
        print(f"\nProfile of the first close: {args.profile} (slower under the profiler: its time above is not a figure)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
