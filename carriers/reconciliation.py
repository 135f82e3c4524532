"""Reconciliation: what the carrier holds against what the console says, and the fix a person chooses.

`reconcile(account_key)` lists every SIM on the account (Capability.INVENTORY), a chunk at a time,
and compares each with the console's SIM of the same ICCID on that account (one query per chunk):
- a SIM synced here whose state at the carrier is not the one its state here should have there
  (sims.network.TARGET_OF_STATE): a difference of state ("active here, suspended at the carrier
  since 14:02");
- a SIM at the carrier that the console does not have (no SIM of that ICCID, or one waiting in
  inventory): "at the carrier, not in the console", importable into the account's product;
- a SIM synced here, meant to be on the network, that the carrier did not list: "not at the carrier".
SIMs pending here are no difference (their push is on its way), nor refused ones (they show the
carrier's reason already). The differences are stored (NetworkDifference), the account's previous
ones replaced once the run is through; a run that could not ask the carrier keeps them.

Fixing, per difference or for all of an account's at once:
- "Take the carrier's state" (`take_theirs`): the console's SIM goes to the carrier's state through
  the lifecycle (sims.lifecycle.apply_action, a system actor, the reason naming the account), and
  since the network is there already, it is marked synced at its new network version: nothing is pushed.
- "Push ours" (`push_ours`): the SIM is marked pending, and the push worker sends our state.
A fix applies only to a SIM still as found (same state, synced, same network version); the others are
left for the next check.
"""

import logging
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import batched

from django.db import transaction
from django.db.models import Q, QuerySet
from django.tasks import task
from django.utils import timezone

from carriers.adapters import adapter_for
from carriers.adapters.base import Capability, CarrierSim, CarrierUnavailable
from carriers.health import record_call
from carriers.models import AccountRoutine, CarrierAccount, NetworkDifference
from carriers.push import BUILT_IN, queue_push
from sims.lifecycle import TRANSITIONS, Action, Actor, apply_action
from sims.models import NetworkStatus, Sim, State
from sims.network import TARGET_OF_STATE, Target, pending_updates

log = logging.getLogger(__name__)

CHUNK = 2000
# At most one run per account in this time (the periodic tick asks every few minutes).
EVERY = timedelta(hours=1)
ACTOR = Actor.system("reconciliation")
Kind = NetworkDifference.Kind


@dataclass
class ReconcileReport:
    account: str
    at_carrier: int = 0
    differences: Counter = field(default_factory=Counter)
    pending: int = 0
    changed_meanwhile: int = 0
    elsewhere: int = 0
    unavailable: str = ""

    def summary(self) -> str:
        if self.unavailable:
            return f"{self.account}: the carrier could not be asked ({self.unavailable}); the last differences stay."
        found = self.differences
        text = (
            f"{self.account}: {self.at_carrier:,} SIMs at the carrier; {found[Kind.STATE]:,} in another state, "
            f"{found[Kind.NOT_HERE]:,} not in the console, {found[Kind.NOT_AT_CARRIER]:,} not at the carrier"
        )
        if self.pending:
            text += f"; {self.pending:,} pending on the network, not compared"
        if self.changed_meanwhile:
            text += f"; {self.changed_meanwhile:,} changed here during the check, not compared"
        if self.elsewhere:
            text += f"; {self.elsewhere:,} in the console under another account or owner"
        return text + "."


def account_name(account_key: int) -> str:
    if account_key == BUILT_IN:
        return "the built-in simulator"
    return CarrierAccount.objects.filter(pk=account_key).values_list("name", flat=True).first() or f"account #{account_key}"


def _account_q(account_key: int) -> Q:
    return Q(carrier_account__isnull=True) if account_key == BUILT_IN else Q(carrier_account_id=account_key)


# --- Finding ---------------------------------------------------------------------------------------


