"""Why is this SIM not online? The likely reason from what the console knows, most specific first: its
state here, the carrier not having caught up, never seen on the network, rejected by the network, in a
device with another IMEI, attached without a data session, detached. Each with what to do.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from sims.models import Connectivity, NetworkStatus, Sim, SimConnectivity, SimEvent, State
from sims.timeline import clock

# Attached this long without a data session: idle, worth a look.
IDLE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Reason:
    code: str  # stable: tests and CSS
    title: str
    detail: str
    todo: str


def connectivity_of(sim: Sim) -> SimConnectivity | None:
    try:
        return sim.connectivity
    except SimConnectivity.DoesNotExist:
        return None


def why_offline(sim: Sim, connectivity: SimConnectivity | None, *, now: datetime | None = None) -> Reason | None:
    """None when the SIM is online (in a data session)."""
    now = now or timezone.now()
    if connectivity is not None and connectivity.status == Connectivity.ONLINE and sim.state in (State.ACTIVE, State.PROVISIONED):
        return None
    return (
        _state_here(sim)
        or _carrier(sim)
        or _never_seen(connectivity)
        or _rejected(connectivity)
        or _imei_mismatch(sim, connectivity)
        or _idle(connectivity, now)
        or _detached(connectivity)
    )


def _state_here(sim: Sim) -> Reason | None:
    if sim.state not in (State.TERMINATED, State.SUSPENDED, State.PAUSED, State.ISSUED):
        return None
    if sim.state == State.ISSUED:
        return Reason("issued", "Not activated yet", "The SIM was never put on the network.", "Activate it (or provision it for a test).")
    change = SimEvent.objects.filter(sim=sim, to_state=sim.state).order_by("-created_at", "-id").first()
    when_who = f" at {clock(change.created_at)} by {change.actor_label}" if change else f" at {clock(sim.state_changed_at)}"
    reason = f": {change.reason}" if change and change.reason else ""
    if sim.state == State.TERMINATED:
        return Reason("terminated", "Terminated here", f"Terminated{when_who}{reason}.", "It can never be used again: use another SIM.")
    if sim.state == State.SUSPENDED:
        return Reason("suspended", "Deactivated here", f"Deactivated{when_who}{reason}.", "Reactivate it.")
    return Reason(
        "paused", "Paused here", f"Paused{when_who}{reason}: its data is off.", "Unpause it, or raise its data limit."
    )


def _carrier(sim: Sim) -> Reason | None:
    if sim.network_status == NetworkStatus.PENDING:
        return Reason(
            "pending",
            "Pending on the carrier",
            f"The console's change of {clock(sim.network_since)} has not reached the carrier's network yet"
            + (f" (carrier unavailable: {sim.network_error})." if sim.network_error else "."),
            "Wait for the carrier; the console keeps trying.",
        )
    if sim.network_status == NetworkStatus.FAILED:
        return Reason("refused", "Refused by the carrier", f"The carrier refused the change: {sim.network_error}", "Retry at the carrier.")
    return None


def _never_seen(connectivity: SimConnectivity | None) -> Reason | None:
    if connectivity is not None and connectivity.last_event_at is not None:
        return None
    return Reason(
        "never_attached",
        "Never attached",
        "The network has not reported this SIM at all.",
        "Check that the SIM is in a device, and the device's power and antenna.",
    )


def _rejected(connectivity: SimConnectivity | None) -> Reason | None:
    if connectivity is None or connectivity.last_reject_at is None:
        return None
    if connectivity.last_attach_at is not None and connectivity.last_attach_at > connectivity.last_reject_at:
        return None  # attached since: the reject is history
    cause = connectivity.last_reject_cause or "no cause given"
    return Reason(
        "rejected",
        "Rejected by the network",
        f"Rejected at {clock(connectivity.last_reject_at)}: {cause}.",
        "Check that the SIM may use this network (roaming, operator) and retry at the carrier.",
    )


def _imei_mismatch(sim: Sim, connectivity: SimConnectivity | None) -> Reason | None:
    device = sim.device if sim.device_id else None
    if connectivity is None or device is None or not connectivity.imei or not device.imei or connectivity.imei == device.imei:
        return None
    return Reason(
        "imei_mismatch",
        "IMEI differs from the device's",
        f"The network saw IMEI {connectivity.imei}; its device {device} has IMEI {device.imei}.",
        "Check that the SIM is in the right device, or correct the device's IMEI.",
    )


def _idle(connectivity: SimConnectivity | None, now: datetime) -> Reason | None:
    if connectivity is None or connectivity.status != Connectivity.ATTACHED:
        return None
    last = max((t for t in (connectivity.last_session_end_at, connectivity.last_session_start_at) if t), default=None)
    if last is None:
        return Reason(
            "no_session",
            "Attached, never a data session",
            f"Attached since {clock(connectivity.since or connectivity.last_attach_at)}, without any data session.",
            "Check the device's APN and that its application opens a connection.",
        )
    if now - last < IDLE_AFTER:
        return Reason(
            "between_sessions",
            "Attached, between data sessions",
            f"Last data session ended {clock(last)}.",
            "Nothing: the device opens a session when it has data.",
        )
    days = (now - last).days
    return Reason(
        "no_session",
        f"No data session for {days} day{'s' if days != 1 else ''}",
        f"Attached, but the last data session ended {clock(last)}.",
        "Check the device's APN and that its application opens a connection.",
    )


def _detached(connectivity: SimConnectivity | None) -> Reason | None:
    if connectivity is None:
        return None
    since = connectivity.since or connectivity.last_event_at
    return Reason(
        "detached",
        f"Detached since {clock(since)}",
        "The device left the network" + (f" (last on {connectivity.operator})." if connectivity.operator else "."),
        "Check the device's power and antenna, and its coverage where it is.",
    )


def reset_waiting(connectivity: SimConnectivity | None) -> datetime | None:
    """When a reset of connectivity was asked and no attach has come since (None: nothing waiting)."""
    if connectivity is None or connectivity.reset_requested_at is None:
        return None
    if connectivity.last_attach_at is not None and connectivity.last_attach_at > connectivity.reset_requested_at:
        return None
    return connectivity.reset_requested_at
