"""The home-country advisor at a million SIMs: how long last month's advice takes to compute.

Standalone, not part of the pytest run. On a fresh database (migrated, then flushed) it writes a
product of --sims SIMs homed in 6 countries, and last month's usage by visited country
(SimCountryUsage) for each: most at home, one in five with a second country, one in ten used
most abroad. Then it times `advise_home_countries` (the fragment's work, before the cache) and
counts its queries.

    .venv/bin/python bench/advisor.py --database-url sqlite:////tmp/bench_advisor.sqlite3
    .venv/bin/python bench/advisor.py --database-url postgres://postgres@127.0.0.1:5432/bench_advisor
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOMES = ["US", "DE", "GB", "MX", "BR", "PL"]
ABROAD = ["FR", "ES", "CA", "AR", "TH", "KE", "IN", "JP"]
MB = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="sqlite:////tmp/bench_advisor.sqlite3")
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, DJANGO_SETTINGS_MODULE="console.settings", DEBUG="1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from billing.advisor import advise_home_countries
    from billing.billing import Period
    from billing.default_prices import fill_default_prices
    from billing.models import RateZone, ZoneCountry, ZonePrice
    from lib.bulk_insert import bulk_insert, db_datetime
    from products.models import Product
    from sims.models import Sim, SimCountryUsage

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    fill_default_prices(RateZone, ZoneCountry, ZonePrice)
    now = datetime.now(UTC)
    period = Period.of(now).previous()
    rng = random.Random(3)
    started = time.perf_counter()
    with transaction.atomic():
        product = Product.objects.create(name="Advisor bench", slug="advisor-bench")
        created = db_datetime(now)
        bulk_insert(
            Sim, ["iccid", "product", "state", "state_changed_at", "home_country", "activations_count", "deactivations_count", "created_at"],
            ((f"8901260{n:012d}", product.pk, "active", created, HOMES[n % len(HOMES)], 1, 0, created) for n in range(args.sims)),
        )  # fmt: skip
        rows = []
        for sim_id, home in Sim.objects.filter(product=product).values_list("pk", "home_country").iterator(chunk_size=50_000):
            roll = rng.random()
            if roll < 0.1:  # used most abroad
                rows += [(product.pk, period.start, sim_id, rng.choice(ABROAD), rng.randint(2, 9) * MB), (product.pk, period.start, sim_id, home, MB // 2)]
            elif roll < 0.3:
                rows += [(product.pk, period.start, sim_id, home, rng.randint(1, 4) * MB), (product.pk, period.start, sim_id, rng.choice(ABROAD), MB // 3)]
            else:
                rows.append((product.pk, period.start, sim_id, home, rng.randint(100, 2_000) * 1_000))
        bulk_insert(SimCountryUsage, ["product", "period", "sim", "country", "bytes"], rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{args.sims:,} SIMs and {len(rows):,} usage rows written in {time.perf_counter() - started:.1f} s ({connection.vendor}).")

    for attempt in range(args.repeat):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            advice = advise_home_countries(product, now=now)
        took = time.perf_counter() - started
        print(
            f"advice {attempt + 1}: {took:.2f} s, {len(queries)} queries; {advice.sims_considered:,} SIMs considered, "
            f"{len(advice.groups)} groups to move ({advice.sims_to_move:,} SIMs), saving ${advice.saving:,}"
        )


if __name__ == "__main__":
    main()
