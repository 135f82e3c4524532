"""Reconciliation finds every difference between the console and a carrier account, and fixes each in
the direction a person chooses: the carrier's state taken here, or ours pushed there."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from carriers.models import AccountRoutine, CarrierAccount, NetworkDifference, SimulatedSim
from carriers.push import push, push_network_changes
from carriers.reconciliation import push_ours, reconcile, reconcile_account, reconcile_due, steps_to, take_theirs
from sims.lifecycle import Action
from sims.models import NetworkStatus, Sim, SimEvent, State
from tests.conftest import make_iccid, publish_queued_events

Kind = NetworkDifference.Kind
AT_1402 = datetime(2026, 12, 7, 14, 2, tzinfo=UTC)


@pytest.fixture
def account(product):
    return CarrierAccount.objects.create(product=product, name="Simulated EU", adapter="simulator")


def at_carrier(account, status, iccid=None, at=AT_1402) -> str:
    iccid = iccid or make_iccid()
    SimulatedSim.objects.create(account=account, iccid=iccid, status=status, updated_at=at)
    return iccid


@pytest.fixture
def planted(product, other_product, account, make_sim):
    """One of each: the console and the carrier agree, disagree, or one of them lacks the SIM."""
    s = SimulatedSim.Status
    sims = {
        "agree": make_sim(product, State.ACTIVE, carrier_account=account),
        "suspended_there": make_sim(product, State.ACTIVE, carrier_account=account),
        "active_there": make_sim(product, State.SUSPENDED, carrier_account=account),
        "terminated_there": make_sim(product, State.PAUSED, carrier_account=account),
        "pending": make_sim(product, State.ACTIVE, carrier_account=account, network_status=NetworkStatus.PENDING, network_version=3),
        "not_at_carrier": make_sim(product, State.ACTIVE, carrier_account=account),
        "issued_not_at_carrier": make_sim(product, State.ISSUED, carrier_account=account),
        "in_inventory": make_sim(None, State.ISSUED),
        "someone_elses": make_sim(other_product, State.ACTIVE),
    }
    at_carrier(account, s.ACTIVE, sims["agree"].iccid)
    at_carrier(account, s.SUSPENDED, sims["suspended_there"].iccid)
    at_carrier(account, s.ACTIVE, sims["active_there"].iccid)
    at_carrier(account, s.TERMINATED, sims["terminated_there"].iccid)
    at_carrier(account, s.SUSPENDED, sims["pending"].iccid)
    at_carrier(account, s.ACTIVE, sims["in_inventory"].iccid)
    at_carrier(account, s.ACTIVE, sims["someone_elses"].iccid)
    new = at_carrier(account, s.SUSPENDED)
    return sims, new


def found(account) -> dict[str, tuple]:
    return {d.iccid: (d.kind, d.ours, d.theirs) for d in NetworkDifference.objects.filter(account_key=account.pk)}


def test_reconciliation_finds_every_difference_planted_and_nothing_else(account, planted):
    sims, new = planted

    report = reconcile(account.pk)

    assert found(account) == {
        sims["suspended_there"].iccid: (Kind.STATE, "active", "suspended"),
        sims["active_there"].iccid: (Kind.STATE, "suspended", "active"),
        sims["terminated_there"].iccid: (Kind.STATE, "paused", "terminated"),
        sims["not_at_carrier"].iccid: (Kind.NOT_AT_CARRIER, "active", ""),
        sims["in_inventory"].iccid: (Kind.NOT_HERE, "", "active"),
        new: (Kind.NOT_HERE, "", "suspended"),
    }
    assert report.summary() == (
        "Simulated EU: 8 SIMs at the carrier; 3 in another state, 2 not in the console, 1 not at the carrier; "
        "1 pending on the network, not compared; 1 in the console under another account or owner."
    )
    difference = NetworkDifference.objects.get(iccid=sims["suspended_there"].iccid)
    assert difference.describe() == "active here, suspended at the carrier since 2026-12-07 14:02"
    assert difference.product == sims["suspended_there"].product
    assert AccountRoutine.objects.get(account_key=account.pk).reconciliation_summary == report.summary()


def test_a_run_replaces_the_last_runs_differences(account, planted):
    sims, _ = planted
    reconcile(account.pk)
    SimulatedSim.objects.filter(iccid=sims["suspended_there"].iccid).update(status="active")

    reconcile(account.pk)

    assert sims["suspended_there"].iccid not in found(account)
    assert len(found(account)) == 5


def test_two_runs_at_once_leave_the_newer_runs_differences_once(account, planted, monkeypatch):
    from carriers.adapters.simulator import SimulatorAdapter

    listing = SimulatorAdapter.sims
    nested = []

    def sims_with_a_second_run_meanwhile(self):
        for n, sim in enumerate(listing(self)):
            if n == 4 and not nested:  # two chunks of the first run stored
                nested.append("started")
                reconcile(account.pk)  # the tick's run and a Check now, at once
            yield sim

    monkeypatch.setattr(SimulatorAdapter, "sims", sims_with_a_second_run_meanwhile)
    monkeypatch.setattr("carriers.reconciliation.CHUNK", 2)
    reconcile(account.pk)

    assert len(found(account)) == NetworkDifference.objects.filter(account_key=account.pk).count() == 6


def test_a_carrier_that_does_not_answer_keeps_the_last_differences(account, planted):
    reconcile(account.pk)
    account.settings = {"failure_rate": 1}
    account.save()

    report = reconcile(account.pk)

    assert report.unavailable and "could not be asked" in report.summary()
    assert len(found(account)) == 6
    account.refresh_from_db()
    assert account.last_failure_at is not None


def test_taking_the_carriers_state_changes_the_console_through_the_lifecycle_without_a_push(account, planted):
    sims, _ = planted
    reconcile(account.pk)
    changes_at_carrier = dict(SimulatedSim.objects.exclude(iccid=sims["pending"].iccid).values_list("iccid", "changes"))

    report = take_theirs(NetworkDifference.objects.filter(account_key=account.pk))

    assert report.fixed == 3
    states = dict(Sim.objects.values_list("iccid", "state"))
    assert states[sims["suspended_there"].iccid] == State.SUSPENDED
    assert states[sims["active_there"].iccid] == State.ACTIVE
    assert states[sims["terminated_there"].iccid] == State.TERMINATED
    for name in ("suspended_there", "active_there", "terminated_there"):
        sim = Sim.objects.get(pk=sims[name].pk)
        assert (sim.network_status, sim.network_version) == (NetworkStatus.SYNCED, 1)
    event = SimEvent.objects.get(sim=sims["suspended_there"])
    assert (event.action, event.actor_kind, event.actor_name) == (Action.DEACTIVATE, "system", "reconciliation")
    assert event.reason == "Reconciled with Simulated EU: suspended at the carrier (Off the network) since 2026-12-07 14:02"
    assert SimEvent.objects.get(sim=sims["active_there"]).action == Action.REACTIVATE
    assert SimEvent.objects.get(sim=sims["terminated_there"]).action == Action.TERMINATE
    # The other differences cannot be taken from the carrier: they stay, and nothing went to the network.
    assert set(found(account)) == {sims["not_at_carrier"].iccid, sims["in_inventory"].iccid, planted[1]}
    publish_queued_events()
    push(account_key=account.pk)
    assert dict(SimulatedSim.objects.exclude(iccid=sims["pending"].iccid).values_list("iccid", "changes")) == changes_at_carrier
    assert reconcile(account.pk).differences[Kind.STATE] == 0


def test_pushing_ours_brings_the_carrier_to_the_consoles_state(account, planted):
    sims, _ = planted
    reconcile(account.pk)

    report = push_ours(NetworkDifference.objects.filter(account_key=account.pk))

    assert report.fixed == 4 and report.skipped == 2  # the two not in the console are imported, not pushed
    assert DBTaskResult.objects.ready().filter(task_path=push_network_changes.module_path).exists()
    assert Sim.objects.get(pk=sims["suspended_there"].pk).network_status == NetworkStatus.PENDING
    push(account_key=account.pk)
    network = dict(SimulatedSim.objects.values_list("iccid", "status"))
    assert network[sims["suspended_there"].iccid] == "active"
    assert network[sims["active_there"].iccid] == "suspended"
    assert network[sims["not_at_carrier"].iccid] == "active"
    # A terminated SIM never comes back: the carrier refuses, and the SIM shows its reason.
    failed = Sim.objects.get(pk=sims["terminated_there"].pk)
    assert failed.network_status == NetworkStatus.FAILED and "terminated" in failed.network_error
    assert Sim.objects.filter(network_status=NetworkStatus.SYNCED, carrier_account=account).count() == 6
    assert not SimEvent.objects.exists()
    assert set(reconcile(account.pk).differences) == {Kind.NOT_HERE}


def test_a_sim_changed_since_the_check_is_not_fixed(account, planted):
    from sims.lifecycle import Actor, apply_action

    sims, _ = planted
    reconcile(account.pk)
    apply_action(sims=Sim.objects.get(pk=sims["suspended_there"].pk), action=Action.PAUSE, actor=Actor.system("test"))

    report = take_theirs(NetworkDifference.objects.filter(iccid=sims["suspended_there"].iccid))

    assert (report.fixed, report.skipped) == (0, 1)
    assert Sim.objects.get(pk=sims["suspended_there"].pk).state == State.PAUSED


@pytest.mark.parametrize(
    "ours, theirs, steps",
    [
        ("active", "suspended", [Action.DEACTIVATE]),
        ("paused", "suspended", [Action.DEACTIVATE]),
        ("suspended", "active", [Action.REACTIVATE]),
        ("paused", "active", [Action.REACTIVATE]),
        ("active", "paused", [Action.PAUSE]),
        ("suspended", "paused", [Action.REACTIVATE, Action.PAUSE]),
        ("issued", "active", [Action.ACTIVATE]),
        ("active", "terminated", [Action.TERMINATE]),
        ("terminated", "active", None),
        ("active", "", None),
    ],
)
def test_the_steps_to_the_carriers_state(ours, theirs, steps):
    assert steps_to(ours, theirs) == steps


def test_a_large_account_is_compared_in_chunks_not_sim_by_sim(product, account, make_sim, django_assert_max_num_queries):
    iccids = [make_iccid() for _ in range(5000)]
    Sim.objects.bulk_create(Sim(iccid=i, product=product, state=State.ACTIVE, carrier_account=account) for i in iccids)
    SimulatedSim.objects.bulk_create(
        SimulatedSim(account=account, iccid=i, status="suspended" if n % 100 == 0 else "active") for n, i in enumerate(iccids)
    )

    with django_assert_max_num_queries(40):
        report = reconcile(account.pk)

    assert report.differences[Kind.STATE] == 50


def test_the_tick_queues_a_reconciliation_per_account_at_most_once_an_hour(account, planted):
    now = timezone.now()
    assert reconcile_due(now=now) == "reconciliation queued for 1 carrier accounts"
    assert reconcile_due(now=now + timedelta(minutes=59)) == ""
    task = DBTaskResult.objects.ready().get(task_path=reconcile_account.module_path)
    assert "3 in another state" in reconcile_account.call(*task.task_result.args)
    assert reconcile_due(now=now + timedelta(minutes=61)) == "reconciliation queued for 1 carrier accounts"


def test_the_tick_runs_reconciliation_as_registered_work(account):
    from sims.periodic import _work_of_other_apps

    assert "carriers.reconciliation.reconcile_due" in _work_of_other_apps


def test_the_command_reconciles_every_account_or_one(account, planted, product):
    other = CarrierAccount.objects.create(product=product, name="Simulated US", adapter="simulator")
    out = StringIO()
    call_command("reconcile_carriers", stdout=out)
    assert out.getvalue().splitlines() == [
        "Simulated EU: 8 SIMs at the carrier; 3 in another state, 2 not in the console, 1 not at the carrier; "
        "1 pending on the network, not compared; 1 in the console under another account or owner.",
        "Simulated US: 0 SIMs at the carrier; 0 in another state, 0 not in the console, 0 not at the carrier.",
    ]
    out = StringIO()
    call_command("reconcile_carriers", "--account", str(other.pk), stdout=out)
    assert out.getvalue().startswith("Simulated US: 0 SIMs")


def test_a_sim_changed_and_synced_while_the_check_runs_is_no_difference(account, planted, monkeypatch):
    """The carrier listed the SIM active; before the check compared it, a person deactivated it and the
    push brought the carrier along. Reporting "suspended here, active at the carrier" from the old listing
    would offer "take the carrier's state": a click that reactivates the SIM the person just deactivated."""
    from carriers.adapters.simulator import SimulatorAdapter
    from sims.lifecycle import Actor, apply_action

    sims, _ = planted
    agree = sims["agree"]
    listing = SimulatorAdapter.sims

    def sims_with_a_change_after_the_listing(self):
        listed = list(listing(self))  # the carrier's answer, read before the change
        apply_action(sims=[agree.pk], action=Action.DEACTIVATE, actor=Actor.system("test"))
        push(account_key=account.pk)
        yield from listed

    monkeypatch.setattr(SimulatorAdapter, "sims", sims_with_a_change_after_the_listing)
    reconcile(account.pk)

    agree.refresh_from_db()
    assert (agree.state, agree.network_status) == (State.SUSPENDED, NetworkStatus.SYNCED)
    assert agree.iccid not in found(account)
    # Pending as the check began, pushed before it compared: the carrier's listing came before the push.
    assert sims["pending"].iccid not in found(account)
    assert len(found(account)) == 6  # the planted differences are still found


def test_taking_the_carriers_state_for_many_sims_does_not_ask_a_query_per_sim(product, account, django_assert_max_num_queries):
    """Fix all on 400 differences: the queries do not grow with the SIMs (the account's name in each
    event's reason was read once per SIM)."""
    iccids = [make_iccid() for _ in range(400)]
    Sim.objects.bulk_create(Sim(iccid=i, product=product, state=State.ACTIVE, carrier_account=account) for i in iccids)
    SimulatedSim.objects.bulk_create(SimulatedSim(account=account, iccid=i, status="suspended") for i in iccids)
    reconcile(account.pk)

    with django_assert_max_num_queries(60):
        report = take_theirs(NetworkDifference.objects.filter(account_key=account.pk))

    assert report.fixed == 400
    assert SimEvent.objects.filter(reason__startswith="Reconciled with Simulated EU: suspended").count() == 400
