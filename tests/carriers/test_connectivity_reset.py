"""Reset connectivity from the SIM page: through the SIM's carrier, kept until the next attach, hidden for a
carrier that cannot do it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from carriers.models import CarrierAccount, SimulatedSim
from sims.models import Connectivity, SimConnectivity, State
from sims.network_events import NetworkEventRow, network_events_ingested
from tests.conftest import text_of

WAITING = "waiting for the device to attach again"


def reset_url(product, sim) -> str:
    return reverse("carrier_sim_reset_connectivity", args=[product.slug, sim.iccid])


def page(client, product, sim) -> str:
    return client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()


def test_a_member_resets_connectivity_and_the_page_waits_for_the_next_attach(teammate_client, product, sim):
    assert "Reset connectivity" in page(teammate_client, product, sim)
    response = teammate_client.post(reset_url(product, sim), follow=True)
    assert "reset requested at" in text_of(response)
    on_network = SimulatedSim.objects.get(iccid=sim.iccid)
    assert on_network.reset_requested_at is not None and on_network.resets == 1
    requested = SimConnectivity.objects.get(sim=sim).reset_requested_at
    assert requested is not None
    assert f"Reset requested at {timezone.localtime(requested):%H:%M}" in page(teammate_client, product, sim)
    assert WAITING in page(teammate_client, product, sim)

    # The device attaches again: the console and the simulated network both see the reset done.
    attach_at = requested + timedelta(seconds=30)
    SimConnectivity.objects.filter(sim=sim).update(status=Connectivity.ATTACHED, last_attach_at=attach_at, last_event_at=attach_at)
    row = NetworkEventRow(event_id="a1", iccid=sim.iccid, kind="attach", at=attach_at)
    network_events_ingested.send(sender=None, events=[(sim.pk, product.pk, row)])
    assert WAITING not in page(teammate_client, product, sim)
    assert SimulatedSim.objects.get(iccid=sim.iccid).reset_requested_at is None


def test_an_attach_from_before_the_reset_does_not_end_it(product, sim):
    SimulatedSim.objects.create(iccid=sim.iccid, status="active", reset_requested_at=timezone.now())
    row = NetworkEventRow(event_id="a0", iccid=sim.iccid, kind="attach", at=timezone.now() - timedelta(minutes=5))
    network_events_ingested.send(sender=None, events=[(sim.pk, product.pk, row)])
    assert SimulatedSim.objects.get(iccid=sim.iccid).reset_requested_at is not None


def test_hidden_and_refused_for_a_carrier_without_the_capability(owner_client, product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="Twilio US", adapter="twilio")
    sim = make_sim(product, carrier_account=account)
    shown = page(owner_client, product, sim)
    assert "Reset connectivity</button>" not in shown
    assert "Not offered: Reset connectivity. Twilio US, this SIM's carrier, has no reset of connectivity" in shown
    response = owner_client.post(reset_url(product, sim), follow=True)
    assert "reset connectivity is not possible for this SIM: its carrier (Twilio US) offers no reset" in text_of(response)
    assert not SimConnectivity.objects.filter(sim=sim).exists()


def test_the_carriers_refusal_is_shown_and_nothing_is_waiting(owner_client, product, make_sim):
    sim = make_sim(product, state=State.ACTIVE)  # active here, off the simulated network (its change not pushed yet)
    SimulatedSim.objects.create(iccid=sim.iccid, status="suspended")
    response = owner_client.post(reset_url(product, sim), follow=True)
    assert "refused to reset connectivity" in text_of(response) and "reactivate it" in text_of(response)
    assert not SimConnectivity.objects.filter(sim=sim, reset_requested_at__isnull=False).exists()


def test_a_carrier_that_does_not_answer_is_said_so(owner_client, product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="Flaky sim", adapter="simulator", settings={"failure_rate": 1})
    sim = make_sim(product, carrier_account=account)
    response = owner_client.post(reset_url(product, sim), follow=True)
    assert "could not be asked to reset connectivity" in text_of(response) and "Try again in a minute" in text_of(response)
    assert not SimConnectivity.objects.filter(sim=sim).exists()


@pytest.mark.parametrize("state", [State.TERMINATED, State.SUSPENDED, State.ISSUED])
def test_not_for_a_sim_that_is_not_on_the_network(owner_client, product, make_sim, state):
    sim = make_sim(product, state=state)
    assert "Reset connectivity" not in page(owner_client, product, sim)  # neither the button nor a note
    response = owner_client.post(reset_url(product, sim), follow=True)
    assert "no connectivity to reset" in text_of(response)
    assert not SimulatedSim.objects.filter(iccid=sim.iccid).exists()


def test_an_outsider_cannot_reset(outsider_client, product, sim):
    assert outsider_client.post(reset_url(product, sim)).status_code == 404
    assert not SimulatedSim.objects.filter(iccid=sim.iccid).exists()
