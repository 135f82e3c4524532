"""api/schema_emnify.py describes what api/emnify.py answers: the description is valid OpenAPI 3.1
on its own, and real answers of every kind conform to it (schemathesis' checks, as the fuzzer of
/api/schema/ runs them)."""

import json
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from werkzeug.test import Client

from api.models import Scope
from api.schema_emnify import EMNIFY_COMPONENTS, EMNIFY_PATHS
from api.tokens import create_token
from sims.models import State

DOCUMENT = {"openapi": "3.1.0", "info": {"title": "emnify dialect", "version": "1"}, "paths": EMNIFY_PATHS, "components": EMNIFY_COMPONENTS}


def _plain(document: dict) -> dict:
    return json.loads(json.dumps(document))  # as served: enums and tuples become JSON


def test_the_emnify_description_is_valid_openapi_3_1():
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    assert [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(_plain(DOCUMENT))] == []


def test_every_emnify_url_is_described():
    from django.urls import URLPattern, get_resolver

    described = set(EMNIFY_PATHS)
    urls = {
        "/" + re.sub(r"<str:(\w+)>", r"{\1}", str(p.pattern))
        for p in get_resolver().url_patterns
        if isinstance(p, URLPattern) and (p.name or "").startswith("emnify_")
    }
    assert urls == described


