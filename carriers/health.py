"""How a carrier account is doing: every call the console makes to a carrier is counted here
(CarrierCall, kept a week), and the account keeps its last success and last failure."""

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from carriers.models import CarrierAccount, CarrierCall

KEPT = timedelta(days=7)


def record_call(*, account_key: int, what: str, ok: bool, error: str = "", sims: int = 0, at: datetime | None = None) -> None:
    """One call to the carrier of `account_key` (0: the built-in simulator): counted, and the account's
    last success or failure updated."""
    at = at or timezone.now()
    CarrierCall.objects.create(account_key=account_key, what=what, ok=ok, error=error[:300], sims=sims, at=at)
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


def forget_old_calls(*, now: datetime) -> int:
    return CarrierCall.objects.filter(at__lt=now - KEPT).delete()[0]
