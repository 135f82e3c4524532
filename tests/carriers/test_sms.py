"""SMS to and from SIMs: recorded queued in the request, carried by the SMS worker through the SIM's
carrier adapter (throttled, retried while the carrier is down), delivery reports, and device SMS
stored and forwarded to the product's webhooks."""

import json
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from carriers.adapters.base import CarrierUnavailable, IncomingSms, Result
from carriers.adapters.simulator import SimulatorAdapter
from carriers.models import SimulatedSms, SmsBatch, SmsMessage
from carriers.push import BUILT_IN
from carriers.sms import (
    SmsBodyError,
    cancel_queued,
    check_body,
    poll,
    receive,
    send_queued,
    send_sms_task,
    send_to_sim,
    sim_messages,
    start_batch,
)
from sims.models import Sim, State
from tests.conftest import make_iccid, publish_queued_events
from webhooks.models import Webhook, WebhookDelivery


class FakeClock:
    """Time that moves only when the throttle waits: calls are counted per second of this clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


@pytest.fixture
def sent(monkeypatch):
    """The simulator's send_sms, recorded: (iccid, body) of every call."""
    calls: list[tuple[str, str]] = []
    real = SimulatorAdapter.send_sms

    def recording(self, iccid, body):
        calls.append((iccid, body))
        return real(self, iccid, body)

    monkeypatch.setattr(SimulatorAdapter, "send_sms", recording)
    return calls


def queued_sends() -> list[int]:
    return [t.task_result.args[0] for t in DBTaskResult.objects.ready().filter(task_path=send_sms_task.module_path)]


def test_one_sms_is_queued_then_sent_with_exactly_its_body_then_delivered(sim, owner, sent, settings, django_capture_on_commit_callbacks):
    body = "Reboot now, {please} ~ 5 €"
    with django_capture_on_commit_callbacks(execute=True):
        message = send_to_sim(sim=sim, body=body, user=owner)
    assert message.status == SmsMessage.Status.QUEUED
    assert queued_sends() == [BUILT_IN]

    report = send_queued(account_key=BUILT_IN, clock=FakeClock())

    assert sent == [(sim.iccid, body)]
    message.refresh_from_db()
    assert (report.sent, message.status, message.created_by) == (1, SmsMessage.Status.SENT, owner)
    assert message.carrier_message_id.startswith("simsms-")

    # The simulator delivers after its delay: the next poll says so.
    SimulatedSms.objects.filter(message_id=message.carrier_message_id).update(at=timezone.now() - timedelta(seconds=1))
    poll(account_key=BUILT_IN, now=timezone.now())
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.DELIVERED and message.delivered_at is not None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("x" * 161, "161 characters long; one SMS holds 160 in GSM-7: shorten it by 1"),
        ("[" * 81, "162 characters long; one SMS holds 160 in GSM-7"),
        ("Привет " * 11, "77 characters long; one SMS holds 70 in UCS-2: shorten it by 7"),
        ("   ", "cannot be empty"),
    ],
)
def test_a_body_longer_than_one_sms_is_refused_saying_by_how_much(sim, owner, body, words):
    with pytest.raises(SmsBodyError, match=words.replace("[", r"\[")):
        send_to_sim(sim=sim, body=body, user=owner)
    assert not SmsMessage.objects.exists()


def test_the_longest_bodies_that_fit_are_taken():
    assert check_body("x" * 160) and check_body("é" * 160) and check_body("Ж" * 70)


def test_carrier_down_keeps_the_message_queued_and_tries_again_later(sim, owner, monkeypatch):
    message = send_to_sim(sim=sim, body="ping", user=owner)

    def down(self, iccid, body):
        raise CarrierUnavailable("The simulated carrier did not answer (a timeout).")

    monkeypatch.setattr(SimulatorAdapter, "send_sms", down)
    report = send_queued(account_key=BUILT_IN, clock=FakeClock())

    message.refresh_from_db()
    assert report.unavailable and message.status == SmsMessage.Status.QUEUED
    assert message.attempts == 1 and message.retry_at > timezone.now()
    assert "Carrier unavailable" in message.reason
    retry = DBTaskResult.objects.filter(task_path=send_sms_task.module_path).get()
    assert retry.run_after is not None and retry.run_after > timezone.now()
    # Not due before its wait: a worker now sends nothing.
    monkeypatch.undo()
    assert send_queued(account_key=BUILT_IN, clock=FakeClock()).sent == 0

    SmsMessage.objects.filter(pk=message.pk).update(retry_at=timezone.now() - timedelta(seconds=1))
    assert send_queued(account_key=BUILT_IN, clock=FakeClock()).sent == 1
    message.refresh_from_db()
    assert (message.status, message.reason) == (SmsMessage.Status.SENT, "")


