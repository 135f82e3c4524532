from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "rules"
    verbose_name = "Rules"

    def ready(self) -> None:
        # Rules watch the domain through its hooks, which know nothing of them: usage and network events
        # as each chunk commits, state changes as their events are published, the periodic tick; a SIM's
        # timeline shows its firings.
        from django.db.models.signals import post_delete, post_save

        from products.models import Product
        from rules.active import forget
        from rules.builtin import on_product_saved, record_builtin_firings
        from rules.event_pass import on_event_published
        from rules.models import Rule
        from rules.network_pass import on_network_events
        from rules.tick_pass import run_tick_rules
        from rules.timeline import FIRINGS
        from rules.usage_pass import on_usage_ingested
        from sims.builtin_rules import builtin_rule_acted
        from sims.events import event_published
        from sims.network_events import network_events_ingested
        from sims.periodic import every_tick
        from sims.timeline import register_source
        from sims.usage import usage_ingested

        post_save.connect(forget, sender=Rule, dispatch_uid="rules.active.forget.save")
        post_delete.connect(forget, sender=Rule, dispatch_uid="rules.active.forget.delete")
        usage_ingested.connect(on_usage_ingested, dispatch_uid="rules.usage_pass.on_usage_ingested")
        network_events_ingested.connect(on_network_events, dispatch_uid="rules.network_pass.on_network_events")
        event_published.connect(on_event_published, dispatch_uid="rules.event_pass.on_event_published")
        every_tick(run_tick_rules)
        register_source(FIRINGS)
        # The built-in rules (the data limit, the test-state triggers): sims evaluates them in its passes and
        # announces what they did; each product has them as rules, and their firings are recorded here.
        builtin_rule_acted.connect(record_builtin_firings, dispatch_uid="rules.builtin.record_builtin_firings")
        post_save.connect(on_product_saved, sender=Product, dispatch_uid="rules.builtin.on_product_saved")
