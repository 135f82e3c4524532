"""The SIMs page's fleet connectivity: how many of a product's SIMs are online, attached, offline
(and offline for more than 24 hours) and never seen.

Read from SimConnectivity's (product, status, since) index: a count per status is a range of it,
and "offline for more than 24 h" a range within the offline one. A SIM without a row was never seen:
the product's SIMs (SimStateDelta's few rows on PostgreSQL, sims/state_counts.py) less those seen.
It is counted in a request of its own after the page, as the active SIMs are (bench/sim_list_connectivity.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from products.models import Product
from sims.models import Connectivity, SimConnectivity, State
from sims.state_counts import sims_in_states

LONG_OFFLINE = timedelta(hours=24)


@dataclass(frozen=True)
class FleetConnectivity:
    online: int
    attached: int
    offline: int
    offline_over_24h: int
    never_seen: int


def fleet_connectivity(product: Product, *, now: datetime) -> FleetConnectivity:
    rows = SimConnectivity.objects.filter(product=product).values("status").order_by()
    counted = {
        row["status"]: (row["sims"], row["long"])
        for row in rows.annotate(sims=Count("pk"), long=Count("pk", filter=Q(status=Connectivity.OFFLINE, since__lt=now - LONG_OFFLINE)))
    }
    online, attached = counted.get(Connectivity.ONLINE, (0, 0))[0], counted.get(Connectivity.ATTACHED, (0, 0))[0]
    offline, offline_over_24h = counted.get(Connectivity.OFFLINE, (0, 0))
    total = sims_in_states(product_id=product.pk, states=State.values)
    return FleetConnectivity(
        online=online, attached=attached, offline=offline, offline_over_24h=offline_over_24h,
        never_seen=max(total - online - attached - offline, 0),
    )  # fmt: skip
