from django.tasks import task

from api.webhooks import attempt_delivery


@task
def deliver_webhook(delivery_id: int) -> str:
    return attempt_delivery(delivery_id=delivery_id)
