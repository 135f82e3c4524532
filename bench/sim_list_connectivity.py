"""Server time of the SIMs page's fleet connectivity (issue 17, item 7) at a million SIMs.

Standalone, not part of the pytest run. It seeds its own database as bench/sim_list.py does (seed_demo,
1,000,000 SIMs), then gives 85% of them a SimConnectivity row in one INSERT ... SELECT (the list reads
each SIM's current connectivity, not its history): 30% online, 15% attached, 40% offline since a moment
spread over the last 30 days (so about 37% offline for more than 24 h), the other 15% never seen. Then it
times whole requests through Django's test Client: the page, its connectivity counts (the header's own
request), the "offline for more than 24 h" filter, the "Offline for" sort, and the count of the filter.

    .venv/bin/python bench/sim_list_connectivity.py                      # SQLite in /tmp
    .venv/bin/python bench/sim_list_connectivity.py --database-url postgres://postgres@127.0.0.1:5432/bench_sim_list_connectivity
    .venv/bin/python bench/sim_list_connectivity.py --seed-sims 50000   # seed 50,000, copy them up to a million

Cases whose p95 is over the target get their SQL printed, with per-query times and the plans.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sim_list  # noqa: E402  (bench/sim_list.py: the seeding, the client, the timing and the table)
from sim_list import PRODUCT_SLUG, Case  # noqa: E402

DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_sim_list_connectivity.sqlite3"
DAYS = 30


def prepare_connectivity() -> None:
    """A SimConnectivity row for 17 SIMs in 20 (by id), written once."""
    from django.db import connection
    from django.utils import timezone

    from products.models import Product
    from sims.models import SimConnectivity

    product = Product.objects.get(slug=PRODUCT_SLUG)
    if SimConnectivity.objects.filter(product=product).exists():
        return
    started = time.perf_counter()
    now = timezone.now().replace(microsecond=0)
    # Online and attached since up to an hour ago; offline since up to 30 days ago.
    ago = f"CASE WHEN id %% 20 < 9 THEN id %% 3600 ELSE (id * 7919) %% {DAYS * 86400} END"
    if connection.vendor == "postgresql":
        since, base = f"(%s::timestamptz - make_interval(secs => {ago}))", now
    else:
        since, base = f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '-' || ({ago}) || ' seconds')", now.strftime("%Y-%m-%d %H:%M:%S")
    status = "CASE WHEN id %% 20 < 6 THEN 'online' WHEN id %% 20 < 9 THEN 'attached' ELSE 'offline' END"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sims_simconnectivity (sim_id, product_id, status, since, last_event_at, operator, country, rat, imei, last_reject_cause) "
            f"SELECT id, product_id, {status}, {since}, {since}, 'Telekom', 'DE', 'LTE-M', '', '' "
            "FROM sims_sim WHERE product_id = %s AND id %% 20 < 17",
            [base, base, product.pk],
        )
    sim_list.analyze()
    print(f"Connectivity rows for 85% of the SIMs written in {time.perf_counter() - started:.1f} s.")


def copy_seeded_sims(target: int) -> None:
    """Copies of the demo product's seeded SIMs, with their connectivity, until it holds `target` SIMs:
    each copy's ICCID starts with 99 and a copy number instead of the seed's first four digits. A million
    SIMs through seed_demo took over an hour on the shared 2 CPUs (one transaction: nothing to reuse if
    cut short); copying in SQL takes a minute or two. The copies go through the database's triggers as
    any other insert does, so they also time those."""
    from django.db import connection, transaction

    from products.models import Product
    from sims.models import Sim, SimConnectivity

    product = Product.objects.get(slug=PRODUCT_SLUG)
    originals = list(Sim.objects.filter(product=product).order_by("pk").values_list("pk", flat=True))
    held = len(originals)
    if held >= target:
        return
    started = time.perf_counter()
    sim_columns = [f.column for f in Sim._meta.concrete_fields if f.column not in ("id", "iccid")]
    conn_columns = [f.column for f in SimConnectivity._meta.concrete_fields if f.column not in ("sim_id", "product_id")]
    last = originals[-1]
    copy = 0
    while held < target:
        copy += 1
        rows = min(len(originals), target - held)
        prefix = f"99{copy:02d}"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO sims_sim ({', '.join(sim_columns)}, iccid) "
                f"SELECT {', '.join(sim_columns)}, %s || substr(iccid, 5) FROM sims_sim "
                "WHERE product_id = %s AND id <= %s ORDER BY id LIMIT %s",
                [prefix, product.pk, last, rows],
            )
            cursor.execute(
                f"INSERT INTO sims_simconnectivity (sim_id, product_id, {', '.join(conn_columns)}) "
                f"SELECT n.id, n.product_id, {', '.join('c.' + column for column in conn_columns)} "
                "FROM sims_sim o JOIN sims_simconnectivity c ON c.sim_id = o.id "
                "JOIN sims_sim n ON n.iccid = %s || substr(o.iccid, 5) "
                "WHERE o.product_id = %s AND o.id <= %s",
                [prefix, product.pk, last],
            )
        held += rows
        print(f"  {held:,} / {target:,} SIMs (copies)")
    sim_list.analyze()
    print(f"Copying to {target:,} SIMs took {time.perf_counter() - started:.1f} s.")


def build_cases() -> list[Case]:
    from django.utils import timezone

    from products.models import Product
    from sims.listing import EPOCH, select_sims
    from sims.models import SimConnectivity

    product = Product.objects.get(slug=PRODUCT_SLUG)
    now = timezone.now()
    long_offline = select_sims(product=product, connectivity="offline-24h")
    # The cursor half way down the "offline > 24 h" SIMs, longest offline first: a deep page.
    middle = long_offline.count() // 2
    since, iccid = (
        SimConnectivity.objects.filter(product=product, status="offline", since__lt=now - timedelta(hours=24))
        .order_by("since", "sim__iccid")
        .values_list("since", "sim__iccid")[middle]
    )
    deep = f"{(since - EPOCH) // timedelta(microseconds=1)}_{iccid}"
    cases = [
        Case("first page, for comparison", ""),
        Case("connectivity counts (header's request)", "", view="fleet_connectivity"),
        Case("offline > 24 h", "connectivity=offline-24h"),
        Case("offline > 24 h, htmx fragment", "connectivity=offline-24h", sim_list.HTMX_HEADERS),
        Case("offline > 24 h, sort: longest offline", "connectivity=offline-24h&sort=-offline"),
        Case("offline > 24 h, sort: shortest offline", "connectivity=offline-24h&sort=offline"),
        Case("offline > 24 h, sort, deep page", f"connectivity=offline-24h&sort=-offline&after={deep}&page=3000"),
        Case("offline > 24 h, sort, last page", "connectivity=offline-24h&sort=-offline&last=1"),
        Case("offline > 24 h, state=suspended", "connectivity=offline-24h&state=suspended"),
        Case("sort: longest offline, no filter", "sort=-offline"),
        Case("sort: shortest offline, no filter", "sort=offline"),
        Case("online", "connectivity=online"),
        Case("never seen", "connectivity=never"),
        Case("count: offline > 24 h", "connectivity=offline-24h", view="sim_count"),
        Case("count: never seen", "connectivity=never", view="sim_count"),
    ]
    for case in cases:
        params = dict(pair.split("=") for pair in case.query.split("&") if pair)
        case.matched = select_sims(
            product=product, state=params.get("state", ""), connectivity=params.get("connectivity", ""), now=now
        ).count()
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--sims", type=int, default=1_000_000, help="SIMs in the demo product (default 1,000,000)")
    parser.add_argument(
        "--seed-sims", type=int, help="seed only this many SIMs with seed_demo, then copy them in SQL up to --sims (faster)"
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per case (default 30)")
    parser.add_argument("--prepare-only", action="store_true", help="seed the database, time nothing")
    args = parser.parse_args()
    sim_list.setup_django(args.database_url)
    sim_list.prepare_database(min(args.seed_sims or args.sims, args.sims))
    prepare_connectivity()
    copy_seeded_sims(args.sims)
    if args.prepare_only:
        return
    cases = build_cases()
    client = sim_list.signed_in_client()
    sim_list.measure(client, cases, args.repeat)
    sim_list.print_table(cases, args.repeat)
    sim_list.explain_slow_cases(client, cases)


if __name__ == "__main__":
    main()