def test_a_sim_the_carrier_refuses_fails_with_its_reason(product, make_sim, owner, settings):
    settings.CARRIER_SIMULATOR_REFUSE_SUFFIXES = [""]  # refuses every ICCID
    refused = make_sim(product)
    message = send_to_sim(sim=refused, body="hello", user=owner)
    send_queued(account_key=BUILT_IN, clock=FakeClock())
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.FAILED and "not in this account's inventory" in message.reason


def test_a_bulk_send_to_10000_filtered_sims_is_throttled_to_the_setting(product, owner, settings, monkeypatch):
    settings.SMS_PER_SECOND = 25
    settings.SMS_BULK_JOB_ABOVE_SIMS = 10_000
    wanted = Sim.objects.bulk_create(
        [Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="DE") for _ in range(10_000)]
    )
    Sim.objects.bulk_create([Sim(iccid=make_iccid(), product=product, state=State.ACTIVE, home_country="FR") for _ in range(50)])
    clock = FakeClock()
    calls: list[tuple[float, str, str]] = []

    def send(self, iccid, body):
        calls.append((clock.now, iccid, body))
        return Result(iccid, True, message_id=f"m{len(calls)}")

    monkeypatch.setattr(SimulatorAdapter, "send_sms", send)
    batch = start_batch(product=product, user=owner, template="Hello {iccid}", filters={"country": "DE"}, described="DE SIMs")
    assert (batch.status, batch.recorded, batch.total) == (SmsBatch.Status.DONE, 10_000, 10_000)

    report = send_queued(account_key=BUILT_IN, clock=clock)

    assert report.sent == 10_000
    assert sorted(body for _, _, body in calls) == sorted(f"Hello {sim.iccid}" for sim in wanted)
    per_second = Counter(int(at) for at, _, _ in calls)
    assert max(per_second.values()) == 25 and len(per_second) == 400
    times = [at for at, _, _ in calls]
    assert all(times[n + 25] - times[n] >= 1 for n in range(len(times) - 25))  # any 25 + 1 calls span a second


def test_more_sims_than_the_threshold_are_recorded_by_a_background_job(
    product, owner, settings, make_sim, django_capture_on_commit_callbacks
):
    settings.SMS_BULK_JOB_ABOVE_SIMS = 3
    for _ in range(5):
        make_sim(product)
    with django_capture_on_commit_callbacks(execute=True):
            batch = start_batch(product=product, user=owner, template="fw {iccid}", filters={}, described="All SIMs")
    assert (batch.status, batch.recorded) == (SmsBatch.Status.QUEUED, 0)
    from carriers.sms import expand_batch, expand_batch_task

    task = DBTaskResult.objects.ready().get(task_path=expand_batch_task.module_path)
    done = expand_batch(batch_id=task.task_result.args[0])
    assert (done.status, done.recorded) == (SmsBatch.Status.DONE, 5)
    assert expand_batch(batch_id=batch.pk).recorded == 5  # run again: nothing twice
    assert SmsMessage.objects.count() == 5


def test_a_template_with_an_unknown_placeholder_is_refused(product, owner):
    with pytest.raises(SmsBodyError, match=r"\{name\}: the placeholders are \{iccid\} and \{device_name\}"):
        start_batch(product=product, user=owner, template="Hi {name}", filters={}, described="")


def test_device_sms_are_stored_once_and_delivered_to_the_products_webhooks(sim, product, owner):
    Webhook.objects.create(product=product, url="https://hooks.example.com/sims", secret="whsec_x", created_by=owner)
    at = timezone.now()
    incoming = [IncomingSms("mo-1", sim.iccid, "temp=21C", at), IncomingSms("mo-1", sim.iccid, "temp=21C", at)]
    stored, unknown = receive(None, [*incoming, IncomingSms("mo-2", "8999", "x", at)])
    assert (stored, unknown) == (1, ["8999"])
    assert receive(None, incoming) == (0, [])  # the same message again: stored once

    message = SmsMessage.objects.get()
    assert (message.direction, message.status, message.body) == (SmsMessage.Direction.MO, SmsMessage.Status.RECEIVED, "temp=21C")
    assert [m.pk for m in sim_messages(sim.pk)] == [message.pk]

    publish_queued_events()
    delivery = WebhookDelivery.objects.get()
    assert delivery.kind == "sms.received"
    body = json.loads(delivery.body)
    assert body["type"] == "sms.received" and body["messages"] == [
        {"id": "mo-1", "iccid": sim.iccid, "body": "temp=21C", "received_at": body["messages"][0]["received_at"]}
    ]


