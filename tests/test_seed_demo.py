from django.core.management import call_command

from products.models import Product
from sims.iccid import is_valid_iccid
from sims.lifecycle import ALLOWED_STATE_CHANGES
from sims.models import Sim, SimEvent, State
from tests.conftest import make_iccid


def test_seed_demo_makes_a_fleet_in_every_state_with_consistent_history(db, capsys):
    call_command("seed_demo", sims=600)
    out = capsys.readouterr().out
    assert "Sign in as demo / demo-sim-console" in out
    product = Product.objects.get(slug="acme-trackers")
    assert product.sims.count() == 600
    assert set(product.sims.values_list("state", flat=True)) == set(State.values)
    assert Sim.objects.filter(owner_user__username="demo").exists()
    assert Sim.objects.filter(product=None, owner_user=None).exists()
    assert all(is_valid_iccid(iccid) for iccid in Sim.objects.values_list("iccid", flat=True))
    for sim in product.sims.all()[:200]:
        state = State.ISSUED
        for event in sim.events.order_by("id"):
            assert event.from_state == state and (event.from_state, event.to_state) in ALLOWED_STATE_CHANGES
            state = event.to_state
        assert state == sim.state


def test_seed_demo_twice_adds_nothing(db, capsys):
    call_command("seed_demo", sims=50)
    call_command("seed_demo", sims=50)
    assert "already there" in capsys.readouterr().out
    assert Sim.objects.filter(product__slug="acme-trackers").count() == 50


def test_new_sims_after_seeding_get_fresh_ids(db):
    call_command("seed_demo", sims=30)
    sim = Sim.objects.create(iccid=make_iccid())  # an id from the sequence, past the seeded ones
    assert sim.pk > Sim.objects.exclude(pk=sim.pk).order_by("-pk").first().pk
    assert SimEvent.objects.create(sim=sim, action="x", from_state="issued", to_state="issued", actor_kind="system", actor_name="t").pk


def test_if_empty_leaves_a_database_with_products_alone(db, product, capsys):
    call_command("seed_demo", sims=10, if_empty=True)
    assert "no demo data added" in capsys.readouterr().out
    assert not Product.objects.filter(slug="acme-trackers").exists()
