"""Rules on usage, evaluated as usage is ingested: each condition fires on the SIMs that meet it in the rule's
product and scope, and no others; once per SIM per window; the actions change the SIMs; a pass over the
approval threshold acts on nothing until a person approves."""

from datetime import timedelta

import pytest

from devices.models import Device
from rules.approval import decide
from rules.models import RuleApproval, RuleFiring
from sims.models import Sim, SimEvent, State
from tests.rules.conftest import ingest, usage

pytestmark = pytest.mark.django_db


def fired(rule) -> set[str]:
    return set(RuleFiring.objects.filter(rule=rule).values_list("sim__iccid", flat=True))


def state(sim) -> str:
    return Sim.objects.get(pk=sim.pk).state


def test_a_day_over_the_amount_pauses_that_sim_only_and_says_why(make_rule, roomy_product, other_product, make_sim, now):
    rule = make_rule(condition={"mb": 50})
    other_product.default_data_limit_mb = 100_000
    other_product.save()
    heavy, light, elsewhere = make_sim(roomy_product), make_sim(roomy_product), make_sim(other_product)
    at = now - timedelta(hours=1)
    ingest(usage(heavy, 30, at), usage(heavy, 30, at), usage(light, 40, at), usage(elsewhere, 90, at), now=now)

    assert fired(rule) == {heavy.iccid}
    assert (state(heavy), state(light), state(elsewhere)) == (State.PAUSED, State.ACTIVE, State.ACTIVE)
    firing = RuleFiring.objects.get(rule=rule)
    assert (firing.rule_version, firing.figures["bytes"], firing.did, firing.status) == (1, 60 * 1_000_000, ["Paused"], "done")
    event = SimEvent.objects.get(sim=heavy)
    assert "Heavy day" in event.actor_name and "60.0 MB used" in event.reason


def test_a_rule_fires_once_per_sim_per_day_however_many_records(make_rule, roomy_product, make_sim, now):
    rule = make_rule(condition={"mb": 10}, actions=[{"kind": "webhook"}])
    sim = make_sim(roomy_product)
    at = now - timedelta(hours=1)
    for _ in range(3):
        ingest(usage(sim, 20, at), now=now)
    assert RuleFiring.objects.filter(rule=rule).count() == 1
    ingest(usage(sim, 20, at + timedelta(days=1)), now=now + timedelta(days=1))
    assert sorted(RuleFiring.objects.filter(rule=rule).values_list("window_key", flat=True)) == [
        f"d{at.date()}", f"d{(at + timedelta(days=1)).date()}"
    ]


def test_a_period_window_fires_once_in_the_period(make_rule, roomy_product, make_sim, now):
    rule = make_rule(condition={"mb": 10}, window_kind="period", actions=[{"kind": "webhook"}])
    sim = make_sim(roomy_product)
    first = now.replace(day=2) - timedelta(hours=1) if now.day > 2 else now - timedelta(hours=1)
    ingest(usage(sim, 20, first), now=now)
    ingest(usage(sim, 20, now - timedelta(minutes=5)), now=now)
    assert [key for key in RuleFiring.objects.filter(rule=rule).values_list("window_key", flat=True)] == [f"p{now.date().replace(day=1)}"]


def test_usage_in_the_billing_period_adds_the_days(make_rule, roomy_product, make_sim, now):
    rule = make_rule(condition_kind="usage_period", condition={"mb": 50}, actions=[{"kind": "suspend"}])
    over, under = make_sim(roomy_product), make_sim(roomy_product)
    at = now - timedelta(hours=1)
    earlier = at - timedelta(days=1) if at.day > 1 else at
    ingest(usage(over, 30, earlier), usage(under, 30, earlier), now=now)
    assert fired(rule) == set()
    ingest(usage(over, 30, at), usage(under, 10, at), now=now)
    assert fired(rule) == {over.iccid}
    assert (state(over), state(under)) == (State.SUSPENDED, State.ACTIVE)


def test_usage_in_a_rolling_window_counts_the_days_it_covers(make_rule, roomy_product, make_sim, now):
    rule = make_rule(condition_kind="usage_rolling", condition={"mb": 50, "hours": 48}, actions=[{"kind": "webhook"}])
    over, old = make_sim(roomy_product), make_sim(roomy_product)
    ingest(usage(over, 30, now - timedelta(days=1)), usage(old, 30, now - timedelta(days=5)), now=now)
    ingest(usage(over, 30, now - timedelta(hours=1)), usage(old, 30, now - timedelta(hours=1)), now=now)
    assert fired(rule) == {over.iccid}


