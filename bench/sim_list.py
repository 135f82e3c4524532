"""Server time of the SIMs page (sims.views.sim_list) at a million SIMs.

Standalone, not part of the pytest run. It uses its own database, seeds it with
`seed_demo --sims N` when the demo product has fewer SIMs, then times whole
requests (middleware, view, queries, template) through Django's test Client.

The list pages by ICCID (?after=, ?last=1), or sorted by usage this period or by last state
change (?sort=-usage, ?sort=changed, ...), and loads the count of matching SIMs in a second
request (the sim_count view): all are timed. 80% of the SIMs get usage this period (SimPeriodUsage
rows, written once) so that both parts of the usage order are there. With --export, the CSV export
of all the SIMs is also read once, to the end: its time, rows and the process's resident memory.

    .venv/bin/python bench/sim_list.py                      # SQLite in /tmp
    .venv/bin/python bench/sim_list.py --database-url postgres://postgres@127.0.0.1:5432/bench_sim_list

Cases whose p95 is over the target get their SQL printed, with per-query
times and the database's plan for the slow queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.test import Client

    from products.models import Product

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_sim_list.sqlite3"
PRODUCT_SLUG = "acme-trackers"
USERNAME = "demo"
TARGET_P95_MS = 100.0
SLOW_QUERY_MS = 5.0  # queries at least this slow get an EXPLAIN
HTMX_HEADERS = {"HX-Request": "true", "HX-Target": "sim-table"}


@dataclass
class Case:
    name: str
    query: str  # the query string, without '?'
    headers: dict[str, str] = field(default_factory=dict)
    view: str = "sim_list"  # or "sim_count", the request the page makes for its count
    url: str = ""  # another page's whole path (bench/sim_page_timeline.py): view and query unused
    matched: int = 0
    times_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU time (not the PostgreSQL server's)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def sql_median(self) -> float:
        return statistics.median(self.sql_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.times_ms, n=20, method="inclusive")[-1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--sims", type=int, default=1_000_000, help="SIMs in the demo product (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per case (default 30)")
    parser.add_argument("--export", action="store_true", help="also export every SIM as CSV once, sorted by usage")
    return parser.parse_args()


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ["DEBUG"] = "1"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    if Path(str(connection.settings_dict["NAME"])).resolve() == (ROOT / "db.sqlite3").resolve():
        sys.exit("Refusing to run on the project's own db.sqlite3: pass another --database-url.")


def demo_sim_count() -> int:
    from sims.models import Sim

    return Sim.objects.filter(product__slug=PRODUCT_SLUG).count()


def prepare_database(sims: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if demo_sim_count() >= sims:
        print(f"Database already holds {demo_sim_count():,} demo SIMs: not seeding.")
        return
    call_command("flush", verbosity=0, interactive=False)
    started = time.perf_counter()
    call_command("seed_demo", sims=sims, usage_days=0, verbosity=0)
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    analyze()
    print(f"Seeding {sims:,} SIMs took {seeded:.1f} s; ANALYZE took {time.perf_counter() - started:.1f} s.")


def prepare_period_usage() -> None:
    """Usage this period for 4 SIMs in 5 (spread over 0-50 MB by a hash of the id), written once."""
    from django.db import connection
    from django.utils import timezone

    from lib.calendar import billing_period_start
    from products.models import Product
    from sims.models import SimPeriodUsage

    product = Product.objects.get(slug=PRODUCT_SLUG)
    period = billing_period_start(timezone.now())
    if SimPeriodUsage.objects.filter(product=product, period=period).exists():
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sims_simperiodusage (sim_id, product_id, period, bytes, sms) "
            "SELECT id, product_id, %s, (id * 7919) %% 50000000, 0 FROM sims_sim WHERE product_id = %s AND id %% 5 <> 0 "
            "ON CONFLICT (sim_id, period) DO UPDATE SET product_id = excluded.product_id, bytes = excluded.bytes",
            [period, product.pk],
        )
    analyze()
    print(f"Usage this period for 80% of the SIMs written in {time.perf_counter() - started:.1f} s.")


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def build_cases() -> list[Case]:
    from products.models import Product
    from sims.listing import filter_sims

    product = Product.objects.get(slug=PRODUCT_SLUG)
    iccid = sample_iccid(product)
    usage_middle, changed_middle = middle_cursors(product)
    fragment = middle_digits(iccid)
    tail = iccid[-7:-1]  # extra: digits near the end match few SIMs, the worst case for a scan
    short = iccid[-5:-1]  # extra: so few digits that the ICCIDs start in too many ways to list: a scan
    cases = [
        Case("first page", ""),
        Case("state=suspended", "state=suspended"),
        Case(f"ICCID fragment {fragment}", f"q={fragment}"),
        Case(f"ICCID fragment {tail} (extra)", f"q={tail}"),
        Case(f"ICCID fragment {short} (extra)", f"q={short}"),
        Case("whole ICCID (extra)", f"q={iccid}"),
        Case(f"ICCID start {iccid[:12]} (extra)", f"q={iccid[:12]}"),
        Case("deep page (after the middle ICCID)", f"after={middle_of_list(product)}"),
        Case("last page", "last=1"),
        Case("first page, htmx fragment", "", HTMX_HEADERS),
        Case("sort: usage, most first", "sort=-usage"),
        Case("sort: usage, least first (none yet)", "sort=usage"),
        Case("sort: usage, deep page (middle)", f"sort=-usage&after={usage_middle}&page=400000"),
        Case("sort: usage, last page", "sort=-usage&last=1"),
        Case("sort: usage, state=suspended", "sort=-usage&state=suspended"),
        Case(f"sort: usage, ICCID fragment {fragment}", f"sort=-usage&q={fragment}"),
        Case("sort: state change, latest first", "sort=-changed"),
        Case("sort: state change, oldest first", "sort=changed"),
        Case("sort: state change, deep page (middle)", f"sort=changed&after={changed_middle}&page=10000"),
        Case("sort: state change, state=suspended", "sort=-changed&state=suspended"),
        Case("count with position: usage, page 2", "sort=-usage&page=2&shown=50", view="sim_count"),
        Case("count: all", "", view="sim_count"),
        Case("count: state=suspended", "state=suspended", view="sim_count"),
        Case(f"count: ICCID fragment {fragment}", f"q={fragment}", view="sim_count"),
        Case(f"count: ICCID fragment {tail} (extra)", f"q={tail}", view="sim_count"),
    ]
    for case in cases:
        params = dict(pair.split("=") for pair in case.query.split("&") if pair)
        case.matched = filter_sims(
            product=product, state=params.get("state", ""), fragment=params.get("q", "")
        ).count()
    return cases


def sample_iccid(product: Product) -> str:
    """The ICCID of the SIM in the middle of the product's id range: an existing one."""
    from django.db.models import Max, Min

    from sims.models import Sim

    sims = Sim.objects.filter(product=product)
    bounds = sims.aggregate(low=Min("id"), high=Max("id"))
    middle = (bounds["low"] + bounds["high"]) // 2
    return sims.filter(id__gte=middle).order_by("id").values_list("iccid", flat=True)[0]