def reconcile(account_key: int, *, now: datetime | None = None) -> ReconcileReport:
    """Compare the account's SIMs at the carrier with the console's; store the differences."""
    now = now or timezone.now()
    account = CarrierAccount.objects.filter(pk=account_key).first() if account_key else None
    if account_key and account is None:
        raise LookupError(f"No carrier account has the id {account_key}.")
    report = ReconcileReport(account=account.name if account else account_name(BUILT_IN))
    adapter = adapter_for(account)
    if Capability.INVENTORY not in adapter.capabilities:
        report.unavailable = f"{adapter.label} cannot list an account's SIMs"
        return report
    AccountRoutine.objects.update_or_create(account_key=account_key, defaults={"reconciled_at": now})
    product_id = account.product_id if account else None
    seen: set[int] = set()  # the console's SIMs the carrier listed, by id
    # Waiting for (or refused by) the carrier as the run begins: one synced before it compares them may
    # have been listed by the carrier before its push, so is not compared this run (read off the partial index).
    unsettled = set(Sim.objects.filter(_account_q(account_key)).exclude(network_status=NetworkStatus.SYNCED).values_list("pk", flat=True))
    try:
        for chunk in batched(adapter.sims(), CHUNK):
            report.at_carrier += len(chunk)
            found = _compare_chunk(account_key, product_id, chunk, seen, report, now, unsettled)
            NetworkDifference.objects.bulk_create(found)
            report.differences.update(difference.kind for difference in found)
    except CarrierUnavailable as error:
        record_call(account_key=account_key, what="inventory", ok=False, error=str(error))
        NetworkDifference.objects.filter(account_key=account_key, found_at=now).delete()
        report.unavailable = str(error)
        _finish(account_key, report)
        return report
    record_call(account_key=account_key, what="inventory", ok=True, sims=report.at_carrier)
    for missing in batched(_missing_at_carrier(account_key, seen, now), CHUNK):
        NetworkDifference.objects.bulk_create(missing)
        report.differences[Kind.NOT_AT_CARRIER] += len(missing)
    with transaction.atomic():
        routine = AccountRoutine.objects.select_for_update().get(account_key=account_key)
        if routine.completed_run and routine.completed_run > now:
            # A newer run finished first: its differences stand, this one's are older.
            NetworkDifference.objects.filter(account_key=account_key, found_at=now).delete()
            return report
        # The run is through: its rows replace the older runs' (a newer run still going replaces them at its end).
        NetworkDifference.objects.filter(account_key=account_key, found_at__lt=now).delete()
        routine.completed_run = now
        routine.save(update_fields=["completed_run"])
        _finish(account_key, report)
    return report


def _finish(account_key: int, report: ReconcileReport) -> None:
    AccountRoutine.objects.filter(account_key=account_key).update(
        reconciled_until=timezone.now(), reconciliation_summary=report.summary()[:300]
    )


def _compare_chunk(
    account_key: int, product_id: int | None, chunk: tuple[CarrierSim, ...], seen: set[int], report: ReconcileReport, now: datetime,
    unsettled: set[int] | frozenset[int] = frozenset(),
) -> list[NetworkDifference]:  # fmt: skip
    at_carrier = {sim.iccid: sim for sim in chunk}
    ours = Sim.objects.filter(_account_q(account_key), iccid__in=list(at_carrier)).values_list(
        "pk", "iccid", "state", "network_status", "network_version", "product_id", "state_changed_at"
    )
    found: list[NetworkDifference] = []
    for pk, iccid, state, status, version, sim_product_id, changed_at in ours:
        seen.add(pk)
        theirs = at_carrier.pop(iccid)
        if status != NetworkStatus.SYNCED:
            report.pending += status == NetworkStatus.PENDING
            continue
        if pk in unsettled or (changed_at is not None and changed_at >= now):
            # Changed, or pushed, since the run began: the carrier's listing may predate it, and taking
            # "its state" would undo the change. The next run compares it.
            report.changed_meanwhile += 1
            continue
        if TARGET_OF_STATE[state] != theirs.target:
            found.append(_difference(account_key, Kind.STATE, theirs, now, sim_id=pk, product_id=sim_product_id, ours=state, version=version))
    if at_carrier:
        # Not on this account here: new to the console, waiting in inventory (importable), or someone else's.
        known = Sim.objects.filter(iccid__in=list(at_carrier)).values_list("iccid", "product_id", "owner_user_id")
        for iccid, owner_product, owner_user in known:
            if owner_product is not None or owner_user is not None:
                at_carrier.pop(iccid)
                report.elsewhere += 1
        found.extend(_difference(account_key, Kind.NOT_HERE, sim, now, product_id=product_id) for sim in at_carrier.values())
    return found


