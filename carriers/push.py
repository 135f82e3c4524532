"""The push worker: brings each carrier's network to the state the console decided.

A change that needs the network marks its SIMs `pending` (sims/network.py) in its own transaction,
and its domain event, once published, queues a push for every carrier account with SIMs pending
(`queue_push_for_event`). A push takes the account's lease (one worker per account at a time),
reads its pending SIMs a batch at a time (the adapter's batch size), hands the adapter the state
each should reach, and records the answers:
- accepted: `synced`, unless the SIM changed again meanwhile (its network version moved on: it stays
  pending, for the next batch);
- refused: `failed` with the carrier's reason, until a person retries (`retry`) or changes the SIM;
- carrier unavailable: still `pending`, tried again after a growing wait (RETRY_WAITS), by a task
  queued for then and by the periodic tick.

Nothing is lost: the intent is the SIM's committed state, so a worker killed at any point leaves
its SIMs pending, and once its lease runs out (`lease()`, CARRIER_PUSH_LEASE_SECONDS) the next push sends them again. Sending
again is harmless: a NetworkChange is a state to reach, with the same idempotency key, and an
adapter answers a state the SIM is already in as done (tests/carriers/test_push_kill.py).
"""

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from carriers.adapters import adapter_for
from carriers.adapters.base import CarrierUnavailable, NetworkChange, Result
from carriers.health import PUSH, record_call
from carriers.models import CarrierAccount, PushLease
from products.limits import effective_limit_mb
from sims.models import DomainEvent, NetworkStatus, Sim
from sims.network import TARGET_OF_STATE

log = logging.getLogger(__name__)

BUILT_IN = 0  # the account key of the built-in simulator (SIMs with no carrier account)
# After the carrier could not be asked: the wait before the n-th try, then the last one for ever.
RETRY_WAITS = [timedelta(seconds=s) for s in (15, 30, 60, 120, 300, 600, 1800, 3600)]


@dataclass
class PushReport:
    sent: int = 0
    synced: int = 0
    refused: int = 0
    requests: int = 0
    unavailable: str = ""

    def summary(self) -> str:
        text = f"{self.sent} sent in {self.requests} calls, {self.synced} on the network, {self.refused} refused"
        return text + (f"; carrier unavailable: {self.unavailable}" if self.unavailable else "")


# --- Queuing ---------------------------------------------------------------------------------------


@task
def push_network_changes(account_key: int) -> str:
    return push(account_key=account_key).summary()


def queue_push(account_key: int, *, run_after: datetime | None = None) -> None:
    """A push task for the account, unless one is waiting to start already (a bulk change publishes an
    event per chunk: one task does them all)."""
    waiting = DBTaskResult.objects.ready().filter(task_path=push_network_changes.module_path, args_kwargs__args=[account_key])
    if run_after is None and waiting.exists():
        return
    if run_after is not None:
        push_network_changes.using(run_after=run_after).enqueue(account_key)
    else:
        push_network_changes.enqueue(account_key)


def queue_push_for_event(sender: type[DomainEvent], *, event: DomainEvent, **kwargs: Any) -> None:
    """Receiver of sims.events.event_published: a change's SIMs are pending on the network; push them."""
    if event.kind == DomainEvent.Kind.SIMS_CHANGED:
        _queue_pushes()


def accounts_with_pending(*, due_by: datetime | None = None) -> list[int]:
    """The accounts (BUILT_IN for the built-in simulator) with SIMs pending, read off the pending index."""
    pending = Sim.objects.filter(network_status=NetworkStatus.PENDING)
    if due_by is not None:
        pending = pending.filter(Q(network_retry_at__isnull=True) | Q(network_retry_at__lte=due_by))
    keys = pending.order_by().values_list("carrier_account_id", flat=True).distinct()
    return sorted({key or BUILT_IN for key in keys})


def push_due(*, now: datetime) -> str:
    """The periodic tick's part: a push for each account with changes due (a worker that died, a
    carrier that was down)."""
    keys = accounts_with_pending(due_by=now)
    for key in keys:
        queue_push(key)
    return f"network changes to push for {len(keys)} carrier accounts" if keys else ""


def retry(*, sims: QuerySet[Sim]) -> int:
    """A person's Retry on SIMs the carrier refused: pending again, pushed now."""
    with transaction.atomic():
        changed = sims.filter(network_status=NetworkStatus.FAILED).update(
            network_status=NetworkStatus.PENDING, network_error="", network_attempts=0, network_retry_at=None
        )
        transaction.on_commit(_queue_pushes)
    return changed


def _queue_pushes() -> None:
    for key in accounts_with_pending():
        queue_push(key)


# --- Pushing ---------------------------------------------------------------------------------------


def push(*, account_key: int) -> PushReport:
    """Push the account's due changes until none is left (or the carrier is unavailable)."""
    report = PushReport()
    holder = uuid.uuid4().hex
    while _take_lease(account_key, holder):
        try:
            _push_batches(account_key, holder, report)
        finally:
            PushLease.objects.filter(account_key=account_key, holder=holder).update(until=None, holder="")
        # Changes made while the lease was ours were queued to a push that found it taken: ours to do.
        if report.unavailable or not _due(account_key, timezone.now()).exists():
            break
    return report


