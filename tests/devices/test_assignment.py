"""A SIM in a device: at most one device per SIM and one SIM per device, Sim.device in step, the history kept;
and the network's attach events putting SIMs in the devices whose IMEI they report."""

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.assignment import AssignmentRefused, assign_sim, on_network_events, release_sim
from devices.models import Device, DeviceAssignment
from devices.tac import luhn_digit
from sims.models import Sim
from sims.network_events import NetworkEventRow, network_events_ingested
from tests.conftest import make_user


def imei_of(tac: str, serial: str) -> str:
    return tac + serial + luhn_digit(tac + serial)


@pytest.fixture
def device(product):
    return Device.objects.create(product=product, device_id="e00fce681f2d0c1e5b3a4c2d", name="boiler-room")


@pytest.fixture
def other_device(product):
    return Device.objects.create(product=product, device_id="e00fce681f2d0c1e5b3a4c2e", name="attic")


def test_a_sim_put_in_a_device_is_its_current_sim_with_who_and_how(sim, device, owner):
    assignment = assign_sim(sim=sim, device=device, source=DeviceAssignment.Source.HAND, by_user=owner)
    sim.refresh_from_db()
    assert sim.device == device
    assert assignment.ended_at is None and assignment.by_user == owner and assignment.source == "hand"


def test_moving_a_sim_ends_its_previous_assignment_and_keeps_the_history(sim, device, other_device):
    first = assign_sim(sim=sim, device=device, source="hand")
    second = assign_sim(sim=sim, device=other_device, source="api", at=timezone.now() + timedelta(hours=1))
    first.refresh_from_db()
    sim.refresh_from_db()
    assert sim.device == other_device
    assert first.ended_at == second.started_at
    assert list(DeviceAssignment.objects.filter(sim=sim)) == [second, first]


def test_a_device_holds_one_sim_putting_another_takes_the_first_out(make_sim, product, device):
    old, new = make_sim(product), make_sim(product)
    assign_sim(sim=old, device=device, source="hand")
    assign_sim(sim=new, device=device, source="hand")
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.device is None and new.device == device
    assert DeviceAssignment.objects.filter(device=device, ended_at=None).get().sim == new


def test_putting_a_sim_where_it_already_is_changes_nothing(sim, device):
    first = assign_sim(sim=sim, device=device, source="hand")
    again = assign_sim(sim=sim, device=device, source="network")
    assert again == first
    assert DeviceAssignment.objects.count() == 1


def test_a_sim_of_another_product_is_refused(make_sim, other_product, device):
    stranger = make_sim(other_product)
    with pytest.raises(AssignmentRefused, match="not in this product"):
        assign_sim(sim=stranger, device=device, source="hand")
    stranger.refresh_from_db()
    assert stranger.device is None and not DeviceAssignment.objects.exists()


def test_releasing_ends_the_assignment_and_empties_sim_device(sim, device):
    assignment = assign_sim(sim=sim, device=device, source="hand")
    assert release_sim(sim=sim) == assignment
    assignment.refresh_from_db()
    sim.refresh_from_db()
    assert sim.device is None and assignment.ended_at is not None
    assert release_sim(sim=sim) is None, "releasing a SIM in no device does nothing"


def _attach(sim, imei: str, kind: str = "attach", event_id: str = "e1", at=None) -> None:
    row = NetworkEventRow(event_id=event_id, iccid=sim.iccid, kind=kind, at=at or timezone.now(), imei=imei)
    network_events_ingested.send(sender=None, events=[(sim.pk, sim.product_id, row)])


def test_an_attach_with_a_new_imei_creates_the_device_named_from_its_model(sim, product):
    imei = imei_of("35283410", "000001")
    _attach(sim, imei)
    sim.refresh_from_db()
    device = sim.device
    assert device is not None and device.product == product
    assert device.imei == imei and device.model == "Quectel BG96" and device.name.startswith("Quectel BG96")
    assert DeviceAssignment.objects.get(sim=sim).source == "network"


def test_a_device_of_a_model_the_table_does_not_know_is_named_by_its_serial(sim):
    _attach(sim, imei_of("99000123", "100200"))
    sim.refresh_from_db()
    assert sim.device.name == "Device 100200" and sim.device.model == "Unknown model (TAC 99000123)"


def test_an_attach_puts_the_sim_in_the_device_with_that_imei(sim, device):
    device.imei = imei_of("35228707", "000002")
    device.save()
    _attach(sim, device.imei)
    _attach(sim, device.imei, event_id="e2")
    sim.refresh_from_db()
    assert sim.device == device
    assert DeviceAssignment.objects.filter(sim=sim).count() == 1, "the second attach finds it there already"


def test_events_other_than_attach_or_without_imei_or_product_change_nothing(sim, make_sim):
    _attach(sim, imei_of("35283410", "000003"), kind="session_start")
    _attach(sim, "")
    _attach(make_sim(None), imei_of("35283410", "000004"))
    assert not Device.objects.exists() and not DeviceAssignment.objects.exists()


