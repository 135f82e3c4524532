# The task lives beside the attempt it runs and queues again (webhooks.delivery); this name stays for
# the tasks a worker queued before it moved, which name it by this path.
from webhooks.delivery import deliver_webhook

__all__ = ["deliver_webhook"]
