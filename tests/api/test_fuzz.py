"""Schemathesis against the console's WSGI app: every operation of /api/schema/, fed inputs the
schema allows and inputs it forbids, with valid tokens and a product that has a few SIMs. No
answer may be a 500, and every answer must be one the schema documents, in the shape it gives.

The operations come from the document itself, so a path added to either dialect is covered with no
change here, as long as its security scheme is one `_auth_headers` knows.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.models import Scope
from api.schema import openapi_document
from api.tokens import create_token
from rules.models import Rule, RuleApproval
from sims.models import Sim, SimDailyUsage, State
from tests.conftest import make_iccid

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance, response_schema_conformance]
# Examples per operation and mode: about 12 operations x 2 modes x this, a few ms each.
EXAMPLES = 30
HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete")
OPERATIONS = [
    pytest.param(path, method, id=f"{method.upper()} {path}")
    for path, item in openapi_document()["paths"].items()
    for method in HTTP_METHODS
    if method in item
]


@pytest.fixture
def wsgi_schema(settings):
    """The schema as served at /api/schema/, with the app to call. Django's test client keeps the
    test's transaction open by not closing connections at the end of a request; so must we."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.API_RATE_LIMIT = 1_000_000  # the fuzzer is not a client to slow down
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(product, teammate, owner, make_sim):
    """A product with SIMs in several states and some usage; a developer's own SIMs; tokens for both; a
    rule with a pass waiting for approval, and an admin's token to change rules (a member's may not)."""
    sims = [make_sim(product, home_country="US") for _ in range(3)]
    sims += [make_sim(product, state=state) for state in (State.PAUSED, State.SUSPENDED, State.ISSUED, State.TERMINATED)]
    own = [make_sim(None, owner_user=teammate, home_country="DE"), make_sim(None, owner_user=teammate, state=State.SUSPENDED)]
    today = timezone.now().date()
    for sim in sims[:2] + own[:1]:
        SimDailyUsage.objects.create(sim=sim, product=sim.product, day=today, bytes=1_234_567)
    from devices.models import Device

    devices = [Device.objects.create(product=product, device_id=f"fuzz-{i}", name=f"Fuzz {i}") for i in range(2)]
    Sim.objects.filter(pk=sims[0].pk).update(device=devices[0])
    _, product_secret = create_token(user=teammate, name="fuzz", product=product, scopes=list(Scope.values))
    _, own_secret = create_token(user=teammate, name="fuzz-own", product=None, scopes=list(Scope.values))
    _, admin_secret = create_token(user=owner, name="fuzz-admin", product=product, scopes=list(Scope.values))
    rule = Rule.objects.create(product=product, name="Fuzz", condition_kind="usage_day", condition={"mb": 50}, actions=[{"kind": "pause"}])
    approval = RuleApproval.objects.create(rule=rule, pending=0)
    return {
        "product": product,
        "iccids": [sim.iccid for sim in sims],
        "own_iccids": [sim.iccid for sim in own],
        "product_secret": product_secret,
        "own_secret": own_secret,
        "endpoint_ids": [str(device.pk) for device in devices],
        "admin_secret": admin_secret,
        "rule_ids": [str(rule.pk)],
        "approval_ids": [str(approval.pk)],
    }


def _auth_headers(operation, path: str, world: dict, app_call) -> dict[str, str]:
    schemes = {name for requirement in operation.definition.raw.get("security", []) for name in requirement}
    if not schemes:
        return {}
    if schemes & {"particleAuth", "particleAccessToken"}:
        secret = world["product_secret"] if path.startswith("/v1/products/") else world["own_secret"]
        if "/rules" in path:
            secret = world["admin_secret"]
        return {"Authorization": f"Bearer {secret}"}
    if "emnifyAuth" in schemes:
        # emnify's flow (../shared/API.md): the application token buys a bearer auth_token.
        return {"Authorization": f"Bearer {app_call('/api/v1/authenticate', {'application_token': world['product_secret']})['auth_token']}"}
    pytest.fail(f"{operation.label} uses the security schemes {sorted(schemes)}: teach _auth_headers how to authenticate")


def _real_values(path: str, world: dict) -> dict[str, list[str]]:
    """Identifiers that exist (and valid ICCIDs the console has never seen, which a developer may
    claim), so the fuzzer reaches past the 404s."""
    product = world["product"]
    return {
        "product": [product.slug, str(product.pk)],
        "iccid": [*(world["iccids"] if path.startswith("/v1/products/") else world["own_iccids"]), make_iccid(), make_iccid()],
        "endpoint_id": world["endpoint_ids"],
        "operator_id": ["26201", "310410"],
        "rule_id": world["rule_ids"],
        "approval_id": world["approval_ids"],
    }


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_input_gets_a_500_or_an_answer_the_schema_does_not_describe(wsgi_schema, world, path, method, mode):
    operation = wsgi_schema[path][method.upper()]
    from werkzeug.test import Client

    client = Client(wsgi_schema.app)

    def app_call(url: str, body: dict) -> dict:
        return json.loads(client.post(url, json=body).get_data())

    headers = _auth_headers(operation, path, world, app_call)
    real = _real_values(path, world)

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case, data):
        for name, value in list((case.path_parameters or {}).items()):
            choices = real.get(name) or []
            if choices and data.draw(st.integers(0, 4), label=f"a real {name}?"):  # 4 times in 5
                case.path_parameters[name] = data.draw(st.sampled_from(choices), label=name)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.parametrize(
    ("path", "method"),
    [p for p in OPERATIONS if p.values[0].startswith("/v1/") and "requestBody" in openapi_document()["paths"][p.values[0]][p.values[1]]],
)
def test_the_documented_request_example_succeeds(wsgi_schema, world, path, method):
    """The Particle body the docs page shows is one that works, on a SIM that exists (or, to activate,
    a new one). emnify's answers are checked against their description in test_api_emnify_schema.py."""
    operation = wsgi_schema[path][method.upper()]
    document = openapi_document()
    body = document["components"]["schemas"][
        document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    ]["example"]
    real = _real_values(path, world)
    iccid = make_iccid() if body.get("action") == "activate" else real["iccid"][0]
    ids = {"product": world["product"].slug, "iccid": iccid, "rule_id": real["rule_id"][0], "approval_id": real["approval_id"][0]}
    case = operation.Case(path_parameters=ids, body=body, media_type="application/json")
    case.path_parameters = {k: v for k, v in case.path_parameters.items() if "{" + k + "}" in path}
    response = case.call(headers=_auth_headers(operation, path, world, None))
    assert response.status_code in (200, 201), response.text
    case.validate_response(response, checks=CHECKS)
