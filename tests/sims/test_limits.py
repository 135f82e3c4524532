"""The effective data limit, defined once (products/limits.py) for Python and SQL, and the
limits' domain constants that the forms and the API share."""

import re
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from api import particle, schema_particle
from lib.calendar import billing_period_start
from lib.units import MB
from products import limits as product_limits
from products.limits import effective_limit_sql
from products.models import Product
from sims import forms, limits
from sims.lifecycle import Action, Actor
from sims.limits import change_sims, pause_if_over_limit
from sims.models import Sim, SimPeriodUsage, State


def _limits_in_sql(sims: list[Sim]) -> dict[int, int]:
    sql = (
        f"SELECT s.id, {effective_limit_sql('s', 'p')} FROM {Sim._meta.db_table} s "
        f"LEFT JOIN {Product._meta.db_table} p ON p.id = s.product_id WHERE s.id IN ({', '.join(['%s'] * len(sims))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [sim.pk for sim in sims])
        return dict(cursor.fetchall())


def test_the_effective_limit_is_the_same_in_python_and_in_sql(product, other_product, owner, make_sim):
    product.default_data_limit_mb = 40
    product.save()
    own = make_sim(product, data_limit_mb=7)
    product_default = make_sim(product)
    neither = make_sim(other_product)
    developers = make_sim(None, owner_user=owner)
    sims = [Sim.objects.select_related("product").get(pk=sim.pk) for sim in (own, product_default, neither, developers)]
    in_python = {sim.pk: sim.effective_data_limit_mb for sim in sims}
    assert in_python == _limits_in_sql(sims)
    assert list(in_python.values()) == [7, 40, product_limits.DEFAULT_DATA_LIMIT_MB, product_limits.DEFAULT_DATA_LIMIT_MB]
    assert other_product.effective_default_data_limit_mb == product_limits.DEFAULT_DATA_LIMIT_MB


def test_pausing_at_the_limit_uses_the_one_console_default(product, make_sim, monkeypatch):
    """Change the console default in its one place: the page shows it and the pause follows it."""
    monkeypatch.setattr(product_limits, "DEFAULT_DATA_LIMIT_MB", 1)
    sim = make_sim(product)
    SimPeriodUsage.objects.create(sim=sim, period=billing_period_start(timezone.now()), bytes=2 * MB)
    assert Sim.objects.get(pk=sim.pk).effective_data_limit_mb == 1
    assert pause_if_over_limit(sim_ids=[sim.pk]) == 1
    assert Sim.objects.get(pk=sim.pk).state == State.PAUSED


def test_the_forms_and_the_api_take_the_largest_limit_from_the_limits_module():
    assert forms.MAX_DATA_LIMIT_MB is particle.MAX_DATA_LIMIT_MB is schema_particle.MAX_DATA_LIMIT_MB is limits.MAX_DATA_LIMIT_MB


def test_change_sims_sets_a_limit_and_pauses_at_once_what_is_over_it(product, make_sim, owner):
    over, under = make_sim(product), make_sim(product)
    SimPeriodUsage.objects.create(sim=over, period=billing_period_start(timezone.now()), bytes=3 * MB)
    change = change_sims(sims=[over.pk, under.pk], action=Action.SET_DATA_LIMIT, data_limit_mb=2, actor=Actor.for_user(owner))
    assert (len(change.report.done), change.paused, change.unpaused) == (2, 1, 0)
    assert dict(Sim.objects.values_list("pk", "state")) == {over.pk: State.PAUSED, under.pk: State.ACTIVE}


def test_change_sims_applies_a_lifecycle_action_and_refuses_a_limit_without_its_mb(product, make_sim, owner):
    sim = make_sim(product)
    change = change_sims(sims=sim, action=Action.DEACTIVATE, data_limit_mb=9, actor=Actor.for_user(owner))
    sim.refresh_from_db()
    assert (sim.state, sim.data_limit_mb, change.paused, change.unpaused) == (State.SUSPENDED, None, 0, 0)
    with pytest.raises(ValueError, match="data_limit_mb"):
        change_sims(sims=sim, action=Action.SET_DATA_LIMIT, actor=Actor.for_user(owner))


def test_only_change_sims_chooses_between_a_data_limit_and_a_lifecycle_action():
    """The SIM page, the bulk action and the API change SIMs through `change_sims`: a view that set a
    limit its own way could skip the pause (or unpause) the new limit calls for."""
    root = Path(__file__).resolve().parents[2]
    callers = sorted(
        str(path.relative_to(root))
        for app in ("api", "console", "imports", "products", "sims")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts and re.search(r"\bset_data_limit\(", path.read_text())
    )
    assert callers == ["sims/limits.py"]
