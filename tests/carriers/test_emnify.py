"""The emnify adapter (emnify's own SDK, emnify-sdk 0.5.3) against a second SIM Console acting as the
carrier: its emnify dialect (api/emnify.py, /api/v1/) in a `manage.py runserver` subprocess with its
own SQLite database. What the carrier did is read back from that database file: the SIM's state
and the lifecycle events the adapter's requests made there.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carriers.adapters import adapter_class, adapter_for
from carriers.adapters.base import Capability, CarrierUnavailable, NetworkChange, Result, Target
from carriers.credentials import encrypt
from carriers.models import CarrierAccount
from carriers.push import push
from sims.iccid import luhn_check_digit
from sims.lifecycle import Action, Actor, apply_action
from sims.models import NetworkStatus, Sim, State
from tests.conftest import ROOT

try:
    from carriers.adapters.emnify import EmnifyAdapter
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

    def __init__(self, database: Path) -> None:
        self.database = database
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "TEST_CLOCK", "DJANGO_"))},
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{database}",
            "API_RATE_LIMIT": "100000",
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
        Capability.TERMINATE, Capability.INVENTORY, Capability.CLAIM_WITH_PROOF,
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
    # The dialect has no batch registration (PATCH /api/v1/sim_batch/bic/{bic}): emnify-sdk's answer to a 404.
    assert emnify.register(carrier["iccid"]["issued"], "BIC-0042") == Result(carrier["iccid"]["issued"], False, "emnify: Invalid bic number")
    assert sent == [("PATCH", "/api/v1/sim_batch/bic/BIC-0042", "", {"id": 1, "description": "Activated"}, 404)]


def test_a_wrong_application_token_makes_the_carrier_unavailable(carrier):
    emnify = EmnifyAdapter(settings={"api_base_url": carrier["url"]}, credentials={"application_token": "simc_wrong"})
    with pytest.raises(CarrierUnavailable, match="emnify refused the application token"):
        emnify.apply([change(carrier["iccid"]["active4"], Target.SUSPENDED)])
    with pytest.raises(CarrierUnavailable, match="No emnify application token"):
        EmnifyAdapter(settings={"api_base_url": carrier["url"]}, credentials={}).check()


def test_a_stopped_carrier_is_unavailable_and_nothing_is_claimed(carrier):
    second = CarrierConsole(carrier["console"].database)
    second.start()
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
