"""How a carrier account is doing: every call the console makes to a carrier is counted here
(CarrierCall, kept a week), and the account keeps its last success and last failure."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from carriers.adapters import adapter_class
from carriers.models import CarrierAccount, CarrierCall
from products.models import Product
from sims.models import NetworkStatus, Sim

KEPT = timedelta(days=7)
PUSH = "apply"  # what the push worker's calls are recorded as
BUILT_IN_KEY = 0  # the account key of the built-in simulator (as carriers.push.BUILT_IN)


def record_call(
    *, account_key: int, what: str, ok: bool, error: str = "", sims: int = 0, refused: int = 0, at: datetime | None = None
) -> None:
    """One call to the carrier of `account_key` (0: the built-in simulator): counted, and the account's
    last success or failure updated. `refused`: of the `sims` a call that went through carried, those
    the carrier refused."""
    at = at or timezone.now()
    CarrierCall.objects.create(account_key=account_key, what=what, ok=ok, error=error[:300], sims=sims, refused=refused, at=at)
    if account_key:
        if ok:
            CarrierAccount.objects.filter(pk=account_key).update(last_success_at=at)
        else:
            CarrierAccount.objects.filter(pk=account_key).update(last_failure_at=at, last_failure=error[:300])


def error_rate(*, account_key: int, since: datetime) -> tuple[int, int]:
    """(failed calls, all calls) since then."""
    counts = CarrierCall.objects.filter(account_key=account_key, at__gte=since).aggregate(
        calls=Count("pk"), failed=Count("pk", filter=Q(ok=False))
    )
    return counts["failed"], counts["calls"]


def push_failures(*, account_keys: list[int], since: datetime) -> dict[int, tuple[int, int]]:
    """Per account, (changes that failed, changes pushed) since then: the SIMs of the push's calls
    (carriers/push.py), failed when the carrier refused them or could not be asked at all. A change
    tried again after a failed call counts again."""
    rows = (
        CarrierCall.objects.filter(account_key__in=account_keys, what=PUSH, at__gte=since)
        .order_by()
        .values("account_key")
        .annotate(pushed=Sum("sims"), unavailable=Sum("sims", filter=Q(ok=False)), refused=Sum("refused", filter=Q(ok=True)))
    )
    return {row["account_key"]: ((row["unavailable"] or 0) + (row["refused"] or 0), row["pushed"] or 0) for row in rows}


def forget_old_calls(*, now: datetime) -> int:
    return CarrierCall.objects.filter(at__lt=now - KEPT).delete()[0]


# A change waiting longer than this puts the carrier on the fleet header.
STALE_PENDING = timedelta(minutes=5)
WINDOW = timedelta(hours=24)


@dataclass
class AccountHealth:
    """One carrier account of a product (None: the built-in simulator) as Settings and the fleet header show it."""

    account: CarrierAccount | None
    name: str
    label: str
    last_success_at: datetime | None = None
    failed_calls: int = 0
    calls: int = 0
    unavailable_since: datetime | None = None
    last_failure: str = ""
    next_try_at: datetime | None = None
    pending: int = 0
    pending_since: datetime | None = None
    refused: int = 0

    @property
    def error_percent(self) -> float | None:
        return 100 * self.failed_calls / self.calls if self.calls else None

    def is_wrong(self, now: datetime) -> bool:
        """Worth the fleet header: the carrier failing, refusals, or changes waiting for long."""
        stale = self.pending_since is not None and self.pending_since < now - STALE_PENDING
        return bool(self.unavailable_since or self.refused or stale)


def product_health(product: Product, *, now: datetime) -> list[AccountHealth]:
    """Each of the product's carrier accounts, and the built-in simulator when it has SIMs of the product."""
    rows = (
        Sim.objects.filter(product=product)
        .exclude(network_status=NetworkStatus.SYNCED)
        .order_by()
        .values("carrier_account_id", "network_status")
        .annotate(sims=Count("pk"), oldest=Min("network_since"), next_try=Min("network_retry_at"))
    )
    waiting: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = waiting.setdefault(row["carrier_account_id"] or BUILT_IN_KEY, {})
        entry[row["network_status"]] = row
    healths = []
    accounts: list[CarrierAccount | None] = list(CarrierAccount.objects.filter(product=product))
    if BUILT_IN_KEY in waiting or Sim.objects.filter(product=product, carrier_account__isnull=True).exists():
        accounts.insert(0, None)
    for account in accounts:
        key = account.pk if account else BUILT_IN_KEY
        try:
            label = adapter_class(account.adapter if account else "simulator").label
        except LookupError:
            label = account.adapter if account else "Simulator"
        health = AccountHealth(account=account, name=account.name if account else "Built-in simulator", label=label)
        if account is not None:
            health.last_success_at, last_failure_at, health.last_failure = account.last_success_at, account.last_failure_at, account.last_failure
        else:
            health.last_success_at, last_failure_at, health.last_failure = _built_in_last_calls()
        health.failed_calls, health.calls = error_rate(account_key=key, since=now - WINDOW)
        if last_failure_at and (health.last_success_at is None or last_failure_at > health.last_success_at):
            first = CarrierCall.objects.filter(account_key=key, ok=False)
            if health.last_success_at:
                first = first.filter(at__gt=health.last_success_at)
            health.unavailable_since = first.order_by("at").values_list("at", flat=True).first() or last_failure_at
        pending, refused = waiting.get(key, {}).get(NetworkStatus.PENDING), waiting.get(key, {}).get(NetworkStatus.FAILED)
        if pending:
            health.pending, health.pending_since, health.next_try_at = pending["sims"], pending["oldest"], pending["next_try"]
        if refused:
            health.refused = refused["sims"]
        healths.append(health)
    return healths


def _built_in_last_calls() -> tuple[datetime | None, datetime | None, str]:
    calls = CarrierCall.objects.filter(account_key=BUILT_IN_KEY)
    success = calls.filter(ok=True).order_by("-at").values_list("at", flat=True).first()
    failure = calls.filter(ok=False).order_by("-at").values_list("at", "error").first()
    return success, failure[0] if failure else None, failure[1] if failure else ""
