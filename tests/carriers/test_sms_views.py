"""SMS in the console: the SIM page's card, the product's Messages, Send SMS to a filter, and the
carrier's push of device SMS and delivery reports."""

import json

import pytest
from django.urls import reverse

from carriers.models import SmsMessage
from sims.models import Sim, State
from tests.conftest import make_iccid, publish_queued_events, text_of
from webhooks.models import Webhook, WebhookDelivery

TOKEN = "t" * 40


def test_a_member_sends_an_sms_from_the_sim_page_and_sees_it_queued(teammate_client, product, sim):
    card = reverse("sim_sms", args=[product.slug, sim.iccid])
    assert "No SMS to or from this SIM yet" in text_of(teammate_client.get(card))

    response = teammate_client.post(reverse("sim_sms_send", args=[product.slug, sim.iccid]), {"body": "reboot"}, HTTP_HX_REQUEST="true")

    message = SmsMessage.objects.get()
    assert (message.body, message.status, message.direction) == ("reboot", "queued", "mt")
    text = text_of(response)
    assert "reboot" in text and "Queued" in text and "To the device" in text


def test_a_body_too_long_is_refused_on_the_card_saying_what_to_do(teammate_client, product, sim):
    response = teammate_client.post(
        reverse("sim_sms_send", args=[product.slug, sim.iccid]), {"body": "Ж" * 71}, HTTP_HX_REQUEST="true"
    )
    assert "one SMS holds 70 in UCS-2: shorten it by 1" in text_of(response)
    assert not SmsMessage.objects.exists()


def test_an_outsider_finds_no_sms_card(outsider_client, product, sim):
    assert outsider_client.get(reverse("sim_sms", args=[product.slug, sim.iccid])).status_code == 404
    assert outsider_client.post(reverse("sim_sms_send", args=[product.slug, sim.iccid]), {"body": "x"}).status_code == 404
    assert not SmsMessage.objects.exists()


def test_send_sms_to_a_filter_queues_one_rendered_message_per_matching_sim(teammate_client, product, make_sim):
    germans = [make_sim(product, home_country="DE") for _ in range(3)]
    make_sim(product, home_country="FR")
    url = reverse("sims_sms_bulk", args=[product.slug]) + "?country=DE"
    page = text_of(teammate_client.get(url))
    assert "Send SMS to 3 SIMs (country DE)" in page

    response = teammate_client.post(reverse("sims_sms_bulk", args=[product.slug]), {"country": "DE", "template": "fw {iccid}"}, follow=True)

    assert sorted(SmsMessage.objects.values_list("body", flat=True)) == sorted(f"fw {sim.iccid}" for sim in germans)
    assert "3 messages queued to 3 SIMs (country DE)" in text_of(response)


def test_send_sms_with_an_unknown_placeholder_says_which_are_known(teammate_client, product, sim):
    response = teammate_client.post(reverse("sims_sms_bulk", args=[product.slug]), {"template": "hi {name}"})
    assert "the placeholders are {iccid} and {device_name}" in text_of(response)
    assert not SmsMessage.objects.exists()


def test_the_messages_list_shows_both_directions_with_status(teammate_client, product, sim):
    SmsMessage.objects.create(sim=sim, product=product, direction="mt", body="ping", status="delivered")
    SmsMessage.objects.create(sim=sim, product=product, direction="mo", body="ACK ping", status="received")
    text = text_of(teammate_client.get(reverse("sms_messages", args=[product.slug])))
    assert "ACK ping" in text and "Delivered" in text and "Received" in text
    filtered = text_of(teammate_client.get(reverse("sms_messages", args=[product.slug]) + "?direction=mo"))
    assert "ACK ping" in filtered and "To device" not in filtered


@pytest.fixture
def push_token(settings):
    settings.CARRIER_PUSH_TOKEN = TOKEN


def push(client, payload, token=TOKEN):
    return client.post(reverse("carrier_sms_push"), json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_carrier_pushes_device_sms_stored_once_and_forwarded_to_webhooks(client, push_token, product, sim, owner):
    Webhook.objects.create(product=product, url="https://hooks.example.com/sims", secret="whsec_x", created_by=owner)
    payload = {"messages": [{"id": "c-1", "iccid": sim.iccid, "body": "low battery", "received_at": "2026-12-07T10:00:00Z"}]}
    first = push(client, payload)
    assert first.status_code == 200 and first.json()["stored"] == 1
    assert push(client, payload).json()["stored"] == 0
    assert SmsMessage.objects.get().status == "received"
    publish_queued_events()
    assert json.loads(WebhookDelivery.objects.get().body)["messages"][0]["body"] == "low battery"


def test_the_carrier_pushes_a_delivery_report(client, push_token, product, sim):
    sent = SmsMessage.objects.create(sim=sim, product=product, direction="mt", body="x", status="sent", carrier_message_id="c-9")
    response = push(client, {"reports": [{"id": "c-9", "status": "failed", "reason": "Handset unreachable"}]})
    assert response.json()["updated"] == 1
    sent.refresh_from_db()
    assert (sent.status, sent.reason) == ("failed", "Handset unreachable")


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ([], 'Send an object with "messages"'),
        ({"messages": [{"id": "1", "iccid": "1"}]}, 'messages[0]: each message needs "id", "iccid", "body" and "received_at"'),
        ({"messages": [{"id": "1", "iccid": "1", "body": "x", "received_at": "yesterday"}]}, "is not an ISO 8601 time"),
        ({"reports": [{"id": "1", "status": "lost"}]}, "sent, delivered or failed"),
    ],
)
def test_a_bad_push_is_refused_saying_what_was_wrong(client, push_token, db, payload, words):
    response = push(client, payload)
    assert response.status_code == 400 and words in response.json()["error"]


def test_the_push_needs_the_token(client, push_token, db):
    assert push(client, {"messages": []}, token="wrong" * 8).status_code == 401
