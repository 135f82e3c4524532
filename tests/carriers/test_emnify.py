"""The emnify adapter (emnify's own SDK, emnify-sdk 0.5.3) against a second SIM Console acting as the
carrier: its emnify dialect (api/emnify.py, /api/v1/) in a `manage.py runserver` subprocess with its
own SQLite database. What the carrier did is read back from that database file: the SIM's state
and the lifecycle events the adapter's requests made there.

What the dialect cannot say (endpoints, batch registration by BIC) is tested against a small fake
whose answers are emnify-sdk's own pydantic models (`FakeEmnify`, at the end).
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from carriers.adapters import adapter_class, adapter_for
from carriers.adapters.base import Capability, CarrierUnavailable, IncomingSms, NetworkChange, Result, SmsReport, Target
from carriers.credentials import encrypt
from carriers.models import CarrierAccount
from carriers.push import push
from sims.iccid import luhn_check_digit
from sims.lifecycle import Action, Actor, apply_action
from sims.models import NetworkStatus, State
from tests.conftest import ROOT

try:
    from emnify.modules.device.models import RetrieveDevice
    from emnify.modules.sim.models import SimList

    from carriers.adapters.emnify import NO_ENDPOINT, NO_ENDPOINT_SMS, NOT_ON_ACCOUNT, EmnifyAdapter
except ImportError as error:  # pragma: no cover - the SDK is in requirements.txt
    pytest.skip(f"emnify-sdk cannot be imported ({error}): pip install -r requirements.txt", allow_module_level=True)

ADMIN = Actor.system("test")

# The carrier console's own SIMs: its product's (the account's) and another product's.
STARTING_STATES = {
    "issued": State.ISSUED,
    "active": State.ACTIVE,
    "active2": State.ACTIVE,
    "active3": State.ACTIVE,
    "active4": State.ACTIVE,
    "suspended": State.SUSPENDED,
    "suspended2": State.SUSPENDED,
    "terminated": State.TERMINATED,
    "pushed": State.ACTIVE,
    # Connectivity: a SIM in an endpoint (with the SIM it held before), one in none, a suspended one in one.
    "connected": State.ACTIVE,
    "previous": State.ACTIVE,
    "bare": State.ACTIVE,
    "parked": State.SUSPENDED,
    "reset_here": State.ACTIVE,
}

SETUP = """
import json, sys
from api.models import Scope
from api.tokens import create_token
from django.contrib.auth import get_user_model
from products.models import Membership, Product
from sims.models import Sim
args = json.loads(sys.argv[-1])
user = get_user_model().objects.create_user(username="carrier", email="carrier@example.com", password="pw")
mine = Product.objects.create(name="Carrier account", slug="carrier")
other = Product.objects.create(name="Another customer", slug="another")
Membership.objects.create(user=user, product=mine, role=Membership.Role.ADMIN)
ids = {}
for role, (iccid, state) in args["sims"].items():
    ids[role] = Sim.objects.create(iccid=iccid, product=mine, state=state).pk
for iccid in args["foreign"]:
    Sim.objects.create(iccid=iccid, product=other, state="active")
print(json.dumps({"token": create_token(user=user, name="adapter", product=mine, scopes=list(Scope.values))[1], "ids": ids}))
"""


def carrier_iccid(serial: int) -> str:
    body = f"8988303{serial:011d}"
    return body + luhn_check_digit(body)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CarrierConsole:
    """A second SIM Console, with its own database, serving emnify's API on a port of its own."""

    def __init__(self, database: Path, *, rate_limit: int = 100_000) -> None:
        self.database = database
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "TEST_CLOCK", "DJANGO_"))},
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{database}",
            "API_RATE_LIMIT": str(rate_limit),
        }
        self.process: subprocess.Popen | None = None
        self.url = ""

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"runserver exited: {self.process.stderr.read()[-2000:] if self.process.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)  # waiting for the server to listen, not for a result
        raise RuntimeError("runserver did not listen within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    # What the carrier did, read from its database.

    def query(self, sql: str, *params: Any) -> list[tuple]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, params).fetchall()

    def state(self, iccid: str) -> str:
        return self.query("SELECT state FROM sims_sim WHERE iccid = ?", iccid)[0][0]

    def events(self, iccid: str) -> list[str]:
        rows = self.query(
            "SELECT e.action FROM sims_simevent e JOIN sims_sim s ON s.id = e.sim_id WHERE s.iccid = ? ORDER BY e.id", iccid
        )
        return [row[0] for row in rows]


def started(console: CarrierConsole) -> CarrierConsole:
    try:
        console.start()
    except (RuntimeError, OSError) as error:
        console.stop()
        pytest.skip(f"A second SIM Console (the emnify carrier) could not start: {error}")
    return console


