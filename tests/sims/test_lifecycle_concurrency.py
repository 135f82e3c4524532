"""Two writers acting on the same SIMs at once never make a forbidden transition or lose an event."""

import threading

import pytest
from django.db import connection

from sims.lifecycle import ALLOWED_STATE_CHANGES, Action, Actor, apply_action
from sims.models import Sim, SimEvent, State
from tests.conftest import make_iccid

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 4


def _worker(ids: list[int], actions: list[Action], name: str, done: list, errors: list) -> None:
    try:
        for _ in range(ROUNDS):
            for action in actions:
                report = apply_action(sims=ids, action=action, actor=Actor.system(name))
                done.append(len(report.done))
    except Exception as error:  # surfaced by the test below
        errors.append(error)
    finally:
        connection.close()


def test_two_threads_on_the_same_sims_never_break_the_lifecycle(product, monkeypatch):
    monkeypatch.setattr("sims.lifecycle.CHUNK_SIZE", 25)  # many small transactions interleave
    sims = Sim.objects.bulk_create(
        [Sim(iccid=make_iccid(), product=product, state=State.ACTIVE) for _ in range(120)]
    )
    ids = [sim.pk for sim in sims]
    done: list[int] = []
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_worker, args=(ids, [Action.DEACTIVATE, Action.REACTIVATE], "suspender", done, errors)),
        threading.Thread(target=_worker, args=(list(reversed(ids)), [Action.PAUSE, Action.UNPAUSE], "pauser", done, errors)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    assert SimEvent.objects.count() == sum(done), "every change reported is one event, none lost or extra"
    assert sum(done) > len(ids)  # the threads really did act
    for sim in Sim.objects.filter(pk__in=ids):
        state = State.ACTIVE
        for event in SimEvent.objects.filter(sim=sim).order_by("id"):
            assert event.from_state == state, f"{sim.iccid}: event {event} does not follow {state}"
            assert (event.from_state, event.to_state) in ALLOWED_STATE_CHANGES
            state = event.to_state
        assert state == sim.state
