"""rules.0002: every product of the time gets its two built-in rules, once."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rules.models import Rule


def migrate(targets):
    return MigrationExecutor(connection).migrate(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_products_of_the_time_get_their_built_in_rules():
    old = migrate([("rules", "0001_rules")])
    product = old.get_model("products", "Product").objects.create(name="Fleet", slug="fleet")
    old.get_model("rules", "Rule").objects.create(product=product, name="Heavy day", condition_kind="usage_day", condition={"mb": 50})

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert sorted(Rule.objects.filter(product_id=product.pk).values_list("condition_kind", "name")) == [
        ("data_limit", "Data limit"), ("test_trigger", "Test-state triggers"), ("usage_day", "Heavy day"),
    ]  # fmt: skip
