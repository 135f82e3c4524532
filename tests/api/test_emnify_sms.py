"""emnify's endpoint SMS under /api/v1/endpoint/{id}/sms (api/emnify_sms.py): sent through the console's SMS
path (the simulator by default), listed both ways with emnify's statuses, one read, one canceled; every
refusal in emnify's error body, the database checked after each."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from api.models import EndpointSettings, Scope
from api.tokens import create_token
from carriers.adapters.base import CarrierUnavailable
from carriers.adapters.simulator import SimulatorAdapter
from carriers.models import CarrierAccount, SimulatedSms, SmsMessage
from carriers.push import BUILT_IN
from carriers.sms import poll, send_queued, send_sms_task
from sims.models import State
from tests.api.test_emnify import assert_error, authenticate, call
from tests.api.test_emnify_endpoints import ALL, LIST, make_device, put_in
from tests.carriers.test_sms import FakeClock


@pytest.fixture
def app_token(product, teammate):
    return create_token(user=teammate, name="factory", product=product, scopes=ALL)[1]


@pytest.fixture
def auth(client, app_token):
    return authenticate(client, app_token)


@pytest.fixture
def endpoint(product, make_sim):
    """A device with an active SIM in it."""
    device = make_device(product)
    put_in(device, make_sim(product, msisdn="4915112345678", imsi="001010000000001"))
    return device


def sms_url(device, sms_id=None) -> str:
    return f"{LIST}/{device.pk}/sms" + (f"/{sms_id}" if sms_id is not None else "")


def send(client, auth, device, payload="Reboot now", **fields):
    return call(client, "POST", sms_url(device), auth, {"source_address": "12345", "payload": payload, **fields})


def rows() -> list[tuple]:
    return list(SmsMessage.objects.order_by("id").values_list("sim__device", "direction", "body", "status"))


# Sending and reading


def test_an_sms_goes_to_the_endpoints_sim_through_its_carrier_and_reads_back_at_each_step(client, auth, endpoint, teammate, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, auth, endpoint, "Reboot now, {please} ~ 5 €")
    assert response.status_code == 201 and response.content == b""
    message = SmsMessage.objects.get()
    assert response["Location"] == f"/api/v1/endpoint/{endpoint.pk}/sms/{message.pk}"
    assert (message.sim.device, message.body, message.status, message.direction, message.created_by) == (
        endpoint, "Reboot now, {please} ~ 5 €", "queued", "mt", teammate,
    )
    assert [t.task_result.args for t in DBTaskResult.objects.filter(task_path=send_sms_task.module_path)] == [[BUILT_IN]]

    listed = call(client, "GET", sms_url(endpoint), auth)
    assert listed.status_code == 200 and listed["X-Total-Count"] == "1"
    [queued] = listed.json()
    assert queued["status"] == {"id": 1, "description": "DELIVERY ATTEMPT PENDING"} and queued["sms_type"] == {"id": 1, "description": "MT"}
    assert (queued["id"], queued["payload"], queued["iccid"], queued["msisdn"], queued["endpoint"]) == (
        message.pk, "Reboot now, {please} ~ 5 €", message.sim.iccid, "4915112345678", {"id": endpoint.pk, "name": "Tracker 1"},
    )
    assert queued["dcs"] == 0 and queued["sim_id"] == str(message.sim_id) and queued["submit_date"].endswith("Z")

    send_queued(account_key=BUILT_IN, clock=FakeClock())
    sent = call(client, "GET", sms_url(endpoint, message.pk), auth).json()
    assert sent["status"] == {"id": 2, "description": "IN PROGRESS"} and sent["last_delivery_attempt"] is not None

    # The simulator delivers after its delay, and the device answers: the next poll brings both.
    carrier_id = SmsMessage.objects.get().carrier_message_id
    SimulatedSms.objects.filter(message_id=carrier_id).update(at=timezone.now())
    SimulatedSms.objects.update_or_create(
        message_id=f"{carrier_id}-mo", defaults={"iccid": message.sim.iccid, "direction": "mo", "body": "ACK", "at": timezone.now()}
    )  # the simulator's device answers some messages itself: this one does
    poll(account_key=BUILT_IN, now=timezone.now())
    answer, delivered = call(client, "GET", sms_url(endpoint), auth).json()
    assert delivered["id"] == message.pk and delivered["status"] == {"id": 4, "description": "DELIVERED"} and delivered["delivery_date"] is not None
    assert answer["sms_type"] == {"id": 2, "description": "MO"} and answer["payload"] == "ACK" and answer["status"]["id"] == 4
    assert answer["source_address"] == "4915112345678" and answer["source_address_type"] == {"id": 145, "description": "International"}
    assert rows() == [(endpoint.pk, "mt", "Reboot now, {please} ~ 5 €", "delivered"), (endpoint.pk, "mo", "ACK", "received")]


def test_the_list_holds_the_sms_of_each_sim_while_it_was_in_the_endpoint(client, auth, product, endpoint, make_sim):
    first = endpoint.sims.get()
    assert send(client, auth, endpoint, "to the first").status_code == 201
    replacement = make_sim(product)
    assert call(client, "PATCH", f"{LIST}/{endpoint.pk}", auth, {"sim": {"id": replacement.pk}}).status_code == 204
    assert send(client, auth, endpoint, "to the second").status_code == 201
    elsewhere = make_device(product, "Elsewhere")
    assert call(client, "PATCH", f"{LIST}/{elsewhere.pk}", auth, {"sim": {"id": first.pk}}).status_code == 204
    assert send(client, auth, elsewhere, "first, elsewhere").status_code == 201
    listed = call(client, "GET", sms_url(endpoint), auth).json()
    assert [(m["payload"], m["iccid"]) for m in listed] == [("to the second", replacement.iccid), ("to the first", first.iccid)]
    assert [m["payload"] for m in call(client, "GET", sms_url(elsewhere), auth).json()] == ["first, elsewhere"]
    page = call(client, "GET", sms_url(endpoint) + "?per_page=1&page=2", auth)
    assert page["X-Total-Pages"] == "2" and [m["payload"] for m in page.json()] == ["to the first"]
    assert_error(call(client, "GET", sms_url(endpoint) + "?colour=red", auth), 400, "Unknown parameter colour")
    # A message of another endpoint is not this one's.
    other = SmsMessage.objects.get(body="first, elsewhere")
    assert_error(call(client, "GET", sms_url(endpoint, other.pk), auth), 404, f"Endpoint {endpoint.pk} has no SMS {other.pk}")


# Who reaches what


def test_another_products_endpoint_answers_404_as_a_missing_one_and_nothing_is_sent(client, auth, other_product, make_sim):
    foreign = make_device(other_product, "Foreign")
    put_in(foreign, make_sim(other_product))
    SmsMessage.objects.create(sim=foreign.sims.get(), product=other_product, direction="mt", body="theirs", status="queued")
    theirs = SmsMessage.objects.get()
    missing = foreign.pk + 1000
    for device_id in (foreign.pk, missing):
        for method, path, body in [
            ("POST", f"{LIST}/{device_id}/sms", {"source_address": "1", "payload": "hi"}),
            ("GET", f"{LIST}/{device_id}/sms", None),
            ("GET", f"{LIST}/{device_id}/sms/{theirs.pk}", None),
            ("DELETE", f"{LIST}/{device_id}/sms/{theirs.pk}", None),
        ]:
            error = assert_error(call(client, method, path, auth, body), 404)
            assert error == {"error_code": 404, "error_token": "not_found", "message": f"There is no endpoint {device_id} reachable with this token."}
    assert rows() == [(foreign.pk, "mt", "theirs", "queued")]


def test_scopes_send_needs_sims_update(client, product, teammate, endpoint):
    reader = authenticate(client, create_token(user=teammate, name="r", product=product, scopes=[Scope.SIMS_GET])[1])
    assert call(client, "GET", sms_url(endpoint), reader).status_code == 200
    assert_error(send(client, reader, endpoint), 403, "sims:update")
    assert_error(call(client, "PUT", sms_url(endpoint), reader), 405)
    assert_error(call(client, "GET", sms_url(endpoint), None), 401)
    assert not SmsMessage.objects.exists()


# Refusals


def test_an_endpoint_without_a_sim_lists_none_and_refuses_a_send(client, auth, product):
    empty = make_device(product, "Empty")
    assert call(client, "GET", sms_url(empty), auth).json() == []
    error = assert_error(send(client, auth, empty), 409, "The endpoint has no SIM: put a SIM in it")
    assert error["error_token"] == "no_sim"
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"payload": ""}, "payload: Write the message: an SMS cannot be empty."),
        ({"payload": "   "}, "cannot be empty"),
        ({"payload": "x" * 161}, "The message is 161 characters long; one SMS holds 160 in GSM-7: shorten it by 1."),
        ({"payload": "[" * 81}, "162 characters long"),
        ({"payload": "Привет " * 11}, "77 characters long; one SMS holds 70 in UCS-2"),
        ({"payload": "a\x00b"}, "payload has a NUL character"),
        ({"payload": None}, "payload is required"),
        ({"payload": 5}, "payload is required"),
        ({"payload": "hi", "colour": "red"}, "Unknown field colour"),
        ({"payload": "hi", "udh": "050003CC0201"}, "udh"),
        ({"payload": "hi", "dest_address": "cb"}, "dest_address"),
        ({"payload": "hi", "source_address_type": {"id": 7}}, "source_address_type must be"),
        ({"payload": "hi", "source_address": "MuchTooLongName", "source_address_type": {"id": 208}}, "up to 11 letters"),
        ({"payload": "hi", "source_address": "Acme"}, "source_address must be a number"),
        ({"payload": "hi", "source_address": 12345}, "source_address must be a string"),
        ({"payload": "hi", "dcs": 4}, "dcs must be 0"),
        ({"payload": "hi", "expiry_date": "tomorrow"}, "expiry_date must be a date and time"),
        ({"payload": "hi", "expiry_date": "2020-01-01T00:00:00Z"}, "expiry_date is in the past"),
    ],
)
def test_a_bad_send_is_refused_saying_what_to_change(client, auth, endpoint, fields, words):
    body = {"source_address": "12345", **fields}
    if fields.get("payload") is None:
        body.pop("payload")
    assert_error(call(client, "POST", sms_url(endpoint), auth, body), 400, words)
    assert not SmsMessage.objects.exists()


def test_the_longest_messages_and_every_emnify_field_are_taken(client, auth, endpoint):
    assert send(client, auth, endpoint, "x" * 160).status_code == 201
    assert send(client, auth, endpoint, "Ж" * 70, source_address="Acme Ltd", source_address_type={"id": 208}, dcs=8).status_code == 201
    later = (timezone.now() + timedelta(days=1)).isoformat()
    assert send(client, auth, endpoint, "hi", source_address="+4915100000", source_address_type={"id": 145}, expiry_date=later).status_code == 201
    assert [m["dcs"] for m in call(client, "GET", sms_url(endpoint), auth).json()] == [0, 8, 0]
    assert SmsMessage.objects.count() == 3


def test_a_sim_that_is_not_active_a_disabled_endpoint_or_a_carrier_without_sms_is_refused(client, auth, product, endpoint, monkeypatch):
    sim = endpoint.sims.get()
    sim.state = State.SUSPENDED
    sim.save(update_fields=["state"])
    assert_error(send(client, auth, endpoint), 409, "The SIM is suspended: only an active SIM receives SMS")
    sim.state = State.ACTIVE
    sim.save(update_fields=["state"])
    EndpointSettings.objects.create(device=endpoint, status=EndpointSettings.DISABLED)
    assert assert_error(send(client, auth, endpoint), 409, "The endpoint is disabled")["error_token"] == "endpoint_disabled"
    EndpointSettings.objects.filter(device=endpoint).update(status=EndpointSettings.ENABLED)
    # Every adapter sends SMS today: a carrier without, as one that could not would be.
    from carriers.adapters import adapter_class
    from carriers.adapters.base import Capability

    emnify = adapter_class("emnify")
    monkeypatch.setattr(emnify, "capabilities", emnify.capabilities - {Capability.SMS})
    sim.carrier_account = CarrierAccount.objects.create(product=product, name="emnify", adapter="emnify")
    sim.save(update_fields=["carrier_account"])
    assert assert_error(send(client, auth, endpoint), 409, "cannot send SMS through SIM Console")["error_token"] == "carrier_cannot"
    assert not SmsMessage.objects.exists()


# Throttled sends and cancels


def test_a_send_the_carrier_throttles_is_buffered_with_its_retry_and_can_be_canceled(client, auth, endpoint, monkeypatch):
    assert send(client, auth, endpoint).status_code == 201
    message = SmsMessage.objects.get()

    def throttled(self, iccid, body):
        raise CarrierUnavailable("The carrier asked to slow down (429, too many requests).")

    monkeypatch.setattr(SimulatorAdapter, "send_sms", throttled)
    send_queued(account_key=BUILT_IN, clock=FakeClock())
    buffered = call(client, "GET", sms_url(endpoint, message.pk), auth).json()
    assert buffered["status"] == {"id": 3, "description": "BUFFERED"} and buffered["retry_count"] == 1
    assert buffered["retry_date"] > buffered["submit_date"] and "429" in buffered["gsm_map_error"]

    canceled = call(client, "DELETE", sms_url(endpoint, message.pk), auth)
    assert canceled.status_code == 200 and canceled.json() == {}
    message.refresh_from_db()
    assert (message.status, message.retry_at) == (SmsMessage.Status.CANCELED, None)
    assert call(client, "GET", sms_url(endpoint, message.pk), auth).json()["status"] == {"id": 7, "description": "CANCELED"}
    # Due again, the worker leaves it; canceling twice says why not.
    monkeypatch.undo()
    assert send_queued(account_key=BUILT_IN, clock=FakeClock()).sent == 0
    assert_error(call(client, "DELETE", sms_url(endpoint, message.pk), auth), 409, "The SMS is canceled: only one still waiting for the carrier")


def test_an_sms_the_carrier_took_or_a_worker_holds_cannot_be_canceled(client, auth, endpoint):
    send(client, auth, endpoint, "one"), send(client, auth, endpoint, "two")
    one, two = SmsMessage.objects.order_by("id")
    SmsMessage.objects.filter(pk=one.pk).update(status=SmsMessage.Status.SENT)
    SmsMessage.objects.filter(pk=two.pk).update(claim="w", claimed_until=timezone.now() + timedelta(minutes=1))
    error = assert_error(call(client, "DELETE", sms_url(endpoint, one.pk), auth), 409, "The SMS is in progress")
    assert error["error_token"] == "sms_not_cancelable"
    assert_error(call(client, "DELETE", sms_url(endpoint, two.pk), auth), 409, "The SMS is being handed to the carrier now")
    assert_error(call(client, "DELETE", sms_url(endpoint, 999999), auth), 404, "has no SMS 999999")
    assert list(SmsMessage.objects.order_by("id").values_list("status", flat=True)) == ["sent", "queued"]


def test_a_send_over_the_tokens_rate_limit_is_refused_with_retry_after_and_not_recorded(client, auth, endpoint, settings):
    settings.API_RATE_LIMIT = 2
    answers = [send(client, auth, endpoint, f"ping {i}") for i in range(4)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    error = assert_error(limited[0], 429, "Too many requests for this token")
    assert error["error_token"] == "too_many_requests" and int(limited[0]["Retry-After"]) >= 1
    assert SmsMessage.objects.count() == [a.status_code for a in answers].count(201)


@pytest.mark.parametrize("messages", [2, 40])
def test_a_page_of_sms_costs_the_same_queries_however_long(client, auth, endpoint, messages, django_assert_max_num_queries):
    sim = endpoint.sims.get()
    SmsMessage.objects.bulk_create(SmsMessage(sim=sim, product=sim.product, direction="mt", body=f"m{i}", status="delivered") for i in range(messages))
    with django_assert_max_num_queries(7):
        assert len(call(client, "GET", sms_url(endpoint), auth).json()) == messages