@pytest.fixture(scope="module")
def carrier(tmp_path_factory) -> Iterator[dict[str, Any]]:
    database = Path(f"/tmp/emnify-carrier-{uuid.uuid4().hex[:8]}.sqlite3")
    console = CarrierConsole(database)
    sims = {role: (carrier_iccid(n), str(state)) for n, (role, state) in enumerate(STARTING_STATES.items(), start=1)}
    foreign = [carrier_iccid(900)]
    try:
        console.manage("migrate", "-v0")
        out = console.manage("shell", "-c", SETUP.replace("sys.argv[-1]", repr(json.dumps({"sims": sims, "foreign": foreign}))))
        made = json.loads(out.strip().splitlines()[-1])
        console.start()
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as error:
        console.stop()
        pytest.skip(f"The second SIM Console (the emnify carrier) could not start: {error}")
    try:
        yield {
            "console": console, "url": console.url, "token": made["token"], "ids": made["ids"],
            "iccid": {role: iccid for role, (iccid, _) in sims.items()}, "foreign": foreign[0],
        }
    finally:
        console.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)


def adapter(carrier, **settings: Any) -> tuple[EmnifyAdapter, list[tuple]]:
    """The adapter pointed at the carrier console, and the requests it sends (method, path, query, body)."""
    made = EmnifyAdapter(settings={"api_base_url": carrier["url"], **settings}, credentials={"application_token": carrier["token"]})
    sent: list[tuple] = []

    def record(response, *args, **kwargs):
        request = response.request
        path, _, query = request.url.removeprefix(carrier["url"]).partition("?")
        body = json.loads(request.body) if request.body else None
        if path != "/api/v1/authenticate":
            sent.append((request.method, path, query, body, response.status_code))

    made.client.http.hooks["response"].append(record)
    return made, sent


def change(iccid: str, target: Target) -> NetworkChange:
    return NetworkChange(iccid, target, None, key=f"{iccid}:1")


def find(iccid: str) -> tuple:
    return ("GET", "/api/v1/sim", f"q=iccid%3A{iccid}", None, 200)


def test_the_adapter_is_registered_with_what_emnify_can_do():
    cls = adapter_class("emnify")
    assert cls is EmnifyAdapter and cls.label == "emnify"
    assert cls.credential_fields == {"application_token": "Application token"}
    assert cls.capabilities == {
        Capability.ACTIVATE, Capability.SUSPEND, Capability.RESUME, Capability.PAUSE_DATA,
        Capability.TERMINATE, Capability.INVENTORY, Capability.CLAIM_WITH_PROOF, Capability.CONNECTIVITY, Capability.SMS,
    }
    assert Capability.DATA_LIMIT not in cls.capabilities and Capability.USAGE not in cls.capabilities


def test_the_base_url_is_the_accounts_not_the_environments():
    assert EmnifyAdapter(settings={}, credentials={}).base_url == "https://cdn.emnify.net/api"
    assert EmnifyAdapter(settings={"api_base_url": "http://h:8000/"}, credentials={}).base_url == "http://h:8000/api"
    assert EmnifyAdapter(settings={"api_base_url": "https://proxy/emnify/api"}, credentials={}).base_url == "https://proxy/emnify/api"


@pytest.mark.parametrize(
    "role, target, patch, state_after, event",
    [
        ("issued", Target.ACTIVE, {"status": {"id": 1, "description": "Activated"}}, "active", "activate"),
        ("suspended", Target.ACTIVE, {"status": {"id": 1, "description": "Activated"}}, "active", "reactivate"),
        ("active", Target.SUSPENDED, {"status": {"id": 2, "description": "Suspended"}}, "suspended", "deactivate"),
        # No endpoint to disable (the dialect has none): the stand-in, Suspended.
        ("active2", Target.PAUSED, {"status": {"id": 2, "description": "Suspended"}}, "suspended", "deactivate"),
        ("suspended2", Target.TERMINATED, {"status": {"id": 3, "description": "Deleted"}}, "terminated", "terminate"),
    ],
)
def test_each_target_is_one_status_change_at_the_carrier(carrier, role, target, patch, state_after, event):
    iccid, sim_id = carrier["iccid"][role], carrier["ids"][role]
    emnify, sent = adapter(carrier)

    assert emnify.apply([change(iccid, target)]) == [Result(iccid, True)]

    assert sent == [find(iccid), ("PATCH", f"/api/v1/sim/{sim_id}", "", patch, 204)]
    assert carrier["console"].state(iccid) == state_after
    assert carrier["console"].events(iccid) == [event]


def test_a_state_the_sim_is_in_already_is_answered_as_done_without_a_change(carrier):
    iccid = carrier["iccid"]["active3"]
    emnify, sent = adapter(carrier)

    assert emnify.apply([change(iccid, Target.ACTIVE)] * 2) == [Result(iccid, True)] * 2

    assert sent == [find(iccid), find(iccid)]
    assert carrier["console"].state(iccid) == "active" and carrier["console"].events(iccid) == []


