from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # At start-up, once every app's models are loaded (Django's order): webhooks subscribe to
        # the domain's events, which know nothing of them.
        from api.webhooks import deliver_event
        from sims.events import event_published

        event_published.connect(deliver_event, dispatch_uid="api.webhooks.deliver_event")
