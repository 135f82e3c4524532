"""Twilio Super SIM, through Twilio's own Python library (`twilio`).

How the console's targets (sims.network.Target) become Super SIM states:

- ACTIVE: the Sim's status `active`, in the Fleet of its data limit (below: the console always
  sends one, the SIM's own, its product's default or 5 MB); a change without a limit goes to the
  account's active Fleet (settings `active_fleet`, default "simconsole-active"), data enabled.
- PAUSED: Twilio has no pause of one SIM. The stand-in: the status stays `active` (the SIM stays
  registered, its SMS commands keep working) and the SIM moves to the paused Fleet (`paused_fleet`,
  default "simconsole-paused"), created with DataEnabled=false: no data until it moves back.
- SUSPENDED: the status `inactive` (the Fleet is left as it is).
- TERMINATED: Super SIM's API has no termination (its statuses are new, ready, active, inactive
  and scheduled; a SIM leaves an account only by a transfer or through Twilio's support). The
  adapter makes the SIM `inactive`, the nearest the API allows, and `capabilities` does not claim
  TERMINATE (the console hides Terminate for Twilio's SIMs; ending a Super SIM for good is a
  request to Twilio's support). An inactive Super SIM has no network access.
- The data limit: Twilio enforces it per Fleet (DataLimit, in MB per billing period). The adapter
  keeps one Fleet per limit, "simconsole-<N>mb" (`fleet_prefix`), created on first need with the
  Network Access Profile of the active Fleet (or `network_access_profile`), found again by its
  unique name; a SIM with a limit of N MB is put in it. So DATA_LIMIT holds. A limit of 0 MB (no
  data at all; Twilio's smallest is 1 MB) puts the SIM in the paused Fleet.

- CONNECTIVITY is not claimed. Super SIM's connection events (attachment accepted, rejected or
  failed; data sessions started, updated, ended) reach a customer only through Twilio's Event
  Streams, pushed to a sink; the Super SIM API (v1, the published description) lists none of them,
  and it has no reset of a SIM's connectivity: an SMS or IP Command reaches the device, it does not
  detach the SIM, and moving the SIM between Fleets or statuses to force a re-attach would be a
  change of state the console did not decide. So the console hides Reset connectivity for Twilio's
  SIMs and says why, as it does for Terminate.

Each change is one POST /v1/Sims/{Sid} (Status and Fleet: the state to reach, so sending it twice
leaves Twilio as sending it once did), after finding the Sim's SID by its ICCID (GET
/v1/Sims?Iccid=..., or the whole account's listing, a page of 1,000 per call, when a batch is
large). Twilio has no bulk update: `apply` sends a batch's requests through a pool of `workers`
threads (settings, default 32), a Client each. Super SIM's API takes no idempotency key (the
`I-Twilio-Idempotency-Token` header is one Twilio sends on its webhooks, not one it reads): the
changes are states, and tests/carriers/test_twilio.py proves that sending one twice is harmless.

Failures: a 429, a 5xx, a 401/403 (wrong credentials), a timeout or a refused connection raise
CarrierUnavailable for the whole batch (the push worker retries it later); a 4xx about one SIM (404
not on the account, 400 a state Twilio refuses) is that SIM's Result(ok=False) with Twilio's message.

Settings (CarrierAccount.settings, not secret): `api_base_url` (another host for the Super SIM API:
a test server), `active_fleet`, `paused_fleet`, `fleet_prefix`, `network_access_profile`,
`timeout_s` (10), `workers` (32). Credentials: `account_sid` and `auth_token`, or an API key
(`api_key_sid`, `api_key_secret`) with the account SID.
"""

import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests  # type: ignore[import-untyped]
from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from carriers.adapters.base import Capability, CarrierSim, CarrierUnavailable, IncomingSms, NetworkChange, Result, SmsReport, Target
from sims.usage import UsageRow