def lease() -> timedelta:
    """How long a push holds its account: a worker killed mid-push blocks the account this long at most,
    so it must outlast the slowest batch (renewed after each)."""
    return timedelta(seconds=settings.CARRIER_PUSH_LEASE_SECONDS)


def _take_lease(account_key: int, holder: str) -> bool:
    now = timezone.now()
    try:
        with transaction.atomic():
            PushLease.objects.get_or_create(account_key=account_key)
    except IntegrityError:
        pass  # another worker made it meanwhile
    free = Q(until__isnull=True) | Q(until__lt=now)
    return bool(PushLease.objects.filter(free, account_key=account_key).update(holder=holder, until=now + lease()))


def _due(account_key: int, now: datetime) -> QuerySet[Sim]:
    account = Q(carrier_account__isnull=True) if account_key == BUILT_IN else Q(carrier_account_id=account_key)
    due = Q(network_retry_at__isnull=True) | Q(network_retry_at__lte=now)
    return Sim.objects.filter(account, due, network_status=NetworkStatus.PENDING)


def _push_batches(account_key: int, holder: str, report: PushReport) -> None:
    account = CarrierAccount.objects.filter(pk=account_key).first() if account_key else None
    if account_key and account is None:
        return
    adapter = adapter_for(account)
    while True:
        now = timezone.now()
        rows = list(
            _due(account_key, now)
            .order_by("pk")
            .values_list("pk", "iccid", "state", "data_limit_mb", "product__default_data_limit_mb", "network_version", "network_attempts")[
                : adapter.batch_size
            ]
        )
        if not rows:
            return
        changes, nothing_to_send = _changes(rows)
        _record(rows, [Result(iccid, True) for iccid in nothing_to_send], report)
        if changes:
            report.requests += 1
            report.sent += len(changes)
            try:
                results = adapter.apply(changes)
            except CarrierUnavailable as error:
                record_call(account_key=account_key, what=PUSH, ok=False, error=str(error), sims=len(changes))
                report.unavailable = str(error)
                _retry_later(account_key, rows, str(error), now)
                return
            refused = sum(1 for result in results if not result.ok)
            record_call(account_key=account_key, what=PUSH, ok=True, sims=len(changes), refused=refused)
            _record(rows, results, report)
        # Still ours: a batch that took long must not let a second worker in.
        PushLease.objects.filter(account_key=account_key, holder=holder).update(until=timezone.now() + lease())


def _changes(rows: list[tuple]) -> tuple[list[NetworkChange], list[str]]:
    changes, nothing_to_send = [], []
    for _, iccid, state, limit, product_default, version, _ in rows:
        target = TARGET_OF_STATE[state]
        if target is None:
            nothing_to_send.append(iccid)  # never put on the network: nothing to undo there
        else:
            changes.append(NetworkChange(iccid, target, effective_limit_mb(limit, product_default), key=f"{iccid}:{version}"))
    return changes, nothing_to_send


def _record(rows: list[tuple], results: list[Result], report: PushReport) -> None:
    """The carrier's answers, for the SIMs still at the version sent (a newer change stays pending)."""
    if not results:
        return
    sent = {iccid: (pk, version) for pk, iccid, _, _, _, version, _ in rows}
    with transaction.atomic():
        ids = [sent[result.iccid][0] for result in results if result.iccid in sent]
        current = dict(Sim.objects.select_for_update().filter(pk__in=ids).values_list("pk", "network_version"))
        synced, refused = [], defaultdict(list)
        for result in results:
            pk, version = sent.get(result.iccid, (None, None))
            if pk is None or current.get(pk) != version:
                continue
            if result.ok:
                synced.append(pk)
            else:
                refused[result.reason[:300] or "Refused by the carrier (no reason given)."].append(pk)
        Sim.objects.filter(pk__in=synced).update(
            network_status=NetworkStatus.SYNCED, network_error="", network_attempts=0, network_retry_at=None, network_since=None
        )
        for reason, pks in refused.items():
            Sim.objects.filter(pk__in=pks).update(network_status=NetworkStatus.FAILED, network_error=reason, network_retry_at=None)
    report.synced += len(synced)
    report.refused += sum(len(pks) for pks in refused.values())
    # Answers for SIMs that were never sent are the adapter's mistake: say so, and leave them pending.
    stray = [result.iccid for result in results if result.iccid not in sent]
    if stray:
        log.error("The carrier answered for SIMs it was not sent: %s", ", ".join(stray[:10]))


def _retry_later(account_key: int, rows: list[tuple], error: str, now: datetime) -> None:
    """The batch stays pending, each SIM due again after a wait that grows with its tries."""
    by_attempts = defaultdict(list)
    for pk, *_, attempts in rows:
        by_attempts[attempts].append(pk)
    waits = {attempts: RETRY_WAITS[min(attempts, len(RETRY_WAITS) - 1)] for attempts in by_attempts}
    with transaction.atomic():
        for attempts, pks in by_attempts.items():
            Sim.objects.filter(pk__in=pks, network_status=NetworkStatus.PENDING).update(
                network_attempts=attempts + 1, network_retry_at=now + waits[attempts], network_error=f"Carrier unavailable: {error}"[:300]
            )
    queue_push(account_key, run_after=now + min(waits.values()))