def test_a_swap_moves_the_sim_to_the_new_device_and_one_chunk_costs_few_queries(make_sim, product, django_assert_max_num_queries):
    sims = [make_sim(product) for _ in range(20)]
    rows = [(s.pk, product.pk, NetworkEventRow(event_id=f"a{n}", iccid=s.iccid, kind="attach", at=timezone.now(), imei=imei_of("35283410", f"{n:06d}"))) for n, s in enumerate(sims)]
    # The assignment's own receiver (the IMEI lock checks the same chunk apart).
    # A new device per SIM: 13 queries each (one of them: is a newer assignment standing? then a late attach moves nothing).
    with django_assert_max_num_queries(2 + 20 * 13):
        on_network_events(sender=None, events=rows)
    assert Device.objects.count() == 20
    with django_assert_max_num_queries(2):  # the same attaches again: every SIM is where it was
        on_network_events(sender=None, events=rows)
    moved = sims[0]
    _attach(moved, imei_of("35228707", "999999"), event_id="swap")
    moved.refresh_from_db()
    assert moved.device.model == "Nordic nRF9160"
    assert DeviceAssignment.objects.filter(sim=moved).count() == 2


def test_a_late_attach_from_the_device_a_sim_was_in_before_does_not_move_it_back(sim, device, other_device):
    device.imei, other_device.imei = imei_of("35228707", "000005"), imei_of("35228707", "000006")
    device.save()
    other_device.save()
    now = timezone.now()
    _attach(sim, device.imei, event_id="old", at=now - timedelta(hours=3))
    _attach(sim, other_device.imei, event_id="new", at=now - timedelta(hours=1))
    # The carrier delivers an attach from before the move only now (its hour's batch came late).
    _attach(sim, device.imei, event_id="late", at=now - timedelta(hours=2))
    sim.refresh_from_db()
    assert sim.device == other_device, "the newest attach says where the SIM is"
    history = list(DeviceAssignment.objects.filter(sim=sim).order_by("started_at").values_list("device_id", "ended_at"))
    assert history == [(device.pk, now - timedelta(hours=1)), (other_device.pk, None)]


def test_a_late_attach_does_not_take_a_device_from_the_sim_put_in_it_since(make_sim, product, device):
    device.imei = imei_of("35228707", "000007")
    device.save()
    first, second = make_sim(product), make_sim(product)
    now = timezone.now()
    assign_sim(sim=second, device=device, source="hand", at=now - timedelta(hours=1))
    _attach(first, device.imei, event_id="late", at=now - timedelta(hours=2))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.device, second.device) == (None, device)
    assert not DeviceAssignment.objects.filter(sim=first).exists()


def test_a_user_is_optional(sim, device):
    user = make_user("helper")
    assert assign_sim(sim=sim, device=device, source="hand", by_user=user).by_user == user


def test_a_fleets_first_attaches_put_each_sim_in_its_new_device_and_two_naming_one_imei_end_in_the_later(make_sim, product):
    sims = [make_sim(product) for _ in range(4)]
    now = timezone.now()
    shared = imei_of("35283410", "777777")
    rows = [
        (sims[0].pk, product.pk, NetworkEventRow(event_id="a0", iccid=sims[0].iccid, kind="attach", at=now, imei=imei_of("35283410", "700000"))),
        (sims[1].pk, product.pk, NetworkEventRow(event_id="a1", iccid=sims[1].iccid, kind="attach", at=now, imei=imei_of("35283410", "700001"))),
        (sims[2].pk, product.pk, NetworkEventRow(event_id="a2", iccid=sims[2].iccid, kind="attach", at=now - timedelta(minutes=5), imei=shared)),
        (sims[3].pk, product.pk, NetworkEventRow(event_id="a3", iccid=sims[3].iccid, kind="attach", at=now, imei=shared)),
    ]
    on_network_events(sender=None, events=rows)

    devices = {sim.pk: Sim.objects.get(pk=sim.pk).device for sim in sims}
    assert [devices[sims[n].pk].imei for n in (0, 1)] == [imei_of("35283410", "700000"), imei_of("35283410", "700001")]
    assert devices[sims[2].pk] is None and devices[sims[3].pk].imei == shared, "one device holds one SIM: the later attach"
    assert Device.objects.filter(product=product).count() == 3
    history = DeviceAssignment.objects.filter(sim_id__in=[sim.pk for sim in sims]).order_by("sim_id")
    assert [(a.sim_id, a.source, a.started_at, a.ended_at) for a in history] == [
        (sims[0].pk, "network", now, None),
        (sims[1].pk, "network", now, None),
        (sims[2].pk, "network", now - timedelta(minutes=5), now),
        (sims[3].pk, "network", now, None),
    ]