PAGE_SIZE = 1000  # the API's largest page
# A batch with more SIMs than this whose SIDs are not known yet reads the account's whole listing
# (a call per 1,000 SIMs) instead of a lookup per SIM.
LIST_WHEN_MORE_THAN = 200
NOT_ON_ACCOUNT = "This SIM is not on the Twilio account (no Super SIM with this ICCID): register it with its registration code, or check the account."


class TwilioSuperSimAdapter:
    code: ClassVar[str] = "twilio"
    label: ClassVar[str] = "Twilio Super SIM"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.ACTIVATE,
            Capability.SUSPEND,
            Capability.RESUME,
            Capability.PAUSE_DATA,  # a Fleet with data disabled (module docstring)
            Capability.DATA_LIMIT,  # a Fleet per limit
            Capability.USAGE,
            Capability.INVENTORY,
            Capability.CLAIM_WITH_PROOF,
            Capability.SMS,  # SMS Commands
        }
    )  # No TERMINATE: the API has none (module docstring).
    credential_fields: ClassVar[dict[str, str]] = {
        "account_sid": "Account SID (AC…)",
        "auth_token": "Auth token (leave empty with an API key)",
        "api_key_sid": "API key SID (SK…, optional, instead of the auth token)",
        "api_key_secret": "API key secret",
    }
    # Either way in: the auth token, or an API key (the account form asks for one of them, no more).
    credentials_needed: ClassVar[list[tuple[str, ...]]] = [("account_sid", "auth_token"), ("account_sid", "api_key_sid", "api_key_secret")]
    batch_size: ClassVar[int] = 500

    def __init__(self, *, settings: dict[str, Any], credentials: dict[str, str]) -> None:
        self.settings = settings
        self.credentials = credentials
        self.base_url = (settings.get("api_base_url") or "").rstrip("/")
        self.active_fleet = settings.get("active_fleet") or "simconsole-active"
        self.paused_fleet = settings.get("paused_fleet") or "simconsole-paused"
        self.fleet_prefix = settings.get("fleet_prefix") or "simconsole"
        self.timeout = float(settings.get("timeout_s") or 10)
        self.workers = int(settings.get("workers") or 32)
        self._local = threading.local()
        self._sids: dict[str, str] = {}  # ICCID -> Sim SID, as found
        self._listed = False
        self._fleets: dict[str, str] = {}  # unique name -> Fleet SID, as found or created
        self._pool: ThreadPoolExecutor | None = None

    # --- The library ---------------------------------------------------------------------------

    def _client(self) -> Client:
        """A Client per thread: the library's HTTP session is not shared between threads."""
        client = getattr(self._local, "client", None)
        if client is None:
            account_sid = self.credentials.get("account_sid", "")
            if self.credentials.get("api_key_sid"):
                username, password = self.credentials["api_key_sid"], self.credentials.get("api_key_secret", "")
            else:
                username, password = account_sid, self.credentials.get("auth_token", "")
            if not account_sid or not password:
                raise CarrierUnavailable(
                    "The Twilio account has no credentials: enter the account SID and the auth token (or an API key) on the carrier account."
                )
            client = Client(username, password, account_sid, http_client=TwilioHttpClient(timeout=self.timeout))
            if self.base_url:
                client.supersim.base_url = self.base_url
            self._local.client = client
        return client

    def _unavailable(self, error: Exception) -> CarrierUnavailable | None:
        """The words for a failure of the whole call, or None for a refusal of one SIM."""
        if isinstance(error, requests.Timeout):
            return CarrierUnavailable(f"Twilio did not answer within {self.timeout:g} s: it is tried again shortly.")
        if isinstance(error, requests.RequestException):
            return CarrierUnavailable(f"Twilio could not be reached ({type(error).__name__}): it is tried again shortly.")
        status = _status(error)
        if status in (401, 403):
            return CarrierUnavailable(
                f"Twilio refused the credentials ({status}): check the account SID and the auth token (or API key) on the carrier account."
            )
        if status == 429:
            return CarrierUnavailable("Twilio asked to slow down (429, too many requests): it is tried again shortly.")
        if status >= 500 or not status:
            return CarrierUnavailable(f"Twilio answered with an error ({status or 'no status'}): it is tried again shortly.")
        return None

    def _call(self, what: Any, *, listing: bool = False) -> Any:
        """Run a call of the library; raise CarrierUnavailable, or TwilioRestException for a 4xx refusal.
        `listing`: a call about no one SIM (a listing, a lookup by ICCID), whose 4xx refuses nothing in
        particular: the API is not where api_base_url says, or not Twilio's (CarrierUnavailable too)."""
        try:
            return what()
        except (TwilioException, requests.RequestException) as error:
            unavailable = self._unavailable(error)
            if unavailable is not None:
                raise unavailable from error
            if listing:
                raise CarrierUnavailable(
                    f"Twilio answered a listing with HTTP {_status(error)}: check api_base_url in the carrier account's settings "
                    "(empty: Twilio's own API)."
                ) from error
            raise

    @staticmethod
    def _message(error: TwilioException) -> str:
        """Twilio's own words, without the library's "Unable to update record: "."""
        text = getattr(error, "msg", "") or str(error)
        return text.split(": ", 1)[1] if text.startswith("Unable to ") and ": " in text else text

    # --- The interface -------------------------------------------------------------------------

    def check(self) -> str:
        client = self._client()
        fleets = self._call(lambda: client.supersim.v1.fleets.list(limit=50, page_size=50), listing=True)
        return f"Account {self.credentials.get('account_sid', '')[:8]}… reached: {len(fleets)} Super SIM fleets."

    def holds(self, iccids: list[str]) -> set[str]:
        """A lookup per ICCID, a few at a time; many at once read the account's listing instead."""
        self._find_sids(iccids)
        unknown = [iccid for iccid in iccids if iccid not in self._sids]
        if unknown and not self._listed:
            list(self._executor().map(self._sid, unknown))
        return {iccid for iccid in iccids if iccid in self._sids}

    def register(self, iccid: str, proof: str) -> Result:
        client = self._client()
        try:
            sim = self._call(lambda: client.supersim.v1.sims.create(iccid=iccid, registration_code=proof))
        except TwilioException as error:
            return Result(iccid, False, self._message(error)[:300])
        self._sids[iccid] = sim.sid
        return Result(iccid, True)

    def apply(self, changes: list[NetworkChange]) -> list[Result]:
        if not changes:
            return []
        self._find_sids([change.iccid for change in changes])
        fleets = {change.data_limit_mb: self._fleet_for(change) for change in changes if change.target == Target.ACTIVE}
        if any(change.target == Target.PAUSED for change in changes):
            self._ensure_fleet(self.paused_fleet, data_enabled=False)
        futures: list[Future[Result]] = [self._executor().submit(self._apply_one, change, fleets) for change in changes]
        done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
        for future in not_done:
            future.cancel()
        for future in done:
            if future.exception() is not None:
                wait(not_done)  # the ones already running finish before the batch is given back
                raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]

    def _executor(self) -> ThreadPoolExecutor:
        """The pool of threads that send single requests in parallel (Twilio has no bulk call)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="twilio")
        return self._pool

    def _apply_one(self, change: NetworkChange, fleets: dict[int | None, str]) -> Result:
        sim_sid = self._sids.get(change.iccid) or self._sid(change.iccid)
        if sim_sid is None:
            return Result(change.iccid, False, NOT_ON_ACCOUNT)
        match change.target:
            case Target.ACTIVE:
                fields = {"status": "active", "fleet": fleets[change.data_limit_mb]}
            case Target.PAUSED:
                fields = {"status": "active", "fleet": self.paused_fleet}
            case _:  # SUSPENDED, and TERMINATED as near as the API allows (module docstring)
                fields = {"status": "inactive"}
        client = self._client()
        try:
            self._call(lambda: client.supersim.v1.sims(sim_sid).update(**fields))
        except TwilioException as error:
            return Result(change.iccid, False, self._message(error)[:300])
        return Result(change.iccid, True)

    def sims(self) -> Iterator[CarrierSim]:
        client = self._client()
        fleets = {fleet.sid: fleet for fleet in self._call(lambda: client.supersim.v1.fleets.list(page_size=PAGE_SIZE), listing=True)}
        for sim in self._stream(lambda: client.supersim.v1.sims.stream(page_size=PAGE_SIZE)):
            fleet = fleets.get(sim.fleet_sid)
            target: Target | None
            if sim.status == "active":
                target = Target.ACTIVE if fleet is None or fleet.data_enabled is not False else Target.PAUSED
            elif sim.status == "inactive":
                target = Target.SUSPENDED
            else:
                target = None  # new, ready, scheduled: never put to use yet, or a change under way
            status = sim.status + (f" ({fleet.unique_name or fleet.sid})" if fleet is not None else "")
            yield CarrierSim(sim.iccid, target, status, sim.date_updated)

    def usage_records(self, *, iccids: list[str], since: datetime, until: datetime) -> Iterator[UsageRow]:
        """The account's hourly usage per SIM (Group=sim, Granularity=hour), for the SIMs asked. A
        record's id is the Sim's SID and the hour's start: the same hour read again is the same
        record. An hour that has not ended by `until` is left for the next read."""
        wanted = set(iccids)
        if not wanted:
            return
        self._find_sids(iccids)
        if not self._listed:
            for unknown in wanted - self._sids.keys():
                self._sid(unknown)
        iccid_of = {sid: iccid for iccid, sid in self._sids.items() if iccid in wanted}
        client = self._client()
        start = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        end = until.astimezone(UTC) + timedelta(hours=1)
        records = self._stream(
            lambda: client.supersim.v1.usage_records.stream(
                group="sim", granularity="hour", start_time=start, end_time=end, page_size=PAGE_SIZE
            )
        )
        for record in records:
            iccid = iccid_of.get(record.sim_sid or "")
            period = record.period or {}
            if iccid is None or not period:
                continue
            started, ended = _time(period["start_time"]), _time(period["end_time"])
            if not since < ended <= until:
                continue
            yield UsageRow(
                record_id=f"twilio:{record.sim_sid}:{started.strftime('%Y%m%dT%H%M')}",
                iccid=iccid,
                started_at=started,
                ended_at=ended,
                bytes_up=record.data_upload or 0,
                bytes_down=record.data_download or 0,
                sms=0,
                country=(record.iso_country or "").upper(),
            )

    # --- SMS Commands --------------------------------------------------------------------------

    def send_sms(self, iccid: str, body: str) -> Result:
        """POST /v1/SmsCommands (Sim, Payload): the command's SID is the message's id."""
        sim_sid = self._sids.get(iccid) or self._sid(iccid)
        if sim_sid is None:
            return Result(iccid, False, NOT_ON_ACCOUNT)
        client = self._client()
        try:
            command = self._call(lambda: client.supersim.v1.sms_commands.create(sim=sim_sid, payload=body))
        except TwilioException as error:
            return Result(iccid, False, self._message(error)[:300])
        return Result(iccid, True, message_id=command.sid)

    def sms_reports(self, message_ids: list[str]) -> list[SmsReport]:
        """GET /v1/SmsCommands/{Sid} for each: Twilio's queued and sent are "sent" to the console."""
        client = self._client()
        reports = []
        for message_id in message_ids:
            try:
                command = self._call(lambda: client.supersim.v1.sms_commands(message_id).fetch())
            except TwilioRestException:
                continue  # gone from Twilio (kept 30 days): nothing more to learn
            status = command.status if command.status in ("delivered", "failed") else "sent"
            reason = "Twilio could not deliver the SMS Command to the SIM." if status == "failed" else ""
            reports.append(SmsReport(message_id, status, reason))
        return reports

    def received_sms(self, *, since: datetime, until: datetime) -> Iterator[IncomingSms]:
        """GET /v1/SmsCommands?Direction=from_sim, newest first: read until one older than `since`."""
        client = self._client()
        commands = self._stream(lambda: client.supersim.v1.sms_commands.stream(direction="from_sim", page_size=PAGE_SIZE))
        iccid_of: dict[str, str] = {}
        for command in commands:
            created = _time(command.date_created)
            if created <= since:
                return
            if created > until:
                continue
            if command.sim_sid not in iccid_of:
                iccid_of[command.sim_sid] = self._call(lambda: client.supersim.v1.sims(command.sim_sid).fetch()).iccid
            yield IncomingSms(command.sid, iccid_of[command.sim_sid], command.payload or "", created)

    # --- SIDs and Fleets -----------------------------------------------------------------------

    def _stream(self, make: Any) -> Iterator[Any]:
        """A paged listing, each page's call watched for unavailability."""
        iterator = self._call(make, listing=True)
        while True:
            try:
                item = self._call(lambda: next(iterator), listing=True)
            except StopIteration:
                return
            yield item

    def _sid(self, iccid: str) -> str | None:
        if iccid in self._sids:
            return self._sids[iccid]
        client = self._client()
        found = self._call(lambda: client.supersim.v1.sims.list(iccid=iccid, limit=1), listing=True)
        if found:
            self._sids[iccid] = found[0].sid
            return found[0].sid
        return None

    def _find_sids(self, iccids: list[str]) -> None:
        unknown = [iccid for iccid in iccids if iccid not in self._sids]
        if len(unknown) > LIST_WHEN_MORE_THAN and not self._listed:
            client = self._client()
            for sim in self._stream(lambda: client.supersim.v1.sims.stream(page_size=PAGE_SIZE)):
                self._sids[sim.iccid] = sim.sid
            self._listed = True

    def _fleet_for(self, change: NetworkChange) -> str:
        if change.data_limit_mb is None:
            return self._ensure_fleet(self.active_fleet, data_enabled=True)
        if change.data_limit_mb == 0:  # no data at all: Twilio's smallest limit is 1 MB
            return self._ensure_fleet(self.paused_fleet, data_enabled=False)
        limit = min(change.data_limit_mb, 2_000_000)  # Twilio's largest: 2 TB
        return self._ensure_fleet(f"{self.fleet_prefix}-{limit}mb", data_enabled=True, data_limit=limit)

    def _ensure_fleet(self, unique_name: str, *, data_enabled: bool, data_limit: int | None = None) -> str:
        """The Fleet of that unique name, created on first need; its unique name is what Sims are sent."""
        if unique_name in self._fleets:
            return unique_name
        client = self._client()
        try:
            fleet = self._call(lambda: client.supersim.v1.fleets(unique_name).fetch())
        except TwilioRestException as error:
            if error.status != 404:
                raise CarrierUnavailable(f"Twilio refused to read the Fleet {unique_name}: {self._message(error)}") from error
            profile = self.settings.get("network_access_profile") or self._profile_of_active_fleet(unique_name)
            extra: dict[str, Any] = {"data_limit": data_limit} if data_limit is not None else {}
            try:
                fleet = self._call(
                    lambda: client.supersim.v1.fleets.create(
                        network_access_profile=profile, unique_name=unique_name, data_enabled=data_enabled, **extra
                    )
                )
            except TwilioRestException as error:
                raise CarrierUnavailable(f"Twilio refused to create the Fleet {unique_name}: {self._message(error)}") from error
        self._fleets[unique_name] = fleet.sid
        return unique_name

    def _profile_of_active_fleet(self, creating: str) -> str:
        client = self._client()
        if creating != self.active_fleet:
            try:
                return self._call(lambda: client.supersim.v1.fleets(self.active_fleet).fetch()).network_access_profile_sid
            except TwilioRestException:
                pass
        raise CarrierUnavailable(
            f"The Fleet {creating} cannot be created without a Network Access Profile: create the Fleet {self.active_fleet} "
            "in Twilio's console, or set network_access_profile in the carrier account's settings."
        )


def _status(error: Exception) -> int:
    """The HTTP status of a failed call: a TwilioRestException has it; a failed page of a listing is a
    TwilioException carrying the response."""
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return status
    return next((arg.status_code for arg in error.args if isinstance(getattr(arg, "status_code", None), int)), 0)


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
