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

from django.db import connections, transaction
from django.db.models import QuerySet


def stream_all(queryset: QuerySet, *, chunk_size: int) -> Iterator:
    """The queryset's rows, `chunk_size` at a time, in one read-only transaction that plans the
    query for its whole result. The transaction stays open until the rows are read (or the
    iteration is abandoned): write nothing in between."""
    connection = connections[queryset.db]
    with transaction.atomic(using=queryset.db):
        if connection.vendor != "postgresql":
            yield from queryset.iterator(chunk_size=chunk_size)
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('cursor_tuple_fraction'), set_config('cursor_tuple_fraction', '1', true)")
            before = cursor.fetchone()[0]
        yield from queryset.iterator(chunk_size=chunk_size)
        # Inside a caller's transaction, the setting would last until its end (an abandoned pass
        # rolls back to the savepoint, which restores it).
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('cursor_tuple_fraction', %s, true)", [before])
