"""Network events per carrier account: every tick, each account whose carrier gives network events
(Capability.CONNECTIVITY) is asked for its SIMs' events through its adapter, and they go into
sims.network_events.ingest_network_events like pushed ones (idempotent by event id: asking for a
window again counts nothing twice).

The window bookkeeping is usage's (carriers/usage.py): each account keeps the end of its last window
(AccountRoutine.events_until), the next starts an hour before it (events may arrive late), a new
account's starts where the console's own usage fetch stands, and a carrier that does not answer keeps
its window for the next tick.
"""

import logging
from datetime import datetime
from itertools import batched

from django.utils import timezone

from carriers.adapters import adapter_for
from carriers.adapters.base import Capability, CarrierUnavailable
from carriers.health import record_call
from carriers.models import AccountRoutine, CarrierAccount
from carriers.reconciliation import adapter_class_capabilities
from sims.network_events import NetworkEventReport, ingest_network_events
from sims.periodic import LATE_RECORDS, SIM_FETCH_CHUNK, last_fetch_until, sims_on_network, slot_length

log = logging.getLogger(__name__)


def fetch_account_events(account: CarrierAccount, *, now: datetime) -> NetworkEventReport:
    """The account's network events since its last window (an hour before it), ingested. Raises CarrierUnavailable."""
    routine, _ = AccountRoutine.objects.get_or_create(account_key=account.pk)
    since = (routine.events_until or last_fetch_until(default=now - slot_length())) - LATE_RECORDS
    adapter = adapter_for(account)
    report = NetworkEventReport()
    for chunk in batched(sims_on_network(since=since, account_id=account.pk), SIM_FETCH_CHUNK):
        iccids = [iccid for iccid, _ in chunk]
        try:
            part = ingest_network_events(adapter.network_events(iccids=iccids, since=since, until=now), now=now)
        except CarrierUnavailable as error:
            record_call(account_key=account.pk, what="network events", ok=False, error=str(error), sims=len(iccids))
            raise
        record_call(account_key=account.pk, what="network events", ok=True, sims=len(iccids))
        for name in ("received", "ingested", "duplicates", "rejected_count", "sims"):
            setattr(report, name, getattr(report, name) + getattr(part, name))
    AccountRoutine.objects.filter(pk=routine.pk).update(events_until=now)
    return report


def fetch_events_per_account(*, now: datetime | None = None) -> str:
    """The periodic tick's part: each account's network events, one account after the other; one whose
    carrier does not answer is said so and tried again next tick."""
    now = now or timezone.now()
    ingested, failed = 0, []
    accounts = [
        a for a in CarrierAccount.objects.order_by("pk") if Capability.CONNECTIVITY in adapter_class_capabilities(a.adapter)
    ]
    for account in accounts:
        try:
            ingested += fetch_account_events(account, now=now).ingested
        except CarrierUnavailable as error:
            log.warning("Network events of carrier account %s not fetched: %s", account.pk, error)
            failed.append(account.name)
    if not accounts:
        return ""
    text = f"{ingested:,} network events from {len(accounts) - len(failed)} carrier accounts"
    return text + (f" ({', '.join(failed)} did not answer: next tick)" if failed else "")
