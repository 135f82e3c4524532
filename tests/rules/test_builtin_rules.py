"""The data limit's pause and the test-state triggers as built-in rules of each product: listed on the Rules tab
as sentences with the product's figures, never deleted or disabled, made for a new product, and each time they
change a SIM a firing is recorded (figures, what it did) and shown on the SIM's timeline and the rule's page.
What they do is unchanged: tests/sims/test_limits.py, test_triggers.py and test_usage.py say so."""

from datetime import timedelta

import pytest
from django.urls import reverse

from lib.calendar import billing_period_start
from products.models import Product
from rules.builtin import ensure_builtin_rules
from rules.models import Rule, RuleFiring
from sims.models import SimEvent, State
from sims.triggers import activate_long_provisioned
from tests.conftest import make_user
from tests.rules.conftest import ingest, usage

pytestmark = pytest.mark.django_db

LIMIT, TRIGGER = "data_limit", "test_trigger"


def builtin(product, kind: str) -> Rule:
    return Rule.objects.get(product=product, condition_kind=kind)


def test_a_trigger_and_the_limit_in_one_pass_fire_the_products_built_in_rules_in_that_order(product, make_sim, now):
    sim = make_sim(product, state=State.PROVISIONED, state_changed_at=now - timedelta(days=1), data_limit_mb=7)

    report = ingest(usage(sim, 8, now - timedelta(hours=1)), now=now)

    assert (report.activated, report.paused) == (1, 1)
    firings = list(RuleFiring.objects.filter(sim=sim).order_by("pk").select_related("rule"))
    assert [(f.rule.name, f.rule.condition_kind, f.rule_version) for f in firings] == [
        ("Test-state triggers", TRIGGER, 1), ("Data limit", LIMIT, 1),
    ]  # fmt: skip
    activated, paused = firings
    assert activated.figures == {"trigger": "data", "bytes": 8_000_000, "trigger_kb": 5, "since": (now - timedelta(days=1)).date().isoformat()}
    assert activated.did == ["Activated: 8.0 MB used since provisioning reached the 5 KB rule"]
    period = billing_period_start(now)
    assert paused.figures == {"bytes": 8_000_000, "limit_mb": 7, "period": period.isoformat()}
    assert paused.did == [f"Paused: Data limit of 7 MB reached: 8.0 MB used since {period:%b} 1"]
    # The SIM's own history is as it always was.
    assert [(e.action, e.actor_name) for e in SimEvent.objects.filter(sim=sim).order_by("pk")] == [
        ("activate", "trigger: data"), ("pause", "data limit"),
    ]  # fmt: skip


def test_a_built_in_firing_shows_on_the_sims_timeline_and_the_rules_page(product, make_sim, owner_client, now):
    sim = make_sim(product)
    ingest(usage(sim, 6, now - timedelta(hours=1)), now=now)

    timeline = owner_client.get(reverse("sim_detail", args=[product.slug, sim.iccid])).content.decode()
    assert "Rule “Data limit” fired (version 1)" in timeline
    assert "Paused: Data limit of 5 MB reached: 6.0 MB used" in timeline
    page = owner_client.get(reverse("rule_detail", args=[product.slug, builtin(product, LIMIT).pk])).content.decode()
    assert sim.iccid in page and "Paused: Data limit of 5 MB reached" in page
    assert "Built in" in page and "each time it changes a SIM" in page


def test_the_time_sweep_records_its_firing(product, make_sim, now):
    Product.objects.filter(pk=product.pk).update(trigger_data_kb=None, trigger_sms=None, trigger_traffic_days=None)
    sim = make_sim(product, state=State.PROVISIONED, state_changed_at=now - timedelta(days=200))

    assert activate_long_provisioned(now=now) == 1

    firing = RuleFiring.objects.get(sim=sim)
    assert (firing.rule.condition_kind, firing.figures["trigger"], firing.figures["trigger_months"]) == (TRIGGER, "time", 6)


def test_a_sim_paused_twice_in_a_period_fires_twice(product, make_sim, owner, now):
    """A person unpauses a SIM over its limit; its next usage pauses it again, as before, and that is audited too."""
    from sims.lifecycle import Action, Actor, apply_action

    sim = make_sim(product)
    ingest(usage(sim, 6, now - timedelta(hours=2)), now=now - timedelta(hours=1))
    apply_action(sims=sim, action=Action.UNPAUSE, actor=Actor.for_user(owner))
    ingest(usage(sim, 1, now - timedelta(minutes=40)), now=now)

    assert RuleFiring.objects.filter(sim=sim, rule__condition_kind=LIMIT).count() == 2


