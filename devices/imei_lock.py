"""The IMEI lock: a SIM is meant for one device (or one device model); seen in another, the lock says so.

Each product has a lock (ImeiLock: off without a row) and a SIM may have its own mode (SimImeiLock):
off; lock to the first IMEI seen (kept on the SIM's SimImeiLock); allow only some device models, by
TAC (the first 8 digits of an IMEI); or one fixed IMEI. A swap window (the product's or the SIM's,
SWAP_WINDOW long, closing by itself) accepts a new IMEI for a repair: it becomes the locked one.

`check_network_events` receives sims.network_events.network_events_ingested (connected in
devices.apps) after each chunk of network events commits. For the events carrying an IMEI of SIMs
with a lock, in one transaction: the first IMEI seen is locked; a mismatch is recorded (ImeiMismatch,
once per network event: the same event delivered twice counts once); the SIM is suspended through
sims.lifecycle.apply_action when the lock says so (which puts it pending on the carrier's network);
and one domain event per product (sims.events, kind IMEI_MISMATCH) tells the subscribers:
notifications (when the lock notifies) and webhooks.

Cost: a chunk without IMEIs costs nothing; one with IMEIs costs two indexed queries when no SIM of
it is locked.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from devices.models import ImeiLock, ImeiMismatch, LockMode, SimImeiLock
from lib.bulk_insert import listed
from sims.events import iso, write_events
from sims.lifecycle import Action, Actor, apply_action
from sims.models import DomainEvent, SimEvent
from sims.network_events import NetworkEventRow

LOCK_ACTOR = "IMEI lock"
SWAP_WINDOW = timedelta(hours=24)
TAC_LENGTH = 8


@dataclass(frozen=True)
class Effective:
    """The lock that holds for one SIM: its own mode if it has one, else its product's."""

    mode: str
    tacs: tuple[str, ...]
    fixed_imei: str
    locked_imei: str  # lock to the first: the IMEI it is locked to ("": none seen yet)
    suspend: bool
    notify: bool
    # The open swap windows' ends: the product's and the SIM's.
    swap_until: tuple[datetime, ...]
    own: bool  # the SIM's own mode, not the product's

    @property
    def is_on(self) -> bool:
        return self.mode != LockMode.OFF

    def swap_open_at(self, at: datetime) -> bool:
        return any(until - SWAP_WINDOW <= at < until for until in self.swap_until)

    def swap_open_until(self, now: datetime) -> datetime | None:
        open_ = [until for until in self.swap_until if until > now]
        return max(open_) if open_ else None

    @property
    def expected(self) -> str:
        """What the lock expects, in words: an IMEI, or the TACs."""
        if self.mode == LockMode.TACS:
            return "TAC " + ", ".join(self.tacs) if self.tacs else "no TAC"
        if self.mode == LockMode.FIXED:
            return self.fixed_imei
        return self.locked_imei


def effective(product_lock: ImeiLock | None, sim_lock: SimImeiLock | None) -> Effective:
    own = bool(sim_lock and sim_lock.mode)
    source: Any = sim_lock if own else product_lock
    windows = tuple(w for w in (product_lock and product_lock.swap_until, sim_lock and sim_lock.swap_until) if w)
    return Effective(
        mode=source.mode if source else LockMode.OFF,
        tacs=tuple(source.tacs) if source else (),
        fixed_imei=source.imei if source else "",
        locked_imei=sim_lock.locked_imei if sim_lock else "",
        suspend=bool(product_lock and product_lock.suspend),
        notify=bool(product_lock.notify) if product_lock else True,
        swap_until=windows,
        own=own,
    )


def lock_for_sim(sim: Any) -> Effective:
    """The lock of one SIM (the SIM page)."""
    product_lock = ImeiLock.objects.filter(product_id=sim.product_id).first() if sim.product_id else None
    return effective(product_lock, SimImeiLock.objects.filter(sim_id=sim.pk).first())


def tac_of(imei: str) -> str:
    return imei[:TAC_LENGTH]


