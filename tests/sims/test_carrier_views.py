import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sims.models import SimDailyUsage, SimEvent, State, UsageRecord
from tests.conftest import make_iccid

TOKEN = "t0ken-for-the-carrier-push-tests-0123456789"
URL = "/carrier/usage/"
UNKNOWN = make_iccid()


@pytest.fixture(autouse=True)
def push_token(settings):
    settings.CARRIER_PUSH_TOKEN = TOKEN


@pytest.fixture
def sim(product, make_sim):
    return make_sim(product, state=State.ACTIVE, data_limit_mb=1)


def record(iccid: str, record_id: str = "r1", **fields) -> dict:
    # This minute: in this billing period whenever the test runs, and not in the future.
    start = timezone.now().replace(second=0, microsecond=0)
    return {
        "record_id": record_id,
        "iccid": iccid,
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=1)).isoformat(),
        "bytes_up": 1000,
        "bytes_down": 4000,
        "sms": 0,
        "country": "DE",
        **fields,
    }


def push(client, body, token: str | None = TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", **headers, **extra)


def test_the_url_is_named_carrier_usage_push():
    assert reverse("carrier_usage_push") == URL


def test_a_good_push_ingests_and_pauses_a_sim_over_its_limit(client, sim):
    records = [record(sim.iccid, "r1"), record(sim.iccid, "r2", bytes_down=1_200_000), record(UNKNOWN, "r3")]

    response = push(client, {"records": records})

    assert response.status_code == 200
    assert response.json() == {
        "received": 3,
        "ingested": 2,
        "duplicates": 0,
        "rejected_count": 1,
        "rejected": [{"index": 2, "record_id": "r3", "reason": f"No SIM has ICCID {UNKNOWN}; import the SIM before its usage."}],
        "paused": 1,
        "activated": 0,
    }
    sim.refresh_from_db()
    assert sim.state == State.PAUSED
    assert SimEvent.objects.get(sim=sim).actor_name == "data limit"
    assert SimDailyUsage.objects.get(sim=sim).bytes == 5000 + 1_201_000


def test_the_same_push_twice_counts_once(client, sim):
    body = {"records": [record(sim.iccid, "r1"), record(sim.iccid, "r2")]}
    push(client, body)

    again = push(client, body).json()

    assert (again["ingested"], again["duplicates"]) == (0, 2)
    assert SimDailyUsage.objects.get(sim=sim).bytes == 10_000


def test_records_that_are_readable_but_wrong_are_rejected_one_by_one(client, sim):
    future = (timezone.now() + timedelta(hours=3)).isoformat()
    records = [record(sim.iccid, "r1", bytes_up=-1), record(sim.iccid, "r2", end=future), record(sim.iccid, "r3")]

    body = push(client, {"records": records}).json()

    assert [(r["index"], r["record_id"]) for r in body["rejected"]] == [(0, "r1"), (1, "r2")]
    assert "cannot be negative" in body["rejected"][0]["reason"] and "in the future" in body["rejected"][1]["reason"]
    assert body["ingested"] == 1


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-of-a-guesser", f"Basic {TOKEN}", "Bearer ", f"Bearer {TOKEN}x", "Bearer tökén"],
    ids=["missing", "wrong", "basic-scheme", "empty", "longer", "not-ascii"],
)
def test_a_push_without_the_right_token_gets_401_and_changes_nothing(client, sim, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.post(URL, json.dumps({"records": [record(sim.iccid)]}), content_type="application/json", **headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith('Bearer realm="carrier usage"')
    assert "error" in response.json()
    assert not UsageRecord.objects.exists()
    sim.refresh_from_db()
    assert sim.state == State.ACTIVE


def test_a_wrong_token_is_told_apart_from_a_missing_one(client, db):
    assert push(client, {"records": []}, token="a-wrong-token")["WWW-Authenticate"].endswith('error="invalid_token"')
    assert "error=" not in push(client, {"records": []}, token=None)["WWW-Authenticate"]


def test_the_token_scheme_is_case_insensitive(client, sim):
    response = client.post(URL, json.dumps({"records": []}), content_type="application/json", HTTP_AUTHORIZATION=f"bearer {TOKEN}")

    assert response.status_code == 200


def test_without_a_configured_token_the_endpoint_does_not_exist(client, settings, sim):
    settings.CARRIER_PUSH_TOKEN = ""

    assert push(client, {"records": [record(sim.iccid)]}, token="").status_code == 404
    assert push(client, {"records": [record(sim.iccid)]}, token="anything").status_code == 404
    assert client.get(URL).status_code == 404
    assert not UsageRecord.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"bytes_up": "1000"}, "bytes_up", "must be an integer, not a string"),
        ({"sms": 1.5}, "sms", "must be an integer, not a number"),
        ({"bytes_down": True}, "bytes_down", "must be an integer, not true or false"),
        ({"iccid": 8901260000000000017}, "iccid", "must be a string, not an integer"),
        ({"start": None}, "start", "must be a string, not null"),
        ({"start": "20 Nov 2026"}, "start", "is not an ISO 8601 time"),
        ({"country": ["DE"]}, "country", "must be a string of two letters (or null), not an array"),
        ({"iccid": "8901260000000000018"}, "iccid", "fails the Luhn check"),
        ({"record_id": "r\x00"}, "record_id", "contains a control character"),
    ],
)
def test_a_push_with_wrong_types_gets_400_naming_the_record_and_field_and_ingests_nothing(client, sim, change, field, words):
    records = [record(sim.iccid, "ok"), {**record(sim.iccid, "bad"), **change}]

    response = push(client, {"records": records})

    assert response.status_code == 400
    body = response.json()
    assert "none was ingested" in body["error"]
    assert body["problem_count"] == 1
    [problem] = body["problems"]
    assert (problem["index"], problem["field"]) == (1, field)
    assert words in problem["error"]
    assert not UsageRecord.objects.exists()


