"""What SIM Console asks of a carrier account, whatever the carrier: the adapter interface.

An adapter is built per carrier account, from the account's settings and decrypted credentials
(`Adapter(settings=..., credentials=...)`), and is used by one worker thread at a time.

The console never calls an adapter from a request, except to check a claim at import (`holds`,
`register`) and to test an account's credentials (`check`). Every change of a SIM reaches the
network through the push worker (carriers/push.py), which hands the adapter the state each SIM
should be in (`NetworkChange`), a batch at a time, and records each `Result`.

Two kinds of failure, kept apart because the console treats them differently:
- a refusal of one SIM (`Result(ok=False, reason=...)`): the carrier understood and said no (the
  SIM is not on this account, a terminated SIM cannot be resumed). The SIM shows the carrier's
  reason and a Retry button; nothing is retried by itself.
- `CarrierUnavailable` raised for the whole call (a timeout, a 5xx, a 429, bad credentials): the
  SIMs stay pending and the worker tries again later, with backoff.

Every change is a state to reach, not a step to take: sending the same NetworkChange twice leaves
the network as sending it once did (the idempotency the push worker relies on when a worker dies
between the carrier's answer and the database).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sims.network import Target

if TYPE_CHECKING:
    from sims.network_events import NetworkEventRow
    from sims.usage import UsageRow

__all__ = ["Adapter", "Capability", "CarrierSim", "CarrierUnavailable", "IncomingSms", "NetworkChange", "Result", "SmsReport", "Target"]


class Capability(StrEnum):
    """What an adapter can do on the network; the console hides the actions a SIM's carrier cannot do."""

    ACTIVATE = "activate"  # register a SIM and open it for network access
    SUSPEND = "suspend"  # take it off the network (the console's deactivate and remove)
    RESUME = "resume"  # put a suspended SIM back (reactivate)
    PAUSE_DATA = "pause_data"  # stop its data at the limit, keeping it registered (or the adapter's stand-in, documented)
    TERMINATE = "terminate"  # end it for good
    DATA_LIMIT = "data_limit"  # the carrier enforces the SIM's data limit itself
    USAGE = "usage"  # usage records can be fetched
    INVENTORY = "inventory"  # the account's SIMs can be listed, with their states (reconciliation, import from account)
    CLAIM_WITH_PROOF = "claim_with_proof"  # a SIM not yet on the account is registered with a code printed on its card
    CONNECTIVITY = "connectivity"  # network events can be fetched (`network_events`); reset connectivity
    SMS = "sms"  # send SMS to a SIM, follow their delivery, receive the SMS devices send


@dataclass(frozen=True)
class NetworkChange:
    """One SIM's state to reach: `key` is unique per change of that SIM (ICCID and version), the
    idempotency key an adapter passes on where its carrier takes one."""

    iccid: str
    target: Target
    data_limit_mb: int | None
    key: str


@dataclass(frozen=True)
class Result:
    iccid: str
    ok: bool
    # The carrier's own words when it refused, short enough for a table cell (300 characters at most).
    reason: str = ""
    # send_sms: the carrier's id of the message taken, to ask for its delivery later.
    message_id: str = ""


@dataclass(frozen=True)
class SmsReport:
    """A message's delivery as the carrier knows it now: "sent" (on its way), "delivered" or "failed"."""

    message_id: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class IncomingSms:
    """An SMS a device sent (mobile originated), as the carrier received it."""

    message_id: str
    iccid: str
    body: str
    received_at: datetime


@dataclass(frozen=True)
class CarrierSim:
    """A SIM as the carrier sees it (inventory listing, reconciliation)."""

    iccid: str
    # Mapped to the console's vocabulary; None when the SIM is on the account but was never registered/activated.
    target: Target | None
    # The carrier's own name for the status ("inactive", "Suspended"), shown beside ours in reconciliation.
    carrier_status: str
    changed_at: datetime | None = None


class CarrierUnavailable(Exception):
    """The carrier could not be asked (timeout, 5xx, 429, wrong credentials): try again later.
    The message says what happened in words a person can act on."""


class Adapter(Protocol):
    # A stable short name ("simulator", "twilio", "emnify"), stored on the account.
    code: ClassVar[str]
    # What people see ("Twilio Super SIM").
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    # The credential fields the account form asks for: name -> label. Stored encrypted, never shown again.
    credential_fields: ClassVar[dict[str, str]]
    # How many NetworkChanges `apply` takes at once (the carrier's bulk call, or a pool of single calls).
    batch_size: ClassVar[int]

    def __init__(self, *, settings: dict[str, Any], credentials: dict[str, str]) -> None: ...

    def check(self) -> str:
        """Test the credentials with one cheap call: a phrase for the person ("Account AC12… reached, 3 fleets").
        Raises CarrierUnavailable with the reason."""
        ...

    def apply(self, changes: list[NetworkChange]) -> list[Result]:
        """Bring each SIM to its target; one Result per change, in any order. Raises CarrierUnavailable
        when the carrier could not be asked at all (the whole batch is then retried later)."""
        ...

    def holds(self, iccids: list[str]) -> set[str]:
        """The ICCIDs among these that are on this account (a claim at import is refused otherwise)."""
        ...

    def register(self, iccid: str, proof: str) -> Result:
        """Put a SIM on this account with the code the carrier asks for (Twilio's registration code,
        emnify's batch identification code). Only with Capability.CLAIM_WITH_PROOF."""
        ...

    def sims(self) -> Iterator[CarrierSim]:
        """Every SIM on the account, as the carrier sees it. Only with Capability.INVENTORY."""
        ...

    def usage_records(self, *, iccids: list[str], since: datetime, until: datetime) -> Iterator["UsageRow"]:
        """Usage records that ended in (since, until], as sims.usage ingests them. Only with Capability.USAGE."""
        ...

    def network_events(self, *, iccids: list[str], since: datetime, until: datetime) -> Iterator["NetworkEventRow"]:
        """What the network saw of these SIMs in (since, until] (attach, detach, sessions, location updates,
        rejects), as sims.network_events ingests them. Only with Capability.CONNECTIVITY."""
        ...

    def reset_connectivity(self, iccid: str) -> Result:
        """Ask the network to detach the SIM so that its device attaches again (emnify's "reset
        connectivity"). The Result says whether the carrier took the request; the next attach event shows
        it worked. Only with Capability.CONNECTIVITY. Raises CarrierUnavailable when it could not be asked."""
        ...

    def send_sms(self, iccid: str, body: str) -> Result:
        """Hand one SMS to the carrier for the SIM: Result(ok=True, message_id=the carrier's id) once
        taken; a refusal of this SIM as Result(ok=False, reason=...); CarrierUnavailable when the carrier
        could not be asked (the message stays queued and is tried again). Only with Capability.SMS."""
        ...

    def sms_reports(self, message_ids: list[str]) -> list[SmsReport]:
        """Where each message sent is now (the ones the carrier knows). Only with Capability.SMS."""
        ...

    def received_sms(self, *, since: datetime, until: datetime) -> Iterator[IncomingSms]:
        """The SMS devices of this account sent that reached the carrier in (since, until]. Only with Capability.SMS."""
        ...