# --- Checking network events -----------------------------------------------------------------------


def check_network_events(sender: Any = None, *, events: Iterable[tuple[int, int | None, NetworkEventRow]], **kwargs: Any) -> int:
    """Receiver of network_events_ingested: check the events with an IMEI against their SIMs' locks.
    How many mismatches were recorded."""
    with_imei = [(sim_id, product_id, row) for sim_id, product_id, row in events if row.imei]
    if not with_imei:
        return 0
    product_ids = {product_id for _, product_id, _ in with_imei if product_id is not None}
    product_locks = {
        lock.product_id: lock
        for lock in ImeiLock.objects.filter(product_id__in=product_ids).exclude(mode=LockMode.OFF, swap_until=None)
    }
    sim_ids = {sim_id for sim_id, _, _ in with_imei}
    listed_sims = listed(SimImeiLock._meta.get_field("sim"), sorted(sim_ids))
    own = set(SimImeiLock.objects.filter(sim_id__in=listed_sims).exclude(mode="").values_list("sim_id", flat=True))
    relevant = [event for event in with_imei if event[1] in product_locks or event[0] in own]
    if not relevant:
        return 0
    with transaction.atomic():
        return _check(relevant, product_locks, now=timezone.now())


@dataclass
class _Found:
    sim_id: int
    product_id: int | None
    row: NetworkEventRow
    expected: str
    suspend: bool
    notify: bool


def _check(events: list[tuple[int, int | None, NetworkEventRow]], product_locks: dict[int, ImeiLock], *, now: datetime) -> int:
    sim_ids = sorted({sim_id for sim_id, _, _ in events})
    # Every SIM checked gets its row (the first IMEI is kept there); locked, so that a concurrent chunk
    # of the same SIM waits and sees what this one locked.
    SimImeiLock.objects.bulk_create([SimImeiLock(sim_id=sim_id) for sim_id in sim_ids], ignore_conflicts=True)
    sim_locks = {lock.sim_id: lock for lock in SimImeiLock.objects.select_for_update().filter(sim_id__in=sim_ids)}
    done = set(ImeiMismatch.objects.filter(event_id__in=[row.event_id for _, _, row in events]).values_list("event_id", flat=True))
    changed: dict[int, SimImeiLock] = {}
    found: list[_Found] = []
    for sim_id, product_id, row in sorted(events, key=lambda event: (event[2].at, event[2].event_id)):
        if row.event_id in done:
            continue  # delivered twice: counted once
        done.add(row.event_id)
        sim_lock = sim_locks[sim_id]
        lock = effective(product_locks.get(product_id) if product_id is not None else None, sim_lock)
        if not lock.is_on:
            continue
        if _accepted(lock, row.imei):
            if lock.mode == LockMode.FIRST and not sim_lock.locked_imei:
                sim_lock.locked_imei, sim_lock.locked_at = row.imei, row.at
                changed[sim_id] = sim_lock
            continue
        if lock.swap_open_at(row.at):
            _swap(sim_lock, lock, row)
            changed[sim_id] = sim_lock
            continue
        found.append(_Found(sim_id, product_id, row, lock.expected, lock.suspend, lock.notify))
    for sim_lock in changed.values():
        sim_lock.updated_at = now
        sim_lock.save(update_fields=["mode", "imei", "locked_imei", "locked_at", "updated_at"])
    if found:
        _act_on(found, now=now)
    return len(found)


def _accepted(lock: Effective, imei: str) -> bool:
    if lock.mode == LockMode.FIRST:
        return not lock.locked_imei or imei == lock.locked_imei
    if lock.mode == LockMode.TACS:
        return tac_of(imei) in lock.tacs
    if lock.mode == LockMode.FIXED:
        return imei == lock.fixed_imei
    return True


