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
it is the offline count less the SIMs offline since the last 24 hours, which other triggers count by the
hour they went offline (SimOfflineHourDelta, migration 0026): the sum of the whole hours since then, and
the first hour's part by a range of that index (counting the day's range took 276-578 ms at 1,000,000
SIMs under load, where 112,000 had gone offline that day). A SIM without a row (or whose row never saw
the network) was never seen: the product's SIMs less those seen.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from products.models import Product
from sims.models import Connectivity, SimConnectivity, SimConnectivityDelta, SimOfflineHourDelta, State
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
    counts them as offline for long), in one query: the hourly counters of the whole hours after the
    moment, and a range of the (product, status, since) index for the rest of its hour."""
    moment = moment.astimezone(UTC)
    hour = moment.replace(minute=0, second=0, microsecond=0)
    whole_hours = SimOfflineHourDelta.objects.filter(product_id=OuterRef("pk"), hour__gt=hour).order_by()
    rest_of_hour = SimConnectivity.objects.filter(
        Q(since__gte=moment, since__lt=hour + timedelta(hours=1)) | Q(since__isnull=True),
        product=OuterRef("pk"), status=Connectivity.OFFLINE,
    ).order_by()  # fmt: skip
    counted = Product.objects.filter(pk=product.pk).values_list(
        _scalar(whole_hours, Func(F("sims"), function="SUM")) + _scalar(rest_of_hour, Func(F("pk"), function="COUNT")), flat=True
    )
    return counted.get()


def _scalar(rows: QuerySet, total: Func) -> Coalesce:
    """The total of `rows` as a scalar subquery (0 for no rows): an aggregate function, not an annotation
    Django would group by."""
    return Coalesce(Subquery(rows.annotate(total=total).values("total")[:1]), Value(0), output_field=IntegerField())


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
    """Fold the deltas into one row per product and status, and per product and hour (the periodic work
    calls this; SQLite's triggers keep one row already)."""
    if connection.vendor != "postgresql":
        return
    for model, key in ((SimConnectivityDelta, "status"), (SimOfflineHourDelta, "hour")):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH folded AS (DELETE FROM {table} RETURNING product_id, {key}, sims) "
                f"INSERT INTO {table} (product_id, {key}, sims) "
                f"SELECT product_id, {key}, SUM(sims) FROM folded GROUP BY product_id, {key} HAVING SUM(sims) <> 0"
            )
