"""The push worker carries every change that needs the network to the carrier, once it has committed."""

import pytest
from django_tasks_db.models import DBTaskResult

from carriers.models import CarrierAccount, SimulatedSim
from carriers.push import BUILT_IN, push, push_network_changes, retry
from sims.lifecycle import Action, Actor, apply_action
from sims.models import NetworkStatus, Sim, State
from tests.conftest import publish_queued_events

ADMIN = Actor.system("test")


def queued_pushes() -> list[int]:
    tasks = DBTaskResult.objects.ready().filter(task_path=push_network_changes.module_path)
    return sorted(task.task_result.args[0] for task in tasks)


def on_network(iccid: str) -> SimulatedSim:
    return SimulatedSim.objects.get(iccid=iccid)


def test_a_deactivation_is_pending_until_the_worker_has_the_carriers_answer(sim):
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    sim.refresh_from_db()
    assert (sim.state, sim.network_status, sim.network_version) == (State.SUSPENDED, NetworkStatus.PENDING, 1)
    assert not SimulatedSim.objects.exists()

    publish_queued_events()
    assert queued_pushes() == [BUILT_IN]
    report = push(account_key=BUILT_IN)

    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.SYNCED
    assert on_network(sim.iccid).status == SimulatedSim.Status.SUSPENDED
    assert (report.sent, report.synced, report.requests) == (1, 1, 1)


def test_a_change_made_while_the_carrier_was_asked_stays_pending_for_the_next_batch(sim, monkeypatch):
    from carriers.adapters.simulator import SimulatorAdapter

    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    real_apply = SimulatorAdapter.apply
    calls = []

    def apply_then_change(self, changes):
        results = real_apply(self, changes)
        if not calls:
            apply_action(sims=Sim.objects.get(pk=sim.pk), action=Action.REACTIVATE, actor=ADMIN)
        calls.append([change.target for change in changes])
        return results

    monkeypatch.setattr(SimulatorAdapter, "apply", apply_then_change)
    push(account_key=BUILT_IN)

    assert calls == [["suspended"], ["active"]]
    sim.refresh_from_db()
    assert (sim.state, sim.network_status) == (State.ACTIVE, NetworkStatus.SYNCED)
    assert on_network(sim.iccid).status == SimulatedSim.Status.ACTIVE


def test_a_carrier_that_does_not_answer_leaves_the_sims_pending_with_a_retry_queued(product, make_sim, settings):
    account = CarrierAccount.objects.create(product=product, name="Flaky", adapter="simulator", settings={"failure_rate": 1})
    sims = [make_sim(product, carrier_account=account) for _ in range(3)]
    apply_action(sims=[s.pk for s in sims], action=Action.DEACTIVATE, actor=ADMIN)

    report = push(account_key=account.pk)

    assert report.unavailable and report.synced == 0
    for sim in Sim.objects.filter(pk__in=[s.pk for s in sims]):
        assert (sim.state, sim.network_status, sim.network_attempts) == (State.SUSPENDED, NetworkStatus.PENDING, 1)
        assert sim.network_retry_at is not None and "did not answer" in sim.network_error
    account.refresh_from_db()
    assert account.last_failure_at is not None and account.last_success_at is None
    assert DBTaskResult.objects.filter(task_path=push_network_changes.module_path, run_after__isnull=False).exists()


def test_a_refusal_shows_the_carriers_reason_until_a_person_retries(product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="Sim", adapter="simulator", settings={"inventory_prefixes": ["8988"]})
    sim = make_sim(product, carrier_account=account)  # an 8901... ICCID: not in this inventory
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)

    push(account_key=account.pk)
    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.FAILED
    assert "not in this account's inventory" in sim.network_error

    account.settings = {}
    account.save()
    assert retry(sims=Sim.objects.filter(pk=sim.pk)) == 1
    push(account_key=account.pk)
    sim.refresh_from_db()
    assert (sim.network_status, sim.network_error) == (NetworkStatus.SYNCED, "")


def test_sending_a_state_twice_changes_nothing_on_the_network(sim):
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    push(account_key=BUILT_IN)
    Sim.objects.filter(pk=sim.pk).update(network_status=NetworkStatus.PENDING)  # as if the worker died before recording

    push(account_key=BUILT_IN)
    network = on_network(sim.iccid)
    assert (network.status, network.changes, network.repeats) == (SimulatedSim.Status.SUSPENDED, 1, 1)


@pytest.mark.parametrize(
    ("start", "action", "target"),
    [
        (State.ACTIVE, Action.PAUSE, "paused"),
        (State.PAUSED, Action.UNPAUSE, "active"),
        (State.ACTIVE, Action.DEACTIVATE, "suspended"),
        (State.SUSPENDED, Action.REACTIVATE, "active"),
        (State.ACTIVE, Action.REMOVE, "suspended"),
        (State.ACTIVE, Action.TERMINATE, "terminated"),
        (State.ISSUED, Action.PROVISION, "active"),
    ],
)
def test_each_action_reaches_the_network_as_the_state_it_leads_to(product, make_sim, start, action, target):
    sim = make_sim(product, state=start)
    apply_action(sims=sim, action=action, actor=ADMIN)
    push(account_key=BUILT_IN)
    assert on_network(sim.iccid).status == target


def test_a_home_country_change_does_not_touch_the_network(sim):
    apply_action(sims=sim, action=Action.SET_HOME_COUNTRY, actor=ADMIN, changes={"home_country": "DE"})
    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.SYNCED


def test_the_simulator_registers_a_sim_of_its_inventory_with_any_code_and_refuses_one_outside_it():
    from carriers.adapters.simulator import NOT_HELD, SimulatorAdapter

    simulator = SimulatorAdapter(settings={"inventory_prefixes": ["8988"]}, credentials={})
    assert simulator.register("89882806000000000017", "any-code").ok
    assert simulator.register("89012600000000000017", "any-code").reason == NOT_HELD


def test_the_push_call_records_how_many_changes_the_carrier_refused(product, make_sim, monkeypatch):
    """What a carrier failure rate counts (rules/product_pass.py): the refused SIMs of a call that went through."""
    from carriers.adapters.base import Result
    from carriers.adapters.simulator import SimulatorAdapter
    from carriers.models import CarrierCall

    sims = [make_sim(product) for _ in range(3)]
    refused_iccid = sims[0].iccid
    monkeypatch.setattr(
        SimulatorAdapter, "apply", lambda self, changes: [Result(c.iccid, c.iccid != refused_iccid, "No such SIM") for c in changes]
    )
    apply_action(sims=[sim.pk for sim in sims], action=Action.DEACTIVATE, actor=ADMIN)
    push(account_key=BUILT_IN)
    call = CarrierCall.objects.get(what="apply")
    assert (call.ok, call.sims, call.refused) == (True, 3, 1)
