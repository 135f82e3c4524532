"""The built-in rules in a real browser: a new product's Rules tab lists the data limit and the test triggers
first, as sentences, without Delete; the data limit's page lists the SIM it paused; both fit a phone and a desktop."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from products.models import Membership, Product
from rules.models import Rule
from sims.models import Sim, State
from sims.usage import UsageRow, ingest_usage
from tests.browser.conftest import sign_in
from tests.conftest import make_iccid, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_built_in_rules_are_listed_and_their_firings_shown(page, live_server, screenshot):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")  # its rules come as it commits
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    Rule.objects.create(product=product, name="Heavy users", condition_kind="usage_day", condition={"mb": 50}, actions=[{"kind": "pause"}])
    sim = Sim.objects.create(iccid=make_iccid(), product=product, state=State.ACTIVE)
    now = timezone.now()
    ingest_usage([UsageRow(record_id="r1", iccid=sim.iccid, started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1), bytes_up=0, bytes_down=6_000_000, sms=0)], now=now)
    limit = Rule.objects.get(product=product, condition_kind="data_limit")

    sign_in(page, live_server, "demo")
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 860})
        page.goto(f"{live_server.url}/products/acme-trackers/rules/")
        expect(page.get_by_text("When a SIM reaches its data limit (its own, else the product's default of 5 MB)")).to_be_visible()
        expect(page.get_by_text("When a provisioned SIM reaches its product's test trigger")).to_be_visible()
        expect(page.locator(".rule-delete")).to_have_count(1)  # the user's rule only
        _fits(page)
        screenshot(f"builtin-rules-list-{width}")
        page.goto(f"{live_server.url}/products/acme-trackers/rules/{limit.pk}/")
        expect(page.locator("table tbody tr")).to_have_count(1)
        expect(page.get_by_text("Paused: Data limit of 5 MB reached")).to_be_visible()
        _fits(page)
        screenshot(f"builtin-rule-page-{width}")