def middle_of_list(product: Product) -> str:
    """The ICCID half way down the list: ?after= it is the page a 'page N/2 of N' link would show."""
    from sims.listing import filter_sims

    sims = filter_sims(product=product).order_by("iccid")
    return sims.values_list("iccid", flat=True)[sims.count() // 2 - 1]


def middle_cursors(product: Product) -> tuple[str, str]:
    """Cursors half way down the list sorted by usage (among the SIMs with usage) and by state change."""
    from django.db.models import F

    from lib.calendar import billing_period_start
    from sims.listing import EPOCH
    from sims.models import Sim, SimPeriodUsage

    from django.utils import timezone
    from datetime import timedelta

    used = SimPeriodUsage.objects.filter(product=product, period=billing_period_start(timezone.now()), bytes__gt=0)
    bytes_, iccid = used.order_by("-bytes").annotate(iccid=F("sim__iccid")).values_list("bytes", "iccid")[used.count() // 2]
    sims = Sim.objects.filter(product=product)
    changed, other = sims.order_by("state_changed_at", "iccid").values_list("state_changed_at", "iccid")[sims.count() // 2]
    return f"{bytes_}_{iccid}", f"{(changed - EPOCH) // timedelta(microseconds=1)}_{other}"


def middle_digits(iccid: str, width: int = 6) -> str:
    start = (len(iccid) - width) // 2
    return iccid[start : start + width]


def signed_in_client() -> Client:
    from django.contrib.auth import get_user_model
    from django.test import Client

    # SERVER_NAME: 'testserver' is not in ALLOWED_HOSTS outside the test runner.
    client = Client(SERVER_NAME="localhost")
    client.force_login(get_user_model().objects.get(username=USERNAME))
    return client


def page_url(case: Case) -> str:
    from django.urls import reverse

    if case.url:
        return case.url
    url = reverse(case.view, args=[PRODUCT_SLUG])
    return f"{url}?{case.query}" if case.query else url


def get(client: Client, case: Case) -> tuple[float, list[dict]]:
    """One request: its time in ms, and the queries it ran (DEBUG logs them anyway)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(page_url(case), headers=case.headers)
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        sys.exit(f"{case.name}: HTTP {response.status_code}")
    return elapsed, captured.captured_queries


def query_ms(query: dict) -> float:
    return float(query["time"]) * 1000


def measure(client: Client, cases: list[Case], repeat: int) -> None:
    """Warm up once per case, then time the cases in rounds, so drift in machine load hits them all alike."""
    for case in cases:
        get(client, case)
    for _ in range(repeat):
        for case in cases:
            cpu = time.process_time()
            elapsed, queries = get(client, case)
            case.cpu_ms.append((time.process_time() - cpu) * 1000)
            case.times_ms.append(elapsed)
            case.sql_ms.append(sum(query_ms(query) for query in queries))


def print_table(cases: list[Case], repeat: int) -> None:
    from django.db import connection

    print()
    print(f"Database: {connection.vendor} ({connection.settings_dict['NAME']}), "
          f"{demo_sim_count():,} SIMs in {PRODUCT_SLUG}, {repeat} requests per case")
    print("Load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f} on {} CPUs".format(*os.getloadavg(), os.cpu_count()))
    print()
    print(f"| {'case':<38} | {'rows matched':>12} | {'median ms':>9} | {'p95 ms':>8} | {'of which SQL (median)':>21} | {'p95 < 100 ms':<12} |")
    print(f"| {'-' * 38} | {'-' * 12}:| {'-' * 9}:| {'-' * 8}:| {'-' * 21}:| {'-' * 12} |")
    for case in cases:
        ok = "yes" if case.p95 < TARGET_P95_MS else "NO"
        print(f"| {case.name:<38} | {case.matched:>12,} | {case.median:>9.1f} | {case.p95:>8.1f} | "
              f"{case.sql_median:>21.1f} | {ok:<12} |")
    print()
    if connection.vendor == "sqlite":
        print("SQLite: Django times execute(), which runs a query only to its first row; the rest of a scan")
        print("happens while rows are fetched and is missing from the SQL column (it is in the total).")
        print()


def explain_slow_cases(client: Client, cases: list[Case]) -> None:
    for case in cases:
        if case.p95 >= TARGET_P95_MS:
            explain_case(client, case)


def explain_case(client: Client, case: Case) -> None:
    total, queries = get(client, case)
    print(f"== {case.name}: GET {page_url(case)}  ({total:.1f} ms this request)")
    for query in queries:
        print(f"  {query_ms(query):8.1f} ms  {query['sql']}")
    for query in queries:
        if query_ms(query) >= SLOW_QUERY_MS:
            print(f"\n  Plan of the {query_ms(query):.1f} ms query:")
            for line in explain(query["sql"]):
                print(f"    {line}")
    print()


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return sqlite_plan(cursor.fetchall())


def sqlite_plan(rows: list[tuple]) -> list[str]:
    """EXPLAIN QUERY PLAN rows (id, parent, notused, detail) as an indented tree."""
    depth = {0: -1}
    lines = []
    for node_id, parent, _, detail in rows:
        depth[node_id] = depth.get(parent, -1) + 1
        lines.append(f"{'  ' * depth[node_id]}{detail}")
    return lines


def rss_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def export_all(client: Client) -> None:
    """Read the CSV export of every SIM, sorted by usage (most first), to its end, chunk by chunk,
    noting the process's resident memory as it goes: it must stay flat."""
    from django.urls import reverse

    started, before = time.perf_counter(), rss_mb()
    response = client.get(reverse("sim_export", args=[PRODUCT_SLUG]) + "?sort=-usage")
    lines = size = 0
    highest = before
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
        highest = max(highest, rss_mb())  # a chunk of SIMs per piece
    elapsed = time.perf_counter() - started
    print(f"Export CSV, sorted by usage: {lines - 1:,} SIMs, {size / 1e6:.1f} MB in {elapsed:.1f} s "
          f"({(lines - 1) / elapsed:,.0f} rows/s); resident memory {before:.0f} MB before, at most {highest:.0f} MB during")


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    prepare_database(args.sims)
    prepare_period_usage()
    cases = build_cases()
    client = signed_in_client()
    measure(client, cases, args.repeat)
    print_table(cases, args.repeat)
    explain_slow_cases(client, cases)
    if args.export:
        export_all(client)


if __name__ == "__main__":
    main()
