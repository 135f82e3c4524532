"""emnify, through emnify's own Python library (emnify-sdk 0.5.3).

Credentials: the account's application token (emnify portal, Integrations > Application tokens).
Settings: `api_base_url`, emnify's API (https://cdn.emnify.net/api by default; a URL with no path
gets /api added), and `timeout_s` (20 by default) for each HTTP call.

How the console's targets (sims/network.py) are reached, with the SDK's calls:

    ACTIVE      SIM status 1 Activated (`sim.activate_sim`), and its endpoint, if it has one,
                status 0 Enabled (`devices.update_device`).
    SUSPENDED   SIM status 2 Suspended (`sim.suspend_sim`). A SIM still Issued was never on the
                network: nothing to do.
    PAUSED      emnify's way to stop data while keeping the SIM is to disable its endpoint (the
                device record the SIM is assigned to): the SIM stays Activated, the endpoint goes
                to status 1 Disabled. A SIM with no endpoint has nothing to disable, and the SDK
                has no per-SIM data quota or service-profile call for one: its stand-in is SIM
                status 2 Suspended (data stops, the SIM stays on the account and comes back with
                Activated at the next period). SIM Console's own emnify dialect (api/emnify.py,
                the second console the tests use as the carrier) has no endpoints, so there every
                pause is the stand-in.
    TERMINATED  SIM status 3 Deleted (`sim.update_sim`), for good.

CONNECTIVITY: emnify keeps network events and connectivity per endpoint, not per SIM, so both go
through the SIM's endpoint (the SIM list names it), with the SDK's device calls:

    network_events      GET /api/v1/endpoint/{id}/event (`GetEventsByDevice`, paged by the SDK),
                        newest first: read until an event older than the window. An endpoint's
                        events are those of every SIM it held: only the asked SIM's are kept. emnify's
                        event types (docs.emnify.com, "Event types") map to the console's kinds:
                        2 Update GPRS location -> attach (the packet-switched registration data needs),
                        1 Update location -> location, 16 Purge GPRS location -> detach,
                        3 Create PDP Context -> session_start, 5 Delete PDP Context -> session_end;
                        an Update location or Update GPRS location flagged as an alert is the network
                        refusing the SIM -> auth_reject, its cause emnify's description (after its last
                        ": "). 4 Update PDP Context and 15 Purge location (the circuit-switched side only:
                        data may go on) change nothing the console shows, and the rest (SIM and user
                        events, quotas, billing) are not network events: skipped. The event's id is
                        emnify's ("emnify:<id>"); operator and country from its `detail`, the IMEI from
                        its `endpoint`. The SDK's own DeviceEvent model drops `sim`, `endpoint` and
                        `detail`, so the raw event is read.
    reset_connectivity  PATCH /api/v1/endpoint/{id}/connectivity {"location": null}
                        (`devices.reset_connectivity_network`): the network cancels the location, the
                        device attaches again (its data session ends with it).

A SIM in no endpoint is not on emnify's network (emnify attaches endpoints, not bare SIMs): no events
to read, and a reset is refused with that reason.

SMS: emnify sends SMS to an endpoint too, so each goes to the SIM's endpoint (a SIM in none: refused,
saying so), with the SDK's device calls:

    send_sms        POST /api/v1/endpoint/{id}/sms {"payload": ...} (`devices.send_sms`'s call,
                    SendSmsToDevice). emnify answers 201 with the SMS's address in Location, which the
                    SDK drops (it answers True): the call here keeps it, and the message's id is
                    "<endpoint id>/<SMS id>", so that its report is found in its endpoint.
    sms_reports     GET /api/v1/endpoint/{id}/sms (`devices.get_device_sms_list`, its first page:
                    emnify's newest SMS), once per endpoint for the messages sent to it. emnify's
                    statuses: 1 Delivery attempt pending, 2 In progress, 3 Buffered -> sent (on its
                    way); 4 Delivered -> delivered; 5 Failed, 6 Expired, 7 Canceled -> failed (with
                    emnify's GSM MAP error when it gives one). A message not in its endpoint's list
                    (older than the first page, or the endpoint gone) gets no report.
    received_sms    the same list of every endpoint of the account's SIMs (the SIM list, then each
                    endpoint's SMS, a few at a time): the SMS of sms_type MO submitted in the window,
                    with emnify's ICCID of the SIM that sent each. One call per endpoint per poll: an
                    account of many endpoints is better served by emnify's MO SMS callback (not used).

Not claimed: DATA_LIMIT (the SDK sets no data limit per SIM), USAGE (the SDK has no usage call).
CLAIM_WITH_PROOF is emnify's batch identification code: `sim.register_sim(bic)` registers (and
activates) the batch the code is printed for.

emnify's API names SIMs by a numeric id, not by ICCID: each change first looks the SIM up by ICCID
(the SIM list with an iccid filter), which also gives its status, so a state the SIM is already in
is answered as done without a second call (emnify refuses a status change to the same status).
emnify takes no idempotency key: this read of the state first is what makes a change sent twice
(a worker that died after emnify's answer) harmless.

The SDK reads its base URL once, from EMNIFY_SDK_API_ENDPOINT_URL at import, and sends every call
with `requests.get/patch/...` and no timeout. So that each account has its own URL and a hung
carrier cannot hang the worker, `make_request` of the SDK's BaseApiManager is wrapped once: for a
client made here (an `AccountClient`) the call goes through the client's own requests session, to
the client's base URL, with a timeout; any other client goes the SDK's own way, unchanged.
"""

