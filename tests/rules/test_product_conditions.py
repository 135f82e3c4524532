"""Rules about the product, not a SIM: its estimated cost this billing period over an amount or a share of
its budget, and a carrier account whose pushed changes fail too often. Each fires once per window, with no
SIM, and tells people (email, webhooks); bad parameters are refused with what to do.

The cost's fleet is budget_fleet.py's: $10.95 so far at noon on the 15th (mid_month), $9.50 + $0.10 a day
projected for the month (at least $12.30)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from billing.budgets import save_budget
from carriers.health import record_call
from carriers.models import CarrierAccount
from notifications.models import Notification
from rules.models import Rule, RuleFiring
from rules.sentence import sentence
from rules.tick_pass import run_tick_rules
from sims.usage import UsageRow, ingest_usage
from tests.billing.budget_fleet import priceable_fleet
from tests.conftest import publish_queued_events
from webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db
EMAIL_ADMINS = [{"kind": "email", "roles": ["admin"]}]


def cost_rule(product, window_kind="period", **condition) -> Rule:
    rule = Rule(
        product=product, name="Over budget", condition_kind="cost_over_budget", condition=condition, actions=EMAIL_ADMINS, window_kind=window_kind
    )
    rule.full_clean()
    rule.save()
    return rule


def failure_rule(product, **condition) -> Rule:
    rule = Rule(
        product=product, name="Carrier failing", condition_kind="carrier_failures", condition=condition, actions=[{"kind": "webhook"}],
        window_kind="hours", window_hours=6,
    )  # fmt: skip
    rule.full_clean()
    rule.save()
    return rule


def pushes(account, *, ok: int = 0, refused: int = 0, unavailable: int = 0, hours_ago: float = 1) -> None:
    """Push calls of 10 SIMs each: `ok` calls all synced, one call with `refused` SIMs refused, `unavailable` failed calls."""
    at = timezone.now() - timedelta(hours=hours_ago)
    for _ in range(ok):
        record_call(account_key=account.pk, what="apply", ok=True, sims=10, at=at)
    if refused:
        record_call(account_key=account.pk, what="apply", ok=True, sims=10, refused=refused, at=at)
    for _ in range(unavailable):
        record_call(account_key=account.pk, what="apply", ok=False, error="Timeout", sims=10, at=at)


def product_firings(rule) -> list[RuleFiring]:
    return list(RuleFiring.objects.filter(rule=rule).order_by("pk"))


# --- The product's cost ----------------------------------------------------------------------------


def test_cost_over_an_amount_fires_once_per_period_with_no_sim_and_emails_the_admins(mid_month, product, make_sim, owner, teammate):
    priceable_fleet(product, make_sim)
    rule = cost_rule(product, amount="10.50")
    run_tick_rules(now=timezone.now())
    run_tick_rules(now=timezone.now() + timedelta(hours=1))

    [firing] = product_firings(rule)
    assert firing.sim_id is None and firing.subject == ""
    assert firing.figures["cost"] == "10.95" and firing.figures["over"] == "10.50"
    assert firing.window_key == f"p{timezone.now().date().replace(day=1).isoformat()}"
    assert firing.did == ["Email sent"]
    publish_queued_events()
    [told] = Notification.objects.filter(kind="rule_fired")
    assert told.user == owner
    assert told.title == "Rule “Over budget” fired for Acme Trackers"
    assert "$10.95, over $10.50" in told.body


def test_a_rule_that_fired_in_its_window_prices_nothing_again(mid_month, product, make_sim, django_assert_max_num_queries):
    priceable_fleet(product, make_sim)
    cost_rule(product, amount="10.50")
    run_tick_rules(now=timezone.now())
    cache.clear()  # no estimate to reuse: pricing the period would take dozens of queries
    with django_assert_max_num_queries(3):  # the rules in use, the enabled ones, the window's firings
        run_tick_rules(now=timezone.now())


def test_cost_within_the_amount_does_not_fire(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    rule = cost_rule(product, amount=11)
    run_tick_rules(now=timezone.now())
    assert product_firings(rule) == []


def test_the_projected_cost_fires_before_the_cost_so_far_does(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    so_far, projected = cost_rule(product, amount=12), cost_rule(product, amount=12, projected=True)
    run_tick_rules(now=timezone.now())
    assert product_firings(so_far) == []
    [firing] = product_firings(projected)
    assert firing.figures["projected"] is True and Decimal(firing.figures["cost"]) > 12


def test_cost_over_a_percentage_of_the_budget(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    save_budget(product=product, amount=Decimal("12.00"), alert_percentages=[100], recipients="admins")
    passed, not_yet = cost_rule(product, percent=90), cost_rule(product, percent=95)  # $10.80 and $11.40
    run_tick_rules(now=timezone.now())
    [firing] = product_firings(passed)
    assert firing.figures | {"period": "-"} == {
        "cost": "10.95", "over": "10.80", "budget": "12.00", "budget_percent": 90, "projected": False, "period": "-",
    }  # fmt: skip
    assert product_firings(not_yet) == []


def test_a_window_of_a_day_fires_again_the_next_day(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    rule = cost_rule(product, window_kind="day", amount=10)
    run_tick_rules(now=timezone.now())
    run_tick_rules(now=timezone.now() + timedelta(hours=1))
    run_tick_rules(now=timezone.now() + timedelta(days=1))
    assert len(product_firings(rule)) == 2


def test_cost_is_checked_after_usage_is_ingested(mid_month, product, make_sim):
    priceable_fleet(product, make_sim)
    rule = cost_rule(product, amount="11.50")
    sim = product.sims.first()
    at = timezone.now() - timedelta(minutes=30)
    ten_mb = UsageRow(record_id="r1", iccid=sim.iccid, started_at=at - timedelta(minutes=5), ended_at=at, bytes_up=0, bytes_down=10_000_000, sms=0, country="DE")
    ingest_usage([ten_mb], now=timezone.now())
    [firing] = product_firings(rule)
    assert firing.figures["cost"] == "11.95"  # $1.00 more: 10 MB at $0.10


def test_usage_of_another_product_does_not_evaluate_the_cost(mid_month, product, other_product, make_sim):
    priceable_fleet(product, make_sim)
    rule = cost_rule(product, amount="10.50")
    elsewhere = make_sim(other_product)
    at = timezone.now() - timedelta(minutes=30)
    ingest_usage([UsageRow(record_id="r1", iccid=elsewhere.iccid, started_at=at, ended_at=at, bytes_up=0, bytes_down=1, sms=0)], now=timezone.now())
    assert product_firings(rule) == []


def test_a_product_without_prices_is_skipped_not_failed(mid_month, product, make_sim, monkeypatch):
    priceable_fleet(product, make_sim)
    rule = cost_rule(product, amount=1)

    def unpriced(*args, **kwargs):
        raise ValueError("Zone 1 has no price")

    monkeypatch.setattr("rules.product_pass.cached_estimate", unpriced)
    run_tick_rules(now=timezone.now())
    assert product_firings(rule) == []


# --- A carrier account's failures ------------------------------------------------------------------


@pytest.fixture
def accounts(product):
    return [CarrierAccount.objects.create(product=product, name=name, adapter="simulator") for name in ("Main", "Backup")]


def test_failure_rate_fires_for_the_failing_account_once_per_window_and_calls_the_webhooks(product, accounts):
    Webhook.objects.create(product=product, url="https://example.com/hook", secret="s")
    main, backup = accounts
    pushes(main, ok=2, refused=4, unavailable=1)  # 14 of 40 failed: 35%
    pushes(backup, ok=3, refused=1)  # 1 of 40: 2.5%
    rule = failure_rule(product, percent=20, hours=6)
    now = timezone.now()
    run_tick_rules(now=now)
    run_tick_rules(now=now)  # the next tick in the same 6 hours (a later one could cross into the next)

    [firing] = product_firings(rule)
    assert firing.sim_id is None and firing.subject == f"account:{main.pk}"
    assert firing.figures == {"account": "Main", "failed": 14, "pushed": 40, "failed_percent": 35.0, "hours": 6}
    assert firing.did == ["Webhooks called"]
    publish_queued_events()
    body = json.loads(WebhookDelivery.objects.get(kind="rule.fired").body)
    assert body["firings"] == [{"iccid": None, "subject": f"account:{main.pk}", "window": firing.window_key, "figures": firing.figures}]


def test_each_account_fires_on_its_own(product, accounts):
    main, backup = accounts
    pushes(main, unavailable=2)
    rule = failure_rule(product, percent=50, min_changes=10)
    now = timezone.now()
    run_tick_rules(now=now)
    pushes(backup, unavailable=2, hours_ago=1)
    run_tick_rules(now=now)
    assert [f.figures["account"] for f in product_firings(rule)] == ["Main", "Backup"]


def test_failures_older_than_the_hours_or_too_few_changes_do_not_fire(product, accounts):
    main, backup = accounts
    pushes(main, unavailable=3, hours_ago=7)  # outside the 6 hours
    pushes(backup, refused=5)  # 5 of 10 failed, but fewer than 20 changes
    rule = failure_rule(product, percent=10, hours=6, min_changes=20)
    run_tick_rules(now=timezone.now())
    assert product_firings(rule) == []


def test_the_rate_must_be_more_than_the_percentage(product, accounts):
    pushes(accounts[0], ok=1, refused=5)  # 5 of 20: exactly 25%
    rule = failure_rule(product, percent=25)
    run_tick_rules(now=timezone.now())
    assert product_firings(rule) == []


def test_another_products_account_is_not_counted(product, other_product):
    theirs = CarrierAccount.objects.create(product=other_product, name="Theirs", adapter="simulator")
    pushes(theirs, unavailable=5)
    rule = failure_rule(product, percent=10)
    run_tick_rules(now=timezone.now())
    assert product_firings(rule) == []


# --- Parameters, scope and actions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "condition", "message"),
    [
        ("cost_over_budget", {}, "Give an amount in USD (such as 250) or a percentage of the product's budget (such as 80): one of the two."),
        ("cost_over_budget", {"amount": 10, "percent": 80}, "one of the two"),
        ("cost_over_budget", {"amount": "ten"}, "amount must be an amount of money to the cent, such as 250"),
        ("cost_over_budget", {"amount": 10.005}, "amount must be an amount of money to the cent"),
        ("cost_over_budget", {"amount": 0}, "The amount must be more than $0"),
        ("cost_over_budget", {"percent": 1001}, "The percentage of the budget must be from 1 to 1000."),
        ("cost_over_budget", {"amount": 10, "currency": "EUR"}, "takes amount, percent, projected, not currency"),
        ("carrier_failures", {}, "needs percent"),
        ("carrier_failures", {"percent": 100}, "The failure rate must be from 0 % to less than 100 %"),
        ("carrier_failures", {"percent": 20, "hours": 169}, "The hours to look back must be from 1 to 168"),
        ("carrier_failures", {"percent": 20, "min_changes": 0}, "The least number of changes pushed must be at least 1"),
        ("carrier_failures", {"percent": 20, "hours": 2.5}, "hours must be a whole number"),
    ],
)
def test_bad_parameters_are_refused_with_what_to_do(product, kind, condition, message):
    rule = Rule(product=product, name="Bad", condition_kind=kind, condition=condition, actions=EMAIL_ADMINS)
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert message in refused.value.message_dict["condition"][0]


def test_a_percentage_needs_the_products_budget(product):
    rule = Rule(product=product, name="Bad", condition_kind="cost_over_budget", condition={"percent": 80}, actions=EMAIL_ADMINS)
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert refused.value.message_dict["condition"] == [
        "The product has no monthly budget to take a percentage of: set one on its Billing tab, or give an amount in USD."
    ]


def test_a_product_rule_only_tells_people_and_watches_the_whole_product(product):
    rule = Rule(
        product=product, name="Bad", condition_kind="carrier_failures", condition={"percent": 20},
        actions=[{"kind": "suspend"}, {"kind": "email", "roles": ["admin"]}, {"kind": "pause"}], scope_kind="tag", scope_value="eu",
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert refused.value.message_dict["actions"] == [
        "A rule about the product, not a SIM, can only email people or call the webhooks: remove pause, suspend."
    ]
    assert "choose every SIM of the product as its scope" in refused.value.message_dict["scope_kind"][0]


def test_the_rules_read_as_sentences(product):
    save_budget(product=product, amount=Decimal("500"), alert_percentages=[100], recipients="admins")
    assert sentence(cost_rule(product, amount=1250)) == "When the product's estimated cost this billing period goes over $1,250.00, email the admins."
    assert sentence(cost_rule(product, percent=80, projected=True)) == (
        "When the product's projected cost for this billing period goes over 80% of its budget, email the admins."
    )
    assert sentence(failure_rule(product, percent=20, hours=6, min_changes=50)) == (
        "When more than 20% of the changes pushed to a carrier account fail in the last 6 hours (at least 50 changes), "
        "call the product's webhooks."
    )


def test_the_rule_page_shows_what_fired_for_the_product(mid_month, product, make_sim, owner_client):
    priceable_fleet(product, make_sim)
    rule = cost_rule(product, amount="10.50")
    run_tick_rules(now=timezone.now())
    cache.clear()
    response = owner_client.get(reverse("rule_detail", args=[product.slug, rule.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The product" in page and "The estimated cost so far of billing period" in page and "$10.95, over $10.50" in page
    assert "at most once a billing period per product" in page
