from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # At start-up, once every app's models are loaded (Django's order): the periodic tick, in sims,
        # runs billing's close of last month without knowing billing.
        from billing.tasks import queue_closing_of_last_period
        from sims.periodic import every_tick

        every_tick(queue_closing_of_last_period)
