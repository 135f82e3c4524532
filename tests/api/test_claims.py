"""Only what you hold can be claimed, through both API dialects: a claim refused answers the same
status and body whether another product holds the ICCID or nobody does."""

import json

import pytest

from api.models import Scope
from api.tokens import create_token
from carriers.adapters.base import CarrierUnavailable
from carriers.adapters.simulator import SimulatorAdapter
from carriers.models import CarrierAccount
from imports.importing import run_import
from imports.models import ImportJob
from sims.iccid import luhn_check_digit
from sims.models import Sim, State
from tests.conftest import make_user

ALL = list(Scope.values)


def iccid(prefix: str, serial: int) -> str:
    body = f"{prefix}{serial:0{18 - len(prefix)}d}"
    return body + luhn_check_digit(body)


HELD = iccid("890126", 1)
NOBODYS = iccid("8944500", 1)  # outside the account's inventory: no carrier holds it


@pytest.fixture
def account(product):
    return CarrierAccount.objects.create(product=product, name="Simulated US", adapter="simulator", settings={"inventory_prefixes": ["890126"]})


@pytest.fixture
def token(product, teammate, account):
    return create_token(user=teammate, name="factory", product=product, scopes=ALL)[1]


@pytest.fixture
def own_token(teammate):
    return create_token(user=teammate, name="bench", product=None, scopes=ALL)[1]


@pytest.fixture
def theirs(other_product, make_sim):
    """Held by another product: in the account's inventory range, so only ownership refuses it."""
    return make_sim(other_product, iccid=iccid("890126", 2))


