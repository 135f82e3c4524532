"""A batch's new SIMs and their import events, in set-based SQL.

The ICCIDs travel as one parameter and the database builds the rows: nothing goes
through Python row by row. Each new SIM is marked with its batch (Sim.import_batch),
and its event is written from the row just inserted, in the same transaction.
"""

from django.db import connection

from console.bulk_insert import insert_select_sql, list_parameter
from sims.models import Sim, SimEvent


def insert_sims_with_events(*, iccids: list[str], sim: dict[str, object], event: dict[str, object]) -> int:
    """Insert a SIM per ICCID (`sim`: its other columns; `import_batch` among them) and an event per SIM
    inserted (`event`: its columns but the SIM), skipping ICCIDs already taken. Returns the SIMs inserted.

    Give the ICCIDs sorted: every ICCID index is then written page by page, and two imports
    inserting the same ICCIDs wait for each other in one order, never in a circle.
    """
    if not iccids:
        return 0
    relation, parameter = list_parameter(Sim._meta.get_field("iccid"), iccids)
    sims_sql, sims_params = insert_select_sql(
        Sim, field="iccid", select="value", source=relation, same=sim, skip_conflicts_on="iccid"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The events come straight from the rows the SIM insert returns.
            events_sql, events_params = insert_select_sql(SimEvent, field="sim", select="id", source="new", same=event)
            cursor.execute(
                f"WITH new AS ({sims_sql} RETURNING id), events AS ({events_sql}) SELECT count(*) FROM new",
                [*sims_params, parameter, *events_params],
            )
            return cursor.fetchone()[0]
        # SQLite: ids only grow and the write lock is ours, so the rows just inserted are
        # the ids above the last one: a range of rowids, read in order.
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {connection.ops.quote_name(Sim._meta.db_table)}")
        last_id = cursor.fetchone()[0]
        cursor.execute(sims_sql, [*sims_params, parameter])
        inserted = cursor.rowcount
        events_sql, events_params = insert_select_sql(
            SimEvent,
            field="sim",
            select="id",
            source=connection.ops.quote_name(Sim._meta.db_table),
            where="id > %s AND import_batch_id = %s",
            same=event,
        )
        cursor.execute(events_sql, [*events_params, last_id, sim["import_batch"]])
        return inserted