import ast
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import pydantic
import requests  # type: ignore[import-untyped]
from emnify import EMnify  # type: ignore[import-untyped]
from emnify import api_manager as sdk_api
from emnify import errors as sdk_errors
from emnify.modules.api.models import AuthenticationResponse  # type: ignore[import-untyped]
from emnify.constants import DeviceStatuses, SimStatusesDict  # type: ignore[import-untyped]
from emnify.modules.device.api_call_manager import GetEventsByDevice, SendSmsToDevice  # type: ignore[import-untyped]
from emnify.modules.device.models import ListSms, SmsCreateModel  # type: ignore[import-untyped]
from emnify.modules.sim.api_call_manager import SimListApi  # type: ignore[import-untyped]
from emnify.modules.sim.models import SimFilter, SimList, SimStatus, SimUpdate  # type: ignore[import-untyped]

from carriers.adapters.base import Capability, CarrierSim, CarrierUnavailable, IncomingSms, NetworkChange, Result, SmsReport, Target
from sims.network_events import NetworkEventRow

if TYPE_CHECKING:
    from sims.usage import UsageRow

DEFAULT_API_BASE_URL = "https://cdn.emnify.net/api"
DEFAULT_TIMEOUT_S = 20.0
THREADS = 8

ISSUED, ACTIVATED, SUSPENDED, DELETED, FACTORY_TEST = 0, 1, 2, 3, 4
ENDPOINT_ENABLED, ENDPOINT_DISABLED = 0, 1
# emnify's SIM status -> the console's target (reconciliation); Issued was never on the network.
TARGET_OF_STATUS: dict[int, Target | None] = {
    ISSUED: None,
    ACTIVATED: Target.ACTIVE,
    SUSPENDED: Target.SUSPENDED,
    DELETED: Target.TERMINATED,
    FACTORY_TEST: Target.ACTIVE,  # test traffic flows: the console's provisioned
}
STATUS_NAMES = {ISSUED: "Issued", ACTIVATED: "Activated", SUSPENDED: "Suspended", DELETED: "Deleted", FACTORY_TEST: "Factory Test"}

