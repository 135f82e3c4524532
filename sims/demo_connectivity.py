"""The demo fleet's connectivity (seed_demo): each SIM's SimConnectivity and the few network events
that led there, written in bulk beside the SIMs, so the pages have something to show from the start.

A mix decided per ICCID (no random state shared with the fleet's): online, attached, offline for hours
and for days, rejected by the network with a cause, and never seen (an issued SIM, most silent ones).
"""

from datetime import datetime, timedelta

from lib.bulk_insert import db_datetime
from sims.carriers.simulator import Profile, _fractions
from sims.carriers.simulator_events import BARRED_CAUSES, CAUSES, DEFAULT_OPERATOR, OPERATORS, imei_of, rat_of
from sims.models import Connectivity, State

CONNECTIVITY_FIELDS = [
    "sim", "product", "status", "since", "last_event_at", "last_attach_at", "last_session_start_at",
    "last_session_end_at", "operator", "country", "rat", "imei", "last_reject_at", "last_reject_cause",
]  # fmt: skip
EVENT_FIELDS = ["event_id", "sim", "product", "kind", "at", "imei", "operator", "country", "rat", "cell", "cause", "bytes", "received_at"]
# Shares among SIMs on the network with traffic: online, attached, offline for hours, for days; the rest rejected.
MIX = [(Connectivity.ONLINE, 0.35), (Connectivity.ATTACHED, 0.80), ("offline_hours", 0.92), ("offline_days", 0.98)]
SILENT_REJECTED_SHARE = 0.25


def demo_connectivity(
    sim_id: int, iccid: str, state: str, product_id: int | None, home: str, state_changed_at: datetime, now: datetime
) -> tuple[tuple | None, list[tuple]]:
    """The SIM's SimConnectivity row (None: never seen) and its network events, as bulk_insert takes them."""
    if state == State.ISSUED:
        return None, []
    roll, minutes, hours, cause_roll = _fractions(b"demo-connectivity|" + iccid.encode())
    silent = not Profile.of(iccid, home).daily_bytes
    if silent and roll >= SILENT_REJECTED_SHARE:
        return None, []
    imei, rat = imei_of(iccid), rat_of(iccid)
    operator = OPERATORS.get(home, DEFAULT_OPERATOR)
    events: list[tuple] = []

    def event(suffix: str, kind: str, at: datetime, cause: str = "", size: int = 0) -> None:
        events.append(
            (f"demo-{iccid}-{suffix}", sim_id, product_id, kind, db_datetime(at), imei, operator, home, rat, "", cause, size,
             db_datetime(at))  # fmt: skip
        )

    if state in (State.SUSPENDED, State.TERMINATED):
        kind = "offline_since_change"
    elif silent:
        kind = "rejected"
    else:
        kind = next((status for status, upto in MIX if roll < upto), "rejected")
    if kind == "rejected":
        at = now - timedelta(hours=1 + hours * 30)
        cause = (BARRED_CAUSES if silent else CAUSES)[int(cause_roll * 3)]
        event("r", "auth_reject", at, cause)
        row: tuple = (sim_id, product_id, Connectivity.OFFLINE, at, at, None, None, None, operator, home, rat, imei, at, cause)
        return _stored(row), events
    if kind == "offline_since_change":
        gone = min(state_changed_at, now - timedelta(hours=1))
        attached = gone - timedelta(hours=2 + hours * 20)
    elif kind == "offline_hours":
        gone = now - timedelta(hours=1 + hours * 20)
        attached = gone - timedelta(hours=3 + hours * 10)
    elif kind == "offline_days":
        gone = now - timedelta(days=2 + hours * 12)
        attached = gone - timedelta(hours=5)
    else:
        gone = None
        attached = now - timedelta(hours=hours * 20, minutes=minutes * 60)
    event("a", "attach", attached)
    session_start = attached + timedelta(minutes=10)
    session_end = session_start + timedelta(minutes=2 + int(minutes * 10))
    if kind == Connectivity.ONLINE:
        session_start = now - timedelta(minutes=1 + minutes * 20)
        event("s", "session_start", session_start)
        row = (sim_id, product_id, kind, session_start, session_start, attached, session_start, None, operator, home, rat, imei, None, "")
        return _stored(row), events
    event("s", "session_start", session_start)
    event("e", "session_end", session_end, size=20_000 + int(cause_roll * 400_000))
    if gone is None:
        row = (sim_id, product_id, Connectivity.ATTACHED, session_end, session_end, attached, session_start, session_end,
               operator, home, rat, imei, None, "")  # fmt: skip
        return _stored(row), events
    gone = max(gone, session_end + timedelta(minutes=1))
    event("d", "detach", gone)
    row = (sim_id, product_id, Connectivity.OFFLINE, gone, gone, attached, session_start, session_end, operator, home, rat,
           imei, None, "")  # fmt: skip
    return _stored(row), events


def _stored(row: tuple) -> tuple:
    return tuple(db_datetime(value) if isinstance(value, datetime) else value for value in row)
