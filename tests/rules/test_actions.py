"""What each action does to the SIMs a rule fired for: the data limit set, the device tagged, an SMS queued,
the people and roles emailed, the product's webhooks called; and the firing shown in the SIM's timeline."""

import json
from datetime import timedelta

import pytest

from carriers.models import SmsMessage
from devices.models import Device
from notifications.models import Notification
from rules.models import RuleFiring
from sims.models import Sim
from sims.timeline import timeline
from tests.conftest import make_user, publish_queued_events
from tests.rules.conftest import ingest, usage
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


def test_set_a_data_limit(make_rule, roomy_product, make_sim, now):
    make_rule(actions=[{"kind": "data_limit", "mb": 500}])
    sim, calm = make_sim(roomy_product), make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), usage(calm, 1, now - timedelta(hours=1)), now=now)
    assert Sim.objects.get(pk=sim.pk).data_limit_mb == 500
    assert Sim.objects.get(pk=calm.pk).data_limit_mb is None
    assert RuleFiring.objects.get(sim=sim).did == ["Data limit set to 500 MB"]


def test_tag_the_device_the_sim_is_in(make_rule, roomy_product, make_sim, now):
    make_rule(actions=[{"kind": "tag", "tag": "heavy"}])
    device = Device.objects.create(product=roomy_product, device_id="d1", tags=["eu"])
    in_device, loose = make_sim(roomy_product, device=device), make_sim(roomy_product)
    ingest(usage(in_device, 90, now - timedelta(hours=1)), usage(loose, 90, now - timedelta(hours=1)), now=now)
    device.refresh_from_db()
    assert device.tags == ["eu", "heavy"]
    assert RuleFiring.objects.get(sim=loose).did == ["Not tagged: the SIM is in no device"]


def test_sms_to_the_device(make_rule, roomy_product, make_sim, now):
    make_rule(actions=[{"kind": "sms", "body": "Slow down {iccid}"}])
    sim = make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), now=now)
    message = SmsMessage.objects.get(sim=sim)
    assert (message.body, message.direction) == (f"Slow down {sim.iccid}", "mt")


def test_email_the_people_and_roles_the_rule_names(make_rule, roomy_product, make_sim, owner, teammate, now):
    bystander = make_user("bystander")
    roomy_product.memberships.create(user=bystander, role="member")
    make_rule(actions=[{"kind": "email", "roles": ["admin"], "users": [teammate.pk]}])
    sim = make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), now=now)
    publish_queued_events()
    told = Notification.objects.filter(kind="rule_fired")
    assert set(told.values_list("user__username", flat=True)) == {"owner", "teammate"}
    assert told.first().title == f"Rule “Heavy day” fired for SIM {sim.iccid}" and told.first().email


def test_the_products_webhooks_get_rule_fired(make_rule, roomy_product, make_sim, now):
    Webhook.objects.create(product=roomy_product, url="https://example.com/hook", secret="s")
    make_rule(actions=[{"kind": "webhook"}])
    sim = make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), now=now)
    publish_queued_events()
    delivery = WebhookDelivery.objects.get(kind="rule.fired")
    body = json.loads(delivery.body)
    assert body["rule"]["name"] == "Heavy day" and body["firings"][0]["iccid"] == sim.iccid
    assert body["firings"][0]["figures"]["bytes"] == 90_000_000


def test_a_firing_in_the_sims_timeline(make_rule, roomy_product, make_sim, now):
    make_rule()
    sim = make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), now=now)
    entries = [entry for entry in timeline(Sim.objects.get(pk=sim.pk)).entries if entry.source == "rule"]
    assert len(entries) == 1
    assert entries[0].title == "Rule “Heavy day” fired (version 1)"
    assert entries[0].detail.startswith("90.0 MB used, on ") and entries[0].detail.endswith("Paused.")
