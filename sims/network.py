"""Where the network stands for each SIM: the state a SIM should be in on its carrier's network, and
whether the carrier has caught up with the console.

The console's state is what the team decided; the carrier's network follows through the push worker
(carriers/push.py). A lifecycle change that changes what the network should do marks the SIM
`pending` in the change's own transaction (the outbox: the intent is the SIM's state and its
network version); the worker brings the carrier there and marks it `synced`, or `failed` with the
carrier's reason when the carrier refused.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db.models import F

from sims.models import NetworkStatus, Sim, State

__all__ = [
    "CAPABILITY_NEEDED", "NetworkStatus", "TARGET_OF_STATE", "Target", "adapter_can", "adapters_unable", "carrier_can",
    "changes_network", "pending_updates", "provide_capabilities", "refusal",
]  # fmt: skip


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


# --- What a SIM's carrier can do ---------------------------------------------------------------------
# The console hides (and refuses) an action the SIM's carrier cannot carry out. The capabilities are
# the carrier adapters' (carriers.adapters.base.Capability values); carriers provides the lookup at
# start-up (carriers/apps.py), so this layer reads them without importing carriers.

# The capability each console action needs on the network (None: nothing of the carrier's).
CAPABILITY_NEEDED: dict[str, str | None] = {
    "provision": "activate",
    "activate": "activate",
    "pause": "pause_data",
    "unpause": "pause_data",
    "deactivate": "suspend",
    "remove": "suspend",
    "reactivate": "resume",
    "terminate": "terminate",
    "set_data_limit": None,
    "set_home_country": None,
    "import": None,
    "reset_connectivity": "connectivity",
}
BUILT_IN_ADAPTER = "simulator"  # the adapter of SIMs without a carrier account

_capabilities_of: Callable[[str], frozenset[str]] | None = None


def provide_capabilities(lookup: Callable[[str], frozenset[str]]) -> None:
    """Called by carriers at start-up: adapter code -> the capabilities' values."""
    global _capabilities_of
    _capabilities_of = lookup


def adapter_can(adapter: str, action: str) -> bool:
    """Whether a carrier adapter (by code) can carry out a console action. Without the lookup (carriers
    not installed) everything is allowed, as before carriers existed."""
    needed = CAPABILITY_NEEDED.get(action)
    if needed is None or _capabilities_of is None:
        return True
    try:
        return needed in _capabilities_of(adapter)
    except LookupError:
        return False


def adapter_of(sim: Sim) -> str:
    """The adapter code of the SIM's carrier (its account is read: select_related it for many SIMs)."""
    account = sim.carrier_account if sim.carrier_account_id else None
    return account.adapter if account is not None else BUILT_IN_ADAPTER


def carrier_can(sim: Sim, action: str) -> bool:
    return adapter_can(adapter_of(sim), action)


def carrier_refusal(sim: Sim, action: str) -> str | None:
    """None when the SIM's carrier can carry out the action; else what a person or a script reads."""
    if carrier_can(sim, action):
        return None
    account = sim.carrier_account if sim.carrier_account_id else None
    return refusal(action, account.name if account is not None else "Built-in simulator")


def adapters_unable(adapters: Iterable[str], action: str) -> list[str]:
    return [adapter for adapter in adapters if not adapter_can(adapter, action)]


def refusal(action: str, carrier: str, count: int = 1) -> str:
    """What a person reads when the carrier cannot do it."""
    needed = CAPABILITY_NEEDED.get(action) or action
    sims = "this SIM" if count == 1 else f"{count:,} of these SIMs"
    return (
        f"{action.replace('_', ' ').capitalize()} is not possible for {sims}: the carrier ({carrier}) cannot "
        f"{needed.replace('_', ' ')} a SIM. Do it in the carrier's own console, or choose another action."
    )
