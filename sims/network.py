"""Where the network stands for each SIM: the state a SIM should be in on its carrier's network, and
whether the carrier has caught up with the console.

The console's state is what the team decided; the carrier's network follows through the push worker
(carriers/push.py). A lifecycle change that changes what the network should do marks the SIM
`pending` in the change's own transaction (the outbox: the intent is the SIM's state and its
network version); the worker brings the carrier there and marks it `synced`, or `failed` with the
carrier's reason when the carrier refused.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db.models import F

from sims.models import NetworkStatus, State

__all__ = ["NetworkStatus", "TARGET_OF_STATE", "Target", "changes_network", "pending_updates"]


class Target(StrEnum):
    """The state a SIM should be in on the network."""

    ACTIVE = "active"  # on the network, data flowing (a provisioned SIM too: its test traffic)
    PAUSED = "paused"  # registered, no data (paused at its data limit)
    SUSPENDED = "suspended"  # off the network (deactivated, removed from its product)
    TERMINATED = "terminated"  # gone for good


# DESIGN.md's "on the network" column. An issued SIM was never put on the network: nothing to do.
TARGET_OF_STATE: dict[str, Target | None] = {
    State.ISSUED: None,
    State.PROVISIONED: Target.ACTIVE,
    State.ACTIVE: Target.ACTIVE,
    State.PAUSED: Target.PAUSED,
    State.SUSPENDED: Target.SUSPENDED,
    State.TERMINATED: Target.TERMINATED,
}


def changes_network(*, from_state: str, to_state: str, action: str) -> bool:
    """Does this change need the carrier? A change of target, an import (the SIM is registered on
    its account), or a new data limit (carriers that enforce one)."""
    if action in ("import", "set_data_limit"):
        return TARGET_OF_STATE[to_state] is not None
    return TARGET_OF_STATE[from_state] != TARGET_OF_STATE[to_state]


def pending_updates(now: datetime) -> dict[str, Any]:
    """The fields that mark a SIM's change as waiting for the network (a newer change supersedes an
    older one still pending or refused: the worker sends the state the SIM is in when it runs)."""
    return {
        "network_status": NetworkStatus.PENDING,
        "network_version": F("network_version") + 1,
        "network_since": now,
        "network_error": "",
        "network_attempts": 0,
        "network_retry_at": None,
    }