def test_sms_in_a_day_over_the_count(make_rule, roomy_product, make_sim, now):
    rule = make_rule(condition_kind="sms_count", condition={"count": 5}, actions=[{"kind": "webhook"}])
    chatty, quiet = make_sim(roomy_product), make_sim(roomy_product)
    at = now - timedelta(hours=1)
    ingest(usage(chatty, 0, at, sms=4), usage(chatty, 0, at, sms=2), usage(quiet, 0, at, sms=5), now=now)
    assert fired(rule) == {chatty.iccid}
    assert RuleFiring.objects.get(rule=rule).figures["sms"] == 6


def test_a_disabled_rule_does_nothing(make_rule, roomy_product, make_sim, now):
    rule = make_rule(enabled=False)
    sim = make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), now=now)
    assert fired(rule) == set() and state(sim) == State.ACTIVE


def test_a_filter_scope_takes_only_the_sims_it_lists(make_rule, roomy_product, make_sim, now):
    rule = make_rule(scope_kind="filter", scope_value="country=DE", actions=[{"kind": "webhook"}])
    german, french = make_sim(roomy_product, home_country="DE"), make_sim(roomy_product, home_country="FR")
    at = now - timedelta(hours=1)
    ingest(usage(german, 90, at), usage(french, 90, at), now=now)
    assert fired(rule) == {german.iccid}


def test_tag_and_device_model_scopes(make_rule, roomy_product, make_sim, now):
    by_tag = make_rule(name="Tagged", scope_kind="tag", scope_value="fridge", actions=[{"kind": "webhook"}])
    by_tac = make_rule(name="Model", scope_kind="tac", scope_value="35332011", actions=[{"kind": "webhook"}])
    fridge = Device.objects.create(product=roomy_product, device_id="f1", tags=["fridge", "eu"], imei="353320110000001")
    other = Device.objects.create(product=roomy_product, device_id="o1", tags=["freezer"], imei="860000000000001")
    in_fridge, in_other, loose = make_sim(roomy_product, device=fridge), make_sim(roomy_product, device=other), make_sim(roomy_product)
    at = now - timedelta(hours=1)
    ingest(usage(in_fridge, 90, at), usage(in_other, 90, at), usage(loose, 90, at), now=now)
    assert fired(by_tag) == {in_fridge.iccid}
    assert fired(by_tac) == {in_fridge.iccid}


def test_over_the_approval_threshold_nothing_is_done_until_approved(make_rule, roomy_product, make_sim, owner, now):
    rule = make_rule(approval_threshold=2)
    sims = [make_sim(roomy_product) for _ in range(3)]
    ingest(*(usage(sim, 90, now - timedelta(hours=1)) for sim in sims), now=now)

    assert {state(sim) for sim in sims} == {State.ACTIVE}
    approval = RuleApproval.objects.get(rule=rule)
    assert (approval.pending, approval.decision) == (3, "pending")
    assert set(RuleFiring.objects.filter(rule=rule).values_list("status", flat=True)) == {"awaiting"}

    decide(approval, approve=True, user=owner)
    assert {state(sim) for sim in sims} == {State.PAUSED}
    assert {(status, tuple(did)) for status, did in RuleFiring.objects.filter(rule=rule).values_list("status", "did")} == {
        ("approved", ("Paused",))
    }


def test_a_refused_approval_does_nothing(make_rule, roomy_product, make_sim, owner, now):
    rule = make_rule(approval_threshold=1)
    sims = [make_sim(roomy_product) for _ in range(2)]
    ingest(*(usage(sim, 90, now - timedelta(hours=1)) for sim in sims), now=now)
    decide(RuleApproval.objects.get(rule=rule), approve=False, user=owner)
    assert {state(sim) for sim in sims} == {State.ACTIVE}
    assert set(RuleFiring.objects.filter(rule=rule).values_list("status", flat=True)) == {"refused"}


def test_at_the_threshold_the_rule_acts(make_rule, roomy_product, make_sim, now):
    rule = make_rule(approval_threshold=2)
    sims = [make_sim(roomy_product) for _ in range(2)]
    ingest(*(usage(sim, 90, now - timedelta(hours=1)) for sim in sims), now=now)
    assert not RuleApproval.objects.filter(rule=rule).exists()
    assert {state(sim) for sim in sims} == {State.PAUSED}


def test_an_admin_approves_in_the_admin(make_rule, roomy_product, make_sim, admin_client, now):
    rule = make_rule(approval_threshold=1)
    sims = [make_sim(roomy_product) for _ in range(2)]
    ingest(*(usage(sim, 90, now - timedelta(hours=1)) for sim in sims), now=now)
    approval = RuleApproval.objects.get(rule=rule)
    response = admin_client.post("/admin/rules/ruleapproval/", {"action": "approve", "_selected_action": [approval.pk]})
    assert response.status_code == 302
    assert {state(sim) for sim in sims} == {State.PAUSED}
    approval.refresh_from_db()
    assert approval.decision == "approved" and approval.decided_by.username == "admin"
