"""emnify's own Python SDK (emnify-sdk 0.5.3, unchanged) against a live console: it lists, reads,
activates and suspends SIMs, and authenticates again after a 401. Each run checks the database.

The SDK needs pydantic 1, so it lives in `.venv-emnify` (built by ./test, scripts/bootstrap.sh) and
runs in a subprocess with EMNIFY_SDK_API_ENDPOINT_URL pointing at the live server: the SDK reads
it once, at import.
"""

import json
import os
import subprocess
import textwrap
import time
from typing import Any
from unittest import mock

import pytest

from api import emnify
from api.models import ApiToken, Scope
from api.tokens import create_token
from sims.models import Sim, SimEvent, State
from tests.conftest import ROOT, make_iccid

SDK_PYTHON = ROOT / ".venv-emnify" / "bin" / "python"
SDK_STAMP = ROOT / ".venv-emnify" / ".installed-emnify-sdk-0.5.3"

pytestmark = pytest.mark.skipif(
    not SDK_STAMP.exists(),
    reason="emnify-sdk 0.5.3 is missing: .venv-emnify was not built (./test builds it with pip: emnify-sdk==0.5.3, pydantic<2)",
)

PRELUDE = """
import json, sys
from emnify import EMnify, constants, errors
from emnify.modules.sim.models import SimFilter
args = json.loads(sys.argv[1])
client = EMnify(app_token=args["app_token"])
result = {}
"""


def run_sdk(live_server, code: str, **args: Any) -> dict[str, Any]:
    """Run SDK code in its own venv against the live server; its `result` dict comes back."""
    script = PRELUDE + textwrap.dedent(code) + "\nprint(json.dumps(result, default=str))\n"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "EMNIFY_SDK_API_ENDPOINT_URL": f"{live_server.url}/api",
        "NO_PROXY": "*",
    }
    done = subprocess.run(
        [str(SDK_PYTHON), "-c", script, json.dumps(args)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def app_token(transactional_db, product, teammate):
    return create_token(user=teammate, name="sdk", product=product, scopes=list(Scope.values))[1]


def token_events() -> list[tuple]:
    return list(SimEvent.objects.order_by("id").values_list("sim_id", "action", "from_state", "to_state", "actor_kind"))


def test_the_sdk_lists_every_page_filters_and_reads_one_sim(live_server, product, other_product, app_token, make_sim):
    # More than the SDK's page of 2000: it must follow X-Total-Pages to the second page.
    Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(2004))
    suspended = make_sim(product, state=State.SUSPENDED, imsi="001010000000042")
    make_sim(other_product)
    result = run_sdk(
        live_server,
        """
        sims = list(client.sim.get_sim_list())
        result["count"] = len(sims)
        result["ids"] = [s.id for s in sims]
        result["first"] = sims[0].dict()
        found = list(client.sim.get_sim_list(filter_model=SimFilter(iccid=args["iccid"]), sort_enum=constants.SimSort.iccid))
        result["found"] = [(s.id, s.status.id, s.status.description, s.imsi) for s in found]
        result["without_device"] = len(list(client.sim.get_sim_list(without_device=True, filter_model=SimFilter(imsi="001010000000042"))))
        one = client.sim.retrieve_sim(args["id"])
        result["one"] = [one.id, one.iccid, one.status.id, one.device]
        try:
            client.sim.retrieve_sim(args["foreign"])
        except errors.ValidationErrorException as error:
            result["foreign"] = str(error)
        """,
        app_token=app_token, iccid=suspended.iccid, id=suspended.pk, foreign=Sim.objects.get(product=other_product).pk,
    )
    mine = list(Sim.objects.filter(product=product).order_by("iccid").values_list("pk", flat=True))
    assert result["count"] == 2005 and result["ids"] == mine
    assert result["first"]["status"] == {"id": 1, "description": "Activated"} and result["first"]["device"] is None
    assert result["found"] == [[suspended.pk, 2, "Suspended", "001010000000042"]]
    assert result["without_device"] == 1
    assert result["one"] == [suspended.pk, suspended.iccid, 2, None]
    assert "not_found" in result["foreign"]
    assert not SimEvent.objects.exists()


def test_the_sdk_activates_and_suspends_through_the_lifecycle(live_server, product, app_token, make_sim):
    issued = make_sim(product, state=State.ISSUED)
    active = make_sim(product, state=State.ACTIVE)
    result = run_sdk(
        live_server,
        """
        result["activated"] = client.sim.activate_sim(args["issued"])
        result["suspended"] = client.sim.suspend_sim(args["active"])
        result["after"] = [client.sim.retrieve_sim(i).status.description for i in (args["issued"], args["active"])]
        try:
            client.sim.suspend_sim(args["active"])
        except errors.ValidationErrorException as error:
            result["again"] = str(error)
        """,
        app_token=app_token, issued=issued.pk, active=active.pk,
    )
    assert result["activated"] is True and result["suspended"] is True
    assert result["after"] == ["Activated", "Suspended"]
    assert "illegal_status_change" in result["again"] and "the SIM is suspended" in result["again"]
    issued.refresh_from_db(), active.refresh_from_db()
    assert (issued.state, active.state) == (State.ACTIVE, State.SUSPENDED)
    assert token_events() == [
        (issued.pk, "activate", "issued", "active", "token"),
        (active.pk, "deactivate", "active", "suspended", "token"),
    ]
    assert set(SimEvent.objects.values_list("actor_name", flat=True)) == {ApiToken.objects.get().actor_name}


def test_the_sdk_authenticates_again_when_its_auth_token_has_expired(live_server, product, app_token, make_sim):
    sim = make_sim(product, state=State.ACTIVE)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 2 * 3600):
        expired = emnify.issue_auth_token(ApiToken.objects.get())
    issued = []
    real_issue = emnify.issue_auth_token
    with mock.patch.object(emnify, "issue_auth_token", side_effect=lambda token: issued.append(1) or real_issue(token)):
        result = run_sdk(
            live_server,
            """
            result["listed"] = len(list(client.sim.get_sim_list()))
            client.token = args["expired"]
            result["suspended"] = client.sim.suspend_sim(args["id"])
            result["renewed"] = client.token != args["expired"]
            """,
            app_token=app_token, expired=expired, id=sim.pk,
        )
    # The first call answers 401 (no token yet) and the SDK authenticates; the expired token is
    # refused with 401 too, and the SDK authenticates again and retries the suspension once.
    assert result == {"listed": 1, "suspended": True, "renewed": True}
    assert len(issued) == 2
    sim.refresh_from_db()
    assert sim.state == State.SUSPENDED
    assert token_events() == [(sim.pk, "deactivate", "active", "suspended", "token")]