def test_the_simulated_device_answers_ack_which_arrives_as_a_received_sms(sim, owner, settings):
    from carriers.models import AccountRoutine

    message = send_to_sim(sim=sim, body="status?", user=owner)
    AccountRoutine.objects.create(account_key=BUILT_IN, sms_until=timezone.now() - timedelta(minutes=1))
    send_queued(account_key=BUILT_IN, clock=FakeClock())
    message.refresh_from_db()
    # Force this message to be one the device answers, then let the answer's moment pass.
    SimulatedSms.objects.filter(message_id=message.carrier_message_id).update(at=timezone.now() - timedelta(seconds=2))
    if not SimulatedSms.objects.filter(direction="mo").exists():
        SimulatedSms.objects.create(
            message_id=message.carrier_message_id + "-mo", iccid=sim.iccid, direction="mo", body="ACK status?",
            at=timezone.now() - timedelta(seconds=1),
        )  # fmt: skip
    SimulatedSms.objects.filter(direction="mo").update(at=timezone.now() - timedelta(seconds=1))
    poll(account_key=BUILT_IN, now=timezone.now())
    answers = list(SmsMessage.objects.filter(direction="mo").values_list("body", "status"))
    assert answers == [("ACK status?", "received")]
    message.refresh_from_db()
    assert message.status == SmsMessage.Status.DELIVERED


# --- Twilio: SMS Commands against the fake Super SIM API (validated against Twilio's OpenAPI description) ---


def test_twilio_sends_an_sms_command_and_reads_its_delivery_and_the_devices_sms(twilio_fake, twilio_settings, twilio_credentials):
    from carriers.adapters.twilio import TwilioSuperSimAdapter

    iccid = make_iccid()
    twilio_fake.add_sim(iccid, status="active", fleet="simconsole-active")
    adapter = TwilioSuperSimAdapter(settings=twilio_settings, credentials=twilio_credentials)

    result = adapter.send_sms(iccid, "reboot {now}")
    assert result.ok and result.message_id.startswith("HC")
    command = twilio_fake.sms_commands[result.message_id]
    assert (command["payload"], command["direction"]) == ("reboot {now}", "to_sim")
    assert adapter.sms_reports([result.message_id])[0].status == "sent"
    twilio_fake.set_sms_status(result.message_id, "delivered")
    assert adapter.sms_reports([result.message_id])[0].status == "delivered"

    since = timezone.now() - timedelta(minutes=5)
    twilio_fake.add_sms_from_sim(iccid, "old", at=since - timedelta(minutes=1))
    mo = twilio_fake.add_sms_from_sim(iccid, "ACK reboot")
    received = list(adapter.received_sms(since=since, until=timezone.now() + timedelta(minutes=1)))
    assert [(sms.message_id, sms.iccid, sms.body) for sms in received] == [(mo, iccid, "ACK reboot")]

    assert not adapter.send_sms(make_iccid(), "x").ok  # not on the account: refused, with Twilio's words


def test_twilio_down_on_send_is_carrier_unavailable(twilio_fake, twilio_settings, twilio_credentials):
    from carriers.adapters.twilio import TwilioSuperSimAdapter

    iccid = make_iccid()
    twilio_fake.add_sim(iccid, status="active", fleet="simconsole-active")
    adapter = TwilioSuperSimAdapter(settings=twilio_settings, credentials=twilio_credentials)
    adapter._sid(iccid)
    twilio_fake.fail(503)
    with pytest.raises(CarrierUnavailable):
        adapter.send_sms(iccid, "ping")


def test_a_sims_messages_take_their_place_in_its_timeline(sim):
    from datetime import timedelta

    from django.utils import timezone

    from carriers.models import SmsMessage
    from sims.lifecycle import Action, Actor, apply_action
    from sims.timeline import timeline

    now = timezone.now()
    SmsMessage.objects.create(sim=sim, product=sim.product, direction="mt", body="status?", status="delivered", created_at=now - timedelta(hours=2))
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=Actor.system("test"))  # between the two
    SmsMessage.objects.create(sim=sim, product=sim.product, direction="mo", body="ACK status?", status="received", created_at=now + timedelta(minutes=1))

    titles = [(entry.title, entry.detail) for entry in timeline(sim).entries]
    assert titles[0] == ("SMS from the device", "“ACK status?”: received")
    assert titles[-1] == ("SMS to the device", "“status?”: delivered")
    assert len(titles) == 3


def test_a_queued_message_is_canceled_and_never_sent_but_one_the_carrier_took_or_a_worker_holds_is_not(sim, owner, sent):
    queued, taken, held = (send_to_sim(sim=sim, body=body, user=owner) for body in ("queued", "taken", "held"))
    SmsMessage.objects.filter(pk=taken.pk).update(status=SmsMessage.Status.SENT)
    SmsMessage.objects.filter(pk=held.pk).update(claim="other", claimed_until=timezone.now() + timedelta(minutes=1))
    assert [cancel_queued(message_id=m.pk) for m in (queued, taken, held)] == [True, False, False]
    assert cancel_queued(message_id=queued.pk) is False  # once
    send_queued(account_key=BUILT_IN, clock=FakeClock())
    assert sent == []
    assert list(SmsMessage.objects.order_by("id").values_list("status", flat=True)) == ["canceled", "sent", "queued"]
    assert SmsMessage.objects.get(pk=queued.pk).is_final
