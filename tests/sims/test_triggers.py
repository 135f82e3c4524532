from datetime import UTC, datetime, timedelta

import pytest

from products.models import Product
from sims.models import SimEvent, State
from sims.triggers import Rules, UsageSinceProvisioning, activate_long_provisioned, rule_reached
from sims.usage import ingest_usage
from tests.sims.test_usage import NOW, record, state_of

PROVISIONED_AT = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
SEED_RULES = Rules(data_kb=5, sms=2, traffic_days=5, months=6)


@pytest.fixture
def test_sim(product, make_sim):
    return make_sim(product, state=State.PROVISIONED, state_changed_at=PROVISIONED_AT)


@pytest.mark.parametrize(
    ("used", "rule"),
    [
        (UsageSinceProvisioning(bytes=4_999, sms=1, traffic_days=4), None),
        (UsageSinceProvisioning(bytes=5_000), "trigger: data"),
        (UsageSinceProvisioning(sms=2), "trigger: SMS"),
        (UsageSinceProvisioning(traffic_days=5), "trigger: traffic days"),
        (UsageSinceProvisioning(bytes=9_000, sms=9), "trigger: data"),
    ],
)
def test_the_first_rule_reached_wins(used, rule):
    reached = rule_reached(SEED_RULES, used, PROVISIONED_AT, PROVISIONED_AT + timedelta(days=10))
    assert (reached.rule if reached else None) == rule


def test_the_time_rule_is_reached_six_calendar_months_after_provisioning():
    nothing = UsageSinceProvisioning()
    assert rule_reached(SEED_RULES, nothing, PROVISIONED_AT, datetime(2027, 5, 10, 8, 59, tzinfo=UTC)) is None
    assert rule_reached(SEED_RULES, nothing, PROVISIONED_AT, datetime(2027, 5, 10, 9, 0, tzinfo=UTC)).rule == "trigger: time"


def test_a_rule_left_empty_is_off():
    rules = Rules(data_kb=None, sms=None, traffic_days=None, months=None)
    assert rule_reached(rules, UsageSinceProvisioning(bytes=10**9, sms=99, traffic_days=99), PROVISIONED_AT, NOW) is None


def test_data_over_the_threshold_activates_a_provisioned_sim_with_an_event_naming_the_rule(test_sim):
    report = ingest_usage([record(test_sim, megabytes=0.006)], now=NOW)

    assert (report.activated, state_of(test_sim)) == (1, State.ACTIVE)
    event = SimEvent.objects.get(sim=test_sim)
    assert (event.action, event.actor_kind, event.actor_name) == ("activate", "system", "trigger: data")
    assert event.reason == "6.0 KB used since provisioning reached the 5 KB rule."


def test_a_sim_a_trigger_activates_over_its_limit_is_paused_in_the_same_pass(product, make_sim):
    sim = make_sim(product, state=State.PROVISIONED, state_changed_at=PROVISIONED_AT, data_limit_mb=7)

    report = ingest_usage([record(sim, megabytes=8)], now=NOW)

    assert (report.activated, report.paused, state_of(sim)) == (1, 1, State.PAUSED)
    events = SimEvent.objects.filter(sim=sim).order_by("pk")
    assert [(event.action, event.actor_name) for event in events] == [("activate", "trigger: data"), ("pause", "data limit")]
    assert events.last().reason == "Data limit of 7 MB reached: 8.0 MB used since Nov 1."


def test_a_sim_a_trigger_activates_under_its_limit_stays_active(product, make_sim):
    sim = make_sim(product, state=State.PROVISIONED, state_changed_at=PROVISIONED_AT, data_limit_mb=7)

    report = ingest_usage([record(sim, megabytes=6)], now=NOW)

    assert (report.activated, report.paused, state_of(sim)) == (1, 0, State.ACTIVE)


def test_data_under_the_threshold_leaves_it_provisioned(test_sim):
    ingest_usage([record(test_sim, megabytes=0.004)], now=NOW)
    assert state_of(test_sim) == State.PROVISIONED


