import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sims.models import Connectivity, NetworkEvent, SimConnectivity
from tests.conftest import make_iccid

TOKEN = "t0ken-for-the-carrier-push-tests-0123456789"
URL = "/carrier/events/"


@pytest.fixture(autouse=True)
def push_token(settings):
    settings.CARRIER_PUSH_TOKEN = TOKEN


def event(iccid: str, event_id: str = "ev1", kind: str = "attach", **fields) -> dict:
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    return {"event_id": event_id, "iccid": iccid, "kind": kind, "at": at.isoformat(), **fields}


def push(client, body, token: str | None = TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", **headers)


def test_the_url_is_named_carrier_events_push():
    assert reverse("carrier_events_push") == URL


def test_a_push_ingests_the_events_and_the_sim_is_online(client, sim):
    events = [
        event(sim.iccid, "ev1", "attach", imei="356938035643809", operator="Telekom.de 262-01", country="DE", rat="LTE-M"),
        event(sim.iccid, "ev2", "session_start"),
        event(make_iccid(), "ev3"),
        event(sim.iccid, "ev4", "teleport"),
    ]

    response = push(client, {"events": events})

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("received", "ingested", "duplicates", "rejected_count")} == {
        "received": 4, "ingested": 2, "duplicates": 0, "rejected_count": 2,
    }  # fmt: skip
    assert [(r["index"], r["event_id"]) for r in body["rejected"]] == [(2, "ev3"), (3, "ev4")]
    assert "No SIM has ICCID" in body["rejected"][0]["reason"]
    assert "is not a kind of network event" in body["rejected"][1]["reason"]
    state = SimConnectivity.objects.get(sim=sim)
    assert (state.status, state.operator, state.imei) == (Connectivity.ONLINE, "Telekom.de 262-01", "356938035643809")


def test_the_same_push_twice_counts_everything_as_duplicates(client, sim):
    body = {"events": [event(sim.iccid, "ev1"), event(sim.iccid, "ev2", "detach")]}
    push(client, body)

    again = push(client, body).json()

    assert (again["ingested"], again["duplicates"]) == (0, 2)
    assert NetworkEvent.objects.count() == 2


def test_an_event_that_cannot_be_read_stops_the_whole_push(client, sim):
    response = push(client, {"events": [event(sim.iccid, "ev1"), event(sim.iccid, "ev2", at="yesterday"), {"event_id": 3}]})

    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("2 of 3 events cannot be read, so none was ingested")
    assert [(p["index"], p["field"]) for p in body["problems"]] == [(1, "at"), (2, "event_id")]
    assert "is not an ISO 8601 time" in body["problems"][0]["error"]
    assert not NetworkEvent.objects.exists()


def test_a_body_without_events_says_what_is_expected(client):
    response = push(client, {"records": []})

    assert response.status_code == 400
    assert '"events" array' in response.json()["error"]


def test_the_wrong_token_is_refused(client, sim):
    response = push(client, {"events": [event(sim.iccid)]}, token="wrong")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert not NetworkEvent.objects.exists()


def test_without_a_token_configured_the_endpoint_does_not_exist(client, settings):
    settings.CARRIER_PUSH_TOKEN = ""

    assert push(client, {"events": []}).status_code == 404


def test_a_body_over_the_limit_is_refused(client, settings):
    settings.CARRIER_PUSH_MAX_MB = 1

    response = push(client, json.dumps({"events": [], "pad": "x" * 1_100_000}))

    assert response.status_code == 413
    assert response.json()["error"] == "The body is over 1 MB: push the events in smaller batches."
