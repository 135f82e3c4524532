"""How many of a product's SIMs are in some states, without counting a million rows.

On PostgreSQL, triggers on the SIM table (migration 0010) add a SimStateDelta row per product and
state for every statement that moves SIMs in or out of a state or a product, whatever wrote it:
the lifecycle, an import's set-based SQL, seed_demo's COPY, the admin. A count is then the sum of
a few rows (a count of the index took 145 ms for 750,000 SIMs). SQLite has only row triggers
(migration 0024): they add to one row per product and state. Counting its (product, state, iccid)
index took 40-85 ms for a million SIMs, too much for the fleet header's "never seen"; the triggers
cost an insert of 200,000 SIMs 5-15% more (bench/README.md, sim_list_connectivity.py).
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import Sum

from sims.models import SimStateDelta


def sims_in_states(*, product_id: int, states: Iterable[str]) -> int:
    deltas = SimStateDelta.objects.filter(product_id=product_id, state__in=list(states))
    return deltas.aggregate(total=Sum("sims"))["total"] or 0


def fold_state_deltas() -> None:
    """Fold the deltas into one row per product and state (the periodic work calls this).
    Rows added meanwhile are not in the statement's snapshot: they stay, and count."""
    if connection.vendor != "postgresql":
        return
    table = SimStateDelta._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH folded AS (DELETE FROM {table} RETURNING product_id, state, sims) "
            f"INSERT INTO {table} (product_id, state, sims) "
            "SELECT product_id, state, SUM(sims) FROM folded GROUP BY product_id, state HAVING SUM(sims) <> 0"
        )