# emnify's event types (docs.emnify.com, Event types) -> the console's network event kinds (module docstring).
UPDATE_LOCATION, UPDATE_GPRS_LOCATION, CREATE_PDP_CONTEXT, DELETE_PDP_CONTEXT, PURGE_GPRS_LOCATION = 1, 2, 3, 5, 16
KIND_OF_EVENT_TYPE = {
    UPDATE_GPRS_LOCATION: "attach",
    UPDATE_LOCATION: "location",
    PURGE_GPRS_LOCATION: "detach",
    CREATE_PDP_CONTEXT: "session_start",
    DELETE_PDP_CONTEXT: "session_end",
}
EVENTS_PER_PAGE = 100
NOT_ON_ACCOUNT = "emnify has no SIM with this ICCID on this account (not registered, or another account's)."
NO_ENDPOINT = (
    "emnify has no device (endpoint) for this SIM, and emnify resets the connectivity of a device: "
    "create one with the SIM in emnify's portal first."
)
NO_ENDPOINT_SMS = (
    "emnify has no device (endpoint) for this SIM, and emnify sends SMS to a device: "
    "create one with the SIM in emnify's portal first."
)
# emnify's SMS statuses -> the console's delivery report (module docstring); MT 1 and MO 2 sms_type.
REPORT_OF_SMS_STATUS = {1: "sent", 2: "sent", 3: "sent", 4: "delivered", 5: "failed", 6: "failed", 7: "failed"}
SMS_FAILURES = {5: "emnify could not deliver the SMS.", 6: "The SMS expired at emnify before it was delivered.", 7: "The SMS was canceled at emnify."}
SMS_MT, SMS_MO = 1, 2


class SendSms(SendSmsToDevice):
    """emnify-sdk's call to send an SMS to an endpoint, answering the new SMS's id (from Location)."""

    def return_success(self, response: Any, *_: Any, **__: Any) -> str:
        return str(response.headers.get("Location") or "").rstrip("/").rsplit("/", 1)[-1]


class AccountClient(EMnify):
    """emnify's SDK client for one carrier account: its own base URL, session and timeout."""

    def __init__(self, *, app_token: str, base_url: str, timeout: float) -> None:
        super().__init__(app_token=app_token)
        self.base_url = base_url
        self.timeout = timeout
        self.http = requests.Session()
        self.http.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=THREADS))
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=THREADS))
        # Answers of 401 in a row on this thread: the SDK authenticates again after each, for ever.
        self.refusals = threading.local()


_sdk_make_request = sdk_api.BaseApiManager.make_request


def _make_request(self: Any, client: Any, method_url: str, data: Any = None, files: Any = None, query_params: Any = None) -> Any:
    if not isinstance(client, AccountClient):
        return _sdk_make_request(self, client, method_url, data, files, query_params=query_params)
    method = self.request_method_name
    if method not in ("get", "post", "patch", "put", "delete"):
        raise ValueError(f"{method}: This method is not allowed")
    response = client.http.request(
        method.upper(),
        self.resource_path(client.base_url, method_url),
        headers=self._build_headers(client.token),
        params=query_params,
        json=None if method == "get" else data,
        timeout=client.timeout,
    )
    if isinstance(self, sdk_api.Authenticate):
        if response.status_code == 404:  # emnify-sdk 0.5.3's handler of this answer raises a TypeError
            raise CarrierUnavailable(f"{client.base_url} has no emnify authentication call (HTTP 404): is api_base_url emnify's API?")
        return response  # a refused application token raises UnauthorisedException in the SDK
    in_a_row = getattr(client.refusals, "count", 0)
    client.refusals.count = in_a_row + 1 if response.status_code == 401 else 0
    if client.refusals.count > 2:
        client.refusals.count = 0
        raise CarrierUnavailable(
            "emnify accepted the application token but refuses the auth token it gave for it (HTTP 401): "
            "check the token's permissions in the emnify portal."
        )
    return response


if getattr(sdk_api.BaseApiManager.make_request, "__name__", "") != "_make_request":
    sdk_api.BaseApiManager.make_request = _make_request


def api_base_url(value: str | None) -> str:
    url = (value or DEFAULT_API_BASE_URL).strip().rstrip("/")
    if urlsplit(url).path in ("", "/"):
        url += "/api"
    return url


def emnify_message(error: Exception) -> str:
    """emnify's own words from the SDK's exception (it puts the error body's dict in the text)."""
    text = str(error)
    try:
        body = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text[:300]
    if isinstance(body, dict):
        message = body.get("message") or body.get("error_token") or text
        return str(message)[:300]
    return text[:300]


T = TypeVar("T")


