from django.apps import AppConfig


class CarriersConfig(AppConfig):
    name = "carriers"
    verbose_name = "Carriers"

    def ready(self) -> None:
        from carriers import checks  # noqa: F401  (registers the deploy checks)
        # At start-up, once every app's models are loaded (Django's order): the push worker hears of
        # the domain's changes, and retries on the periodic tick, without the domain knowing of it.
        from carriers.adapters import adapter_class
        from carriers.push import push_due, queue_push_for_event
        from carriers.reconciliation import reconcile_due
        from carriers.network_events import fetch_events_per_account
        from carriers.usage import fetch_usage_per_account
        from carriers.adapters.simulator import clear_resets_on_attach
        from sims.events import event_published
        from sims.network_events import network_events_ingested
        from sims.network import provide_capabilities
        from sims.periodic import every_tick

        event_published.connect(queue_push_for_event, dispatch_uid="carriers.push.queue_push_for_event")
        network_events_ingested.connect(clear_resets_on_attach, dispatch_uid="carriers.adapters.simulator.clear_resets_on_attach")
        every_tick(push_due)
        # The console hides what a SIM's carrier cannot do (sims/network.py), by adapter code.
        provide_capabilities(lambda code: frozenset(capability.value for capability in adapter_class(code).capabilities))
        every_tick(reconcile_due)
        every_tick(fetch_usage_per_account)
        every_tick(fetch_events_per_account)
        from carriers.sms import sms_due
        from carriers.sms_timeline import SMS_SOURCE
        from sims.timeline import register_source

        register_source(SMS_SOURCE)

        every_tick(sms_due)