def test_the_sdk_reports_a_wrong_application_token(live_server, product, transactional_db, sim):
    result = run_sdk(
        live_server,
        """
        try:
            list(client.sim.get_sim_list())
        except errors.UnauthorisedException as error:
            result["error"] = str(error)
        """,
        app_token="simc_wrong",
    )
    assert result == {"error": "Invalid Application Token"}
    assert not SimEvent.objects.exists()


def test_the_sdk_reads_hundreds_of_sims_one_by_one_without_meeting_the_rate_limit(live_server, product, app_token):
    """The SDK has no answer to a 429 (it raises): a loop over the fleet must fit the default limit."""
    Sim.objects.bulk_create(Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(300))
    result = run_sdk(
        live_server,
        """
        ids = [sim.id for sim in client.sim.get_sim_list()]
        result["read"] = [client.sim.retrieve_sim(sim_id).id for sim_id in ids]
        """,
        app_token=app_token,
    )
    assert result["read"] == list(Sim.objects.order_by("iccid").values_list("pk", flat=True))


def test_the_sdk_registers_a_sim_its_products_carrier_holds_and_is_refused_one_it_does_not(live_server, product, app_token, prices):
    from carriers.models import CarrierAccount

    CarrierAccount.objects.create(product=product, name="Simulated", adapter="simulator", settings={"inventory_prefixes": ["8901260"]})
    held = make_iccid()  # 8901260...
    from sims.iccid import luhn_check_digit

    not_held = "894450000000000001" + luhn_check_digit("894450000000000001")
    result = run_sdk(
        live_server,
        """
        registered = client.sim.register_sim(bic=args["held"])
        result["registered"] = [(s.iccid, s.status.id) for s in registered]
        try:
            client.sim.register_sim(bic=args["not_held"])
        except errors.ValidationErrorException as error:
            result["refused"] = str(error)
        """,
        app_token=app_token,
        held=held,
        not_held=not_held,
    )
    assert result["registered"] == [[held, 1]]
    assert "Invalid bic number" in result["refused"]  # the SDK's own words for any refusal
    sim = Sim.objects.get(iccid=held)
    assert (sim.product, sim.state, sim.carrier_account.name) == (product, State.ACTIVE, "Simulated")
    assert not Sim.objects.filter(iccid=not_held).exists()