def test_a_refusal_carries_emnifys_message(carrier):
    terminated, foreign = carrier["iccid"]["terminated"], carrier["foreign"]
    emnify, sent = adapter(carrier)

    results = {result.iccid: result for result in emnify.apply([change(terminated, Target.ACTIVE), change(foreign, Target.SUSPENDED)])}

    assert not results[terminated].ok
    assert results[terminated].reason.startswith("emnify: Cannot change the SIM to 1 Activated.")
    assert "terminated" in results[terminated].reason
    assert results[foreign] == Result(foreign, False, "emnify has no SIM with this ICCID on this account (not registered, or another account's).")
    assert carrier["console"].state(terminated) == "terminated" and carrier["console"].state(foreign) == "active"
    assert ("PATCH", f"/api/v1/sim/{carrier['ids']['terminated']}", "", {"status": {"id": 1, "description": "Activated"}}, 409) in sent


def test_holds_only_the_accounts_sims(carrier):
    emnify, _ = adapter(carrier)
    mine = [carrier["iccid"]["active"], carrier["iccid"]["issued"]]
    unknown = carrier_iccid(12345)

    assert emnify.holds([*mine, carrier["foreign"], unknown]) == set(mine)
    # Many at once: one listing of the account instead of a call per ICCID.
    many = [carrier_iccid(5000 + n) for n in range(30)]
    assert emnify.holds([*many, *mine]) == set(mine)


def test_sims_lists_the_account_with_emnifys_statuses(carrier):
    emnify, sent = adapter(carrier)

    listed = {sim.iccid: (sim.target, sim.carrier_status) for sim in emnify.sims()}

    assert set(listed) == set(carrier["iccid"].values())
    assert carrier["foreign"] not in listed
    assert listed[carrier["iccid"]["issued"]] in [(None, "Issued"), (Target.ACTIVE, "Activated")]  # activated by an earlier test
    assert listed[carrier["iccid"]["terminated"]] == (Target.TERMINATED, "Deleted")
    assert listed[carrier["iccid"]["active3"]] == (Target.ACTIVE, "Activated")
    assert sent == [("GET", "/api/v1/sim", "", None, 200)]


def test_check_reads_the_sim_list(carrier):
    emnify, sent = adapter(carrier)
    assert "the application token was accepted" in emnify.check()
    assert sent == [("GET", "/api/v1/sim", "per_page=1", None, 200)]


def test_a_batch_code_the_carrier_does_not_know_is_refused(carrier):
    emnify, sent = adapter(carrier)
    # The dialect's batch registration (PATCH /api/v1/sim_batch/bic/{bic}) takes a SIM's ICCID as its code:
    # it refuses this one (400), and emnify-sdk reads that as an invalid code.
    assert emnify.register(carrier["iccid"]["issued"], "BIC-0042") == Result(carrier["iccid"]["issued"], False, "emnify: Invalid bic number")
    assert sent == [("PATCH", "/api/v1/sim_batch/bic/BIC-0042", "", {"id": 1, "description": "Activated"}, 400)]


def test_a_wrong_application_token_makes_the_carrier_unavailable(carrier):
    emnify = EmnifyAdapter(settings={"api_base_url": carrier["url"]}, credentials={"application_token": "simc_wrong"})
    with pytest.raises(CarrierUnavailable, match="emnify refused the application token"):
        emnify.apply([change(carrier["iccid"]["active4"], Target.SUSPENDED)])
    with pytest.raises(CarrierUnavailable, match="No emnify application token"):
        EmnifyAdapter(settings={"api_base_url": carrier["url"]}, credentials={}).check()


def test_a_url_that_is_not_emnifys_api_says_so(carrier):
    emnify = EmnifyAdapter(settings={"api_base_url": f"{carrier['url']}/elsewhere/api"}, credentials={"application_token": carrier["token"]})
    with pytest.raises(CarrierUnavailable, match=r"/elsewhere/api has no emnify authentication call \(HTTP 404\): is api_base_url emnify's API\?"):
        emnify.check()


def test_a_stopped_carrier_is_unavailable_and_nothing_is_claimed(carrier):
    second = CarrierConsole(carrier["console"].database)
    started(second)
    emnify = EmnifyAdapter(settings={"api_base_url": second.url}, credentials={"application_token": carrier["token"]})
    assert "accepted" in emnify.check()
    second.stop()

    with pytest.raises(CarrierUnavailable, match=f"emnify could not be reached at {second.url}/api"):
        emnify.apply([change(carrier["iccid"]["active4"], Target.SUSPENDED)])
    with pytest.raises(CarrierUnavailable):
        emnify.holds([carrier["iccid"]["active4"]])
    with pytest.raises(CarrierUnavailable):
        list(emnify.sims())
    assert carrier["console"].state(carrier["iccid"]["active4"]) == "active"


