"""Usage per carrier account: every tick, each account whose carrier gives usage records
(Capability.USAGE) is asked for its SIMs' records through its adapter, and they go into
sims.usage.ingest_usage like any other source (idempotent by record id: asking for a window
again costs a little and counts nothing twice). The built-in simulator's SIMs (no account) are
fetched by sims/periodic.py itself.

Each account keeps the end of its last window fetched (AccountRoutine.usage_until); the next
window starts an hour before it (sims.periodic.LATE_RECORDS: records may arrive late); a new account's
starts where the console's own fetch stands. A carrier
that does not answer keeps its window: the next tick asks again from there.
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
from sims.periodic import LATE_RECORDS, SIM_FETCH_CHUNK, last_fetch_until, sims_on_network, slot_length
from sims.usage import IngestReport, ingest_usage

log = logging.getLogger(__name__)


def fetch_account_usage(account: CarrierAccount, *, now: datetime) -> IngestReport:
    """The account's usage since its last window (an hour before it), ingested. Raises CarrierUnavailable."""
    routine, _ = AccountRoutine.objects.get_or_create(account_key=account.pk)
    # A new account starts where the console's own fetch stands.
    since = (routine.usage_until or last_fetch_until(default=now - slot_length())) - LATE_RECORDS
    adapter = adapter_for(account)
    report = IngestReport()
    for chunk in batched(sims_on_network(since=since, account_id=account.pk), SIM_FETCH_CHUNK):
        iccids = [iccid for iccid, _ in chunk]
        try:
            part = ingest_usage(adapter.usage_records(iccids=iccids, since=since, until=now), now=now)
        except CarrierUnavailable as error:
            record_call(account_key=account.pk, what="usage", ok=False, error=str(error), sims=len(iccids))
            raise
        record_call(account_key=account.pk, what="usage", ok=True, sims=len(iccids))
        _add(report, part)
    AccountRoutine.objects.filter(pk=routine.pk).update(usage_until=now)
    return report


def _add(total: IngestReport, part: IngestReport) -> None:
    for name in ("received", "ingested", "duplicates", "rejected_count", "paused", "activated"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.rejected.extend(part.rejected)
    total.keep_first_rejections()


def fetch_usage_per_account(*, now: datetime | None = None) -> str:
    """The periodic tick's part: each account's usage, one account after the other; one whose carrier
    does not answer is said so and tried again next tick."""
    now = now or timezone.now()
    ingested, failed = 0, []
    accounts = [a for a in CarrierAccount.objects.order_by("pk") if Capability.USAGE in adapter_class_capabilities(a.adapter)]
    for account in accounts:
        try:
            ingested += fetch_account_usage(account, now=now).ingested
        except CarrierUnavailable as error:
            log.warning("Usage of carrier account %s not fetched: %s", account.pk, error)
            failed.append(account.name)
    if not accounts:
        return ""
    text = f"{ingested:,} usage records from {len(accounts) - len(failed)} carrier accounts"
    return text + (f" ({', '.join(failed)} did not answer: next tick)" if failed else "")
