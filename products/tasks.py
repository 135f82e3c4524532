from django.tasks import task

from products.billing import Period
from products.invoicing import close_billing_period


@task
def close_billing_period_task(period: str) -> str:
    return close_billing_period(period=Period.parse(period)).summary()
