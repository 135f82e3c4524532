"""One pass over a large result, read in chunks and planned for all of it.

Django reads `QuerySet.iterator()` through a server-side cursor on PostgreSQL, and PostgreSQL
plans a cursor's query for its first tenth (`cursor_tuple_fraction` = 0.1): fast first rows.
A pass that reads every row gains nothing from that. Billing's 2 million events of a month,
joined to their SIMs and in time order, got a nested loop of 2 million SIM lookups: 16-22 s of
server time under load where a hash join and one sort take 3.5 s (bench/billing.py). Outside a
transaction Django's cursor is also WITH HOLD, so PostgreSQL runs the whole query before the
first chunk anyway; in one, the rows stream as they are read.
"""

from collections.abc import Iterator
from contextlib import nullcontext

from django.db import connections, transaction
from django.db.models import QuerySet


def stream_all(queryset: QuerySet, *, chunk_size: int) -> Iterator:
    """The queryset's rows, `chunk_size` at a time, the query planned for its whole result.

    On PostgreSQL, in a transaction: the caller's if there is one (the setting then lasts until
    its end: other cursors in it are planned for their whole results too, which changes no
    result), else one of its own, open until the rows are read or the pass is abandoned. One
    query more than `iterator()`; none on SQLite, whose plans do not depend on it."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=chunk_size)
        return
    with nullcontext() if connection.in_atomic_block else transaction.atomic(using=queryset.db):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
        yield from queryset.iterator(chunk_size=chunk_size)
