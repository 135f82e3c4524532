"""lib.streaming: a pass over a whole result, in chunks, planned for all of it."""

import pytest
from django.db import connection

from lib.streaming import stream_all
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
def test_postgresql_plans_the_cursor_for_the_whole_result(product, make_sim):
    make_sim(product)
    for _ in stream_all(Sim.objects.filter(product=product), chunk_size=10):
        assert cursor_tuple_fraction() == "1"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_setting_ends_with_the_pass_read_or_abandoned(product, make_sim):
    for _ in range(3):
        make_sim(product)
    before = cursor_tuple_fraction()
    assert list(stream_all(Sim.objects.filter(product=product), chunk_size=1))
    assert cursor_tuple_fraction() == before and not connection.in_atomic_block
    rows = stream_all(Sim.objects.filter(product=product), chunk_size=1)
    next(rows)
    rows.close()
    assert cursor_tuple_fraction() == before and not connection.in_atomic_block


def test_an_abandoned_pass_leaves_the_callers_transaction_usable(product, make_sim):
    for _ in range(3):
        make_sim(product)
    rows = stream_all(Sim.objects.filter(product=product), chunk_size=1)
    next(rows)
    rows.close()
    assert Sim.objects.filter(product=product).count() == 3
