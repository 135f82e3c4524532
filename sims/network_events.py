"""Network events: what the carrier's network saw of each SIM, and the connectivity kept from them.

Rows arrive from the carrier (pushed to the carrier endpoint, or fetched through its adapter on the
periodic tick) as NetworkEventRow; `ingest_network_events` stores the new ones (the event id makes it
idempotent, as a usage record's id does), keeps each SIM's SimConnectivity, and then sends
`network_events_ingested` so that what reacts to them (devices: which SIM is in which device, the IMEI
lock) does so without sims knowing of it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

# Sent after each chunk of events commits, with `events`: the newly stored ones, as a list of
# (sim_id, product_id, NetworkEventRow). Receivers run outside the chunk's transaction.
network_events_ingested = Signal()


@dataclass(frozen=True)
class NetworkEventRow:
    event_id: str
    iccid: str
    kind: str  # sims.models.NetworkEvent.Kind
    at: datetime
    imei: str = ""
    operator: str = ""
    country: str = ""
    rat: str = ""
    cell: str = ""
    cause: str = ""
    bytes: int = 0
    # Where the row came from (a pushed list's index + 1), for the report.
    line: int = 0
