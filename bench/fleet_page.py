"""Server time of the SIMs page with its fleet header, spikes card and spikes filter, at a million SIMs.

Standalone, not part of the pytest run. Seeds the demo fleet like bench/sim_list.py (whose
helpers it uses), then writes usage the pages read, directly: ProductDailyUsage for 45 days
in 12 visited countries, and yesterday's spikes (UsageSpike) for 400 SIMs with their 15 days
of SimDailyUsage. (The SIMs page reads no per-SIM usage; the SIM page reads one SIM's 60 days
by the (sim, day) index, so the rest of the 45 million per-SIM rows would change nothing here.)

    .venv/bin/python bench/fleet_page.py --database-url sqlite:////tmp/bench_fleet.sqlite3
    .venv/bin/python bench/fleet_page.py --database-url postgres://postgres@127.0.0.1:5432/bench_fleet
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sim_list import (
    HTMX_HEADERS,
    PRODUCT_SLUG,
    Case,
    analyze,
    explain_slow_cases,
    measure,
    parse_args,
    prepare_database,
    print_table,
    setup_django,
    signed_in_client,
)

USAGE_DAYS = 45
COUNTRIES = ["US", "DE", "GB", "FR", "ES", "IT", "NL", "PL", "SE", "CA", "MX", "BR"]
SPIKES = 400


def write_usage() -> None:
    from django.db import transaction

    from lib.units import KB, MB
    from products.models import Product
    from sims.models import ProductDailyUsage, Sim, SimDailyUsage, UsageSpike

    product = Product.objects.get(slug=PRODUCT_SLUG)
    if UsageSpike.objects.filter(product=product).exists():
        print("Usage already written: not writing it again.")
        return
    rng = random.Random(5)
    now = datetime.now(UTC)
    today = now.date()
    yesterday = today - timedelta(days=1)
    with transaction.atomic():
        ProductDailyUsage.objects.bulk_create(
            ProductDailyUsage(
                product=product, day=today - timedelta(days=offset), country=country,
                bytes=rng.randint(2_000, 9_000) * MB, sms=rng.randint(100, 900), records=rng.randint(50_000, 90_000),
                newest_record_at=now - timedelta(days=offset, minutes=20),
            )  # fmt: skip
            for offset in range(USAGE_DAYS)
            for country in COUNTRIES
        )
        ids = list(Sim.objects.filter(product=product, state="active").values_list("pk", flat=True)[:200_000])
        spiking = rng.sample(ids, SPIKES)
        SimDailyUsage.objects.bulk_create(
            SimDailyUsage(sim_id=sim_id, product=product, day=yesterday - timedelta(days=offset), bytes=rng.randint(100, 300) * KB)
            for sim_id in spiking
            for offset in range(1, 15)
        )
        spikes = []
        for sim_id in spiking:
            amount = rng.randint(3, 80) * MB
            SimDailyUsage.objects.create(sim_id=sim_id, product=product, day=yesterday, bytes=amount)
            spikes.append(
                UsageSpike(product=product, sim_id=sim_id, day=yesterday, bytes=amount, baseline_bytes=200 * KB,
                           spread_bytes=20 * KB, factor=amount / (200 * KB))  # fmt: skip
            )
        UsageSpike.objects.bulk_create(spikes)
    analyze()
    print(f"Wrote {USAGE_DAYS * len(COUNTRIES)} product-day rows and {SPIKES} spikes for {yesterday}.")


def build_cases() -> list[Case]:
    from sims.models import UsageSpike

    spiking_iccid = UsageSpike.objects.filter(product__slug=PRODUCT_SLUG).order_by("-factor").values_list(
        "sim__iccid", flat=True
    )[0]
    from products.fleet import active_sim_count
    from products.models import Product

    product = Product.objects.get(slug=PRODUCT_SLUG)
    sims, spiking, active = product.sims.count(), UsageSpike.objects.filter(product=product).count(), active_sim_count(product)
    return [
        Case("SIMs page, fleet header + spikes", "", matched=sims),
        Case("SIMs table, htmx fragment", "", HTMX_HEADERS, matched=sims),
        Case("spikes=1 (full page)", "spikes=1", matched=spiking),
        Case("spikes=1 (htmx table)", "spikes=1", HTMX_HEADERS, matched=spiking),
        Case("count: spikes=1", "spikes=1", view="sim_count", matched=spiking),
        Case("active SIMs (header's request)", "", view="fleet_active_sims", matched=active),
        Case("SIM page with 60-day chart", f"iccid={spiking_iccid}", view="sim_detail", matched=1),
    ]


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    prepare_database(args.sims)
    write_usage()
    cases = build_cases()
    client = signed_in_client()
    patch_sim_detail_url()
    measure(client, cases, args.repeat)
    print_table(cases, args.repeat)
    explain_slow_cases(client, cases)


def patch_sim_detail_url() -> None:
    """sim_list.page_url knows views that take the product only; the SIM page also takes an ICCID."""
    import sim_list
    from django.urls import reverse

    plain = sim_list.page_url

    def page_url(case: Case) -> str:
        if case.view == "sim_detail":
            return reverse("sim_detail", args=[PRODUCT_SLUG, case.query.removeprefix("iccid=")])
        return plain(case)

    sim_list.page_url = page_url


if __name__ == "__main__":
    main()
