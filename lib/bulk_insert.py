"""Insert many rows fast: COPY on PostgreSQL, one executemany on SQLite; or, for rows that
differ in one column only, one INSERT ... SELECT over a list sent as one parameter.

The ORM's bulk_create spends its time building model objects and compiling
queries (MEASUREMENTS.md: ~100 s per million SIMs against ~5-8 s here).
Callers give plain values already in database form (see `db_datetime`).
"""

import json
from collections.abc import Iterable
from datetime import datetime

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models.expressions import RawSQL


def db_datetime(value: datetime | None) -> object:
    """A datetime as the database backend stores it (SQLite keeps text)."""
    if value is None:
        return None
    return connection.ops.adapt_datetimefield_value(value)


def bulk_insert(model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> int:
    columns = [_column(_own_field(model, name)) for name in fields]
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
            # Errors as Django's (IntegrityError for a duplicate key), as cursor.execute raises them: psycopg's
            # own cursor does the COPY.
            with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN{binary}") as copy:
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


# PostgreSQL's autovacuum analyzes a table once more than this many rows plus this share of it
# changed (autovacuum_analyze_threshold and autovacuum_analyze_scale_factor, their defaults).
ANALYZE_THRESHOLD_ROWS = 50
ANALYZE_SCALE_FACTOR = 0.1


def analyze_if_grown(model_classes: list[type[models.Model]], *, changed_rows: int) -> list[str]:
    """PostgreSQL: after a bulk write of `changed_rows` rows into each of these tables, refresh the
    planner's statistics of those it changed by more than autovacuum's rule allows, at once; the
    tables analyzed. Autovacuum would do it up to a minute later, or never when it is off, and
    until then the planner takes a table a million-SIM import filled for a small one (it read a
    whole product to find ticked SIMs). ANALYZE reads a fixed sample (30,000 rows): 0.25-0.5 s a
    table at a million rows (bench/README.md)."""
    if connection.vendor != "postgresql" or changed_rows <= ANALYZE_THRESHOLD_ROWS:
        return []
    tables = [model._meta.db_table for model in model_classes]
    with connection.cursor() as cursor:
        # reltuples: the rows the planner believes the table holds (-1: never analyzed).
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'", [tables])
        known = dict(cursor.fetchall())
        stale = [
            table for table in tables
            if changed_rows > ANALYZE_THRESHOLD_ROWS + ANALYZE_SCALE_FACTOR * max(known.get(table, 0), 0)
        ]  # fmt: skip
        if stale:
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(table) for table in stale)}")
    return stale


def list_parameter(field: models.Field, values: list) -> tuple[str, str]:
    """A list of values as ONE query parameter (a JSON array), and the SQL that reads it as rows
    of one column, `value`, of the field's type.

    One parameter, not one per value: SQLite allows at most 32,766 of them. JSON, not an array:
    psycopg quotes an array's items one by one in Python (seconds per million), a string at once.
    """
    parameter = json.dumps(values)
    if connection.vendor == "postgresql":
        typed = f"value::{field.cast_db_type(connection)} AS value"
        return f"(SELECT {typed} FROM json_array_elements_text(%s::json) AS value) AS list", parameter
    return "json_each(%s)", parameter


def in_list(field: models.Field, values: list) -> tuple[str, str]:
    """`column IN values`, the values as one parameter (see `list_parameter`)."""
    relation, parameter = list_parameter(field, values)
    return f"{connection.ops.quote_name(_column(field))} IN (SELECT value FROM {relation})", parameter


def listed(field: models.Field, values: list) -> RawSQL:
    """The values as a subquery for the ORM's `field__in=`: one parameter (see `list_parameter`), where
    `__in=values` sends one per value, each quoted in Python (100,000 for a chunk of network events)."""
    relation, parameter = list_parameter(field, values)
    return RawSQL(f"SELECT value FROM {relation}", [parameter])


def insert_select_sql(
    model: type[models.Model],
    *,
    field: str,
    select: str,
    source: str,
    where: str = "true",
    same: dict[str, object],
    skip_conflicts_on: str | None = None,
) -> tuple[str, list]:
    """INSERT INTO model (field, *same) SELECT select, *same FROM source WHERE where [ON CONFLICT DO NOTHING],
    and the parameters of `same`: those of `source` and `where`, if any, follow them."""
    quote = connection.ops.quote_name
    meta = model._meta
    others = [_own_field(model, name) for name in same]
    columns = ", ".join(quote(_column(f)) for f in [_own_field(model, field), *others])
    selected = ", ".join([select, *(_typed_placeholder(f) for f in others)])
    # Always a WHERE (if only `true`): SQLite's parser would read ON CONFLICT as a join's ON without it.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {selected} FROM {source} WHERE {where}"
    if skip_conflicts_on:
        sql += f" ON CONFLICT ({quote(_column(_own_field(model, skip_conflicts_on)))}) DO NOTHING"
    return sql, list(same.values())


def _own_field(model: type[models.Model], name: str) -> models.Field:
    """A field of the model's own table (`get_field` also finds the relations pointing at it)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"{model.__name__}.{name} is a relation from another table, not a field of this one")
    return field


def _column(field: models.Field) -> str:
    if field.column is None:
        raise ValueError(f"{field.name} has no column (a many-to-many field): name a field stored in the table")
    return field.column


def _typed_placeholder(field: models.Field) -> str:
    # PostgreSQL types an untyped parameter in a SELECT list as text, which no integer or
    # timestamp column takes; SQLite's CAST would turn a date's text into a number.
    if connection.vendor == "postgresql":
        return f"%s::{field.cast_db_type(connection)}"
    return "%s"
