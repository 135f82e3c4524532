"""Import from a carrier account: the SIMs the account holds that the console does not (found by
reconciliation, carriers/reconciliation.py) come into the account's product with the state they have
at the carrier.

It is an import like any other (imports/importing.py: the job, its events, the first month's charge),
run at once for up to DIRECT_LIMIT SIMs, in one transaction with what follows it: the SIMs are put on
the account, each is taken through the lifecycle to its state at the carrier (suspended there:
deactivated here, with the reason), and since the network has those states already, they are synced
without a push. Nothing is sent to the carrier before the states are the carrier's (the pushes the
import's events queue run after the commit, and find nothing pending).
"""

from collections import defaultdict
from itertools import batched

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from carriers.models import CarrierAccount, NetworkDifference
from carriers.reconciliation import steps_to
from imports.importing import ACTIVATED, TRANSFERRED, confirm_import, count_input, in_batch_order, run_import, start_import
from imports.models import ImportJob
from sims.lifecycle import Actor, apply_action
from sims.models import NetworkStatus, Sim, State
from sims.network import Target

# One click imports this many at most (the page says so); the next click takes the next ones.
DIRECT_LIMIT = 5000
CHUNK = 1000


def importable(account: CarrierAccount) -> QuerySet[NetworkDifference]:
    """What the last reconciliation found at the carrier and not in the console."""
    return NetworkDifference.objects.filter(account_key=account.pk, kind=NetworkDifference.Kind.NOT_HERE)


def import_from_account(*, account: CarrierAccount, user, country: str, limit: int = DIRECT_LIMIT) -> ImportJob:
    """Import the account's SIMs not in the console (the first `limit`, by ICCID) into its product."""
    found = list(importable(account).order_by("iccid").values_list("iccid", "theirs", "carrier_status", "since")[:limit])
    theirs = {iccid: (target, status, since) for iccid, target, status, since in found}
    with transaction.atomic():
        job = start_import(product=account.product, user=user, typed_text="\n".join(theirs), source_name=f"carrier account {account.name}")
        iccids = count_input(job)
        confirm_import(job=job, country=country, enqueue=False)
        job = run_import(job_id=job.pk, iccids=iccids)
        imported = _imported(job, iccids)
        Sim.objects.filter(iccid__in=imported).update(carrier_account=account)
        _take_the_carriers_states(account, job, {iccid: theirs[iccid] for iccid in imported})
        importable(account).filter(iccid__in=imported).delete()
    return job


def _imported(job: ImportJob, iccids: list[str]) -> list[str]:
    """The ICCIDs the job brought in (activated, or transferred from the user's own account)."""
    outcomes = "".join(job.batches.order_by("number").values_list("outcomes", flat=True))
    return [iccid for iccid, code in zip(in_batch_order(job, iccids), outcomes) if code in (ACTIVATED, TRANSFERRED)]


def _take_the_carriers_states(account: CarrierAccount, job: ImportJob, theirs: dict[str, tuple]) -> None:
    """The imported SIMs (active here now) to their states at the carrier, then synced: the network
    has them so. A SIM never activated at the carrier stays pending: the push activates it there."""
    actor = Actor.for_import(job)
    by_steps: dict[tuple, list[str]] = defaultdict(list)
    synced: list[str] = []
    for iccid, (target, _, _) in theirs.items():
        if not target:
            continue
        synced.append(iccid)
        if target != Target.ACTIVE:
            by_steps[tuple(steps_to(State.ACTIVE, target) or ())].append(iccid)
    for steps, group in by_steps.items():
        for chunk in batched(group, CHUNK):
            ids = dict(Sim.objects.filter(iccid__in=chunk).values_list("pk", "iccid"))
            reasons = {pk: _reason(account, job, *theirs[iccid]) for pk, iccid in ids.items()}
            todo = list(ids)
            for action in steps:
                todo = [outcome.sim_id for outcome in apply_action(sims=todo, action=action, actor=actor, reasons=reasons).done]
    for chunk in batched(synced, CHUNK):
        Sim.objects.filter(iccid__in=chunk).update(
            network_status=NetworkStatus.SYNCED, network_since=None, network_error="", network_attempts=0, network_retry_at=None
        )


def _reason(account: CarrierAccount, job: ImportJob, target: str, status: str, since) -> str:
    when = f" since {timezone.localtime(since):%Y-%m-%d %H:%M}" if since else ""
    return f"Import #{job.pk} from {account.name}: {target} at the carrier ({status}){when}"[:300]
