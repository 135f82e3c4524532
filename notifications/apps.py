from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # At start-up, as webhooks do: notifications subscribe to the domain's events and to the
        # periodic tick, neither of which knows them.
        from notifications.budget_alerts import run_budget_alerts
        from notifications.digests import run_digests
        from notifications.events import notify_event
        from sims.events import event_published
        from sims.periodic import every_tick

        event_published.connect(notify_event, dispatch_uid="notifications.events.notify_event")
        every_tick(run_digests)
        every_tick(run_budget_alerts)