def _difference(
    account_key: int, kind: str, theirs: CarrierSim | None, now: datetime, *, iccid: str = "", sim_id: int | None = None,
    product_id: int | None = None, ours: str = "", version: int = 0,
) -> NetworkDifference:  # fmt: skip
    return NetworkDifference(
        account_key=account_key,
        kind=kind,
        sim_id=sim_id,
        product_id=product_id,
        iccid=theirs.iccid if theirs else iccid,
        ours=ours,
        sim_version=version,
        theirs=(theirs.target or "") if theirs else "",
        carrier_status=theirs.carrier_status[:60] if theirs else "",
        since=theirs.changed_at if theirs else None,
        found_at=now,
    )


def _missing_at_carrier(account_key: int, seen: set[int], now: datetime) -> Iterator[NetworkDifference]:
    """The account's SIMs synced here and meant to be on the network that the carrier did not list:
    the console's SIMs read by id, a page at a time."""
    on_network = [state for state, target in TARGET_OF_STATE.items() if target is not None]
    after = 0
    while page := list(
        Sim.objects.filter(_account_q(account_key), pk__gt=after, network_status=NetworkStatus.SYNCED, state__in=on_network)
        .order_by("pk")
        .values_list("pk", "iccid", "state", "network_version", "product_id")[:CHUNK]
    ):
        after = page[-1][0]
        for pk, iccid, state, version, product_id in page:
            if pk not in seen:
                yield _difference(
                    account_key, Kind.NOT_AT_CARRIER, None, now, iccid=iccid, sim_id=pk, product_id=product_id, ours=state, version=version
                )


# --- Periodic --------------------------------------------------------------------------------------


@task
def reconcile_account(account_key: int) -> str:
    return reconcile(account_key).summary()


def reconcile_due(*, now: datetime) -> str:
    """The periodic tick's part: a reconciliation queued for each carrier account that lists its SIMs
    and was not reconciled within the hour (the run's start is claimed here, so a tick queues it once)."""
    queued = []
    for account in CarrierAccount.objects.order_by("pk"):
        if Capability.INVENTORY not in adapter_class_capabilities(account.adapter):
            continue
        AccountRoutine.objects.get_or_create(account_key=account.pk)
        due = Q(reconciled_at__isnull=True) | Q(reconciled_at__lte=now - EVERY)
        if AccountRoutine.objects.filter(due, account_key=account.pk).update(reconciled_at=now):
            reconcile_account.enqueue(account.pk)
            queued.append(account.name)
    return f"reconciliation queued for {len(queued)} carrier accounts" if queued else ""


def adapter_class_capabilities(code: str) -> frozenset[Capability]:
    from carriers.adapters import adapter_class

    try:
        return adapter_class(code).capabilities
    except LookupError:
        return frozenset()


# --- Fixing ----------------------------------------------------------------------------------------

# The actions that may take a SIM to the carrier's state, in order of preference.
_TAKE_ACTIONS = [Action.TERMINATE, Action.DEACTIVATE, Action.REACTIVATE, Action.PAUSE, Action.ACTIVATE]


def steps_to(ours: str, theirs: str) -> list[Action] | None:
    """The lifecycle actions that take a SIM from our state to one the carrier's state stands for
    (shortest first); None when none does (a terminated SIM, or a carrier state of no console state)."""
    if not theirs or ours == State.TERMINATED:
        return None
    wanted = Target(theirs)
    paths: deque[tuple[State, list[Action]]] = deque([(State(ours), [])])
    visited = {State(ours)}
    while paths:
        state, path = paths.popleft()
        if path and TARGET_OF_STATE[state] == wanted:
            return path
        for action in _TAKE_ACTIONS:
            after = TRANSITIONS[action].get(state)
            if after is not None and after not in visited:
                visited.add(after)
                paths.append((after, [*path, action]))
    return None


def can_take_theirs(difference: NetworkDifference) -> bool:
    return difference.kind == Kind.STATE and steps_to(difference.ours, difference.theirs) is not None


def can_push_ours(difference: NetworkDifference) -> bool:
    return difference.kind != Kind.NOT_HERE and TARGET_OF_STATE[State(difference.ours)] is not None


