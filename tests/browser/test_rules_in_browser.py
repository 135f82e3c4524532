"""The Rules tab in a real browser: the list and a rule's page fit a phone and a desktop; an admin
approves a waiting pass, and a second click is told it was decided already."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from products.models import Membership, Product
from rules.models import Rule, RuleApproval, RuleFiring
from sims.models import Sim, State
from tests.browser.conftest import sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rule(transactional_db) -> Rule:
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    rule = Rule.objects.create(
        product=product, name="Heavy users", condition_kind="usage_day", condition={"mb": 50}, approval_threshold=100,
        actions=[{"kind": "pause"}, {"kind": "email", "roles": ["admin"]}],
    )  # fmt: skip
    Rule.objects.create(product=product, name="Roaming in France", condition_kind="country", condition={"countries": ["FR"]}, actions=[{"kind": "tag", "tag": "roaming"}], enabled=False)
    for days in range(1, 4):
        sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE)
        day = (timezone.now() - timedelta(days=days)).date()
        RuleFiring.objects.create(
            rule=rule, rule_version=1, sim=sim, window_key=f"d{day.isoformat()}", fired_at=timezone.now() - timedelta(days=days),
            figures={"mb": 61.2 + days, "day": day.isoformat()}, did=["Paused", "Emailed 2 admins"],
        )  # fmt: skip
    RuleApproval.objects.create(rule=rule, pending=0)
    return rule


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_rules_pages_fit_and_an_admin_approves_once(page, live_server, rule, screenshot):
    sign_in(page, live_server, "demo")
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 860})
        page.goto(f"{live_server.url}/products/acme-trackers/rules/")
        expect(page.get_by_text("When a SIM uses more than 50 MB in a day, pause it and email the admins.")).to_be_visible()
        _fits(page)
        screenshot(f"rules-list-{width}")
        page.goto(f"{live_server.url}/products/acme-trackers/rules/{rule.pk}/")
        expect(page.locator("table tbody tr")).to_have_count(3)
        _fits(page)
        screenshot(f"rule-page-{width}")
    stale = page.context.new_page()  # the same page open in another tab, from before the decision
    stale.goto(page.url)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: the rule's actions ran for 0 SIMs.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    stale.get_by_role("button", name="Refuse").click()
    expect(stale.get_by_text("This approval was approved already. Nothing more was done.")).to_be_visible()


def test_a_rules_backtest_fits_a_phone_and_a_desktop(page, live_server, rule, screenshot):
    from sims.models import SimDailyUsage

    for n in range(24):
        sim = Sim.objects.create(iccid=make_iccid(), product=rule.product, state=State.ACTIVE)
        day = (timezone.now() - timedelta(days=1 + n % 12)).date()
        SimDailyUsage.objects.create(sim=sim, product=rule.product, day=day, bytes=(60 + n) * 1_000_000)
    sign_in(page, live_server, "demo")
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 860})
        page.goto(f"{live_server.url}/products/acme-trackers/rules/{rule.pk}/")
        section = page.locator("section", has=page.get_by_role("heading", name="What it would have done"))
        expect(section.get_by_text("In the last 30 days it would have fired")).to_contain_text("24 times")
        expect(section.locator("svg[role=img]")).to_be_visible()
        expect(section.locator("table tbody tr")).to_have_count(20)
        _fits(page)
        screenshot(f"rule-backtest-{width}")
