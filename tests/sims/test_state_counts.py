"""The active-SIM count of the fleet header, kept by triggers on PostgreSQL, always equals a real count."""

from django.db import connection

from imports.importing import import_iccids
from products.fleet import ACTIVE_STATES, active_sim_count
from sims.lifecycle import Action, Actor, apply_action
from sims.models import Sim, SimStateDelta, State
from sims.state_counts import fold_state_deltas, sims_in_states
from tests.conftest import make_iccid


def real_count(product) -> int:
    return Sim.objects.filter(product=product, state__in=ACTIVE_STATES).count()


def test_the_count_follows_every_way_a_sim_changes(product, other_product, owner, make_sim):
    sims = [make_sim(product, state=State.ACTIVE) for _ in range(5)] + [make_sim(product, state=State.SUSPENDED)]
    make_sim(other_product, state=State.ACTIVE)
    assert active_sim_count(product) == real_count(product) == 5

    actor = Actor.system("test")
    apply_action(sims=[sims[0].pk, sims[1].pk], action=Action.PAUSE, actor=actor)  # still counted
    apply_action(sims=[sims[2].pk], action=Action.DEACTIVATE, actor=actor)
    apply_action(sims=[sims[5].pk], action=Action.REACTIVATE, actor=actor)
    apply_action(sims=[sims[3].pk], action=Action.REMOVE, actor=actor)
    apply_action(sims=[sims[4].pk], action=Action.SET_DATA_LIMIT, actor=actor, data_limit_mb=9)
    assert active_sim_count(product) == real_count(product) == 4

    import_iccids(product=product, user=owner, data="\n".join(make_iccid() for _ in range(3)), country="DE")
    make_sim(product, state=State.ACTIVE).delete()  # a SIM without history may be deleted
    assert active_sim_count(product) == real_count(product) == 7
    assert active_sim_count(other_product) == real_count(other_product) == 1


def test_folding_the_deltas_keeps_the_counts(product, make_sim):
    for state in [State.ACTIVE, State.ACTIVE, State.PAUSED, State.ISSUED]:
        make_sim(product, state=state)
    apply_action(sims=Sim.objects.filter(product=product, state=State.ISSUED), action=Action.ACTIVATE, actor=Actor.system("test"))

    fold_state_deltas()

    assert sims_in_states(product_id=product.pk, states=[State.ACTIVE]) == 3
    assert sims_in_states(product_id=product.pk, states=[State.PAUSED]) == 1
    if connection.vendor == "postgresql":
        assert SimStateDelta.objects.filter(product_id=product.pk).count() == 2  # one row per state left


def test_the_count_is_a_sum_of_a_few_rows_not_a_count_of_the_fleet(product, make_sim, django_assert_max_num_queries):
    for _ in range(3):
        make_sim(product)
    with django_assert_max_num_queries(1):
        assert active_sim_count(product) == 3