def test_the_push_worker_suspends_at_the_carrier_and_syncs_here(carrier, product, make_sim):
    iccid = carrier["iccid"]["pushed"]
    account = CarrierAccount.objects.create(
        product=product, name="emnify EU", adapter="emnify", settings={"api_base_url": carrier["url"]},
        credentials=encrypt({"application_token": carrier["token"]}),
    )
    assert isinstance(adapter_for(account), EmnifyAdapter)
    sim = make_sim(product, state=State.ACTIVE, iccid=iccid, carrier_account=account)

    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.PENDING
    report = push(account_key=account.pk)

    assert (report.sent, report.synced, report.refused, report.unavailable) == (1, 1, 0, "")
    sim.refresh_from_db()
    assert (sim.state, sim.network_status, sim.network_error) == (State.SUSPENDED, NetworkStatus.SYNCED, "")
    assert carrier["console"].state(iccid) == "suspended"
    assert carrier["console"].events(iccid) == ["deactivate"]
    account.refresh_from_db()
    assert account.last_success_at is not None


def test_a_carrier_whose_database_is_down_answers_503_and_is_unavailable(tmp_path):
    broken = CarrierConsole(tmp_path / "never-migrated.sqlite3")  # every query fails: the console answers 503
    started(broken)
    try:
        emnify = EmnifyAdapter(settings={"api_base_url": broken.url}, credentials={"application_token": "simc_any"})
        with pytest.raises(CarrierUnavailable, match=r"emnify's API failed \(HTTP 503\): the changes wait"):
            emnify.apply([change(carrier_iccid(1), Target.SUSPENDED)])
    finally:
        broken.stop()


def test_emnifys_rate_limit_makes_the_batch_wait(carrier):
    limited = CarrierConsole(carrier["console"].database, rate_limit=2)
    started(limited)
    try:
        emnify = EmnifyAdapter(settings={"api_base_url": limited.url}, credentials={"application_token": carrier["token"]})
        iccid = carrier["iccid"]["active3"]
        with pytest.raises(CarrierUnavailable, match=r"emnify's rate limit was reached \(HTTP 429\)"):
            emnify.apply([change(iccid, Target.ACTIVE)] * 40)
    finally:
        limited.stop()
    assert carrier["console"].state(iccid) == "active"


