from django.tasks import task

from billing.billing import Period
from billing.invoicing import close_billing_period


@task
def close_billing_period_task(period: str) -> str:
    return close_billing_period(period=Period.parse(period)).summary()
