from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from devices.models import Device
from sims.models import Connectivity, NetworkStatus, SimConnectivity, SimEvent, State
from sims.timeline import clock
from sims.why_offline import reset_waiting, why_offline

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def connectivity(sim, status, **fields):
    fields.setdefault("last_event_at", NOW - timedelta(hours=1))
    return SimConnectivity.objects.create(sim=sim, product=sim.product, status=status, **fields)


def reason(sim):
    sim.refresh_from_db()
    conn = SimConnectivity.objects.filter(sim=sim).first()
    return why_offline(sim, conn, now=NOW)


def test_an_online_sim_has_no_reason(sim):
    connectivity(sim, Connectivity.ONLINE)
    assert reason(sim) is None


@pytest.mark.parametrize(
    ("state", "title", "todo"),
    [
        (State.SUSPENDED, "Deactivated here", "Reactivate it."),
        (State.PAUSED, "Paused here", "Unpause it, or raise its data limit."),
        (State.TERMINATED, "Terminated here", "It can never be used again: use another SIM."),
    ],
)
def test_a_sim_stopped_here_says_when_and_by_whom_first(make_sim, product, state, title, todo):
    sim = make_sim(product, state=state, network_status=NetworkStatus.FAILED, network_error="whatever")
    SimEvent.objects.create(
        sim=sim, product=product, action="x", from_state="active", to_state=state, actor_kind="user", actor_name="alice",
        reason="Lost in transit", created_at=NOW - timedelta(hours=2),
    )  # fmt: skip
    connectivity(sim, Connectivity.ONLINE)  # even online on the network: the console's state comes first
    found = reason(sim)
    assert (found.title, found.todo) == (title, todo)
    assert "by alice: Lost in transit" in found.detail and "12:00" in found.detail


def test_a_sim_never_activated_says_activate_it(make_sim, product):
    assert reason(make_sim(product, state=State.ISSUED)).code == "issued"


def test_pending_on_the_carrier(make_sim, product):
    sim = make_sim(product, network_status=NetworkStatus.PENDING, network_since=NOW - timedelta(minutes=5), network_error="timeout")
    found = reason(sim)
    assert found.title == "Pending on the carrier" and "carrier unavailable: timeout" in found.detail


def test_refused_by_the_carrier_with_its_reason(make_sim, product):
    sim = make_sim(product, network_status=NetworkStatus.FAILED, network_error="SIM not in this account's inventory")
    found = reason(sim)
    assert found.title == "Refused by the carrier" and "SIM not in this account's inventory" in found.detail
    assert found.todo == "Retry at the carrier."


def test_never_attached(sim):
    assert reason(sim).title == "Never attached"
    connectivity(sim, Connectivity.UNKNOWN, last_event_at=None)
    assert reason(sim).title == "Never attached"


def test_rejected_by_the_network_with_the_cause_and_when(sim):
    connectivity(sim, Connectivity.OFFLINE, last_reject_at=NOW - timedelta(hours=3), last_reject_cause="Roaming not allowed in this area")
    found = reason(sim)
    assert found.title == "Rejected by the network"
    assert "Roaming not allowed in this area" in found.detail and "11:00" in found.detail


def test_a_reject_before_the_last_attach_is_history(sim):
    connectivity(
        sim, Connectivity.OFFLINE, last_reject_at=NOW - timedelta(hours=3), last_attach_at=NOW - timedelta(hours=2),
        since=NOW - timedelta(hours=1),
    )  # fmt: skip
    assert reason(sim).code == "detached"


def test_imei_differs_from_the_devices(sim):
    sim.device = Device.objects.create(product=sim.product, device_id="d1", name="Tracker 7", imei="356938035643809")
    sim.save()
    connectivity(sim, Connectivity.OFFLINE, imei="490154203237518", since=NOW - timedelta(hours=1))
    found = reason(sim)
    assert found.title == "IMEI differs from the device's"
    assert "490154203237518" in found.detail and "Tracker 7" in found.detail and "356938035643809" in found.detail


def test_attached_without_a_data_session_for_days(sim):
    connectivity(sim, Connectivity.ATTACHED, last_session_end_at=NOW - timedelta(days=3, hours=2), last_session_start_at=NOW - timedelta(days=3, hours=3))
    found = reason(sim)
    assert found.title == "No data session for 3 days" and "APN" in found.todo


def test_attached_and_never_a_session(sim):
    connectivity(sim, Connectivity.ATTACHED, since=NOW - timedelta(hours=5))
    assert reason(sim).title == "Attached, never a data session"


def test_attached_between_sessions_is_nothing_to_worry_about(sim):
    connectivity(sim, Connectivity.ATTACHED, last_session_end_at=NOW - timedelta(hours=2))
    assert reason(sim).code == "between_sessions"


def test_detached_since(sim):
    connectivity(sim, Connectivity.OFFLINE, since=NOW - timedelta(hours=4), operator="Telekom.de 262-01")
    found = reason(sim)
    assert found.title.startswith("Detached since") and found.title.endswith("10:00") and "Telekom.de 262-01" in found.detail
    assert found.todo.startswith("Check the device's power and antenna")


def test_a_reset_waits_for_the_next_attach(sim):
    conn = connectivity(sim, Connectivity.OFFLINE, reset_requested_at=NOW - timedelta(minutes=10), last_attach_at=NOW - timedelta(hours=1))
    assert reset_waiting(conn) == NOW - timedelta(minutes=10)
    conn.last_attach_at = NOW - timedelta(minutes=2)
    assert reset_waiting(conn) is None


def test_the_sim_page_says_why_offline_and_what_to_do(owner_client, product, sim):
    connectivity(sim, Connectivity.OFFLINE, last_reject_at=NOW, last_reject_cause="IMSI unknown in HLR", operator="Vodafone 262-02", rat="LTE-M")
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert "Connectivity" in page and "Offline" in page and "Vodafone 262-02" in page and "LTE-M" in page
    assert "Why offline? Rejected by the network." in page and "IMSI unknown in HLR" in page
    assert "What to do:" in page


def test_a_sim_the_network_never_reported_shows_no_empty_details(owner_client, product, sim):
    sim.state = State.SUSPENDED
    sim.save(update_fields=["state"])
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert "Why offline? Deactivated here." in page
    assert "The network has not reported this SIM yet" in page and "connectivity-details" not in page


def test_a_session_whose_end_only_is_known_is_not_never(owner_client, product, sim):
    ended = timezone.now() - timedelta(days=3)
    connectivity(sim, Connectivity.ATTACHED, last_session_end_at=ended)
    page = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert f"<dt>Last session</dt><dd>ended {clock(ended)}</dd>" in page