def test_a_developers_sim_is_paused_at_its_limit_with_no_rule_to_fire(make_sim, owner, now):
    sim = make_sim(None, owner_user=owner)
    report = ingest(usage(sim, 6, now - timedelta(hours=1)), now=now)
    assert report.paused == 1 and not RuleFiring.objects.exists()


def test_pauses_of_many_sims_are_recorded_in_a_bounded_number_of_queries(product, make_sim, now, django_assert_max_num_queries):
    ensure_builtin_rules([product.pk])
    few = [make_sim(product) for _ in range(2)]
    many = [make_sim(product) for _ in range(40)]
    with django_assert_max_num_queries(30) as few_queries:
        ingest(*(usage(sim, 6, now - timedelta(hours=1)) for sim in few), now=now)
    with django_assert_max_num_queries(len(few_queries.captured_queries)):
        ingest(*(usage(sim, 6, now - timedelta(hours=1)) for sim in many), now=now)
    assert RuleFiring.objects.filter(rule__condition_kind=LIMIT).count() == 42


def test_the_rules_tab_lists_the_built_in_rules_first_as_sentences_with_the_products_figures(product, teammate_client):
    Product.objects.filter(pk=product.pk).update(default_data_limit_mb=40, trigger_sms=None)
    ensure_builtin_rules([product.pk])
    Rule.objects.create(product=product, name="A heavy day", condition_kind="usage_day", condition={"mb": 50}, actions=[{"kind": "pause"}])

    page = teammate_client.get(reverse("rule_list", args=[product.slug])).content.decode()

    limit = "When a SIM reaches its data limit (its own, else the product&#x27;s default of 40 MB) in the billing period, pause it."
    trigger = (
        "When a provisioned SIM reaches its product&#x27;s test trigger (5 KB of data, traffic on 5 days or 6 months "
        "since provisioning, whichever comes first), activate it."
    )
    assert limit in page and trigger in page
    assert page.index("Data limit") < page.index("Test-state triggers") < page.index("A heavy day")
    assert page.count(">Built in<") == 2  # the badges


def test_a_built_in_rule_cannot_be_deleted_or_disabled(product, owner_client):
    ensure_builtin_rules([product.pk])
    rule = builtin(product, LIMIT)
    page = owner_client.get(reverse("rule_list", args=[product.slug])).content.decode()
    assert reverse("rule_delete", args=[product.slug, rule.pk]) not in page
    assert reverse("rule_enabled", args=[product.slug, rule.pk]) not in page
    assert reverse("rule_edit", args=[product.slug, rule.pk]) not in page

    for name in ("rule_delete", "rule_enabled", "rule_edit"):
        response = owner_client.post(reverse(name, args=[product.slug, rule.pk]), follow=True)
        assert "is built in: it cannot be" in response.content.decode()
    assert "is built in: it cannot be edited" in owner_client.get(reverse("rule_edit", args=[product.slug, rule.pk]), follow=True).content.decode()
    rule.refresh_from_db()
    assert (rule.enabled, rule.version) == (True, 1)


def test_the_admin_keeps_built_in_rules(admin_client, product):
    ensure_builtin_rules([product.pk])
    rules = list(Rule.objects.filter(product=product).values_list("pk", flat=True))
    assert admin_client.post(f"/admin/rules/rule/{rules[0]}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post("/admin/rules/rule/", {"action": "delete_selected", "_selected_action": rules, "post": "yes"})
    assert Rule.objects.filter(product=product).count() == 2


def test_a_product_created_afterwards_gets_its_built_in_rules_once(client, django_capture_on_commit_callbacks):
    client.force_login(make_user("dana"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("product_new"), {"name": "Meters"})
    product = Product.objects.get(name="Meters")
    ensure_builtin_rules([product.pk])  # again: nothing more

    assert sorted(Rule.objects.filter(product=product).values_list("condition_kind", "name", "enabled")) == [
        (LIMIT, "Data limit", True), (TRIGGER, "Test-state triggers", True),
    ]  # fmt: skip


def test_a_built_in_kind_cannot_be_chosen_for_a_rule_of_ones_own(product):
    from django.core.exceptions import ValidationError

    rule = Rule(product=product, name="Mine", condition_kind=LIMIT, condition={}, actions=[{"kind": "pause"}])
    with pytest.raises(ValidationError, match="not a condition"):
        rule.full_clean()
