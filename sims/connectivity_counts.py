"""The SIMs page's fleet connectivity: how many of a product's SIMs are online, attached, offline
(and offline for more than 24 hours) and never seen, without counting a million rows.

Triggers on SimConnectivity keep SimConnectivityDelta on both databases, whatever wrote the row (the
ingestion's upsert, the admin, a reset, a deletion), and a SIM's row follows it when it leaves or changes
product (a trigger on the SIM table): a count per status is the sum of a few rows. On PostgreSQL
(migration 0023) statement-level triggers add a row per product and status for every statement, as
SimStateDelta does for states (sims/state_counts.py), folded by the periodic work; SQLite (migration 0024)
has only row triggers, which add to one row per product and status. Counting the (product, status, since)
index instead took 500-700 ms on PostgreSQL, and the header 2.6 s on SQLite, at 1,000,000 SIMs under
load (bench/sim_list_connectivity.py). "Offline for more than 24 h" is not a status (it changes with the clock):
it is the offline count less the SIMs offline since the last 24 hours, a short range of that index. A SIM
without a row (or whose row never saw the network) was never seen: the product's SIMs less those seen.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, Sum

from products.models import Product
from sims.models import Connectivity, SimConnectivity, SimConnectivityDelta, State
from sims.state_counts import sims_in_states

LONG_OFFLINE = timedelta(hours=24)


@dataclass(frozen=True)
class FleetConnectivity:
    online: int
    attached: int
    offline: int
    offline_over_24h: int
    never_seen: int



def sims_per_status(product_id: int) -> dict[str, int]:
    rows = SimConnectivityDelta.objects.filter(product_id=product_id).values("status").order_by().annotate(sims=Sum("sims"))
    return {row["status"]: row["sims"] for row in rows}


def fleet_connectivity(product: Product, *, now: datetime) -> FleetConnectivity:
    counted = sims_per_status(product.pk)
    online, attached, offline = (counted.get(status, 0) for status in (Connectivity.ONLINE, Connectivity.ATTACHED, Connectivity.OFFLINE))
    total = sims_in_states(product_id=product.pk, states=State.values)
    return FleetConnectivity(
        online=online, attached=attached, offline=offline,
        offline_over_24h=max(offline - _offline_since(product, now - LONG_OFFLINE), 0),
        never_seen=max(total - online - attached - offline, 0),
    )  # fmt: skip


def _offline_since(product: Product, moment: datetime) -> int:
    """The product's SIMs offline since this moment or later (or since no known time: the filter never
    counts them as offline for long): a range of the (product, status, since) index."""
    recent = Q(since__gte=moment) | Q(since__isnull=True)
    return SimConnectivity.objects.filter(recent, product=product, status=Connectivity.OFFLINE).count()


def sims_in_connectivity(product: Product, value: str, *, now: datetime) -> int:
    """How many of the product's SIMs a value of the SIMs page's Connectivity filter selects
    (sims.listing.ConnectivityFilter), from the counts above: the count of the filter alone."""
    counted = sims_per_status(product.pk)
    if value in (Connectivity.ONLINE, Connectivity.ATTACHED, Connectivity.OFFLINE):
        return counted.get(value, 0)
    offline = counted.get(Connectivity.OFFLINE, 0)
    if value == "offline-24h":
        return max(offline - _offline_since(product, now - LONG_OFFLINE), 0)
    if value == "offline-7d":
        return max(offline - _offline_since(product, now - timedelta(days=7)), 0)
    seen = sum(counted.get(status, 0) for status in (Connectivity.ONLINE, Connectivity.ATTACHED, Connectivity.OFFLINE))
    return max(sims_in_states(product_id=product.pk, states=State.values) - seen, 0)  # never seen


def fold_connectivity_deltas() -> None:
    """Fold the deltas into one row per product and status (the periodic work calls this; SQLite's
    triggers keep one row already)."""
    if connection.vendor != "postgresql":
        return
    table = SimConnectivityDelta._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH folded AS (DELETE FROM {table} RETURNING product_id, status, sims) "
            f"INSERT INTO {table} (product_id, status, sims) "
            "SELECT product_id, status, SUM(sims) FROM folded GROUP BY product_id, status HAVING SUM(sims) <> 0"
        )
