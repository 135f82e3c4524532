"""Notifications react to the domain's events (connected to sims.events.event_published by
notifications.apps), inside the transaction that takes each event out of the outbox: an import
that finished tells its starter; an IMEI lock's mismatch tells the team (when the lock says to); SIMs paused at their data limit are counted into the hour's digest."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from imports.models import ImportJob
from notifications import messages
from notifications.digests import count_paused
from notifications.models import Kind
from notifications.notify import notify
from products.models import Membership, Product
from sims.lifecycle import Action
from sims.limits import LIMIT_RULE
from sims.models import DomainEvent, SimEvent, State


def notify_event(sender: type[DomainEvent], *, event: DomainEvent, **kwargs: Any) -> None:
    if event.product_id is None:  # SIMs of no product: nobody's to tell
        return
    if event.kind == DomainEvent.Kind.IMPORT_FINISHED:
        _import_finished(event.data["import"]["id"])
    elif event.kind == DomainEvent.Kind.IMEI_MISMATCH:
        if event.data["notify"]:
            _imei_mismatch(event.product_id, event.data)
    elif event.kind == DomainEvent.Kind.RULE_FIRED:
        _rule_fired(event.product_id, event.data)
    elif event.kind == DomainEvent.Kind.SIMS_CHANGED and _paused_at_limit(event.data):
        iccids = [iccid for change in event.data["changes"] if change["to_state"] == State.PAUSED for iccid in change["iccids"]]
        count_paused(
            product_id=event.product_id, iccids=iccids, paused_at=datetime.fromisoformat(event.data["occurred_at"]), now=timezone.now()
        )


def _paused_at_limit(data: dict[str, Any]) -> bool:
    actor = data["actor"]
    return data["action"] == Action.PAUSE and actor["kind"] == SimEvent.ActorKind.SYSTEM and actor["name"] == LIMIT_RULE


def _rule_fired(product_id: int, data: dict[str, Any]) -> None:
    """A rule held for approval tells the product's admins; a rule that emails tells the people and roles it names."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return
    members = Membership.objects.filter(product_id=product_id)
    if data.get("approval"):
        admins = list(members.filter(role=Membership.Role.ADMIN).values_list("user_id", flat=True))
        notify(product_id=product_id, kind=Kind.RULE_APPROVAL, message=messages.rule_waits(product, data), user_ids=admins)
    elif data.get("email"):
        chosen = members.filter(Q(user_id__in=data["email"]["users"]) | Q(role__in=data["email"]["roles"]))
        user_ids = list(chosen.values_list("user_id", flat=True))
        if user_ids:
            notify(product_id=product_id, kind=Kind.RULE_FIRED, message=messages.rule_fired(product, data), user_ids=user_ids)


def _import_finished(job_id: int) -> None:
    """The person who started the import (through the console or an API token of theirs) is told."""
    job = ImportJob.objects.select_related("product").filter(pk=job_id).first()
    if job is None:
        return
    notify(product_id=job.product_id, kind=Kind.IMPORT_FINISHED, message=messages.import_finished(job), user_ids=[job.created_by_id])


def _imei_mismatch(product_id: int, data: dict[str, Any]) -> None:
    product = Product.objects.filter(pk=product_id).first()
    if product is not None:
        notify(product_id=product_id, kind=Kind.IMEI_MISMATCH, message=messages.imei_mismatch(product, data["mismatches"]))