def test_two_sms_activate(test_sim):
    ingest_usage([record(test_sim, sms=1)], now=NOW)
    assert state_of(test_sim) == State.PROVISIONED
    ingest_usage([record(test_sim, sms=1)], now=NOW)
    assert state_of(test_sim) == State.ACTIVE
    assert SimEvent.objects.get(sim=test_sim).actor_name == "trigger: SMS"


def test_traffic_on_five_distinct_days_activates(test_sim):
    small = 100  # bytes a day: far under the 5 KB rule
    rows = [record(test_sim, megabytes=small / 10**6, at=NOW - timedelta(days=d, hours=1)) for d in range(4)]
    rows += [record(test_sim, megabytes=small / 10**6, at=NOW - timedelta(days=1, hours=3))]  # a day already seen
    ingest_usage(rows, now=NOW)
    assert state_of(test_sim) == State.PROVISIONED

    ingest_usage([record(test_sim, megabytes=small / 10**6, at=NOW - timedelta(days=5))], now=NOW)

    assert state_of(test_sim) == State.ACTIVE
    assert SimEvent.objects.get(sim=test_sim).actor_name == "trigger: traffic days"


def test_usage_before_provisioning_does_not_count(product, make_sim):
    sim = make_sim(product, state=State.PROVISIONED, state_changed_at=NOW - timedelta(hours=1))
    ingest_usage([record(sim, megabytes=1, at=NOW - timedelta(days=3))], now=NOW)
    assert state_of(sim) == State.PROVISIONED


def test_the_products_own_thresholds_apply(product, test_sim):
    Product.objects.filter(pk=product.pk).update(trigger_data_kb=100)
    ingest_usage([record(test_sim, megabytes=0.05)], now=NOW)
    assert state_of(test_sim) == State.PROVISIONED
    ingest_usage([record(test_sim, megabytes=0.05)], now=NOW)
    assert state_of(test_sim) == State.ACTIVE


def test_the_time_sweep_activates_sims_provisioned_six_months_ago(product, make_sim, other_product):
    old = make_sim(product, state=State.PROVISIONED, state_changed_at=datetime(2026, 5, 19, tzinfo=UTC))
    recent = make_sim(product, state=State.PROVISIONED, state_changed_at=datetime(2026, 6, 1, tzinfo=UTC))
    Product.objects.filter(pk=other_product.pk).update(trigger_months=None)
    rule_off = make_sim(other_product, state=State.PROVISIONED, state_changed_at=datetime(2025, 1, 1, tzinfo=UTC))

    assert activate_long_provisioned(now=NOW) == 1

    assert (state_of(old), state_of(recent), state_of(rule_off)) == (State.ACTIVE, State.PROVISIONED, State.PROVISIONED)
    assert SimEvent.objects.get(sim=old).reason == "Provisioned on 2026-05-19: the 6-month rule."


def test_a_sim_the_time_sweep_activates_over_its_limit_is_paused_in_the_same_pass(product, make_sim):
    Product.objects.filter(pk=product.pk).update(trigger_data_kb=None, trigger_sms=None, trigger_traffic_days=None)
    sim = make_sim(product, state=State.PROVISIONED, state_changed_at=datetime(2026, 5, 25, tzinfo=UTC), data_limit_mb=7)
    ingest_usage([record(sim, megabytes=8)], now=NOW)  # test traffic, no rule reached yet
    assert state_of(sim) == State.PROVISIONED

    assert activate_long_provisioned(now=datetime(2026, 11, 26, tzinfo=UTC)) == 1  # six months on, same period

    assert state_of(sim) == State.PAUSED
    assert [event.actor_name for event in SimEvent.objects.filter(sim=sim).order_by("pk")] == ["trigger: time", "data limit"]


def test_an_active_sim_is_left_alone_by_triggers(product, make_sim):
    sim = make_sim(product, state=State.ACTIVE)
    ingest_usage([record(sim, megabytes=0.01, sms=5)], now=NOW)
    assert not SimEvent.objects.filter(sim=sim).exists()

