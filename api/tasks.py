# The task lives beside the attempt it runs and queues again (api.webhooks); this name stays for
# the tasks a worker queued before it moved, which name it by this path.
from api.webhooks import deliver_webhook

__all__ = ["deliver_webhook"]