@pytest.fixture
def app(settings):
    """The WSGI app, with the test's transaction kept open across requests (as the test client does)."""
    settings.ALLOWED_HOSTS = ["*"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield Client(get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_real_answers_of_every_kind_conform(app, product, teammate, make_sim, settings):
    schema = schemathesis.openapi.from_dict(_plain(DOCUMENT))
    _, secret = create_token(user=teammate, name="schema", product=product, scopes=list(Scope.values))
    _, narrow = create_token(user=teammate, name="narrow", product=product, scopes=[Scope.SIMS_GET])
    active, issued, dead = make_sim(product, imsi="001010000000001"), make_sim(product, state=State.ISSUED), make_sim(product, state=State.TERMINATED)

    def auth(application_token: str) -> dict:
        return {"Authorization": f"Bearer {app.post('/api/v1/authenticate', json={'application_token': application_token}).json['auth_token']}"}

    bearer, weak = auth(secret), auth(narrow)
    calls = [
        ("/api/v1/authenticate", "POST", {"json": {"application_token": secret}}, 200),
        ("/api/v1/authenticate", "POST", {"json": {"application_token": "simc_wrong"}}, 401),
        ("/api/v1/authenticate", "POST", {"json": {"colour": 1}}, 400),
        ("/api/v1/sim", "GET", {"headers": bearer, "query_string": "per_page=2&q=status:1"}, 200),
        ("/api/v1/sim", "GET", {"headers": bearer, "query_string": "q=colour:red"}, 400),
        ("/api/v1/sim", "GET", {}, 401),
        ("/api/v1/sim", "GET", {"headers": weak}, 403),
        ("/api/v1/sim/{id}", "GET", {"headers": bearer, "path": active.pk}, 200),
        ("/api/v1/sim/{id}", "GET", {"headers": bearer, "path": 999999}, 404),
        ("/api/v1/sim/{id}", "PATCH", {"headers": bearer, "path": issued.pk, "json": {"status": {"id": 1}}}, 204),
        ("/api/v1/sim/{id}", "PATCH", {"headers": bearer, "path": dead.pk, "json": {"status": {"id": 1}}}, 409),
        ("/api/v1/sim/{id}", "PATCH", {"headers": bearer, "path": active.pk, "json": {"status": 1}}, 400),
        ("/api/v1/sim/{id}", "DELETE", {"headers": bearer, "path": active.pk}, 204),
    ]
    for path, method, options, status in calls:
        url = path.replace("{id}", str(options.pop("path", "")))
        response = app.open(url, method=method, **options)
        assert response.status_code == status, (method, url, response.get_data())
        schema[path][method].validate_response(response)
    settings.API_RATE_LIMIT = 1
    responses = [app.get("/api/v1/sim", headers=bearer) for _ in range(4)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited
    schema["/api/v1/sim"]["GET"].validate_response(limited[0])


def test_real_endpoint_answers_conform(app, product, other_product, teammate, make_sim):
    from datetime import UTC, datetime

    from devices.models import Device, DeviceAssignment
    from sims.models import NetworkEvent, Sim, SimConnectivity

    schema = schemathesis.openapi.from_dict(_plain(DOCUMENT))
    _, secret = create_token(user=teammate, name="schema", product=product, scopes=list(Scope.values))
    bearer = {"Authorization": f"Bearer {app.post('/api/v1/authenticate', json={'application_token': secret}).json['auth_token']}"}
    device = Device.objects.create(product=product, device_id="t-1", name="Tracker", imei="35630811234567", tags=["a"])
    foreign = Device.objects.create(product=other_product, device_id="f-1")
    sim, spare = make_sim(product, imsi="001010000000001"), make_sim(product, state=State.ISSUED)
    DeviceAssignment.objects.create(sim=sim, device=device, started_at=datetime(2026, 1, 1, tzinfo=UTC), source="hand")
    Sim.objects.filter(pk=sim.pk).update(device=device)
    SimConnectivity.objects.create(sim=sim, product=product, status="online", operator="Telekom.de 262-01", country="DE")
    NetworkEvent.objects.create(event_id="e1", sim=sim, product=product, kind="auth_reject", at=datetime(2026, 2, 1, tzinfo=UTC), operator="Telekom.de 262-01", cause="Roaming not allowed")
    d, f = device.pk, foreign.pk
    calls = [
        ("/api/v1/endpoint", "GET", {"query_string": "q=status:0&sort=-name"}, 200),
        ("/api/v1/endpoint", "GET", {"query_string": "q=colour:1"}, 400),
        ("/api/v1/endpoint", "POST", {"json": {"name": "New", "status": {"id": 0.0}, "service_profile": {"id": 1}, "tariff_profile": {"id": 1}, "sim": {"id": spare.pk}}}, 201),
        ("/api/v1/endpoint", "POST", {"json": {"tags": "x"}}, 400),
        ("/api/v1/endpoint/{endpoint_id}", "GET", {"path": d}, 200),
        ("/api/v1/endpoint/{endpoint_id}", "GET", {"path": f}, 404),
        ("/api/v1/endpoint/{endpoint_id}", "PATCH", {"path": d, "json": {"name": "Renamed", "status": {"id": 1}}}, 204),
        ("/api/v1/endpoint/{endpoint_id}", "PATCH", {"path": d, "json": {"sim": {"id": spare.pk}}}, 409),
        ("/api/v1/endpoint/{endpoint_id}/connectivity", "GET", {"path": d}, 200),
        ("/api/v1/endpoint/{endpoint_id}/connectivity", "PATCH", {"path": d, "json": {"location": None}}, 204),
        ("/api/v1/endpoint/{endpoint_id}/event", "GET", {"path": d}, 200),
        ("/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}", "PUT", {"path": d, "operator": 26201}, 204),
        ("/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}", "PUT", {"path": d, "operator": 26201}, 409),
        ("/api/v1/endpoint/{endpoint_id}/operator_blacklist", "GET", {"path": d}, 200),
        ("/api/v1/operator", "GET", {}, 200),
        ("/api/v1/operator", "GET", {"query_string": "q=x"}, 400),
        ("/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}", "DELETE", {"path": d, "operator": 26201}, 204),
        ("/api/v1/endpoint/{endpoint_id}", "DELETE", {"path": d}, 204),
    ]
    for path, method, options, status in calls:
        url = path.replace("{endpoint_id}", str(options.pop("path", ""))).replace("{operator_id}", str(options.pop("operator", "")))
        response = app.open(url, method=method, headers=bearer, **options)
        assert response.status_code == status, (method, url, response.get_data())
        schema[path][method].validate_response(response)


def test_real_endpoint_sms_answers_conform(app, product, teammate, make_sim):
    from devices.models import Device, DeviceAssignment
    from sims.models import Sim

    schema = schemathesis.openapi.from_dict(_plain(DOCUMENT))
    _, secret = create_token(user=teammate, name="schema", product=product, scopes=list(Scope.values))
    bearer = {"Authorization": f"Bearer {app.post('/api/v1/authenticate', json={'application_token': secret}).json['auth_token']}"}
    device, empty = Device.objects.create(product=product, device_id="t-1", name="Tracker"), Device.objects.create(product=product, device_id="t-2")
    sim = make_sim(product, msisdn="4915112345678")
    DeviceAssignment.objects.create(sim=sim, device=device, source="hand")
    Sim.objects.filter(pk=sim.pk).update(device=device)
    sent = app.post(f"/api/v1/endpoint/{device.pk}/sms", json={"source_address": "12345", "payload": "hi"}, headers=bearer)
    assert sent.status_code == 201
    schema["/api/v1/endpoint/{endpoint_id}/sms"]["POST"].validate_response(sent)
    one = sent.headers["Location"].removeprefix(f"/api/v1/endpoint/{device.pk}/sms/")
    calls = [
        ("/api/v1/endpoint/{endpoint_id}/sms", "POST", {"path": device.pk, "json": {"payload": "x" * 161}}, 400),
        ("/api/v1/endpoint/{endpoint_id}/sms", "POST", {"path": empty.pk, "json": {"payload": "hi"}}, 409),
        ("/api/v1/endpoint/{endpoint_id}/sms", "POST", {"path": 999999, "json": {"payload": "hi"}}, 404),
        ("/api/v1/endpoint/{endpoint_id}/sms", "GET", {"path": device.pk}, 200),
        ("/api/v1/endpoint/{endpoint_id}/sms", "GET", {"path": device.pk, "query_string": "per_page=0"}, 400),
        ("/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", "GET", {"path": device.pk, "sms": one}, 200),
        ("/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", "GET", {"path": empty.pk, "sms": one}, 404),
        ("/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", "DELETE", {"path": device.pk, "sms": one}, 200),
        ("/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", "DELETE", {"path": device.pk, "sms": one}, 409),
        ("/api/v1/endpoint/{endpoint_id}/sms/{sms_id}", "GET", {"path": device.pk, "sms": one}, 200),
    ]
    for path, method, options, status in calls:
        url = path.replace("{endpoint_id}", str(options.pop("path"))).replace("{sms_id}", str(options.pop("sms", "")))
        response = app.open(url, method=method, headers=bearer, **options)
        assert response.status_code == status, (method, url, response.get_data())
        schema[path][method].validate_response(response)
