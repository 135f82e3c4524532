"""A fake Twilio Super SIM API for the tests and the bench: a real HTTP server (threaded, on
127.0.0.1) that keeps Sims, Fleets and UsageRecords in memory and speaks the wire format of
Twilio's published OpenAPI description (/work/shared/carriers/twilio/twilio_supersim_v1.json,
MIT; the copy the issue names, ../shared/carriers/twilio/ from the repository).

Every request it receives is validated against that description with openapi-core
(`OpenAPI.validate_request`: path, method, parameters, form body, Basic auth), plus two checks
openapi-core does not make: no query parameter and no form field the operation does not declare.
A request the description does not allow is answered 400 (a Twilio error body) and recorded in
`violations`: the tests' fixture fails any test that leaves one. Every answer is validated before
it is sent: its status must be one the operation declares and its body must match the declared
schema, checked with openapi-schema-validator (the OAS 3.0 validator openapi-core itself uses,
given the operation's schema straight from the description: openapi-core's own response
validation takes 3 s for a page of 1,000 Sims, which the bench's 100,000 SIMs cannot afford; the
same page takes 0.2 s this way). The description declares no error answers, so those are checked
against the shape of Twilio's error body (code, message, more_info, status).

What it models, as far as the adapter needs it: a warehouse of SIMs that can be registered with
their registration code (`add_claimable`), SIMs already on the account (`add_sim`), Fleets (found
by SID or unique name, created with a Network Access Profile), a SIM's status (new, ready, active,
inactive; active only in a Fleet), hourly usage records, paging with next_page_url, Basic auth with
the account's auth token or an API key.

Knobs: `latency_ms` (each answer waits that long), `fail(status, times)` (the next calls answer
429/5xx), `hang(seconds, times)` (the next calls answer late: a client timeout), and `requests`, a
record of every request received (method, path, query, form). GET /_fake/stats (not Twilio's: not
recorded, not validated) tells another process what it received and what it holds.

In the tests: the `twilio_fake` fixture (tests/carriers/conftest.py). From another process:
`python -m tests.carriers.twilio_fake --port 8765 --latency-ms 50 --sims 100000` serves until killed,
its SIMs (`bench_iccid(n)`) on the account, active in the Fleet "simconsole-active".
"""

import argparse
import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path("/work/shared/carriers/twilio/twilio_supersim_v1.json")
SPEC_HOST = "https://supersim.twilio.com"
ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "fake-auth-token"
NETWORK_ACCESS_PROFILE = "HA" + "0" * 32
ERROR_KEYS = {"code": int, "message": str, "more_info": str, "status": int}


@cache
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text())


@cache
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(spec())


@cache
def answer_validator(pattern: str, method: str, status: int) -> OAS30Validator | None:
    """The schema of an answer the description declares (None: the status is not declared)."""
    declared = spec()["paths"][pattern][method]["responses"].get(str(status))
    if declared is None:
        return None
    schema = declared["content"]["application/json"]["schema"]
    return OAS30Validator({**schema, "components": spec()["components"]}, format_checker=oas30_format_checker)


@cache
def declared(pattern: str, method: str) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters and form fields the description declares for an operation."""
    operation = spec()["paths"][pattern][method]
    query = frozenset(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
    body = operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded", {})
    form = frozenset(body.get("schema", {}).get("properties", {}))
    return query, form


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class SpecRequest:
    """A request as openapi-core reads it, addressed to the host the description names."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes | None
    host_url: str = SPEC_HOST
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        pairs = [(key, value) for key, values in self.query.items() for value in values]
        self.parameters = RequestParameters(query=ImmutableMultiDict(pairs), header=Headers(list(self.headers.items())))

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").lower()


