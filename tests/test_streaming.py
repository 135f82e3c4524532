"""console.streaming: a pass over a whole result, in chunks, planned for all of it."""

import pytest
from django.db import connection

from console.streaming import stream_all
from sims.models import Sim

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")


def cursor_tuple_fraction() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        return cursor.fetchone()[0]


def test_every_row_comes_once_in_the_querysets_order(product, make_sim):
    sims = [make_sim(product) for _ in range(7)]
    rows = Sim.objects.filter(product=product).order_by("-id").values_list("id", flat=True)
    assert list(stream_all(rows, chunk_size=3)) == [sim.pk for sim in reversed(sims)]


@postgresql_only
def test_postgresql_plans_the_cursor_for_the_whole_result_only_while_it_is_read(product, make_sim):
    make_sim(product)
    before = cursor_tuple_fraction()
    for _ in stream_all(Sim.objects.filter(product=product), chunk_size=10):
        assert cursor_tuple_fraction() == "1"
    assert cursor_tuple_fraction() == before


def test_an_abandoned_pass_leaves_no_transaction_or_setting_behind(product, make_sim):
    for _ in range(3):
        make_sim(product)
    depth = len(connection.savepoint_ids)
    before = cursor_tuple_fraction() if connection.vendor == "postgresql" else None
    rows = stream_all(Sim.objects.filter(product=product), chunk_size=1)
    next(rows)
    rows.close()
    assert len(connection.savepoint_ids) == depth
    if before is not None:
        assert cursor_tuple_fraction() == before
