"""Many usage rules in one pass: the pass first keeps the SIMs over each condition kind's lowest amount, then
runs each rule over those. Property: every rule fires on exactly the SIMs and windows its own condition
selects, whatever the other rules' amounts; a rule that cannot be read does not stop the others."""

from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.models import Rule, RuleFiring
from sims.models import ProductDailyUsage, SimCountryUsage, SimDailyUsage, SimPeriodUsage, UsageRecord
from tests.rules.conftest import ingest, usage

pytestmark = pytest.mark.django_db

SIMS = 4
DAYS = 3  # usage on the pass's day and the two before it
WEBHOOK = [{"kind": "webhook"}]

amounts = st.integers(1, 60)
# Per SIM: MB on each of the DAYS (the pass's day first), and SMS on the pass's day.
fleets = st.lists(st.tuples(st.lists(st.integers(0, 40), min_size=DAYS, max_size=DAYS), st.integers(0, 6)), min_size=SIMS, max_size=SIMS)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fleet=fleets,
    day_amounts=st.lists(amounts, min_size=3, max_size=3),
    sms_counts=st.lists(st.integers(0, 5), min_size=2, max_size=2),
    rolling=st.lists(st.tuples(amounts, st.sampled_from([24, 48])), min_size=2, max_size=2),
    period_amounts=st.lists(st.integers(1, 120), min_size=2, max_size=2),
)
def test_each_of_many_rules_fires_as_its_own_condition_says(
    make_rule, roomy_product, make_sim, now, fleet, day_amounts, sms_counts, rolling, period_amounts
):
    for model in (RuleFiring, Rule, UsageRecord, SimDailyUsage, SimPeriodUsage, ProductDailyUsage, SimCountryUsage):
        model.objects.all().delete()
    sims = list(roomy_product.sims.order_by("pk")) or [make_sim(roomy_product) for _ in range(SIMS)]
    days = [(now - timedelta(days=back)).date() for back in range(DAYS)]

    rows = []
    mb_on: dict[tuple[int, object], int] = defaultdict(int)
    for sim, (mbs, sms) in zip(sims, fleet):
        for back, mb in enumerate(mbs):
            rows.append(usage(sim, mb, now - timedelta(days=back, hours=1), sms=sms if back == 0 else 0))
            mb_on[(sim.pk, days[back])] += mb

    expected: dict[Rule, set] = {}
    for amount in day_amounts:
        rule = make_rule(name=f"Day over {amount}", condition={"mb": amount}, actions=WEBHOOK)
        expected[rule] = {(sim_id, f"d{day}") for (sim_id, day), mb in mb_on.items() if mb > amount}
    for count in sms_counts:
        rule = make_rule(name=f"SMS over {count}", condition_kind="sms_count", condition={"count": count}, actions=WEBHOOK)
        expected[rule] = {(sim.pk, f"d{days[0]}") for sim, (_, sms) in zip(sims, fleet) if sms > count}
    for amount, hours in rolling:
        rule = make_rule(name=f"{hours} h over {amount}", condition_kind="usage_rolling", condition={"mb": amount, "hours": hours}, actions=WEBHOOK)
        since = (now - timedelta(hours=hours)).date()
        used = {sim.pk: sum(mb for (sim_id, day), mb in mb_on.items() if sim_id == sim.pk and day >= since) for sim in sims}
        expected[rule] = {(sim_id, f"d{days[0]}") for sim_id, mb in used.items() if mb > amount}
    for amount in period_amounts:
        rule = make_rule(name=f"Period over {amount}", condition_kind="usage_period", condition={"mb": amount}, window_kind="period", actions=WEBHOOK)
        by_period: dict[tuple[int, object], int] = defaultdict(int)
        for (sim_id, day), mb in mb_on.items():
            by_period[(sim_id, day.replace(day=1))] += mb
        expected[rule] = {(sim_id, f"p{period}") for (sim_id, period), mb in by_period.items() if mb > amount}

    ingest(*rows, now=now)

    for rule, windows in expected.items():
        assert set(RuleFiring.objects.filter(rule=rule).values_list("sim_id", "window_key")) == windows, rule.name


def test_a_rule_that_cannot_be_read_leaves_the_others_firing(make_rule, roomy_product, make_sim, now):
    broken = make_rule(name="Broken", actions=WEBHOOK)
    Rule.objects.filter(pk=broken.pk).update(condition={"mb": "lots"})
    working = make_rule(name="Working", condition={"mb": 20}, actions=WEBHOOK)
    sim = make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), now=now)
    assert list(RuleFiring.objects.values_list("rule_id", "sim_id")) == [(working.pk, sim.pk)]
