# Webhooks moved to their own app (webhooks/). This name stays for the delivery tasks queued before
# the move, which django-tasks-db stored by their path, api.webhooks.deliver_webhook.
from webhooks.delivery import deliver_webhook

__all__ = ["deliver_webhook"]
