"""The Rules tab: the list of a product's rules as sentences, a rule's page with its firings, and admins'
enable, disable, delete, approve and refuse; members read, outsiders get 404."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from rules.models import Rule, RuleApproval, RuleFiring
from sims.models import State
from tests.rules.conftest import ingest, usage


def _held(make_rule, product, make_sim, now, *, sims: int = 2) -> tuple[Rule, RuleApproval, list]:
    """A rule whose pass over `sims` SIMs waits for approval (its threshold is 1)."""
    rule = make_rule(approval_threshold=1)
    fleet = [make_sim(product) for _ in range(sims)]
    ingest(*(usage(sim, 90, now - timedelta(hours=1)) for sim in fleet), now=now)
    return rule, RuleApproval.objects.get(rule=rule), fleet


def _states(fleet) -> set[str]:
    for sim in fleet:
        sim.refresh_from_db()
    return {sim.state for sim in fleet}


def test_the_list_reads_each_rule_as_a_sentence_with_its_firings(make_rule, roomy_product, make_sim, teammate_client, now):
    rule = make_rule(actions=[{"kind": "pause"}, {"kind": "email", "roles": ["admin"]}])
    make_rule(name="Quiet", condition_kind="no_session", condition={"hours": 48}, enabled=False)
    sim = make_sim(roomy_product)
    ingest(usage(sim, 90, now - timedelta(hours=1)), now=now)
    assert RuleFiring.objects.filter(rule=rule).count() == 1

    page = teammate_client.get(reverse("rule_list", args=[roomy_product.slug])).content.decode()
    assert "When a SIM uses more than 50 MB in a day, pause it and email the admins." in page
    assert "When a SIM has had no data session for 48 hours, pause it." in page
    assert "Disabled" in page and "Enabled" in page
    fired_at = RuleFiring.objects.get(rule=rule).fired_at
    this_month = (fired_at.year, fired_at.month) == (timezone.now().year, timezone.now().month)
    assert f"Firings this month: {1 if this_month else 0}" in page
    # A member sees no buttons that would be refused.
    assert reverse("rule_delete", args=[roomy_product.slug, rule.pk]) not in page


def test_the_list_counts_in_a_fixed_number_of_queries(make_rule, teammate_client, roomy_product, django_assert_max_num_queries):
    for n in range(5):
        make_rule(name=f"Rule {n}")
    with django_assert_max_num_queries(12):
        assert teammate_client.get(reverse("rule_list", args=[roomy_product.slug])).status_code == 200


def test_an_admin_disables_enables_and_deletes_a_rule(make_rule, roomy_product, owner_client):
    rule = make_rule()
    owner_client.post(reverse("rule_enabled", args=[roomy_product.slug, rule.pk]))
    rule.refresh_from_db()
    assert (rule.enabled, rule.version) == (False, 2)
    owner_client.post(reverse("rule_enabled", args=[roomy_product.slug, rule.pk]), {"enabled": "on"})
    rule.refresh_from_db()
    assert (rule.enabled, rule.version) == (True, 3)
    response = owner_client.post(reverse("rule_delete", args=[roomy_product.slug, rule.pk]), follow=True)
    assert "deleted" in response.content.decode()
    assert not Rule.objects.filter(pk=rule.pk).exists()


def test_a_member_may_not_change_a_rule(make_rule, roomy_product, teammate_client):
    rule = make_rule()
    for name, data in (("rule_enabled", {}), ("rule_delete", {})):
        assert teammate_client.post(reverse(name, args=[roomy_product.slug, rule.pk]), data).status_code == 403
    rule.refresh_from_db()
    assert (rule.enabled, rule.version) == (True, 1)


def test_a_rule_of_another_product_is_404(make_rule, other_product, outsider_client, roomy_product):
    rule = make_rule()
    assert outsider_client.get(reverse("rule_detail", args=[roomy_product.slug, rule.pk])).status_code == 404
    assert outsider_client.get(reverse("rule_detail", args=[other_product.slug, rule.pk])).status_code == 404
    assert outsider_client.post(reverse("rule_delete", args=[other_product.slug, rule.pk])).status_code == 404
    assert Rule.objects.filter(pk=rule.pk).exists()


def test_a_rules_page_shows_its_firings_newest_first_with_the_sim(make_rule, roomy_product, make_sim, teammate_client, now):
    rule = make_rule()
    old, new = make_sim(roomy_product), make_sim(roomy_product)
    ingest(usage(old, 90, now - timedelta(days=1)), now=now)
    ingest(usage(new, 90, now - timedelta(hours=1)), now=now)
    page = teammate_client.get(reverse("rule_detail", args=[roomy_product.slug, rule.pk])).content.decode()
    assert "Version 1" in page
    assert page.index(new.iccid) < page.index(old.iccid)
    assert reverse("sim_detail", args=[roomy_product.slug, new.iccid]) in page
    assert "Paused" in page


def test_an_admin_approves_a_waiting_pass_once(make_rule, roomy_product, make_sim, owner_client, now):
    rule, approval, fleet = _held(make_rule, roomy_product, make_sim, now)
    url = reverse("rule_approval", args=[roomy_product.slug, rule.pk, approval.pk])
    page = owner_client.get(reverse("rule_detail", args=[roomy_product.slug, rule.pk])).content.decode()
    assert url in page and "Approve" in page and "Refuse" in page

    response = owner_client.post(url, {"decision": "approve"}, follow=True)
    assert "Approved: the rule&#x27;s actions ran for 2 SIMs." in response.content.decode()
    assert _states(fleet) == {State.PAUSED}

    again = owner_client.post(url, {"decision": "refuse"}, follow=True).content.decode()
    assert "This approval was approved already." in again
    approval.refresh_from_db()
    assert approval.decision == "approved"


def test_an_admin_refuses_a_waiting_pass(make_rule, roomy_product, make_sim, owner_client, now):
    rule, approval, fleet = _held(make_rule, roomy_product, make_sim, now)
    url = reverse("rule_approval", args=[roomy_product.slug, rule.pk, approval.pk])
    owner_client.post(url, {"decision": "refuse"})
    assert _states(fleet) == {State.ACTIVE}
    approval.refresh_from_db()
    assert approval.decision == "refused"


def test_a_member_may_not_decide(make_rule, roomy_product, make_sim, teammate_client, now):
    rule, approval, fleet = _held(make_rule, roomy_product, make_sim, now)
    page = teammate_client.get(reverse("rule_detail", args=[roomy_product.slug, rule.pk])).content.decode()
    url = reverse("rule_approval", args=[roomy_product.slug, rule.pk, approval.pk])
    assert url not in page
    assert teammate_client.post(url, {"decision": "approve"}).status_code == 403
    assert _states(fleet) == {State.ACTIVE}


def test_a_rules_page_shows_what_it_would_have_done_in_30_days(make_rule, roomy_product, make_sim, teammate_client, now):
    rule = make_rule(actions=[{"kind": "webhook"}])
    heavy, light = make_sim(roomy_product), make_sim(roomy_product)
    ingest(usage(heavy, 90, now - timedelta(days=1)), usage(light, 10, now - timedelta(days=1)), now=now)
    ingest(usage(heavy, 90, now - timedelta(hours=1)), now=now)
    page = teammate_client.get(reverse("rule_detail", args=[roomy_product.slug, rule.pk])).content.decode()
    assert "In the last 30 days it would have fired\n    <strong>2 times</strong>, on\n    <strong>1 SIM</strong>." in page
    assert 'aria-label="Firings per day in the backtest' in page and "busiest day 1 firing" in page
    assert "90.0 MB used" in page and page.count(reverse("sim_detail", args=[roomy_product.slug, heavy.iccid])) >= 3
    assert light.iccid not in page


def test_a_rules_page_backtests_in_a_fixed_number_of_queries(make_rule, roomy_product, make_sim, teammate_client, now, django_assert_max_num_queries):
    rule = make_rule(actions=[{"kind": "webhook"}], scope_kind="filter", scope_value="state=active")
    fleet = [make_sim(roomy_product) for _ in range(30)]
    ingest(*(usage(sim, 90, now - timedelta(hours=1)) for sim in fleet), now=now)
    with django_assert_max_num_queries(14):
        page = teammate_client.get(reverse("rule_detail", args=[roomy_product.slug, rule.pk])).content.decode()
    assert "<strong>30 times</strong>" in page and "The 20 most recent" in page


def test_a_rule_that_cannot_be_replayed_says_why(make_rule, roomy_product, teammate_client):
    quiet = make_rule(name="Quiet", condition_kind="no_session", condition={"hours": 48})
    page = teammate_client.get(reverse("rule_detail", args=[roomy_product.slug, quiet.pk])).content.decode()
    assert "Not replayed" in page and "would have fired" not in page
    broken = make_rule(name="Broken")
    Rule.objects.filter(pk=broken.pk).update(condition={"mb": -5})
    page = teammate_client.get(reverse("rule_detail", args=[roomy_product.slug, broken.pk])).content.decode()
    assert "The rule cannot be replayed: The amount of data must be more than 0 MB" in page