def _swap(sim_lock: SimImeiLock, lock: Effective, row: NetworkEventRow) -> None:
    """In a swap window, the new IMEI becomes the SIM's locked one (a device model's TAC list stays)."""
    if lock.mode == LockMode.FIRST:
        sim_lock.locked_imei, sim_lock.locked_at = row.imei, row.at
    elif lock.mode == LockMode.FIXED:
        sim_lock.mode, sim_lock.imei = LockMode.FIXED, row.imei


def _act_on(found: list[_Found], *, now: datetime) -> None:
    """Suspend the SIMs whose lock says so (once each, for their first mismatch), record every mismatch
    with what was done, and write one domain event per product."""
    to_suspend: dict[int, str] = {}
    for item in found:
        if item.suspend:
            to_suspend.setdefault(item.sim_id, mismatch_reason(item.row.imei, item.expected))
    suspended: set[int] = set()
    refused: dict[int, str] = {}
    if to_suspend:
        report = apply_action(sims=list(to_suspend), action=Action.DEACTIVATE, actor=Actor.system(LOCK_ACTOR), reasons=to_suspend)
        suspended = {outcome.sim_id for outcome in report.done}
        refused = {outcome.sim_id: outcome.refused_reason for outcome in report.refused}
    rows = []
    for item in found:
        if item.suspend:
            action = ImeiMismatch.Action.SUSPENDED if item.sim_id in suspended else ImeiMismatch.Action.NOT_SUSPENDED
            # Only the first mismatch of a SIM suspends it; the others of the chunk say it was.
            suspended.discard(item.sim_id)
            detail = refused.get(item.sim_id, "Suspended by an earlier mismatch." if action == ImeiMismatch.Action.NOT_SUSPENDED else "")
        else:
            action = ImeiMismatch.Action.NOTIFIED if item.notify and item.product_id else ImeiMismatch.Action.RECORDED
            detail = ""
        rows.append(
            ImeiMismatch(
                sim_id=item.sim_id, product_id=item.product_id, event_id=item.row.event_id, expected=item.expected[:200],
                seen=item.row.imei, at=item.row.at, action=action, detail=detail[:300], created_at=now,
            )  # fmt: skip
        )
    ImeiMismatch.objects.bulk_create(rows, ignore_conflicts=True)
    _write_domain_events(found, rows, now=now)


def mismatch_reason(seen: str, expected: str) -> str:
    return f"IMEI {seen} seen, locked to {expected}"


def _write_domain_events(found: list[_Found], rows: list[ImeiMismatch], *, now: datetime) -> None:
    by_product: dict[int | None, list[dict[str, Any]]] = {}
    notify: dict[int | None, bool] = {}
    for item, row in zip(found, rows, strict=True):
        by_product.setdefault(item.product_id, []).append(
            {"iccid": item.row.iccid, "expected": row.expected, "seen": row.seen, "at": iso(row.at), "action": row.action}
        )
        notify[item.product_id] = notify.get(item.product_id, False) or item.notify
    write_events(
        [
            DomainEvent(
                kind=DomainEvent.Kind.IMEI_MISMATCH,
                product_id=product_id,
                data={
                    "actor": {"kind": SimEvent.ActorKind.SYSTEM.value, "name": LOCK_ACTOR},
                    "occurred_at": iso(now),
                    "event_count": len(mismatches),
                    "notify": notify[product_id],
                    "mismatches": mismatches,
                },
                created_at=now,
            )
            for product_id, mismatches in by_product.items()
        ]
    )


# --- Settings (the views) ----------------------------------------------------------------------------


def open_swap_window(lock: ImeiLock | SimImeiLock, *, now: datetime) -> datetime:
    lock.swap_until = now + SWAP_WINDOW
    lock.updated_at = now
    # A product or SIM that never had a lock gets its row (off, or the product's mode) with the window.
    lock.save(update_fields=["swap_until", "updated_at"] if lock.pk else None)
    return lock.swap_until


def close_swap_window(lock: ImeiLock | SimImeiLock, *, now: datetime) -> None:
    lock.swap_until = None
    lock.updated_at = now
    lock.save(update_fields=["swap_until", "updated_at"])
