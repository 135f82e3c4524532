"""A real push worker killed (SIGKILL) while it is talking to the carrier, on PostgreSQL: the change
was committed in the console, the carrier's answer never recorded. A new worker, once the dead one's
lease has run out, sends the change again: the carrier applies it exactly once, or, when the first
call had landed, receives it twice and changes nothing the second time (same state, counted as a repeat).

Two kill points, each made wide by the simulator's latency:
- before the carrier acted (`latency_ms`: the worker waits on the carrier's API);
- after the carrier acted, before its answer reached the console (`answer_latency_ms`).
"""

import time

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from carriers.models import CarrierAccount, PushLease, SimulatedSim
from carriers.push import push_due, push_network_changes
from sims.lifecycle import Action, Actor, apply_action
from sims.models import NetworkStatus, Sim, State
from tests.conftest import publish_queued_events

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: the production case of a worker process dying while a database server holds its "
        "session (SQLite has no server to end it); run with DATABASE_URL=postgres://...",
    ),
]
LEASE_SECONDS = 3
SLOW_MS = 60_000  # far longer than the test: the worker is surely inside the call when it is killed


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def pushes_finished() -> int:
    return DBTaskResult.objects.filter(task_path=push_network_changes.module_path, status="SUCCESSFUL").count()


def lease_held(account: CarrierAccount) -> bool:
    return PushLease.objects.filter(account_key=account.pk, holder__gt="", until__gt=timezone.now()).exists()


def on_network(sims: list[Sim]) -> int:
    """How many of these SIMs the carrier has acted on."""
    return SimulatedSim.objects.filter(iccid__in=[sim.iccid for sim in sims]).count()


@pytest.mark.parametrize(
    ("slow", "carrier_acted"),
    [({"latency_ms": SLOW_MS}, False), ({"answer_latency_ms": SLOW_MS}, True)],
    ids=["killed-before-the-carrier-acted", "killed-after-the-carrier-acted-before-its-answer-was-recorded"],
)
def test_a_worker_killed_in_the_carrier_call_loses_nothing_and_the_carrier_applies_the_change_once(
    product, make_sim, start_worker, slow, carrier_acted
):
    account = CarrierAccount.objects.create(product=product, name="Slow carrier", adapter="simulator", settings=slow)
    sims = [make_sim(product, carrier_account=account) for _ in range(3)]  # one batch, one carrier call
    apply_action(sims=[sim.pk for sim in sims], action=Action.DEACTIVATE, actor=Actor.system("test"))  # committed: the intent
    publish_queued_events()  # queues the account's push
    lease = {"CARRIER_PUSH_LEASE_SECONDS": str(LEASE_SECONDS)}

    first = start_worker(**lease)
    if carrier_acted:
        wait_for(lambda: on_network(sims) == 3)  # the carrier did it; the worker waits for the answer
    else:
        wait_for(lambda: lease_held(account))  # the worker took the account and is waiting on the carrier
    first.kill()  # SIGKILL: no except, no finally, no lease given back
    first.wait()

    for sim in Sim.objects.filter(pk__in=[sim.pk for sim in sims]):
        assert (sim.state, sim.network_status) == (State.SUSPENDED, NetworkStatus.PENDING)  # visibly not on the network yet
    if carrier_acted:
        assert set(SimulatedSim.objects.values_list("status", "changes", "repeats")) == {("suspended", 1, 0)}
    else:
        assert on_network(sims) == 0
    assert PushLease.objects.get(account_key=account.pk).holder  # the dead worker's, never given back

    account.settings = {}  # the carrier answers promptly again
    account.save()
    start_worker(**lease)
    # Once the dead worker's lease ran out (a push before then finds the account taken and sends nothing:
    # tests/carriers/test_push_due.py), the next tick's push sends the change again.
    wait_for(lambda: not lease_held(account), timeout=LEASE_SECONDS + 30)
    push_due(now=timezone.now())
    wait_for(lambda: not Sim.objects.exclude(network_status=NetworkStatus.SYNCED).exists())
    wait_for(lambda: pushes_finished() == 1)  # one push, and it ended well

    for sim in Sim.objects.select_related("product").filter(pk__in=[sim.pk for sim in sims]):
        assert (sim.state, sim.network_status, sim.network_error) == (State.SUSPENDED, NetworkStatus.SYNCED, "")
        network = SimulatedSim.objects.get(iccid=sim.iccid)
        assert (network.status, network.data_limit_mb) == ("suspended", sim.effective_data_limit_mb)
        # Exactly once on the network; when the first call had landed, the second was a harmless repeat.
        assert (network.changes, network.repeats) == (1, 1 if carrier_acted else 0)