def call(client, method: str, path: str, secret: str, body=None):
    data = json.dumps(body) if body is not None else None
    return getattr(client, method.lower())(path, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")


def answer(response) -> tuple[int, bytes]:
    return response.status_code, response.content


# Particle


def test_particle_check_refuses_a_sim_held_by_another_product_and_one_held_by_nobody_alike(client, token, theirs):
    assert call(client, "HEAD", f"/v1/sims/{HELD}", token).status_code == 204
    assert call(client, "HEAD", f"/v1/sims/{NOBODYS}", token).status_code == 403
    assert call(client, "HEAD", f"/v1/sims/{theirs.iccid}", token).status_code == 403
    # HEAD has no body: the same call as GET's twin shows the words through the developer's claim below.


def test_particle_developer_claim_of_a_sim_the_built_in_carrier_does_not_hold_is_refused_like_anothers(
    client, own_token, theirs, make_sim, settings
):
    refused = iccid("890126", 3)
    settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES = [refused[-6:]]
    strangers = make_sim(None, owner_user=make_user("stranger"), iccid=iccid("890126", 4))
    body = {"action": "activate", "country": "DE"}

    nobody = call(client, "PUT", f"/v1/sims/{refused}", own_token, body)
    other_product = call(client, "PUT", f"/v1/sims/{theirs.iccid}", own_token, body)
    other_person = call(client, "PUT", f"/v1/sims/{strangers.iccid}", own_token, body)

    assert answer(nobody) == answer(other_product) == answer(other_person)
    assert nobody.status_code == 403
    assert nobody.json() == {
        "ok": False,
        "error": "This SIM cannot be claimed with this token. Not held by the console's carrier: check the ICCID, "
        "or import the SIM into a product whose carrier account holds it.",
    }
    assert not Sim.objects.filter(iccid=refused).exists()
    assert call(client, "HEAD", f"/v1/sims/{refused}", own_token).status_code == 403
    # One the built-in carrier holds is claimed and activated.
    assert call(client, "PUT", f"/v1/sims/{HELD}", own_token, body).json() == {"ok": True}
    assert Sim.objects.get(iccid=HELD).carrier_account is None


def test_particle_check_while_the_carrier_is_down_answers_503_and_claims_nothing(client, own_token, monkeypatch):
    def down(self, iccids):
        raise CarrierUnavailable("timed out")

    monkeypatch.setattr(SimulatorAdapter, "holds", down)
    response = call(client, "PUT", f"/v1/sims/{HELD}", own_token, {"action": "activate", "country": "DE"})
    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "could not be asked whether it holds this SIM (The built-in simulator: timed out)" in response.json()["error"]
    assert not Sim.objects.exists()


def test_particle_product_import_refuses_what_the_account_does_not_hold_as_it_refuses_anothers(
    client, token, theirs, product
):
    response = call(client, "POST", "/v1/products/acme/sims", token, {"sims": [HELD, NOBODYS, theirs.iccid], "country": "US"})
    assert response.status_code == 200
    job = run_import(job_id=response.json()["import_id"])
    assert (job.status, job.activated, job.carrier_refused, job.other_owner) == (ImportJob.Status.DONE, 1, 2, 0)
    from imports.importing import outcome_rows

    reasons = {row[3]: (row[4], row[5]) for row in list(outcome_rows(job))[1:]}
    assert reasons[NOBODYS] == reasons[theirs.iccid]
    assert Sim.objects.get(iccid=HELD).product == product
    assert Sim.objects.get(iccid=theirs.iccid).state == State.ACTIVE and not Sim.objects.filter(iccid=NOBODYS).exists()


# emnify


def emnify_auth(client, secret: str) -> str:
    response = client.post("/api/v1/authenticate", {"application_token": secret}, content_type="application/json")
    return response.json()["auth_token"]


def register(client, auth: str, bic: str):
    return call(client, "PATCH", f"/api/v1/sim_batch/bic/{bic}", auth, {"status": {"id": 1, "description": "Activated"}})


def test_emnify_registration_claims_what_the_account_holds_onto_that_account(client, token, account, product):
    response = register(client, emnify_auth(client, token), HELD)
    assert response.status_code == 200, response.content
    [sim] = response.json()
    assert (sim["iccid"], sim["status"], sim["customer_org"]["id"]) == (HELD, {"id": 1, "description": "Activated"}, product.pk)
    stored = Sim.objects.get(iccid=HELD)
    assert (stored.product, stored.carrier_account, stored.state) == (product, account, State.ACTIVE)
    assert ImportJob.objects.get().token_name.startswith("factory")
    # Registering it again changes nothing and answers the SIM again.
    assert register(client, emnify_auth(client, token), HELD).json()[0]["id"] == sim["id"]


def test_emnify_registration_refuses_a_sim_held_by_another_product_and_one_held_by_nobody_alike(client, token, theirs):
    auth = emnify_auth(client, token)
    nobody, other = register(client, auth, NOBODYS), register(client, auth, theirs.iccid)
    assert answer(nobody) == answer(other)
    assert nobody.status_code == 404
    assert nobody.json() == {
        "error_code": 404,
        "error_token": "not_found",
        "message": "No SIM batch with this BIC can be registered with this token. Not held by this product's carrier "
        "accounts: check the ICCID, or add the SIM to your carrier account first.",
    }
    assert not Sim.objects.filter(iccid=NOBODYS).exists()
    assert Sim.objects.get(iccid=theirs.iccid).product == theirs.product
    assert not ImportJob.objects.exists()  # a squatter's refused claims leave no import behind


def test_emnify_developer_registration_goes_through_the_built_in_carriers_inventory(client, own_token, theirs, settings):
    refused = iccid("890126", 5)
    settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES = [refused[-6:]]
    auth = emnify_auth(client, own_token)
    assert answer(register(client, auth, refused)) == answer(register(client, auth, theirs.iccid))
    assert register(client, auth, refused).status_code == 404
    mine = register(client, auth, HELD)
    assert mine.status_code == 200 and mine.json()[0]["status"]["id"] == 1
    assert Sim.objects.get(iccid=HELD).owner_user.username == "teammate"


def test_emnify_registration_while_the_carrier_is_down_answers_503_and_imports_nothing(client, token, monkeypatch):
    def down(self, iccids):
        raise CarrierUnavailable("timed out")

    monkeypatch.setattr(SimulatorAdapter, "holds", down)
    response = register(client, emnify_auth(client, token), HELD)
    assert response.status_code == 503 and response.json()["error_token"] == "service_unavailable"
    assert not Sim.objects.exists() and not ImportJob.objects.exists()  # nothing a resume would finish later


def test_with_the_carrier_down_a_claim_of_anothers_sim_answers_as_one_nobody_holds(client, own_token, theirs, monkeypatch):
    def down(self, iccids):
        raise CarrierUnavailable("timed out")

    monkeypatch.setattr(SimulatorAdapter, "holds", down)
    body = {"action": "activate", "country": "DE"}
    unknown = call(client, "PUT", f"/v1/sims/{iccid('890126', 77)}", own_token, body)
    taken = call(client, "PUT", f"/v1/sims/{theirs.iccid}", own_token, body)
    assert unknown.status_code == taken.status_code == 503
    assert unknown.json() == taken.json()
    assert Sim.objects.get(iccid=theirs.iccid).product == theirs.product
