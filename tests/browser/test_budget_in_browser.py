"""The budget in a real browser: an admin sets it on Settings (a bad percentage is a clear error),
the SIMs page's header shows it with the day it is projected to be exceeded, a member reads both.
At a phone's width and a desktop's, photographed into screenshots/ (budget-*). The fleet of
tests/billing/budget_fleet.py: $10.95 so far at noon on the 15th, growing $0.10 a day."""

import pytest
from playwright.sync_api import expect

from billing.models import Budget
from products.models import Membership
from tests.billing.budget_fleet import priceable_fleet
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_imei_lock_in_browser import WIDTHS, _no_errors, _no_sideways_scroll, sign_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fleet(mid_month, prices, product, make_sim):
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    Membership.objects.create(user=make_user("member"), product=product, role=Membership.Role.MEMBER)
    priceable_fleet(product, make_sim)
    return product


def _forget_the_screenshots_style(page, errors: list[str]) -> None:
    """Playwright's screenshot injects a style the CSP blocks; its report arrives a moment later."""
    page.wait_for_timeout(300)
    errors.clear()


def test_the_budget_in_the_browser(browser, live_server, fleet):
    product, base = fleet, live_server.url
    SCREENSHOTS.mkdir(exist_ok=True)
    for width_name, viewport in WIDTHS.items():
        Budget.objects.filter(product=product).delete()
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(f"{message.text} @ {message.location}") if message.type == "error" else None)
        sign_in(page, base)
        page.goto(f"{base}/products/{product.slug}/settings/")
        budget = page.locator("#budget")
        page.fill("#budget input[name=amount]", "11.45")
        page.fill("#budget input[name=alert_percentages]", "50, 80, 1200")
        budget.get_by_role("button", name="Save the budget").click()
        expect(budget.locator(".field-error")).to_contain_text("1200% is out of range: each percentage is from 1 to 1000.")
        _no_sideways_scroll(page)
        _no_errors(errors)
        budget.screenshot(path=str(SCREENSHOTS / f"budget-settings-error-{width_name}.png"), caret="initial")
        _forget_the_screenshots_style(page, errors)
        page.fill("#budget input[name=alert_percentages]", "50, 80, 100")
        budget.get_by_role("button", name="Save the budget").click()
        expect(page.locator(".messages")).to_contain_text("Budget saved: $11.45 a month, alerts at 50%, 80%, 100%.")
        expect(budget.locator(".budget-line")).to_contain_text("Budget $10.95 of $11.45 (95%)")
        _no_sideways_scroll(page)
        _no_errors(errors)
        page.screenshot(path=str(SCREENSHOTS / f"budget-settings-{width_name}.png"), full_page=True)
        _forget_the_screenshots_style(page, errors)

        page.goto(f"{base}/products/{product.slug}/sims/")
        line = page.locator("#fleet-cost .budget-line")
        expect(line).to_contain_text("Budget $10.95 of $11.45 (95%)")
        expect(line).to_contain_text("projected to exceed on the 20th")
        _no_sideways_scroll(page)
        _no_errors(errors)
        page.locator(".fleet-header").screenshot(path=str(SCREENSHOTS / f"budget-header-{width_name}.png"))
        page.screenshot(path=str(SCREENSHOTS / f"budget-sims-{width_name}.png"))
        context.close()

    context = browser.new_context(viewport=WIDTHS["phone"])
    page = context.new_page()
    sign_in(page, base, "member")
    page.goto(f"{base}/products/{product.slug}/sims/")
    expect(page.locator("#fleet-cost .budget-line")).to_contain_text("projected to exceed on the 20th")
    page.goto(f"{base}/products/{product.slug}/settings/")
    expect(page.locator("#budget")).to_contain_text("Only a product admin can change the budget.")
    expect(page.locator("#budget form")).to_have_count(0)
    _no_sideways_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / "budget-settings-member-phone.png"), full_page=True)
    context.close()
