"""The periodic tick's part in the push (carriers.push.push_due, registered with sims.periodic.every_tick):
a change whose push task was lost (deleted, or claimed by a worker that died), or that never had one,
is queued again by the next tick and reaches the carrier; a retry waits until it is due."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from carriers.models import CarrierAccount, PushLease, SimulatedSim
from carriers.push import BUILT_IN, push_network_changes
from sims import periodic
from sims.events import STRAGGLER_AGE, publish_events
from sims.lifecycle import Action, Actor, apply_action
from sims.models import DomainEvent, NetworkStatus, Sim, State
from tests.conftest import publish_queued_events

ADMIN = Actor.system("test")


class NoUsage:
    def usage_records(self, *, sims, since, until):
        return iter(())


@pytest.fixture(autouse=True)
def quiet_carrier(monkeypatch):
    """The tick's usage fetch finds nothing: only its push part is under test here."""
    monkeypatch.setattr(periodic, "get_carrier", NoUsage)


def push_tasks(status: str = "READY"):
    return DBTaskResult.objects.filter(task_path=push_network_changes.module_path, status=status)


def run_push_tasks() -> None:
    """The worker: each push task ready to run."""
    for result in push_tasks().filter(run_after__lte=timezone.now()) | push_tasks().filter(run_after__year__gte=9999):
        result.claim("test")
        result.set_successful(push_network_changes.call(*result.task_result.args))


def tick(now=None) -> str:
    return periodic.run_periodic_work(now=now or timezone.now())


def synced(sim: Sim) -> bool:
    sim.refresh_from_db()
    return sim.network_status == NetworkStatus.SYNCED


def test_a_change_whose_push_task_was_lost_reaches_the_carrier_on_the_next_tick(sim):
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    publish_queued_events()
    push_tasks().delete()  # lost

    summary = tick()

    assert "network changes to push for 1 carrier accounts" in summary
    assert [task.task_result.args for task in push_tasks()] == [[BUILT_IN]]
    run_push_tasks()
    assert synced(sim) and SimulatedSim.objects.get(iccid=sim.iccid).status == "suspended"


def test_a_push_task_held_by_a_dead_worker_does_not_stop_the_tick_queuing_another(product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="Sim", adapter="simulator")
    sim = make_sim(product, carrier_account=account)
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    publish_queued_events()
    [task] = push_tasks()
    task.claim("a worker killed since")  # RUNNING for ever: no worker picks it up again

    tick()

    assert [task.task_result.args for task in push_tasks()] == [[account.pk]]
    run_push_tasks()
    assert synced(sim)


def test_a_dead_workers_lease_holds_its_account_until_it_runs_out_then_the_tick_sends_the_change(sim, settings):
    settings.CARRIER_PUSH_LEASE_SECONDS = 60
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    publish_queued_events()
    taken_until = timezone.now() + timedelta(seconds=60)
    PushLease.objects.create(account_key=BUILT_IN, holder="a worker killed in the carrier call", until=taken_until)

    tick()
    run_push_tasks()  # finds the account taken: sends nothing, as two workers would race otherwise
    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.PENDING and not SimulatedSim.objects.exists()

    with time_machine.travel(taken_until + timedelta(seconds=1), tick=True):
        tick()
        run_push_tasks()
    assert synced(sim) and SimulatedSim.objects.get(iccid=sim.iccid).changes == 1


def test_an_event_whose_publish_task_was_lost_still_gets_its_change_to_the_carrier(sim):
    apply_action(sims=sim, action=Action.TERMINATE, actor=ADMIN)
    DBTaskResult.objects.filter(task_path=publish_events.module_path).delete()  # lost: the event stays in the outbox
    assert DomainEvent.objects.count() == 1

    tick(timezone.now() + STRAGGLER_AGE + timedelta(seconds=1))

    assert not DomainEvent.objects.exists()  # published late by the tick
    run_push_tasks()
    assert synced(sim) and SimulatedSim.objects.get(iccid=sim.iccid).status == "terminated"


def test_a_tick_queues_one_push_per_account_however_many_sims_and_none_twice(product, make_sim):
    sims = [make_sim(product) for _ in range(5)]
    apply_action(sims=[s.pk for s in sims], action=Action.DEACTIVATE, actor=ADMIN)
    DBTaskResult.objects.all().delete()

    tick()
    tick()

    assert push_tasks().count() == 1
    run_push_tasks()
    assert Sim.objects.filter(network_status=NetworkStatus.SYNCED, state=State.SUSPENDED).count() == 5


def test_a_retry_waits_for_its_time_and_the_tick_then_sends_it(product, make_sim):
    account = CarrierAccount.objects.create(product=product, name="Down", adapter="simulator", settings={"failure_rate": 1})
    sim = make_sim(product, carrier_account=account)
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=ADMIN)
    publish_queued_events()
    run_push_tasks()
    sim.refresh_from_db()
    assert sim.network_status == NetworkStatus.PENDING and sim.network_retry_at is not None
    DBTaskResult.objects.all().delete()  # the retry's own task lost too

    assert "network changes to push" not in tick()  # not due yet: the carrier is given its time
    assert not push_tasks().exists()

    account.settings = {}  # the carrier is back
    account.save()
    with time_machine.travel(sim.network_retry_at + timedelta(seconds=1), tick=True):
        tick()
        run_push_tasks()
    assert synced(sim) and SimulatedSim.objects.get(iccid=sim.iccid).changes == 1


def test_a_data_limit_cleared_in_the_admin_reaches_the_network_on_the_next_tick(admin_client, product, make_sim):
    """Back to the product's default: no lifecycle action says that, so no event queues a push; the SIM
    is marked pending in the admin's save, and the tick sends it."""
    sim = make_sim(product, data_limit_mb=25, home_country="US")
    url = reverse("admin:sims_sim_change", args=[sim.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"data_limit_mb": "", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"})
    assert admin_client.post(url, data).status_code == 302
    sim.refresh_from_db()
    assert (sim.data_limit_mb, sim.network_status) == (None, NetworkStatus.PENDING)

    tick()
    run_push_tasks()

    assert synced(sim)
    assert SimulatedSim.objects.get(iccid=sim.iccid).data_limit_mb == sim.effective_data_limit_mb
