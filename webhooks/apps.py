from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # At start-up, once every app's models are loaded (Django's order): webhooks subscribe to
        # the domain's events, which know nothing of them.
        from sims.events import event_published
        from webhooks.delivery import deliver_event

        event_published.connect(deliver_event, dispatch_uid="webhooks.delivery.deliver_event")
