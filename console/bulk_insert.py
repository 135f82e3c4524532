"""Insert many rows fast: COPY on PostgreSQL, one executemany on SQLite.

The ORM's bulk_create spends its time building model objects and compiling
queries (MEASUREMENTS.md: ~100 s per million SIMs against ~5-8 s here).
Callers give plain tuples already in database form (see `db_datetime`).
"""

import zlib
from collections.abc import Iterable
from datetime import datetime

from django.core.management.color import no_style
from django.db import connection, models


def db_datetime(value: datetime | None) -> object:
    """A datetime as the database backend stores it (SQLite keeps text)."""
    if value is None:
        return None
    return connection.ops.adapt_datetimefield_value(value)


def bulk_insert(model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> int:
    columns = [model._meta.get_field(name).column for name in fields]
    return insert_rows(model._meta.db_table, columns, rows)


def insert_rows(table: str, columns: list[str], rows: Iterable[tuple], *, pg_types: list[str] | None = None) -> int:
    """Insert plain tuples into any table (a model's, or a temporary staging table).

    With `pg_types` (PostgreSQL type names, one per column) PostgreSQL gets a binary COPY:
    a sixth of the text format's cost per row when rows carry dates and times.
    """
    quote = connection.ops.quote_name
    table, column_list = quote(table), ", ".join(quote(column) for column in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            binary = " (FORMAT BINARY)" if pg_types else ""
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN{binary}") as copy:
                if pg_types:
                    copy.set_types(pg_types)
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            rows = list(rows)
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)
            count = len(rows)
    return count


def reset_id_sequences(*model_classes: type[models.Model]) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def insert_ignoring_conflicts(model: type[models.Model], fields: list[str], rows: list[tuple], *, unique: str) -> None:
    """Insert rows, skipping any whose `unique` column is already taken (by another import meanwhile)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    conflict = quote(model._meta.get_field(unique).column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY cannot skip conflicts: copy into a bare staging table, then insert from it.
            # The name follows the columns: a connection kept across a schema change gets a new one.
            staging = quote(f"staging_{model._meta.db_table}_{zlib.crc32(columns.encode()):08x}")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} AS SELECT {columns} FROM {table} WITH NO DATA")
            cursor.execute(f"TRUNCATE {staging}")
            with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} ON CONFLICT ({conflict}) DO NOTHING")
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT ({conflict}) DO NOTHING", rows
            )
