"""Domain events: what a lifecycle change or an import did, for whoever subscribes (webhooks, notifications).

The outbox. A lifecycle chunk, an import batch and a finished import write their events as
DomainEvent rows (one per product, the changes grouped: never one per SIM) in their own
transaction, with the task that publishes them: django-tasks-db keeps tasks in the same database,
so the change, its events and their task commit together or not at all, and a rolled-back change
publishes nothing. Publishing hands a row to every receiver of `event_published` and deletes it,
in one transaction: each row is published once, whoever runs it. A row whose task never ran to its
end (its worker killed, an error) stays in the outbox, and the periodic tick publishes it
(`publish_stragglers`).

The domain imports no subscriber: a subscriber connects its receiver to `event_published` when its
app starts (api.apps). A receiver runs inside the publishing transaction and may raise: the row
then stays for the next try.

A row's `data`: for SIMS_CHANGED, {"action", "actor": {"kind", "name"}, "occurred_at" (ISO 8601),
"event_count", "changes": [{"from_state", "to_state", "reason", "iccids"}, ...]}, and for the SIMs an
import batch inserted, "import": {"id", "batch" (from 1)}; for IMPORT_FINISHED, {"actor", "import":
{"id", "status", "country", "started_at", "finished_at", "error", and IMPORT_COUNTS}}.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.tasks import task

from sims.models import DomainEvent

log = logging.getLogger(__name__)

# Sent with `event` (a DomainEvent), inside the transaction that deletes it once every receiver returned.
event_published = Signal()

# Older than this, an event still in the outbox lost its task: the periodic tick publishes it.
STRAGGLER_AGE = timedelta(minutes=5)

# --- Writing (inside the change's transaction) ------------------------------------------------------


def record_sim_changes(*, events: Sequence[tuple], fields: list[str], sims: Sequence[tuple], at: datetime) -> None:
    """The events of one lifecycle chunk (rows as written to SimEvent, in `fields` order), one outbox
    row per product; `sims` are the chunk's rows, (id, iccid, ...)."""
    if not events:
        return
    iccid_of = {row[0]: row[1] for row in sims}
    column = {name: fields.index(name) for name in ("sim", "product", "action", "from_state", "to_state", "actor_kind", "actor_name", "reason")}
    by_product: dict[int | None, list[tuple]] = {}
    for event in events:
        by_product.setdefault(event[column["product"]], []).append(event)
    rows = []
    for product_id, mine in by_product.items():
        first = mine[0]
        changes = _group(
            (event[column["from_state"]], event[column["to_state"]], event[column["reason"]], iccid_of[event[column["sim"]]])
            for event in mine
        )
        data = {
            "action": first[column["action"]],
            "actor": {"kind": first[column["actor_kind"]], "name": first[column["actor_name"]]},
            "occurred_at": iso(at),
            "event_count": len(mine),
            "changes": changes,
        }
        rows.append(DomainEvent(kind=DomainEvent.Kind.SIMS_CHANGED, product_id=product_id, data=data, created_at=at))
    write_events(rows)


def write_events(rows: list[DomainEvent]) -> None:
    """Put `rows` in the outbox with the task that publishes them, in the caller's transaction
    (imports.events writes an import's rows through it)."""
    created = DomainEvent.objects.bulk_create(rows)
    # In the caller's transaction: the task row commits with the events, or neither does.
    publish_events.enqueue([event.pk for event in created])


def _group(events: Iterable[tuple[str, str, str, str]]) -> list[dict[str, Any]]:
    """Events as changes: one entry per (from, to, reason) with its ICCIDs, in order of first sight."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for from_state, to_state, reason, iccid in events:
        groups.setdefault((from_state, to_state, reason), []).append(iccid)
    return [
        {"from_state": from_state, "to_state": to_state, "reason": reason, "iccids": iccids}
        for (from_state, to_state, reason), iccids in groups.items()
    ]


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# --- Publishing (the worker) ----------------------------------------------------------------------


@task
def publish_events(event_ids: list[int]) -> str:
    published = sum(publish(event_id) for event_id in event_ids)
    return f"{published} of {len(event_ids)} published"


def publish(event_id: int) -> bool:
    """Hand one event to every subscriber and take it out of the outbox, in one transaction.
    False when it was published already (by its task, or by the periodic tick)."""
    with transaction.atomic():
        # A second publisher of the same row waits here, then finds it gone (SQLite: one writer at a time).
        event = DomainEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return False
        event_published.send(sender=DomainEvent, event=event)
        event.delete()
    return True


def publish_stragglers(*, now: datetime) -> int:
    """Publish the events whose task did not (a worker killed mid-task, an error): those older than
    STRAGGLER_AGE, oldest first. One that fails stays, logged, for the next tick."""
    published = 0
    for event_id in DomainEvent.objects.filter(created_at__lt=now - STRAGGLER_AGE).values_list("pk", flat=True):
        try:
            published += publish(event_id)
        except Exception:
            log.exception("Domain event %s could not be published; the next tick tries again.", event_id)
    return published