@dataclass
class FixReport:
    fixed: int = 0
    skipped: int = 0  # changed since found, or no fix in that direction

    def summary(self, verb: str) -> str:
        text = f"{self.fixed:,} {'SIM' if self.fixed == 1 else 'SIMs'} {verb}"
        if self.skipped:
            text += f"; {self.skipped:,} left: they changed since the check or cannot be fixed that way (check again)"
        return text + "."


def _in_chunks(differences: QuerySet[NetworkDifference], size: int) -> Iterator[list[NetworkDifference]]:
    """The differences a chunk at a time, read by id (the rows fixed are deleted as it goes)."""
    for pks in batched(differences.order_by("pk").values_list("pk", flat=True), size):
        yield list(NetworkDifference.objects.filter(pk__in=pks).order_by("pk"))


def _still_as_found(differences: list[NetworkDifference]) -> list[NetworkDifference]:
    """Under row locks: the differences whose SIM is as it was found (state, synced, network version)."""
    found = {d.sim_id: d for d in differences if d.sim_id is not None}
    now_rows = Sim.objects.select_for_update().filter(pk__in=list(found)).values_list("pk", "state", "network_status", "network_version")
    return [
        found[pk]
        for pk, state, status, version in now_rows
        if (state, status, version) == (found[pk].ours, NetworkStatus.SYNCED, found[pk].sim_version)
    ]


def take_theirs(differences: QuerySet[NetworkDifference]) -> FixReport:
    """The console takes the carrier's state: each SIM through the lifecycle, then synced without a push."""
    report = FixReport()
    for chunk in _in_chunks(differences.filter(kind=Kind.STATE), CHUNK // 2):
        with transaction.atomic():
            current = _still_as_found(chunk)
            by_path: dict[tuple[Action, ...], list[NetworkDifference]] = {}
            names = {key: account_name(key) for key in {d.account_key for d in current}}  # once per account, not per SIM
            for difference in current:
                steps = steps_to(difference.ours, difference.theirs)
                if steps:
                    by_path.setdefault(tuple(steps), []).append(difference)
            done: list[int] = []
            for path, group in by_path.items():
                reasons = {d.sim_id: _reason(d, names[d.account_key]) for d in group if d.sim_id is not None}
                ids = list(reasons)
                for action in path:
                    ids = [o.sim_id for o in apply_action(sims=ids, action=action, actor=ACTOR, reasons=reasons).done]
                done.extend(ids)
            # The network has this state already: synced at the version the lifecycle gave it, nothing to push.
            Sim.objects.filter(pk__in=done).update(
                network_status=NetworkStatus.SYNCED, network_since=None, network_error="", network_attempts=0, network_retry_at=None
            )
            NetworkDifference.objects.filter(pk__in=[d.pk for d in chunk if d.sim_id in set(done)]).delete()
        report.fixed += len(done)
        report.skipped += len(chunk) - len(done)
    report.skipped += differences.exclude(kind=Kind.STATE).count()
    return report


def _reason(difference: NetworkDifference, account: str) -> str:
    since = f" since {timezone.localtime(difference.since):%Y-%m-%d %H:%M}" if difference.since else ""
    theirs = difference.carrier_status or difference.theirs
    return f"Reconciled with {account}: {difference.theirs} at the carrier ({theirs}){since}"[:300]


def push_ours(differences: QuerySet[NetworkDifference]) -> FixReport:
    """Our state goes to the carrier: each SIM pending, and a push queued for its account."""
    report = FixReport()
    accounts: set[int] = set()
    for chunk in _in_chunks(differences.exclude(kind=Kind.NOT_HERE), CHUNK):
        with transaction.atomic():
            current = [d for d in _still_as_found(chunk) if can_push_ours(d)]
            ids = [d.sim_id for d in current if d.sim_id is not None]
            Sim.objects.filter(pk__in=ids).update(**pending_updates(timezone.now()))
            NetworkDifference.objects.filter(pk__in=[d.pk for d in current]).delete()
            accounts.update(d.account_key for d in current)
        report.fixed += len(current)
        report.skipped += len(chunk) - len(current)
    report.skipped += differences.filter(kind=Kind.NOT_HERE).count()
    for key in sorted(accounts):
        queue_push(key)
    return report


def differences_of(*, account_key: int, ids: Iterable[int] | None = None) -> QuerySet[NetworkDifference]:
    found = NetworkDifference.objects.filter(account_key=account_key)
    return found.filter(pk__in=list(ids)) if ids is not None else found
