import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sims.lifecycle import (
    ALLOWED_STATE_CHANGES,
    TRANSITIONS,
    Action,
    Actor,
    IllegalTransition,
    apply_action,
)
from sims.models import Sim, SimEvent, State
from tests.conftest import make_iccid

ALL_CELLS = [(action, state) for action in Action for state in State]


def test_the_table_changes_state_only_along_the_designed_transitions():
    changes = {(before, after) for row in TRANSITIONS.values() for before, after in row.items() if before != after}
    assert changes == ALLOWED_STATE_CHANGES


@pytest.mark.parametrize(("action", "state"), ALL_CELLS, ids=[f"{a}-from-{s}" for a, s in ALL_CELLS])
def test_every_cell_of_the_transition_table(product, owner, action, state):
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=state)
    actor = Actor.for_user(owner)
    expected = TRANSITIONS[action].get(state)
    if expected is None:
        with pytest.raises(IllegalTransition) as error:
            apply_action(sims=sim, action=action, actor=actor, data_limit_mb=7)
        assert str(state) in str(error.value)
        assert action.label.lower() in str(error.value)
        sim.refresh_from_db()
        assert sim.state == state
        assert not SimEvent.objects.filter(sim=sim).exists()
    else:
        apply_action(sims=sim, action=action, actor=actor, data_limit_mb=7)
        assert sim.state == expected
        event = SimEvent.objects.get(sim=sim)
        assert (event.from_state, event.to_state, event.action) == (state, expected, action)
        assert event.actor_user == owner and event.actor_kind == "user"
        assert event.product == product


def test_nothing_leaves_terminated(sim, owner):
    apply_action(sims=sim, action=Action.TERMINATE, actor=Actor.for_user(owner))
    for action in Action:
        with pytest.raises(IllegalTransition, match="terminated"):
            apply_action(sims=sim, action=action, actor=Actor.for_user(owner), data_limit_mb=1)


def test_activation_and_deactivation_are_counted_and_timed(product, owner, make_sim):
    sim = make_sim(product, state=State.ISSUED)
    actor = Actor.for_user(owner)
    apply_action(sims=sim, action=Action.ACTIVATE, actor=actor)
    first = sim.first_activated_at
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=actor)
    apply_action(sims=sim, action=Action.REACTIVATE, actor=actor)
    assert (sim.activations_count, sim.deactivations_count) == (2, 1)
    assert sim.first_activated_at == first
    assert sim.last_activated_at > first


def test_removing_suspends_and_releases_the_sim_but_history_stays_with_the_product(sim, product, owner):
    apply_action(sims=sim, action=Action.REMOVE, actor=Actor.for_user(owner))
    assert sim.state == State.SUSPENDED
    assert sim.product is None
    assert SimEvent.objects.get(sim=sim).product == product


def test_a_double_submitted_action_is_refused_the_second_time_and_changes_nothing(sim, owner):
    apply_action(sims=sim, action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    with pytest.raises(IllegalTransition, match="the SIM is suspended"):
        apply_action(sims=sim, action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    assert SimEvent.objects.filter(sim=sim).count() == 1
    assert sim.deactivations_count == 1


def test_a_bulk_action_reports_each_sim_done_or_refused_with_why(product, owner, make_sim):
    active = [make_sim(product, state=State.ACTIVE) for _ in range(3)]
    issued = make_sim(product, state=State.ISSUED)
    terminated = make_sim(product, state=State.TERMINATED)
    report = apply_action(
        sims=Sim.objects.filter(product=product), action=Action.DEACTIVATE, actor=Actor.for_user(owner)
    )
    assert {o.iccid for o in report.done} == {s.iccid for s in active}
    refused = {o.iccid: o.refused_reason for o in report.refused}
    assert set(refused) == {issued.iccid, terminated.iccid}
    assert "the SIM is issued" in refused[issued.iccid]
    assert "terminated" in refused[terminated.iccid]
    assert Sim.objects.filter(product=product, state=State.SUSPENDED).count() == 3
    assert report.summary() == "Deactivate: 3 done, 2 refused."


def test_a_bulk_action_takes_a_list_of_ids_and_crosses_chunks(product, owner, make_sim, monkeypatch):
    monkeypatch.setattr("sims.lifecycle.CHUNK_SIZE", 2)
    sims = [make_sim(product, state=State.ACTIVE) for _ in range(5)]
    report = apply_action(sims=[s.pk for s in sims], action=Action.DEACTIVATE, actor=Actor.for_user(owner))
    assert len(report.done) == 5
    assert SimEvent.objects.filter(action="deactivate").count() == 5


def test_system_actors_are_recorded_with_their_rule(sim):
    apply_action(sims=sim, action=Action.PAUSE, actor=Actor.system("data limit"), reason="12 MB used of 10 MB")
    event = SimEvent.objects.get(sim=sim)
    assert (event.actor_kind, event.actor_name, event.actor_user) == ("system", "data limit", None)
    assert event.actor_label == "System (data limit)"
    assert event.reason == "12 MB used of 10 MB"


def test_a_data_limit_change_is_kept_in_the_audit_trail(sim, owner):
    apply_action(sims=sim, action=Action.SET_DATA_LIMIT, actor=Actor.for_user(owner), data_limit_mb=20)
    assert sim.data_limit_mb == 20
    assert SimEvent.objects.get(sim=sim).reason == "Data limit product default -> 20 MB"


ACTORS = st.sampled_from([Actor.system("rule"), Actor.for_token("ci-token"), None])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(list(Action)), ACTORS), max_size=25))
def test_random_sequences_of_actions_stay_in_the_table_and_replay_from_the_log(product, owner, steps):
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ISSUED)
    for action, actor in steps:
        before = sim.state
        try:
            apply_action(sims=sim, action=action, actor=actor or Actor.for_user(owner), data_limit_mb=3)
        except IllegalTransition:
            assert before not in TRANSITIONS[action]
            assert sim.state == before
        else:
            assert sim.state == TRANSITIONS[action][State(before)]
        if sim.product is None:  # removed: put it back so the walk goes on
            Sim.objects.filter(pk=sim.pk).update(product=product)
            sim.refresh_from_db()
    replayed = State.ISSUED
    for event in SimEvent.objects.filter(sim=sim).order_by("id"):
        assert event.from_state == replayed
        assert event.from_state == event.to_state or (event.from_state, event.to_state) in ALLOWED_STATE_CHANGES
        replayed = event.to_state
    assert replayed == sim.state