@dataclass
class SpecResponse:
    status_code: int
    data: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeSuperSim:
    def __init__(self, *, latency_ms: float = 0, api_keys: dict[str, str] | None = None) -> None:
        self.latency = latency_ms / 1000
        self.api_keys = dict(api_keys or {})
        self.lock = threading.RLock()
        self.sims: dict[str, dict[str, Any]] = {}  # by SID
        self.by_iccid: dict[str, str] = {}
        self.claimable: dict[str, str] = {}  # ICCID -> registration code, SIMs not yet on the account
        self.locked: set[str] = set()  # SIDs of SIMs Twilio will not change now (a transfer under way)
        self.fleets: dict[str, dict[str, Any]] = {}
        self.usage: list[dict[str, Any]] = []  # sim_sid, start, end, upload, download
        self.sms_commands: dict[str, dict[str, Any]] = {}  # by SID, oldest first (listed newest first)
        self.requests: list[Received] = []
        self.violations: list[str] = []
        self._failures: list[int] = []
        self._hangs: list[float] = []
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # --- Running -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> "FakeSuperSim":
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="twilio-fake", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # --- Setting the scene -------------------------------------------------------------------

    def add_fleet(self, unique_name: str, *, data_enabled: bool = True, data_limit: int = 1000) -> str:
        with self.lock:
            fleet_sid = sid("HF")
            now = iso(datetime.now(UTC))
            self.fleets[fleet_sid] = {
                "account_sid": ACCOUNT_SID, "sid": fleet_sid, "unique_name": unique_name, "date_created": now,
                "date_updated": now, "url": f"{SPEC_HOST}/v1/Fleets/{fleet_sid}", "data_enabled": data_enabled,
                "data_limit": data_limit, "data_metering": "payg", "sms_commands_enabled": True,
                "sms_commands_url": None, "sms_commands_method": "POST", "network_access_profile_sid": NETWORK_ACCESS_PROFILE,
                "ip_commands_url": None, "ip_commands_method": "POST",
            }  # fmt: skip
            return fleet_sid

    def add_sim(self, iccid: str, *, status: str = "new", fleet: str | None = None) -> str:
        """A SIM already on the account."""
        with self.lock:
            sim_sid = sid("HS")
            now = iso(datetime.now(UTC))
            self.sims[sim_sid] = {
                "sid": sim_sid, "unique_name": None, "account_sid": ACCOUNT_SID, "iccid": iccid, "status": status,
                "fleet_sid": self.fleet(fleet)["sid"] if fleet else None, "date_created": now, "date_updated": now,
                "url": f"{SPEC_HOST}/v1/Sims/{sim_sid}",
                "links": {"billing_periods": f"{SPEC_HOST}/v1/Sims/{sim_sid}/BillingPeriods",
                          "sim_ip_addresses": f"{SPEC_HOST}/v1/Sims/{sim_sid}/IpAddresses"},
            }  # fmt: skip
            self.by_iccid[iccid] = sim_sid
            return sim_sid

    def add_claimable(self, iccid: str, registration_code: str) -> None:
        """A Super SIM in Twilio's hands, not on any account: registered with the code on its card."""
        self.claimable[iccid] = registration_code

    def add_usage(self, iccid: str, start: datetime, end: datetime, *, upload: int, download: int) -> None:
        with self.lock:
            self.usage.append({"sim_sid": self.by_iccid[iccid], "start": start, "end": end, "upload": upload, "download": download})

    def add_sms_from_sim(self, iccid: str, payload: str, *, at: datetime | None = None) -> str:
        """An SMS Command the device sent (direction from_sim, status received)."""
        return self._sms_command(self.by_iccid[iccid], payload, direction="from_sim", status="received", at=at)

    def set_sms_status(self, command_sid: str, status: str) -> None:
        """Twilio's delivery report arriving: sent, delivered or failed."""
        with self.lock:
            self.sms_commands[command_sid]["status"] = status
            self.sms_commands[command_sid]["date_updated"] = iso(datetime.now(UTC))

    def _sms_command(self, sim_sid: str, payload: str, *, direction: str, status: str, at: datetime | None = None) -> str:
        with self.lock:
            command_sid = sid("HC")
            now = iso(at or datetime.now(UTC))
            self.sms_commands[command_sid] = {
                "sid": command_sid, "account_sid": ACCOUNT_SID, "sim_sid": sim_sid, "payload": payload, "status": status,
                "direction": direction, "date_created": now, "date_updated": now, "url": f"{SPEC_HOST}/v1/SmsCommands/{command_sid}",
            }  # fmt: skip
            return command_sid

    def lock_sim(self, iccid: str) -> None:
        """Twilio refuses every change of this SIM (400), as it does while a SIM is moved between accounts."""
        self.locked.add(self.by_iccid[iccid])

    def remove_sim(self, iccid: str) -> None:
        """The SIM leaves the account (moved to another one in Twilio's console)."""
        with self.lock:
            del self.sims[self.by_iccid.pop(iccid)]

    def fail(self, status: int = 503, times: int = 1) -> None:
        """The next `times` calls answer `status` (429, 500, 503...)."""
        with self.lock:
            self._failures.extend([status] * times)

    def hang(self, seconds: float, times: int = 1) -> None:
        """The next `times` calls answer only after `seconds` (longer than the client waits: a timeout)."""
        with self.lock:
            self._hangs.extend([seconds] * times)

    # --- Reading the state -------------------------------------------------------------------

    def sim(self, iccid: str) -> dict[str, Any]:
        return self.sims[self.by_iccid[iccid]]

    def fleet(self, sid_or_name: str) -> dict[str, Any]:
        if sid_or_name in self.fleets:
            return self.fleets[sid_or_name]
        for fleet in self.fleets.values():
            if fleet["unique_name"] == sid_or_name:
                return fleet
        raise KeyError(sid_or_name)

    def fleet_of(self, iccid: str) -> dict[str, Any] | None:
        fleet_sid = self.sim(iccid)["fleet_sid"]
        return self.fleets[fleet_sid] if fleet_sid else None

    def state(self, iccid: str) -> tuple[str, str | None]:
        """(status, the fleet's unique name): what the tests compare."""
        fleet = self.fleet_of(iccid)
        return self.sim(iccid)["status"], fleet["unique_name"] if fleet else None

    # --- Serving -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """What another process (the bench) asks at GET /_fake/stats: requests received, violations,
        SIMs per status and fleet."""
        with self.lock:
            operations: dict[str, int] = {}
            for received in self.requests:
                key = f"{received.method} {_pattern(received.path)}"
                operations[key] = operations.get(key, 0) + 1
            states: dict[str, int] = {}
            names = {fleet_sid: fleet["unique_name"] for fleet_sid, fleet in self.fleets.items()}
            for sim in self.sims.values():
                key = f"{sim['status']} {names.get(sim['fleet_sid'], '-')}"
                states[key] = states.get(key, 0) + 1
            return {"requests": len(self.requests), "operations": operations, "violations": self.violations[:20], "states": states}

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        parts = urlsplit(url)
        if parts.path == "/_fake/stats":  # the fake's own control, not Twilio's API: neither recorded nor validated
            return 200, self.stats()
        query = parse_qs(parts.query, keep_blank_values=True)
        content_type = headers.get("Content-Type", "")
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()} if body else {}
        with self.lock:
            self.requests.append(Received(method, parts.path, {k: v[-1] for k, v in query.items()}, form))
            hang = self._hangs.pop(0) if self._hangs else 0
            failure = self._failures.pop(0) if self._failures else 0
        if self.latency:
            time.sleep(self.latency)
        if hang:
            time.sleep(hang)
        spec_request = SpecRequest(method.lower(), parts.path, query, headers, body or None)
        problem = self._violation(spec_request, form, content_type)
        if problem:
            with self.lock:
                self.violations.append(f"{method} {url}: {problem}")
            return 400, error_body(400, 20001, f"Request not allowed by the API description: {problem}"[:500])
        if failure:
            message = "Too many requests" if failure == 429 else "Service unavailable"
            return failure, error_body(failure, 20429 if failure == 429 else 20500, message)
        if not self._authorized(headers.get("Authorization", "")):
            return 401, error_body(401, 20003, "Authentication Error - invalid username")
        try:
            with self.lock:
                status, answer = self._route(method, parts.path, {k: v[-1] for k, v in query.items()}, form)
        except TwilioError as error:
            return error.status, error_body(error.status, error.code, error.message)
        problem = self._answer_violation(spec_request, status, answer)
        if problem:
            with self.lock:
                self.violations.append(f"answer to {method} {url}: {problem}")
        return status, answer

    def _violation(self, request: SpecRequest, form: dict[str, str], content_type: str) -> str:
        try:
            openapi().validate_request(request)
        except Exception as error:  # the path or the method is not in the description, or a value is wrong
            cause = error.__cause__ or error.__context__
            return f"{type(error).__name__}: {error}" + (f" ({cause})" if cause else "")
        pattern = _pattern(request.path)
        query_names, form_names = declared(pattern, request.method)
        extra = set(request.query) - query_names
        if extra:
            return f"query parameters not in the description: {', '.join(sorted(extra))}"
        if form and not content_type.startswith("application/x-www-form-urlencoded"):
            return f"a form sent as {content_type!r}"
        extra = set(form) - form_names
        if extra:
            return f"form fields not in the description: {', '.join(sorted(extra))}"
        return ""

    def _answer_violation(self, request: SpecRequest, status: int, answer: dict) -> str:
        if status >= 400:
            wrong = [key for key, kind in ERROR_KEYS.items() if not isinstance(answer.get(key), kind)]
            return f"not a Twilio error body: {', '.join(wrong)}" if wrong else ""
        validator = answer_validator(_pattern(request.path), request.method, status)
        if validator is None:
            return f"status {status} is not an answer the description declares"
        return "; ".join(error.message for error in validator.iter_errors(answer))

    def _authorized(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return (user, password) == (ACCOUNT_SID, AUTH_TOKEN) or self.api_keys.get(user) == password

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> tuple[int, dict]:
        pieces = path.strip("/").split("/")
        match method, pieces[1:]:
            case "GET", ["Sims"]:
                sims = list(self.sims.values())
                if "Iccid" in query:
                    sims = [s for s in sims if s["iccid"] == query["Iccid"]]
                if "Status" in query:
                    sims = [s for s in sims if s["status"] == query["Status"]]
                if "Fleet" in query:
                    sims = [s for s in sims if s["fleet_sid"] == self._fleet_or_404(query["Fleet"])["sid"]]
                return 200, self._page("Sims", "sims", sims, query)
            case "POST", ["Sims"]:
                return 201, self._register(form["Iccid"], form["RegistrationCode"])
            case "GET", ["Sims", key]:
                return 200, self._sim_or_404(key)
            case "POST", ["Sims", key]:
                return 200, self._update_sim(self._sim_or_404(key), form)
            case "GET", ["Fleets"]:
                return 200, self._page("Fleets", "fleets", list(self.fleets.values()), query)
            case "POST", ["Fleets"]:
                return 201, self._create_fleet(form)
            case "GET", ["Fleets", key]:
                return 200, self._fleet_or_404(key)
            case "POST", ["Fleets", key]:
                return 200, self._update_fleet(self._fleet_or_404(key), form)
            case "GET", ["UsageRecords"]:
                return 200, self._usage(query)
            case "POST", ["SmsCommands"]:
                sim = self._sim_or_404(form["Sim"])
                if len(form["Payload"]) > 160:
                    raise TwilioError(400, 20001, "Payload must be at most 160 characters.")
                return 201, self.sms_commands[self._sms_command(sim["sid"], form["Payload"], direction="to_sim", status="queued")]
            case "GET", ["SmsCommands"]:
                commands = list(reversed(self.sms_commands.values()))
                if "Sim" in query:
                    commands = [c for c in commands if c["sim_sid"] == self._sim_or_404(query["Sim"])["sid"]]
                for name in ("Status", "Direction"):
                    if name in query:
                        commands = [c for c in commands if c[name.lower()] == query[name]]
                return 200, self._page("SmsCommands", "sms_commands", commands, query)
            case "GET", ["SmsCommands", key]:
                if key not in self.sms_commands:
                    raise TwilioError(404, 20404, f"The requested resource /SmsCommands/{key} was not found")
                return 200, self.sms_commands[key]
        raise TwilioError(404, 20404, f"The requested resource {path} was not found")

    def _page(self, resource: str, key: str, items: list[dict], query: dict[str, str]) -> dict:
        size = int(query.get("PageSize", 50))
        page = int(query.get("Page", 0))
        start = int(query["PageToken"][2:]) if "PageToken" in query else page * size
        chunk = items[start : start + size]
        base = f"{self.url}/v1/{resource}"
        filters = {k: v for k, v in query.items() if k not in ("PageSize", "Page", "PageToken")}

        def url(page: int, token: str | None) -> str:
            return base + "?" + urlencode({**filters, "PageSize": size, "Page": page, **({"PageToken": token} if token else {})})

        more = start + size < len(items)
        return {
            key: chunk,
            "meta": {
                "page": page, "page_size": size, "first_page_url": url(0, None), "key": key,
                "previous_page_url": url(page - 1, f"PB{max(start - size, 0)}") if page else None,
                "next_page_url": url(page + 1, f"PA{start + size}") if more else None, "url": url(page, None),
            },
        }  # fmt: skip

    def _sim_or_404(self, key: str) -> dict:
        found = self.sims.get(key) or next((s for s in self.sims.values() if key and s["unique_name"] == key), None)
        if found is None:
            raise TwilioError(404, 20404, f"The requested resource /Sims/{key} was not found")
        return found

    def _fleet_or_404(self, key: str) -> dict:
        try:
            return self.fleet(key)
        except KeyError:
            raise TwilioError(404, 20404, f"The requested resource /Fleets/{key} was not found") from None

    def _register(self, iccid: str, code: str) -> dict:
        if iccid in self.by_iccid:
            raise TwilioError(409, 35113, f"Super SIM {iccid} is already registered to an account.")
        if self.claimable.get(iccid) != code:
            # Twilio's answer does not tell an unknown ICCID from a wrong code.
            raise TwilioError(400, 35114, "The ICCID and registration code provided do not match a Super SIM available for registration.")
        del self.claimable[iccid]
        return self.sims[self.add_sim(iccid)]

    def _update_sim(self, sim: dict, form: dict[str, str]) -> dict:
        if sim["sid"] in self.locked:
            raise TwilioError(400, 35110, "The Super SIM is being transferred to another account and cannot be updated now.")
        fleet_sid = self._fleet_or_404(form["Fleet"])["sid"] if "Fleet" in form else sim["fleet_sid"]
        status = form.get("Status", sim["status"])
        if status == "active" and fleet_sid is None:
            raise TwilioError(400, 35107, "A Super SIM must be assigned to a Fleet before its status can be set to active.")
        if status == "ready" and sim["status"] not in ("new", "ready"):
            raise TwilioError(400, 35108, f"A Super SIM cannot go back to ready from {sim['status']}.")
        if "UniqueName" in form:
            sim["unique_name"] = form["UniqueName"]
        if (sim["status"], sim["fleet_sid"]) != (status, fleet_sid):
            sim["status"], sim["fleet_sid"] = status, fleet_sid
            sim["date_updated"] = iso(datetime.now(UTC))
        return sim

    def _create_fleet(self, form: dict[str, str]) -> dict:
        name = form.get("UniqueName")
        if name and any(f["unique_name"] == name for f in self.fleets.values()):
            raise TwilioError(409, 20409, f"A Fleet with unique name {name} already exists.")
        if form["NetworkAccessProfile"] != NETWORK_ACCESS_PROFILE:
            raise TwilioError(404, 20404, f"The requested resource /NetworkAccessProfiles/{form['NetworkAccessProfile']} was not found")
        fleet_sid = self.add_fleet(name or "", data_enabled=form.get("DataEnabled", "true") == "true")
        fleet = self.fleets[fleet_sid]
        fleet["unique_name"] = name
        if "DataLimit" in form:
            fleet["data_limit"] = self._data_limit(form["DataLimit"])
        return fleet

    def _update_fleet(self, fleet: dict, form: dict[str, str]) -> dict:
        if "UniqueName" in form:
            fleet["unique_name"] = form["UniqueName"]
        if "DataLimit" in form:
            fleet["data_limit"] = self._data_limit(form["DataLimit"])
        return fleet

    @staticmethod
    def _data_limit(text: str) -> int:
        limit = int(text)
        if not 1 <= limit <= 2_000_000:
            raise TwilioError(400, 20001, "DataLimit must be between 1 (1 MB) and 2000000 (2 TB).")
        return limit

    def _usage(self, query: dict[str, str]) -> dict:
        if query.get("Granularity") != "hour":
            raise TwilioError(400, 20001, "The fake only keeps hourly records: ask Granularity=hour.")
        records = self.usage
        if "Sim" in query:
            sim_sid = self._sim_or_404(query["Sim"])["sid"]
            records = [r for r in records if r["sim_sid"] == sim_sid]
        if "StartTime" in query:
            records = [r for r in records if r["start"] >= parse_time(query["StartTime"])]
        if "EndTime" in query:
            records = [r for r in records if r["end"] <= parse_time(query["EndTime"])]
        by_sim = "Sim" in query or query.get("Group") == "sim"
        items = [
            {
                "account_sid": ACCOUNT_SID, "sim_sid": r["sim_sid"] if by_sim else None, "network_sid": None,
                "fleet_sid": None, "iso_country": None, "period": {"start_time": iso(r["start"]), "end_time": iso(r["end"])},
                "data_upload": r["upload"], "data_download": r["download"], "data_total": r["upload"] + r["download"],
                "data_total_billed": 0, "billed_unit": None,
            }  # fmt: skip
            for r in sorted(records, key=lambda r: (r["start"], r["sim_sid"]))
        ]
        return self._page("UsageRecords", "usage_records", items, query)


def error_body(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def _pattern(path: str) -> str:
    pieces = path.strip("/").split("/")
    patterns = {2: "/v1/{0}", 3: "/v1/{0}/{{Sid}}"}
    return patterns.get(len(pieces), path).format(*pieces[1:])


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSuperSim
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.fake.handle(self.command, self.path, dict(self.headers.items()), body)
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (a timeout it was meant to have)

    do_GET = do_POST = do_DELETE = _serve


def bench_iccid(n: int) -> str:
    """The n-th SIM of the bench's account (bench/carrier_push.py makes the same in the console)."""
    from sims.iccid import luhn_check_digit

    body = f"898830700{n:010d}"
    return body + luhn_check_digit(body)


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Twilio Super SIM API (tests and bench only).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--sims", type=int, default=0, help="SIMs on the account, active in simconsole-active")
    args = parser.parse_args()
    fake = FakeSuperSim(latency_ms=args.latency_ms)
    fake.add_fleet("simconsole-active")
    for n in range(args.sims):
        fake.add_sim(bench_iccid(n), status="active", fleet="simconsole-active")
    fake.start(args.port)
    print(f"Fake Twilio Super SIM on {fake.url}: account {ACCOUNT_SID}, token {AUTH_TOKEN}, {args.sims} SIMs", flush=True)
    try:
        while True:
            time.sleep(60)
            if fake.violations:
                print("\n".join(fake.violations[-10:]), flush=True)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