def test_a_refused_or_unreachable_change_shows_on_the_sim_here(carrier, product, make_sim):
    terminated = carrier["iccid"]["terminated"]
    account = CarrierAccount.objects.create(
        product=product, name="emnify EU", adapter="emnify", settings={"api_base_url": carrier["url"]},
        credentials=encrypt({"application_token": carrier["token"]}),
    )
    sim = make_sim(product, state=State.SUSPENDED, iccid=terminated, carrier_account=account)
    apply_action(sims=sim, action=Action.REACTIVATE, actor=ADMIN)

    report = push(account_key=account.pk)

    sim.refresh_from_db()
    assert (report.refused, sim.state, sim.network_status) == (1, State.ACTIVE, NetworkStatus.FAILED)
    assert sim.network_error.startswith("emnify: Cannot change the SIM to 1 Activated.")

    account.settings = {"api_base_url": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    account.save()
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    report = push(account_key=account.pk)
    sim.refresh_from_db()
    assert report.unavailable.startswith("emnify could not be reached at http://127.0.0.1:")
    assert (sim.network_status, sim.network_attempts) == (NetworkStatus.PENDING, 1)
    assert sim.network_error.startswith("Carrier unavailable: emnify could not be reached")
    assert carrier["console"].state(terminated) == "terminated"


# --- Connectivity: network events and reset, through the SIM's endpoint ---------------------------

# On the carrier: endpoints for the SIMs, and the network's events, ingested there as a carrier's would be.
# "previous" was in the tracker before "connected": its events are the endpoint's too, not "connected"'s.
ENDPOINTS = """
import json, sys
from datetime import timedelta
from django.utils import timezone
from devices.assignment import assign_sim
from devices.models import Device
from sims.models import Sim
from sims.network_events import NetworkEventRow, ingest_network_events
args = json.loads(sys.argv[-1])
now = timezone.now().replace(microsecond=0)
sim = {role: Sim.objects.get(iccid=iccid) for role, iccid in args.items()}
tracker = Device.objects.create(product=sim["connected"].product, device_id="tracker-1", name="Tracker 1", imei="356938035643809")
assign_sim(sim=sim["previous"], device=tracker, source="api", at=now - timedelta(hours=3))
assign_sim(sim=sim["connected"], device=tracker, source="api", at=now - timedelta(hours=2))
for role in ("parked", "reset_here"):
    device = Device.objects.create(product=sim[role].product, device_id=f"device-{role}")
    assign_sim(sim=sim[role], device=device, source="api", at=now - timedelta(hours=2))
def event(n, role, kind, minutes, **more):
    return NetworkEventRow(event_id=f"c{n}", iccid=sim[role].iccid, kind=kind, at=now - timedelta(minutes=minutes), **more)
where = {"operator": "Telekom.de 262-01", "country": "DE", "rat": "4G", "imei": "356938035643809"}
ingest_network_events([
    event(1, "previous", "attach", 150, operator="Telekom.de 262-01", country="DE"),  # no IMEI: it would put the SIM back
    event(2, "connected", "attach", 100, **where),
    event(3, "connected", "location", 50, **where),
    event(4, "connected", "session_start", 40, **where),
    event(5, "connected", "session_end", 30, **where),
    event(6, "connected", "auth_reject", 20, operator="Vodafone 262-02", country="DE", cause="Roaming not allowed"),
    event(7, "connected", "detach", 10),
], now=now)
print(json.dumps({"now": now.isoformat(), "tracker": tracker.pk}))
"""


@pytest.fixture(scope="module")
def endpoints(carrier) -> dict[str, Any]:
    roles = ("connected", "previous", "bare", "parked", "reset_here")
    script = ENDPOINTS.replace("sys.argv[-1]", repr(json.dumps({role: carrier["iccid"][role] for role in roles})))
    made = json.loads(carrier["console"].manage("shell", "-c", script).strip().splitlines()[-1])
    return {"now": datetime.fromisoformat(made["now"]), "tracker": made["tracker"]}


def test_network_events_are_the_sims_own_from_its_endpoint_mapped_to_the_consoles_kinds(carrier, endpoints):
    iccid, now = carrier["iccid"]["connected"], endpoints["now"]
    emnify, sent = adapter(carrier)

    rows = list(emnify.network_events(iccids=[iccid, carrier["iccid"]["bare"]], since=now - timedelta(hours=1), until=now))

    got = sorted(rows, key=lambda row: row.at)
    # The attach of 100 minutes ago is before the window; "previous"'s attach is another SIM's.
    assert [(row.kind, now - row.at) for row in got] == [
        ("location", timedelta(minutes=50)),
        ("session_start", timedelta(minutes=40)),
        ("session_end", timedelta(minutes=30)),
        ("auth_reject", timedelta(minutes=20)),
        ("detach", timedelta(minutes=10)),
    ]
    assert {row.iccid for row in got} == {iccid}
    assert all(row.event_id.startswith("emnify:") for row in got) and len({row.event_id for row in got}) == 5
    assert (got[0].operator, got[0].country, got[0].imei) == ("Telekom.de 262-01", "DE", "356938035643809")
    assert (got[3].cause, got[3].operator) == ("Roaming not allowed", "Vodafone 262-02")
    # One lookup per SIM (a few), then the endpoint's events; the SIM in no endpoint has none to read.
    assert sent == [
        find(iccid), find(carrier["iccid"]["bare"]),
        ("GET", f"/api/v1/endpoint/{endpoints['tracker']}/event", "per_page=100", None, 200),
    ]

    # An event already read is the same event read again (ingestion counts it once).
    again = list(emnify.network_events(iccids=[iccid], since=now - timedelta(hours=1), until=now - timedelta(minutes=25)))
    assert sorted(row.event_id for row in again) == sorted(row.event_id for row in got[:3])


def test_network_events_of_many_sims_read_the_sim_list_once(carrier, endpoints):
    now = endpoints["now"]
    emnify, sent = adapter(carrier)
    many = [carrier_iccid(6000 + n) for n in range(25)]  # not on the account

    rows = list(emnify.network_events(iccids=[*many, carrier["iccid"]["connected"]], since=now - timedelta(hours=1), until=now))

    assert len(rows) == 5
    assert sent[0] == ("GET", "/api/v1/sim", "", None, 200) and len(sent) == 2


def test_the_events_read_are_ingested_here_and_keep_the_sims_connectivity(carrier, endpoints, product, make_sim):
    from sims.models import Connectivity, SimConnectivity
    from sims.network_events import ingest_network_events

    now = endpoints["now"]
    sim = make_sim(product, iccid=carrier["iccid"]["connected"])
    emnify, _ = adapter(carrier)

    report = ingest_network_events(emnify.network_events(iccids=[sim.iccid], since=now - timedelta(hours=1), until=now), now=now)

    assert (report.ingested, report.rejected_count) == (5, 0), (report.summary(), report.rejected)
    seen = SimConnectivity.objects.get(sim=sim)
    assert (seen.status, seen.last_reject_cause, seen.operator) == (Connectivity.OFFLINE, "Roaming not allowed", "Vodafone 262-02")


def test_reset_connectivity_resets_the_endpoint_of_the_sim(carrier, endpoints):
    iccid = carrier["iccid"]["connected"]
    emnify, sent = adapter(carrier)

    assert emnify.reset_connectivity(iccid) == Result(iccid, True)

    assert sent == [find(iccid), ("PATCH", f"/api/v1/endpoint/{endpoints['tracker']}/connectivity", "", {"location": None}, 204)]
    asked = carrier["console"].query(
        "SELECT c.reset_requested_at FROM sims_simconnectivity c JOIN sims_sim s ON s.id = c.sim_id WHERE s.iccid = ?", iccid
    )
    assert asked and asked[0][0] is not None


def test_reset_connectivity_is_refused_with_the_reason(carrier, endpoints):
    emnify, sent = adapter(carrier)
    bare, parked, unknown = carrier["iccid"]["bare"], carrier["iccid"]["parked"], carrier_iccid(4321)

    assert emnify.reset_connectivity(bare) == Result(bare, False, NO_ENDPOINT)
    assert emnify.reset_connectivity(unknown) == Result(unknown, False, NOT_ON_ACCOUNT)
    refused = emnify.reset_connectivity(parked)
    assert not refused.ok and refused.reason == "emnify: The SIM is suspended: only an active SIM's connectivity can be reset."
    assert [request[0] for request in sent] == ["GET", "GET", "GET", "PATCH"]  # only the SIM in an endpoint is asked to reset


def test_reset_from_the_sim_page_reaches_emnify(carrier, endpoints, owner_client, product, make_sim):
    from django.urls import reverse

    from sims.models import SimConnectivity
    from tests.conftest import text_of

    account = CarrierAccount.objects.create(
        product=product, name="emnify EU", adapter="emnify", settings={"api_base_url": carrier["url"]},
        credentials=encrypt({"application_token": carrier["token"]}),
    )
    sim = make_sim(product, state=State.ACTIVE, iccid=carrier["iccid"]["reset_here"], carrier_account=account)
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert "Reset connectivity" in page

    response = owner_client.post(reverse("carrier_sim_reset_connectivity", args=[product.slug, sim.iccid]), follow=True)

    assert "reset requested at" in text_of(response)
    assert SimConnectivity.objects.get(sim=sim).reset_requested_at is not None
    there = carrier["console"].query(
        "SELECT c.reset_requested_at FROM sims_simconnectivity c JOIN sims_sim s ON s.id = c.sim_id WHERE s.iccid = ?", sim.iccid
    )
    assert there and there[0][0] is not None


# --- SMS, to and from the SIM's endpoint -----------------------------------------------------------

# On the carrier: an SMS the device in the tracker sent a minute ago.
DEVICE_SENDS = """
import json
from datetime import timedelta
from django.utils import timezone
from carriers.adapters.base import IncomingSms
from carriers.sms import receive
at = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
receive(None, [IncomingSms("device-1", ICCID, "ACK reboot", at)])
print(json.dumps({"at": at.isoformat()}))
"""


def carrier_sms(carrier, message_id: str) -> tuple:
    """The carrier's record of an SMS, by the adapter's message id ("<endpoint id>/<SMS id>")."""
    return carrier["console"].query("SELECT body, direction, status FROM carriers_smsmessage WHERE id = ?", int(message_id.split("/")[1]))[0]


def carrier_settles(carrier, message_id: str, status: str, reason: str = "") -> None:
    """The carrier's network delivers (or fails) the SMS."""
    carrier["console"].query(
        "UPDATE carriers_smsmessage SET status = ?, reason = ?, delivered_at = CASE WHEN ? = 'delivered' THEN CURRENT_TIMESTAMP END WHERE id = ?",
        status, reason, status, int(message_id.split("/")[1]),
    )


def test_an_sms_goes_to_the_sims_endpoint_and_its_delivery_is_reported(carrier, endpoints):
    iccid, tracker = carrier["iccid"]["connected"], endpoints["tracker"]
    emnify, sent = adapter(carrier)

    result = emnify.send_sms(iccid, "reboot")

    assert result.ok and result.message_id.startswith(f"{tracker}/"), result
    assert sent == [find(iccid), ("POST", f"/api/v1/endpoint/{tracker}/sms", "", {"payload": "reboot"}, 201)]
    assert carrier_sms(carrier, result.message_id) == ("reboot", "mt", "queued")
    # Pending at emnify: on its way.
    assert emnify.sms_reports([result.message_id]) == [SmsReport(result.message_id, "sent")]
    assert sent[-1] == ("GET", f"/api/v1/endpoint/{tracker}/sms", "", None, 200)

    carrier_settles(carrier, result.message_id, "delivered")
    failed = emnify.send_sms(iccid, "second")
    carrier_settles(carrier, failed.message_id, "failed", "Absent subscriber")

    reports = emnify.sms_reports([result.message_id, failed.message_id, f"{tracker}/999999", "not-emnifys"])
    assert sorted(reports, key=lambda report: report.status) == [
        SmsReport(result.message_id, "delivered"), SmsReport(failed.message_id, "failed", "Absent subscriber"),
    ]


def test_the_sms_a_device_sends_are_received_from_its_endpoint(carrier, endpoints):
    iccid, tracker = carrier["iccid"]["connected"], endpoints["tracker"]
    made = json.loads(carrier["console"].manage("shell", "-c", DEVICE_SENDS.replace("ICCID", repr(iccid))).strip().splitlines()[-1])
    at = datetime.fromisoformat(made["at"])
    emnify, sent = adapter(carrier)
    emnify.send_sms(iccid, "not received: sent to the device")

    received = list(emnify.received_sms(since=at - timedelta(minutes=5), until=at + timedelta(minutes=5)))

    assert [(sms.iccid, sms.body, sms.received_at) for sms in received] == [(iccid, "ACK reboot", at)]
    assert received[0].message_id.startswith(f"{tracker}/")
    # Outside the window: not again.
    assert list(emnify.received_sms(since=at, until=at + timedelta(minutes=5))) == []


def test_an_sms_to_a_sim_without_endpoint_is_refused_saying_so(carrier, endpoints):
    emnify, sent = adapter(carrier)
    bare, unknown = carrier["iccid"]["bare"], carrier_iccid(4322)

    assert emnify.send_sms(bare, "hello") == Result(bare, False, NO_ENDPOINT_SMS)
    assert emnify.send_sms(unknown, "hello") == Result(unknown, False, NOT_ON_ACCOUNT)
    assert [request[0] for request in sent] == ["GET", "GET"]  # nothing sent


def test_an_sms_from_the_sim_page_reaches_emnify_and_comes_back_delivered(carrier, endpoints, owner_client, product, make_sim):
    from django.urls import reverse
    from django.utils import timezone

    from carriers.models import SmsMessage
    from carriers.sms import poll, send_queued
    from tests.conftest import text_of

    account = CarrierAccount.objects.create(
        product=product, name="emnify EU", adapter="emnify", settings={"api_base_url": carrier["url"]},
        credentials=encrypt({"application_token": carrier["token"]}),
    )
    sim = make_sim(product, state=State.ACTIVE, iccid=carrier["iccid"]["connected"], carrier_account=account)
    card = text_of(owner_client.get(reverse("sim_sms", args=[product.slug, sim.iccid])))
    assert "cannot send SMS" not in card

    owner_client.post(reverse("sim_sms_send", args=[product.slug, sim.iccid]), {"body": "status?"}, HTTP_HX_REQUEST="true")
    report = send_queued(account_key=account.pk)

    message = SmsMessage.objects.get(sim=sim)
    assert (report.sent, message.status) == (1, "sent")
    assert carrier_sms(carrier, message.carrier_message_id) == ("status?", "mt", "queued")
    carrier_settles(carrier, message.carrier_message_id, "delivered")

    poll(account_key=account.pk, now=timezone.now())

    message.refresh_from_db()
    assert message.status == "delivered"


# --- What the dialect cannot say: a fake answering with emnify-sdk's own models ------------------


class FakeEmnify:
    """emnify's SIM, endpoint and batch-registration calls, answered with emnify-sdk's models."""

    def __init__(self) -> None:
        self.sims: dict[int, dict[str, Any]] = {}  # id -> {"iccid", "status", "endpoint"}
        self.endpoints: dict[int, int] = {}  # id -> endpoint status
        self.batches: dict[str, list[int]] = {}  # BIC -> SIM ids
        self.requests: list[tuple] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                path, _, query = self.path.partition("?")
                if path != "/api/v1/authenticate":
                    fake.requests.append((self.command, path, body))
                if path == "/api/v1/authenticate":
                    return self.answer(200, {"auth_token": "fake-auth"})
                if self.headers.get("Authorization") != "Bearer fake-auth":
                    return self.answer(401, {"error_code": 401, "error_token": "unauthorized", "message": "Unauthorized"})
                if path == "/api/v1/sim" and self.command == "GET":
                    iccid = re.search(r"iccid%3A(\d+)", query)
                    rows = [fake.sim_json(i) for i, sim in fake.sims.items() if not iccid or iccid.group(1) in sim["iccid"]]
                    return self.answer(200, rows, {"X-Total-Pages": "1"})
                if match := re.fullmatch(r"/api/v1/sim/(\d+)", path):
                    fake.sims[int(match.group(1))]["status"] = int(body["status"]["id"])
                    return self.answer(204)
                if match := re.fullmatch(r"/api/v1/endpoint/(\d+)", path):
                    endpoint = int(match.group(1))
                    if self.command == "PATCH":
                        fake.endpoints[endpoint] = int(body["status"]["id"])
                        return self.answer(204)
                    status = fake.endpoints[endpoint]
                    device = RetrieveDevice(
                        id=endpoint, name=f"tracker-{endpoint}", service_profile={"id": 1}, tariff_profile={"id": 1},
                        status={"id": status, "description": ["Enabled", "Disabled"][status]},
                    )
                    return self.answer(200, json.loads(device.json(exclude_none=True)))
                if match := re.fullmatch(r"/api/v1/sim_batch/bic/(.+)", path):
                    if match.group(1) not in fake.batches:
                        return self.answer(404, {"error_code": 404, "error_token": "not_found", "message": "BIC not found"})
                    for sim_id in fake.batches[match.group(1)]:
                        fake.sims[sim_id]["status"] = int(body["id"])
                    return self.answer(200, [fake.sim_json(sim_id) for sim_id in fake.batches[match.group(1)]])
                return self.answer(404, {"error_code": 404, "error_token": "not_found", "message": "No such call"})

            do_GET = do_PATCH = do_POST = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sim_json(self, sim_id: int) -> dict[str, Any]:
        sim = self.sims[sim_id]
        names = {0: "Issued", 1: "Activated", 2: "Suspended", 3: "Deleted"}
        endpoint = {"id": sim["endpoint"], "name": f"tracker-{sim['endpoint']}"} if sim["endpoint"] else None
        model = SimList(id=sim_id, iccid=sim["iccid"], status={"id": sim["status"], "description": names[sim["status"]]}, endpoint=endpoint)
        return json.loads(model.json(by_alias=True, exclude_none=True))

    def adapter(self) -> EmnifyAdapter:
        return EmnifyAdapter(settings={"api_base_url": self.url}, credentials={"application_token": "app-token"})


@pytest.fixture
def fake() -> Iterator[FakeEmnify]:
    server = FakeEmnify()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_pause_disables_the_endpoint_and_keeps_the_sim_activated(fake):
    iccid = carrier_iccid(700)
    fake.sims[11] = {"iccid": iccid, "status": 1, "endpoint": 7}
    fake.endpoints[7] = 0

    assert fake.adapter().apply([change(iccid, Target.PAUSED)]) == [Result(iccid, True)]

    assert fake.requests == [
        ("GET", "/api/v1/sim", None),
        ("GET", "/api/v1/endpoint/7", None),
        ("PATCH", "/api/v1/endpoint/7", {"status": {"id": 1.0, "description": "Disabled"}}),
    ]
    assert (fake.sims[11]["status"], fake.endpoints[7]) == (1, 1)


def test_resume_activates_the_sim_and_enables_its_endpoint(fake):
    iccid = carrier_iccid(701)
    fake.sims[12] = {"iccid": iccid, "status": 2, "endpoint": 8}
    fake.endpoints[8] = 1

    assert fake.adapter().apply([change(iccid, Target.ACTIVE)]) == [Result(iccid, True)]

    assert fake.requests == [
        ("GET", "/api/v1/sim", None),
        ("PATCH", "/api/v1/sim/12", {"status": {"id": 1, "description": "Activated"}}),
        ("GET", "/api/v1/endpoint/8", None),
        ("PATCH", "/api/v1/endpoint/8", {"status": {"id": 0.0, "description": "Enabled"}}),
    ]
    assert (fake.sims[12]["status"], fake.endpoints[8]) == (1, 0)
    fake.requests.clear()
    assert fake.adapter().apply([change(iccid, Target.ACTIVE)]) == [Result(iccid, True)]
    assert fake.requests == [("GET", "/api/v1/sim", None), ("GET", "/api/v1/endpoint/8", None)]  # there already


def test_register_by_batch_identification_code(fake):
    in_batch, elsewhere = carrier_iccid(702), carrier_iccid(703)
    fake.sims[13] = {"iccid": in_batch, "status": 0, "endpoint": None}
    fake.sims[14] = {"iccid": elsewhere, "status": 0, "endpoint": None}
    fake.batches["BIC-7"] = [13]
    emnify = fake.adapter()

    assert emnify.register(in_batch, " BIC-7 ") == Result(in_batch, True)
    assert fake.requests == [("PATCH", "/api/v1/sim_batch/bic/BIC-7", {"id": 1, "description": "Activated"})]
    assert fake.sims[13]["status"] == 1
    assert emnify.register(elsewhere, "BIC-7") == Result(
        elsewhere, False, "emnify registered that code's batch, but this ICCID is not in it: check the code on this SIM's card."
    )
    assert emnify.register(elsewhere, "BIC-404") == Result(elsewhere, False, "emnify: Invalid bic number")
    assert emnify.register(elsewhere, "") == Result(elsewhere, False, "Enter the batch identification code (BIC) printed on the SIM's card.")
    assert fake.sims[14]["status"] == 0