class EmnifyAdapter:
    code: ClassVar[str] = "emnify"
    label: ClassVar[str] = "emnify"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.ACTIVATE,
            Capability.SUSPEND,
            Capability.RESUME,
            Capability.PAUSE_DATA,
            Capability.TERMINATE,
            Capability.INVENTORY,
            Capability.CLAIM_WITH_PROOF,
            Capability.CONNECTIVITY,
            Capability.SMS,
        }
    )
    credential_fields: ClassVar[dict[str, str]] = {"application_token": "Application token"}
    batch_size: ClassVar[int] = 200

    def __init__(self, *, settings: dict[str, Any], credentials: dict[str, str]) -> None:
        self.base_url = api_base_url(settings.get("api_base_url"))
        token = credentials.get("application_token") or ""
        self.client = AccountClient(
            app_token=token or "-", base_url=self.base_url, timeout=float(settings.get("timeout_s") or DEFAULT_TIMEOUT_S)
        )
        self.has_token = bool(token)
        # ICCID -> its endpoint's id (None: in no endpoint), learnt from the SIM list.
        self._endpoint_of: dict[str, int | None] = {}
        self._listed = False

    # The calls, with emnify's failures sorted into the two kinds the console knows.

    def _ask(self, call: Callable[[], T]) -> T:
        """Run SDK calls: a refusal of the SIM raises ValidationErrorException (the caller's to
        answer); anything that means emnify could not be asked raises CarrierUnavailable."""
        if not self.has_token:
            raise CarrierUnavailable("No emnify application token is saved for this account: enter one in its settings.")
        try:
            if self.client.token is None:
                # Once, before any call (the SDK would otherwise learn it from a 401 in each thread).
                answer = sdk_api.Authenticate().call_api(self.client, {"application_token": self.client.app_token})
                self.client.token = AuthenticationResponse(**answer).auth_token
            return call()
        except sdk_errors.UnauthorisedException:
            raise CarrierUnavailable(
                "emnify refused the application token (wrong, expired or revoked): "
                "create one in the emnify portal and save it in the carrier account's settings."
            ) from None
        except sdk_errors.UnknownStatusCodeException as error:
            status = str(error).rsplit(" ", 1)[-1]
            raise CarrierUnavailable(self._status_message(status)) from None
        except (sdk_errors.JsonDecodeException, pydantic.ValidationError, requests.exceptions.JSONDecodeError):
            raise CarrierUnavailable(
                f"emnify's answer at {self.base_url} was not what emnify-sdk reads: is api_base_url emnify's API?"
            ) from None
        except requests.Timeout:
            raise CarrierUnavailable(f"emnify did not answer in {self.client.timeout:g} s ({self.base_url}): tried again shortly.") from None
        except requests.RequestException as error:
            raise CarrierUnavailable(
                f"emnify could not be reached at {self.base_url} ({type(error).__name__}): "
                "tried again shortly; check api_base_url if it lasts."
            ) from None

    def _status_message(self, status: str) -> str:
        if status == "429":
            return "emnify's rate limit was reached (HTTP 429): the changes wait and are sent again shortly."
        if status == "403":
            return "emnify refused the application token's access (HTTP 403): give the token the rights to read and change SIMs."
        if status.startswith("5"):
            return f"emnify's API failed (HTTP {status}): the changes wait and are sent again shortly."
        return f"emnify answered HTTP {status}, which the console does not expect: check api_base_url ({self.base_url})."

    def _find(self, iccid: str) -> SimList | None:
        """The account's SIM with this ICCID (the filter matches parts of ICCIDs: the exact one is kept)."""
        for sim in self.client.sim.get_sim_list(filter_model=SimFilter(iccid=iccid)):
            if str(sim.iccid) == iccid:
                return sim
        return None

    # The interface.

    def check(self) -> str:
        def first_page() -> int:
            listing = SimListApi().call_api(client=self.client, query_params={"per_page": 1})
            next(iter(listing), None)
            return 0

        self._ask(first_page)
        return f"emnify answered at {self.base_url}: the application token was accepted and the SIM list read."

    def holds(self, iccids: list[str]) -> set[str]:
        wanted = set(iccids)
        if not wanted:
            return set()
        if len(wanted) <= 20:
            return self._ask(lambda: {iccid for iccid in wanted if self._find(iccid) is not None})
        return self._ask(lambda: {str(sim.iccid) for sim in self.client.sim.get_sim_list()} & wanted)

    def register(self, iccid: str, proof: str) -> Result:
        bic = proof.strip()
        if not bic:
            return Result(iccid, False, "Enter the batch identification code (BIC) printed on the SIM's card.")
        try:
            registered = self._ask(lambda: self.client.sim.register_sim(bic))
        except sdk_errors.ValidationErrorException as error:
            return Result(iccid, False, f"emnify: {emnify_message(error)}")
        sims = registered if isinstance(registered, list) else [registered]
        if any(str(sim.iccid) == iccid for sim in sims):
            return Result(iccid, True)
        return Result(iccid, False, "emnify registered that code's batch, but this ICCID is not in it: check the code on this SIM's card.")

    def apply(self, changes: list[NetworkChange]) -> list[Result]:
        if not changes:
            return []
        self._ask(lambda: None)  # no token: unavailable before any thread starts
        with ThreadPoolExecutor(max_workers=min(THREADS, len(changes)), thread_name_prefix="emnify") as pool:
            futures = [pool.submit(self._apply_one, change) for change in changes]
            results = []
            for future in futures:
                try:
                    results.append(future.result())
                except CarrierUnavailable:
                    for other in futures:
                        other.cancel()  # emnify is down or refusing us: stop asking (the running ones finish)
                    raise
        return results

    def _apply_one(self, change: NetworkChange) -> Result:
        try:
            sim = self._ask(lambda: self._find(change.iccid))
            if sim is None:
                return Result(change.iccid, False, NOT_ON_ACCOUNT)
            self._ask(lambda: self._reach(sim, change.target))
        except sdk_errors.ValidationErrorException as error:
            return Result(change.iccid, False, f"emnify: {emnify_message(error)}")
        return Result(change.iccid, True)

    def _reach(self, sim: SimList, target: Target) -> None:
        status = sim.status.id if sim.status is not None else None
        endpoint = sim.device.id if sim.device is not None else None
        if target == Target.TERMINATED:
            if status != DELETED:
                self.client.sim.update_sim(sim.id, SimUpdate(status=SimStatus(**SimStatusesDict.DELETED_DICT.value)))
        elif target == Target.SUSPENDED or (target == Target.PAUSED and endpoint is None):
            if status not in (SUSPENDED, ISSUED):
                self.client.sim.suspend_sim(sim.id)
        else:  # ACTIVE, or PAUSED with an endpoint to disable
            if status != ACTIVATED:
                self.client.sim.activate_sim(sim.id)
            if endpoint is not None:
                wanted = ENDPOINT_ENABLED if target == Target.ACTIVE else ENDPOINT_DISABLED
                device = self.client.devices.retrieve_device(endpoint)
                if device.status is None or device.status.id != wanted:
                    statuses = {ENDPOINT_ENABLED: DeviceStatuses.ENABLED_DICT, ENDPOINT_DISABLED: DeviceStatuses.DISABLED_DICT}
                    update = self.client.devices.device_update_model(status=statuses[wanted].value)
                    self.client.devices.update_device(device_id=endpoint, device=update)

    def sims(self) -> Iterator[CarrierSim]:
        listing = self._ask(lambda: self.client.sim.get_sim_list())
        while True:
            sim = self._ask(lambda: next(listing, None))  # each page is asked for as the listing reaches it
            if sim is None:
                return
            status: int = sim.status.id if sim.status is not None else ISSUED
            name = (sim.status.description if sim.status is not None else None) or STATUS_NAMES.get(status, f"status {status}")
            yield CarrierSim(str(sim.iccid), TARGET_OF_STATUS.get(status), name)

    # --- Connectivity ----------------------------------------------------------------------------

    def reset_connectivity(self, iccid: str) -> Result:
        try:
            sim = self._ask(lambda: self._find(iccid))
            if sim is None:
                return Result(iccid, False, NOT_ON_ACCOUNT)
            if sim.device is None:
                return Result(iccid, False, NO_ENDPOINT)
            self._ask(lambda: self.client.devices.reset_connectivity_network(sim.device.id))
        except sdk_errors.ValidationErrorException as error:
            return Result(iccid, False, f"emnify: {emnify_message(error)}")
        return Result(iccid, True)

    def network_events(self, *, iccids: list[str], since: datetime, until: datetime) -> Iterator[NetworkEventRow]:
        """Each SIM's endpoint's events in (since, until], the endpoints read a few at a time."""
        endpoints = self._endpoints(iccids)
        wanted = [(iccid, endpoint) for iccid in iccids if (endpoint := endpoints.get(iccid)) is not None]
        if not wanted:
            return
        with ThreadPoolExecutor(max_workers=min(THREADS, len(wanted)), thread_name_prefix="emnify") as pool:
            for rows in pool.map(lambda item: self._events_of(*item, since=since, until=until), wanted):
                yield from rows

    def _endpoints(self, iccids: list[str]) -> dict[str, int | None]:
        """The endpoint of each of these SIMs that is on the account: a lookup each for a few, the
        account's SIM list (read once per adapter) for more."""
        unknown = [iccid for iccid in iccids if iccid not in self._endpoint_of]
        if len(unknown) > 20 and not self._listed:

            def listing() -> None:
                for sim in self.client.sim.get_sim_list():
                    self._endpoint_of[str(sim.iccid)] = sim.device.id if sim.device is not None else None

            self._ask(listing)
            self._listed = True
        elif not self._listed:
            for iccid in unknown:
                sim = self._ask(lambda: self._find(iccid))
                if sim is not None:
                    self._endpoint_of[iccid] = sim.device.id if sim.device is not None else None
        return {iccid: self._endpoint_of[iccid] for iccid in iccids if iccid in self._endpoint_of}

    def _events_of(self, iccid: str, endpoint: int, *, since: datetime, until: datetime) -> list[NetworkEventRow]:
        def read() -> list[NetworkEventRow]:
            rows = []
            events = GetEventsByDevice().call_api(
                client=self.client, path_params={"endpoint_id": endpoint}, query_params={"per_page": EVENTS_PER_PAGE}
            )
            for event in events:  # newest first; each page asked for as the loop reaches it
                at = _event_time(event)
                if at is None:
                    continue
                if at <= since:
                    break
                if at <= until and (row := event_row(event, iccid=iccid, at=at)) is not None:
                    rows.append(row)
            return rows

        try:
            return self._ask(read)
        except sdk_errors.ValidationErrorException:
            return []  # the endpoint is gone since the SIM list was read: nothing of it to read

    # --- SMS -------------------------------------------------------------------------------------

    def send_sms(self, iccid: str, body: str) -> Result:
        try:
            endpoints = self._endpoints([iccid])
            if iccid not in endpoints:
                return Result(iccid, False, NOT_ON_ACCOUNT)
            endpoint = endpoints[iccid]
            if endpoint is None:
                return Result(iccid, False, NO_ENDPOINT_SMS)
            sms_id = self._ask(
                lambda: SendSms().call_api(
                    client=self.client, path_params={"endpoint_id": endpoint}, data=SmsCreateModel(payload=body).dict(exclude_none=True)
                )
            )
        except sdk_errors.ValidationErrorException as error:
            return Result(iccid, False, f"emnify: {emnify_message(error)}")
        return Result(iccid, True, message_id=f"{endpoint}/{sms_id}")

    def sms_reports(self, message_ids: list[str]) -> list[SmsReport]:
        wanted: dict[int, set[int]] = {}
        for message_id in message_ids:
            endpoint_part, _, sms_part = message_id.partition("/")
            if endpoint_part.isascii() and endpoint_part.isdigit() and sms_part.isascii() and sms_part.isdigit():
                wanted.setdefault(int(endpoint_part), set()).add(int(sms_part))
        reports = []
        for endpoint, ids in wanted.items():
            for sms in self._sms_of(endpoint):
                status = (sms.status or {}).get("id")
                if sms.id in ids and _sms_type(sms) == SMS_MT and status in REPORT_OF_SMS_STATUS:
                    reason = (sms.gsm_map_error or SMS_FAILURES.get(status, ""))[:300] if REPORT_OF_SMS_STATUS[status] == "failed" else ""
                    reports.append(SmsReport(f"{endpoint}/{sms.id}", REPORT_OF_SMS_STATUS[status], reason))
        return reports

    def received_sms(self, *, since: datetime, until: datetime) -> Iterator[IncomingSms]:
        """The MO SMS of every endpoint of the account's SIMs, submitted in (since, until]."""

        def listing() -> set[int]:
            return {sim.device.id for sim in self.client.sim.get_sim_list() if sim.device is not None}

        endpoints = sorted(self._ask(listing))
        if not endpoints:
            return
        with ThreadPoolExecutor(max_workers=min(THREADS, len(endpoints)), thread_name_prefix="emnify") as pool:
            for endpoint, listed in zip(endpoints, pool.map(self._sms_of, endpoints), strict=True):
                for sms in listed:
                    at = _emnify_time(sms.submit_date)
                    if _sms_type(sms) == SMS_MO and sms.id is not None and sms.iccid and at is not None and since < at <= until:
                        yield IncomingSms(f"{endpoint}/{sms.id}", str(sms.iccid), sms.payload or "", at)

    def _sms_of(self, endpoint: int) -> list[ListSms]:
        """The endpoint's SMS (emnify's first page, the newest); none when the endpoint is gone."""
        try:
            return self._ask(lambda: list(self.client.devices.get_device_sms_list(device=endpoint)))
        except sdk_errors.ValidationErrorException:
            return []

    def usage_records(self, *, iccids: list[str], since: datetime, until: datetime) -> Iterator["UsageRow"]:
        raise NotImplementedError("emnify-sdk has no usage call: the emnify adapter does not fetch usage.")


