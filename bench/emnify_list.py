"""Server time of emnify's SIM list (GET /api/v1/sim, api/emnify.py) at a million SIMs.

Standalone, not part of the pytest run. Uses its own database: migrates it and loads N SIMs into
one product on first run (a quick raw insert: states mixed, 1 in 10 not active), then times whole
requests through Django's test Client: the first page, the last page (the deepest OFFSET), a
status filter, an ICCID search, a sort by id, and one SIM.

    .venv/bin/python bench/emnify_list.py                      # SQLite in /tmp
    .venv/bin/python bench/emnify_list.py --database-url postgres://postgres@127.0.0.1:5432/bench_emnify
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:////tmp/bench_emnify_list.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--sims", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    # Production settings, over plain http (the test client): HTTPS=0, or every answer is a redirect.
    os.environ.update(DATABASE_URL=args.database_url, DEBUG="0", HTTPS="0", SECRET_KEY="bench", ALLOWED_HOSTS="testserver")
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from api.models import Scope
    from api.tokens import create_token
    from products.models import Membership, Product
    from sims.models import Sim

    call_command("migrate", verbosity=0)
    product, _ = Product.objects.get_or_create(slug="bench-emnify", defaults={"name": "Bench emnify"})
    have = Sim.objects.filter(product=product).count()
    if have < args.sims:
        print(f"loading {args.sims - have:,} SIMs ...", flush=True)
        _load(product, have, args.sims)
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-emnify")
    Membership.objects.get_or_create(user=user, product=product)
    _, secret = create_token(user=user, name="bench", product=product, scopes=list(Scope.values))
    client = Client()
    auth = client.post("/api/v1/authenticate", {"application_token": secret}, content_type="application/json").json()["auth_token"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {auth}"}
    total = Sim.objects.filter(product=product).count()
    last_page = -(-total // 2000)
    some = Sim.objects.filter(product=product).order_by("iccid").values_list("pk", "iccid")[total // 2]
    cases = {
        "first page (2000)": "/api/v1/sim",
        f"last page ({last_page})": f"/api/v1/sim?page={last_page}",
        "status:2, page 3": "/api/v1/sim?q=status:2&page=3",
        "status:1, last page": f"/api/v1/sim?q=status:1&page={int(total * 0.9) // 2000}",
        "iccid search (9 digits)": f"/api/v1/sim?q=iccid:{some[1][-9:]}",
        "sort=-id, page 2": "/api/v1/sim?sort=-id&page=2",
        "one SIM": f"/api/v1/sim/{some[0]}",
    }
    print(f"{total:,} SIMs on {args.database_url.split(':')[0]}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'case':28} {'median ms':>10} {'max ms':>8}  rows")
    for name, url in cases.items():
        times, rows = [], 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            rows = len(body) if isinstance(body, list) else 1
        print(f"{name:28} {statistics.median(times):10.1f} {max(times):8.1f}  {rows}")


def _load(product, have: int, want: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from lib.bulk_insert import db_datetime
    from sims.iccid import luhn_check_digit

    now = db_datetime(timezone.now())
    states = ["active"] * 9 + ["suspended"]
    batch = 50_000
    with connection.cursor() as cursor:
        for start in range(have, want, batch):
            rows = []
            for n in range(start, min(start + batch, want)):
                body = f"8944{n:014d}"
                rows.append((body + luhn_check_digit(body), product.pk, states[n % 10], now, "US", 0, 0, now))
            with transaction.atomic():
                cursor.executemany(
                    "INSERT INTO sims_sim (iccid, product_id, state, state_changed_at, home_country, activations_count,"
                    " deactivations_count, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE sims_sim") if connection.get_autocommit() else None
        else:
            cursor.execute("ANALYZE")


if __name__ == "__main__":
    main()
