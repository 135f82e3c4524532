"""sims.0017: a database with period usage from before it gets each row's product from its SIM,
so that the SIMs page sorts by usage at once, without waiting for new usage."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sims.models import SimPeriodUsage

BEFORE = [("sims", "0016_bulk_jobs")]


def migrate(targets):
    return MigrationExecutor(connection).migrate(targets).apps


@pytest.mark.django_db(transaction=True)
def test_period_usage_from_before_gets_the_product_of_its_sim():
    old = migrate(BEFORE)
    product = old.get_model("products", "Product").objects.create(name="Fleet", slug="fleet")
    Sim, Usage = old.get_model("sims", "Sim"), old.get_model("sims", "SimPeriodUsage")
    in_product = Sim.objects.create(iccid="89012600000000000017", product=product, state="active")
    released = Sim.objects.create(iccid="89012600000000000025", state="suspended")
    for sim in (in_product, released):
        Usage.objects.create(sim=sim, period=date(2026, 11, 1), bytes=1000)

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert dict(SimPeriodUsage.objects.values_list("sim_id", "product_id")) == {in_product.pk: product.pk, released.pk: None}
