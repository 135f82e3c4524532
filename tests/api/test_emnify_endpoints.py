"""emnify's endpoint resource under /api/v1/endpoint: an endpoint is a device. Each call's wire format
(as emnify-sdk 0.5.3 reads it), its errors in emnify's error body, and who reaches what, the database
checked after each."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from api.models import BlacklistedOperator, EndpointSettings, Scope
from api.tokens import create_token
from devices.models import Device, DeviceAssignment
from sims.models import Connectivity, NetworkEvent, Sim, SimConnectivity, SimEvent, State
from tests.api.test_emnify import assert_error, authenticate, call

ALL = list(Scope.values)
LIST = "/api/v1/endpoint"


@pytest.fixture
def app_token(product, teammate):
    return create_token(user=teammate, name="factory", product=product, scopes=ALL)[1]


@pytest.fixture
def auth(client, app_token):
    return authenticate(client, app_token)


def make_device(product, name="Tracker 1", **fields) -> Device:
    return Device.objects.create(product=product, device_id=fields.pop("device_id", name.lower().replace(" ", "-")), name=name, **fields)


def put_in(device, sim):
    DeviceAssignment.objects.create(sim=sim, device=device, source=DeviceAssignment.Source.HAND)
    Sim.objects.filter(pk=sim.pk).update(device=device)


# Create, read, list


def test_creating_an_endpoint_answers_201_with_its_address_and_makes_a_device(client, auth, product, make_sim):
    sim = make_sim(product, state=State.ISSUED)
    body = {
        "name": "Cold box 7", "tags": "fridge, berlin", "status": {"id": 0, "description": "Enabled"},
        "service_profile": {"id": 3}, "tariff_profile": {"id": 5}, "imei": "35630811234567", "imei_lock": True,
        "ip_address": "10.0.0.7", "sim": {"id": sim.pk, "activate": True},
    }
    response = call(client, "POST", LIST, auth, body)
    assert response.status_code == 201, response.content
    device = Device.objects.get()
    assert response["Location"] == f"/api/v1/endpoint/{device.pk}" and response.content == b""
    assert (device.product, device.name, device.tags, device.imei, len(device.device_id)) == (product, "Cold box 7", ["fridge", "berlin"], "35630811234567", 24)
    settings = EndpointSettings.objects.get(device=device)
    assert (settings.status, settings.service_profile_id, settings.tariff_profile_id, settings.ip_address, settings.imei_lock) == (0, 3, 5, "10.0.0.7", True)
    sim.refresh_from_db()
    assert (sim.device, sim.state) == (device, State.ACTIVE)
    assert DeviceAssignment.objects.get().source == "api"
    assert list(SimEvent.objects.values_list("action", "actor_kind")) == [("activate", "token")]


def test_an_endpoint_reads_as_emnify_writes_it(client, auth, product, make_sim):
    device = make_device(product, tags=["a", "b"], imei="35630811234567")
    sim = make_sim(product, imsi="001010000000001")
    put_in(device, sim)
    body = call(client, "GET", f"{LIST}/{device.pk}", auth).json()
    assert body["id"] == device.pk and body["name"] == "Tracker 1" and body["tags"] == "a,b" and body["imei"] == "35630811234567"
    assert body["status"] == {"id": 0, "description": "Enabled"}
    assert body["service_profile"] == {"id": 1} and body["tariff_profile"] == {"id": 1} and body["imei_lock"] is False
    assert body["sim"]["id"] == sim.pk and body["sim"]["iccid"] == sim.iccid and body["sim"]["status"] == {"id": 1, "description": "Activated"}
    assert body["sim"]["endpoint"] == {"id": device.pk, "name": "Tracker 1"}
    assert body["created"].endswith("Z") and "runtime_data" in body


def test_the_list_pages_filters_and_sorts(client, auth, product, other_product, make_sim):
    devices = [make_device(product, f"Tracker {i:02}", tags=["berlin"] if i == 3 else []) for i in range(5)]
    make_device(other_product, "Foreign")
    EndpointSettings.objects.create(device=devices[1], status=1)
    put_in(devices[2], make_sim(product, state=State.SUSPENDED))
    response = call(client, "GET", f"{LIST}?per_page=2&page=2", auth)
    assert response.status_code == 200
    assert (response["X-Total-Pages"], response["X-Total-Count"], response["X-Current-Page"], response["X-Count-Per-Page"]) == ("3", "5", "2", "2")
    assert [e["id"] for e in response.json()] == [devices[2].pk, devices[3].pk]
    assert response.json()[0]["sim"]["status"]["id"] == 2
    assert [e["id"] for e in call(client, "GET", f"{LIST}?q=status:1", auth).json()] == [devices[1].pk]
    assert len(call(client, "GET", f"{LIST}?q=status:0", auth).json()) == 4
    assert [e["id"] for e in call(client, "GET", f"{LIST}?q=name:er 04", auth).json()] == [devices[4].pk]
    assert [e["id"] for e in call(client, "GET", f"{LIST}?q=sim_status:2", auth).json()] == [devices[2].pk]
    assert [e["id"] for e in call(client, "GET", f"{LIST}?q=tags:Berlin", auth).json()] == [devices[3].pk]
    assert [e["id"] for e in call(client, "GET", f"{LIST}?q=sim_status:2&sort=-status,tags", auth).json()] == [devices[2].pk]
    assert [e["id"] for e in call(client, "GET", f"{LIST}?sort=DeviceSort.NAME", auth).json()] == [d.pk for d in devices]
    assert [e["id"] for e in call(client, "GET", f"{LIST}?sort=-name", auth).json()] == [d.pk for d in reversed(devices)]
    assert len(call(client, "GET", f"{LIST}?q=created:2000-01-01 00:00:00", auth).json()) == 5
    assert_error(call(client, "GET", f"{LIST}?q=colour:red", auth), 400, "Unknown filter colour")
    assert_error(call(client, "GET", f"{LIST}?sort=colour", auth), 400, "Unknown sort field colour")
    assert_error(call(client, "GET", f"{LIST}?q=created:yesterday", auth), 400, "created must be a date")


def test_another_products_endpoint_is_not_found_and_a_personal_token_reaches_none(client, auth, product, other_product, teammate):
    foreign = make_device(other_product, "Foreign")
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/connectivity"), ("GET", "/event"), ("GET", "/operator_blacklist")]:
        assert_error(call(client, method, f"{LIST}/{foreign.pk}{path}", auth, {"name": "x"} if method == "PATCH" else None), 404, "no endpoint")
    assert_error(call(client, "PUT", f"{LIST}/{foreign.pk}/operator_blacklist/26201", auth), 404)
    assert Device.objects.get() == foreign and foreign.name == "Foreign"
    personal = authenticate(client, create_token(user=teammate, name="mine", product=None, scopes=ALL)[1])
    make_device(product)
    assert call(client, "GET", LIST, personal).json() == []
    assert_error(call(client, "POST", LIST, personal, {"name": "x"}), 403, "belong to a product")


def test_scopes_and_tokens(client, product, teammate):
    device = make_device(product)
    reader = authenticate(client, create_token(user=teammate, name="r", product=product, scopes=[Scope.SIMS_LIST, Scope.SIMS_GET])[1])
    assert call(client, "GET", LIST, reader).status_code == 200
    assert_error(call(client, "POST", LIST, reader, {"name": "x"}), 403, "sims:update")
    assert_error(call(client, "PATCH", f"{LIST}/{device.pk}", reader, {"name": "x"}), 403, "sims:update")
    assert_error(call(client, "DELETE", f"{LIST}/{device.pk}", reader), 403, "sims:remove")
    assert_error(call(client, "GET", LIST, None), 401)
    assert_error(call(client, "PUT", LIST, reader), 405)


def test_bad_bodies_are_refused_with_what_to_send(client, auth, product):
    device = make_device(product)
    assert_error(call(client, "POST", LIST, auth, {"tags": "x"}), 400, "name is required")
    assert_error(call(client, "POST", LIST, auth, {"name": "x", "colour": 1}), 400, "Unknown field colour")
    assert_error(call(client, "POST", LIST, auth, {"name": "x", "status": {"id": 7}}), 400, "Enabled")
    assert_error(call(client, "POST", LIST, auth, {"name": "x", "imei": "12ab"}), 400, "imei must be")
    assert_error(call(client, "POST", LIST, auth, {"name": "x", "sim": {"id": 999999}}), 404, "no SIM 999999")
    assert Device.objects.get() == device  # nothing half-made
    assert_error(call(client, "PATCH", f"{LIST}/{device.pk}", auth, {}), 400, "Nothing to change")
    assert_error(call(client, "PATCH", f"{LIST}/{device.pk}", auth, {"status": {"id": 2}}), 400, "DELETE")
    assert_error(call(client, "PATCH", f"{LIST}/{device.pk}", auth, {"sim": 5}), 400, "sim must be")


# Update, status, SIMs


def test_update_changes_status_and_fields(client, auth, product):
    device = make_device(product)
    response = call(client, "PATCH", f"{LIST}/{device.pk}", auth, {"name": "Renamed", "tags": "x", "status": {"id": 1, "description": "Disabled"}, "imei": "356308112345678"})
    assert response.status_code == 204 and response.content == b""
    device.refresh_from_db()
    assert (device.name, device.tags, device.imei, device.emnify.status) == ("Renamed", ["x"], "356308112345678", 1)
    assert call(client, "GET", f"{LIST}/{device.pk}", auth).json()["status"] == {"id": 1, "description": "Disabled"}


def test_assigning_and_releasing_a_sim_keeps_the_history(client, auth, product, other_product, make_sim):
    first, second = make_device(product, "One"), make_device(product, "Two")
    sim, foreign = make_sim(product), make_sim(other_product)
    assert call(client, "PATCH", f"{LIST}/{first.pk}", auth, {"sim": {"id": sim.pk}}).status_code == 204
    sim.refresh_from_db()
    assert sim.device == first
    assert_error(call(client, "PATCH", f"{LIST}/{second.pk}", auth, {"sim": {"id": sim.pk}}), 409, f"in endpoint {first.pk}")
    assert_error(call(client, "PATCH", f"{LIST}/{second.pk}", auth, {"sim": {"id": foreign.pk}}), 404)
    assert call(client, "PATCH", f"{LIST}/{first.pk}", auth, {"sim": {"id": None}}).status_code == 204
    assert call(client, "PATCH", f"{LIST}/{second.pk}", auth, {"sim": {"id": sim.pk}}).status_code == 204
    sim.refresh_from_db()
    assert sim.device == second
    history = list(DeviceAssignment.objects.order_by("id").values_list("device__name", "ended_at"))
    assert [name for name, _ in history] == ["One", "Two"] and history[0][1] is not None and history[1][1] is None
    assert call(client, "GET", f"{LIST}/{first.pk}", auth).json()["sim"] is None


def test_deleting_an_endpoint_leaves_its_sim_in_no_device(client, auth, product, make_sim):
    device, sim = make_device(product), make_sim(product)
    put_in(device, sim)
    assert call(client, "DELETE", f"{LIST}/{device.pk}", auth).status_code == 204
    sim.refresh_from_db()
    assert not Device.objects.exists() and sim.device is None and sim.state == State.ACTIVE
    assert_error(call(client, "GET", f"{LIST}/{device.pk}", auth), 404)


# Connectivity


@pytest.mark.parametrize(
    ("seen", "state", "disabled", "expected"),
    [
        (Connectivity.ONLINE, State.ACTIVE, False, {"id": 1, "description": "ONLINE"}),
        (Connectivity.ATTACHED, State.ACTIVE, False, {"id": 0, "description": "ATTACHED"}),
        (Connectivity.OFFLINE, State.ACTIVE, False, {"id": 2, "description": "OFFLINE"}),
        (None, State.ACTIVE, False, {"id": 2, "description": "OFFLINE"}),
        (Connectivity.ONLINE, State.SUSPENDED, False, {"id": 3, "description": "BLOCKED"}),
        (Connectivity.ATTACHED, State.ACTIVE, True, {"id": 3, "description": "BLOCKED"}),
    ],
)
def test_connectivity_status_in_emnifys_codes(client, auth, product, make_sim, seen, state, disabled, expected):
    device, sim = make_device(product), make_sim(product, state=state)
    put_in(device, sim)
    if disabled:
        EndpointSettings.objects.create(device=device, status=1)
    if seen:
        SimConnectivity.objects.create(sim=sim, product=product, status=seen, operator="Telekom.de 262-01", country="DE", rat="LTE-M", since=timezone.now())
    body = call(client, "GET", f"{LIST}/{device.pk}/connectivity", auth).json()
    assert body["status"] == expected
    if seen in (Connectivity.ONLINE, Connectivity.ATTACHED) and expected["id"] != 3:
        assert body["location"]["operator"] == {"name": "Telekom.de 262-01"} and body["location"]["country"] == {"iso_code": "de"}


def test_reset_connectivity_is_recorded_until_the_next_attach(client, auth, product, make_sim):
    device, sim = make_device(product), make_sim(product)
    put_in(device, sim)
    assert call(client, "PATCH", f"{LIST}/{device.pk}/connectivity", auth, {"location": None}).status_code == 204
    first = SimConnectivity.objects.get(sim=sim).reset_requested_at
    assert first is not None
    assert call(client, "PATCH", f"{LIST}/{device.pk}/connectivity", auth, {"pdp_context": None}).status_code == 204
    assert SimConnectivity.objects.get(sim=sim).reset_requested_at >= first
    assert_error(call(client, "PATCH", f"{LIST}/{device.pk}/connectivity", auth, {"location": "x"}), 400, '{"location": null}')
    empty = make_device(product, "Empty")
    assert_error(call(client, "PATCH", f"{LIST}/{empty.pk}/connectivity", auth, {"location": None}), 409, "no SIM")
    Sim.objects.filter(pk=sim.pk).update(state=State.SUSPENDED)
    assert_error(call(client, "PATCH", f"{LIST}/{device.pk}/connectivity", auth, {"location": None}), 409, "suspended")


# Events


def test_events_are_the_sims_network_events_while_in_the_endpoint_newest_first(client, auth, product, make_sim):
    device, sim, other = make_device(product), make_sim(product, imsi="001010000000009"), make_sim(product)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    DeviceAssignment.objects.create(sim=sim, device=device, started_at=start, source="hand")
    Sim.objects.filter(pk=sim.pk).update(device=device)
    kinds = ["attach", "session_start", "session_end", "location", "auth_reject", "detach"]
    for i, kind in enumerate(kinds):
        NetworkEvent.objects.create(event_id=f"e{i}", sim=sim, product=product, kind=kind, at=start + timedelta(hours=i), operator="Telekom.de 262-01", country="DE", rat="4G", cause="Roaming not allowed" if kind == "auth_reject" else "")
    NetworkEvent.objects.create(event_id="before", sim=sim, product=product, kind="attach", at=start - timedelta(days=1))
    NetworkEvent.objects.create(event_id="other", sim=other, product=product, kind="attach", at=start)
    response = call(client, "GET", f"{LIST}/{device.pk}/event?per_page=4", auth)
    assert response["X-Total-Count"] == "6" and response["X-Total-Pages"] == "2"
    page = response.json()
    assert [e["event_type"] for e in page] == [
        {"id": 16, "description": "Purge GPRS location"}, {"id": 1, "description": "Update location"},
        {"id": 1, "description": "Update location"}, {"id": 5, "description": "Delete PDP Context"},
    ]
    reject = page[1]
    assert reject["alert"] is True and reject["event_severity"] == {"id": 1, "description": "Warn"} and "Roaming not allowed" in reject["description"]
    assert reject["event_source"] == {"id": 0, "description": "Network"}
    assert reject["sim"]["iccid"] == sim.iccid and reject["imsi"] == {"imsi": "001010000000009"} and reject["endpoint"]["id"] == device.pk
    assert reject["timestamp"] == "2026-03-01T04:00:00Z"
    rest = call(client, "GET", f"{LIST}/{device.pk}/event?per_page=4&page=2", auth).json()
    assert [e["event_type"]["id"] for e in rest] == [3, 2]
    assert call(client, "GET", f"{LIST}/{make_device(product, 'Quiet').pk}/event", auth).json() == []


# The operator blacklist


def test_the_operator_blacklist_is_kept_per_endpoint(client, auth, product):
    device, other = make_device(product), make_device(product, "Other")
    assert call(client, "PUT", f"{LIST}/{device.pk}/operator_blacklist/26201", auth).status_code == 204
    assert call(client, "PUT", f"{LIST}/{device.pk}/operator_blacklist/310410", auth).status_code == 204
    assert_error(call(client, "PUT", f"{LIST}/{device.pk}/operator_blacklist/26201", auth), 409, "already")
    assert_error(call(client, "PUT", f"{LIST}/{device.pk}/operator_blacklist/abc", auth), 400, "26201 for 262-01")
    listed = call(client, "GET", f"{LIST}/{device.pk}/operator_blacklist", auth).json()
    assert listed[0] == {"id": 26201, "name": "262-01", "country": {"mcc": "262"}, "mnc": [{"id": 1, "mnc": "01"}]}
    assert [o["id"] for o in listed] == [26201, 310410]
    assert call(client, "GET", f"{LIST}/{other.pk}/operator_blacklist", auth).json() == []
    assert call(client, "DELETE", f"{LIST}/{device.pk}/operator_blacklist/26201", auth).status_code == 204
    assert_error(call(client, "DELETE", f"{LIST}/{device.pk}/operator_blacklist/26201", auth), 404, "not in")
    assert list(BlacklistedOperator.objects.values_list("device", "operator_id")) == [(device.pk, 310410)]


def test_the_sim_list_shows_the_endpoint_a_sim_is_in_and_filters_by_it(client, auth, product, make_sim):
    device, inside, outside = make_device(product), make_sim(product), make_sim(product)
    put_in(device, inside)
    sims = {s["id"]: s for s in call(client, "GET", "/api/v1/sim", auth).json()}
    assert sims[inside.pk]["endpoint"] == {"id": device.pk, "name": "Tracker 1"} and sims[outside.pk]["endpoint"] is None
    assert [s["id"] for s in call(client, "GET", f"/api/v1/sim?q=endpoint:{device.pk}", auth).json()] == [inside.pk]
    assert [s["id"] for s in call(client, "GET", "/api/v1/sim?q=endpoint:null", auth).json()] == [outside.pk]


@pytest.mark.parametrize("devices", [2, 40])
def test_a_page_of_endpoints_or_events_costs_the_same_queries_however_long(client, auth, product, make_sim, devices, django_assert_max_num_queries):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(devices):
        device, sim = make_device(product, f"Tracker {i:03}"), make_sim(product)
        DeviceAssignment.objects.create(sim=sim, device=device, started_at=start, source="hand")
        Sim.objects.filter(pk=sim.pk).update(device=device)
        EndpointSettings.objects.create(device=device)
        NetworkEvent.objects.create(event_id=f"e{i}", sim=sim, product=product, kind="attach", at=start + timedelta(minutes=i))
    with django_assert_max_num_queries(6):
        assert len(call(client, "GET", LIST, auth).json()) == devices
    with django_assert_max_num_queries(7):
        assert len(call(client, "GET", f"{LIST}/{device.pk}/event", auth).json()) == 1


# Operators (GET /api/v1/operator, api/emnify_operators.py)


def test_the_operator_list_holds_the_networks_the_tokens_sims_are_on_and_the_blacklisted_ones(client, auth, product, other_product, make_sim, teammate):
    for operator, country in [("Telekom.de 262-01", "DE"), ("Telekom.de 262-01", "DE"), ("AT&T 310-410", "US"), ("Unnamed", "FR"), ("", "")]:
        sim = make_sim(product)
        SimConnectivity.objects.create(sim=sim, product=product, status="attached", operator=operator, country=country)
    SimConnectivity.objects.create(sim=make_sim(other_product), product=other_product, status="attached", operator="Orange F 208-01", country="FR")
    BlacklistedOperator.objects.create(device=make_device(product), operator_id=23201)
    BlacklistedOperator.objects.create(device=make_device(other_product, "Foreign"), operator_id=20610)
    operators = call(client, "GET", "/api/v1/operator", auth).json()
    assert operators == [
        {"id": 23201, "name": "232-01", "country": {"mcc": "232", "iso_code": None}, "mnc": [{"id": 1, "mnc": "01"}]},
        {"id": 26201, "name": "Telekom.de", "country": {"mcc": "262", "iso_code": "de"}, "mnc": [{"id": 1, "mnc": "01"}]},
        {"id": 310410, "name": "AT&T", "country": {"mcc": "310", "iso_code": "us"}, "mnc": [{"id": 410, "mnc": "410"}]},
    ]
    assert_error(call(client, "GET", "/api/v1/operator?page=2", auth), 400, "takes none")
    personal = authenticate(client, create_token(user=teammate, name="mine", product=None, scopes=ALL)[1])
    assert call(client, "GET", "/api/v1/operator", personal).json() == []
