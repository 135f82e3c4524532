"""Billing's tasks: closing a period, and queueing the close of last month from the periodic tick."""

from datetime import datetime

from django.db import transaction
from django.tasks import task

from billing.billing import Period
from billing.invoicing import LATE_USAGE, close_billing_period
from billing.models import ClosedPeriod
from sims.periodic import slot_length


@task
def close_billing_period_task(period: str) -> str:
    return close_billing_period(period=Period.parse(period)).summary()


def queue_closing_of_last_period(*, now: datetime) -> str:
    """Once last month's late usage is in, invoice last month; until a close has run to its end,
    queue it again in the first tick of every hour (a close killed half-way is finished by the
    next one: closing is idempotent per account, so one queued twice issues nothing new)."""
    last = Period.of(now).previous()
    if now < last.ends_at + LATE_USAGE or ClosedPeriod.objects.filter(period_start=last.start).exists():
        return ""
    if now.minute >= slot_length().total_seconds() // 60 and now >= last.ends_at + LATE_USAGE + slot_length():
        return ""
    transaction.on_commit(lambda: close_billing_period_task.enqueue(str(last)))
    return f"Closing {last} queued"