def test_a_missing_field_is_named(client, sim):
    broken = record(sim.iccid)
    del broken["end"]

    problem = push(client, {"records": [broken]}).json()["problems"][0]

    assert (problem["index"], problem["field"]) == (0, "end")
    assert problem["error"].startswith("is missing")


def test_the_country_may_be_left_out_or_null(client, sim):
    no_country = record(sim.iccid, "r1")
    del no_country["country"]

    body = push(client, {"records": [no_country, record(sim.iccid, "r2", country=None)]}).json()

    assert body["ingested"] == 2
    assert set(UsageRecord.objects.values_list("country", flat=True)) == {""}


def test_many_bad_records_are_listed_up_to_50_with_their_count(client, sim):
    records = [record(sim.iccid, f"r{n}", sms="two") for n in range(80)]

    body = push(client, {"records": records}).json()

    assert (len(body["problems"]), body["problem_count"]) == (50, 80)


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        b"\xff\xfe\x00garbage",
        "[" * 100_000 + "]" * 100_000,
        json.dumps([{"record_id": "r1"}]),
        json.dumps({"records": {"r1": {}}}),
        json.dumps({"data": []}),
        json.dumps({"records": ["r1"]}),
        "",
    ],
    ids=["broken", "not-text", "nested-deep", "a-list", "records-not-a-list", "no-records", "record-not-an-object", "empty"],
)
def test_a_malformed_body_gets_400_with_a_json_explanation(client, sim, body):
    response = push(client, body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]
    assert not UsageRecord.objects.exists()


def test_a_body_over_the_size_limit_gets_413(client, settings, sim):
    settings.CARRIER_PUSH_MAX_MB = 1
    records = [record(sim.iccid, f"r{n}") for n in range(6000)]  # about 1.4 MB

    response = push(client, {"records": records})

    assert response.status_code == 413
    assert "over 1 MB" in response.json()["error"]
    assert not UsageRecord.objects.exists()


def test_a_body_over_forms_upload_limit_but_under_the_push_limit_is_accepted(client, settings, sim):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    records = [record(sim.iccid, f"r{n}", bytes_down=1) for n in range(1000)]  # about 230 KB

    response = push(client, {"records": records})

    assert response.status_code == 200
    assert response.json()["ingested"] == 1000


def test_a_machine_client_needs_no_csrf_token(sim):
    strict = Client(enforce_csrf_checks=True)

    response = push(strict, {"records": [record(sim.iccid)]})

    assert response.status_code == 200


def test_only_post_is_allowed(client, db):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405