def _event_time(event: dict[str, Any]) -> datetime | None:
    return _emnify_time(event.get("timestamp"))


def _emnify_time(value: Any) -> datetime | None:
    """emnify's times are UTC, ISO 8601 with or without the zone."""
    try:
        at = datetime.fromisoformat(str(value or ""))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _sms_type(sms: ListSms) -> int | None:
    kind = sms.sms_type or {}
    return kind.get("id") if isinstance(kind.get("id"), int) else {"MT": SMS_MT, "MO": SMS_MO}.get(str(kind.get("description") or "").upper())


def event_row(event: dict[str, Any], *, iccid: str, at: datetime) -> NetworkEventRow | None:
    """An emnify event as a network event of the SIM `iccid`, or None: another SIM's, or no network event."""
    sim = event.get("sim") or {}
    type_id = (event.get("event_type") or {}).get("id")
    kind = KIND_OF_EVENT_TYPE.get(int(type_id)) if isinstance(type_id, (int, float)) else None
    if kind is None or str(sim.get("iccid") or "") != iccid or event.get("id") is None:
        return None
    cause = ""
    if event.get("alert") and type_id in (UPDATE_LOCATION, UPDATE_GPRS_LOCATION):
        kind = "auth_reject"
        description = str(event.get("description") or "").strip()
        cause = description.rsplit(": ", 1)[-1].rstrip(".").strip()[:120]
    detail = event.get("detail") or {}
    country = (detail.get("country") or {}) if isinstance(detail, dict) else {}
    operator = str(detail.get("name") or "") if isinstance(detail, dict) else ""
    mnc = (detail.get("mnc") or [{}])[0].get("mnc") if isinstance(detail, dict) and detail.get("mnc") else None
    if operator and country.get("mcc") and mnc:
        operator += f" {country['mcc']}-{mnc}"
    code = str(country.get("iso_code") or "").upper()
    imei = str((event.get("endpoint") or {}).get("imei") or "")
    return NetworkEventRow(
        event_id=f"emnify:{event['id']}",
        iccid=iccid,
        kind=kind,
        at=at,
        imei=imei if imei.isascii() and imei.isdigit() and len(imei) in (14, 15, 16) else "",
        operator=operator[:60],
        country=code if len(code) == 2 and code.isalpha() else "",
        cause=cause,
    )
