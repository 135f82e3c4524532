"""The rule form in a real browser, at 375 and 1280 px: it reads as a sentence, shows only the chosen
condition's and the ticked actions' inputs, fits a phone, keeps what was typed when it is wrong, and saves; an
edit shows what it would have done beside the form (htmx) before it is saved."""

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from rules.models import Rule
from tests.browser.conftest import sign_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def product(transactional_db) -> Product:
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    return product


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("width", [375, 1280])
def test_an_admin_writes_a_rule_as_a_sentence(page, live_server, product, screenshot, width):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    sign_in(page, live_server, "demo")
    page.set_viewport_size({"width": width, "height": 860})
    page.goto(f"{live_server.url}/products/acme-trackers/rules/")
    page.get_by_role("link", name="New rule").click()

    # Only the chosen condition's inputs show; another condition brings its own.
    mb = page.locator('[name="condition-usage_day-mb"]')
    expect(mb).to_be_visible()
    expect(page.locator('[name="condition-no_session-hours"]')).to_be_hidden()
    page.select_option('[name="condition_kind"]', "no_session")
    expect(page.locator('[name="condition-no_session-hours"]')).to_be_visible()
    expect(mb).to_be_hidden()
    page.select_option('[name="condition_kind"]', "usage_day")
    expect(page.locator('[name="scope_value"]')).to_be_hidden()
    expect(page.locator('[name="window_hours"]')).to_be_hidden()

    page.get_by_label("Name").fill("Heavy day")
    mb.fill("0")
    page.get_by_label("pause it").check()
    page.get_by_label("email people").check()
    expect(page.locator('[name="action-email-roles"]').first).to_be_visible()
    page.get_by_label("set its data limit").check()
    page.locator('[name="action-data_limit-mb"]').fill("5")
    _fits(page)
    screenshot(f"rule-new-{width}")
    page.get_by_role("button", name="Create the rule").click()

    # Wrong: each error beside its input, everything typed kept.
    expect(page.get_by_text("The amount of data must be more than 0 MB")).to_be_visible()
    expect(page.get_by_text("Choose whom to email")).to_be_visible()
    expect(page.locator('[name="condition-usage_day-mb"]')).to_have_value("0")
    expect(page.locator('[name="action-data_limit-mb"]')).to_have_value("5")
    expect(page.get_by_label("Name")).to_have_value("Heavy day")
    _fits(page)
    screenshot(f"rule-new-errors-{width}")

    page.locator('[name="condition-usage_day-mb"]').fill("50")
    page.locator('[name="action-email-roles"][value="admin"]').check()
    page.get_by_role("button", name="Create the rule").click()
    expect(page.get_by_text("When a SIM uses more than 50 MB in a day, pause it, set its data limit to 5 MB and email the admins.").first).to_be_visible()
    rule = Rule.objects.get(product=product, name="Heavy day")
    assert rule.version == 1

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.locator('[name="condition-usage_day-mb"]')).to_have_value("50")
    _fits(page)
    screenshot(f"rule-edit-{width}")
    page.locator('[name="condition-usage_day-mb"]').fill("80")
    page.get_by_role("button", name="See what it would have done").click()
    expect(page.get_by_text("In the last 30 days it would have fired")).to_be_visible()
    expect(page.get_by_text("The same as the current version")).to_be_visible()
    expect(page.locator('[name="condition-usage_day-mb"]')).to_have_value("80")  # the form, back with the preview, as typed
    expect(page.locator('[name="condition-no_session-hours"]')).to_be_hidden()  # and set up again
    assert Rule.objects.get(pk=rule.pk).version == 1
    _fits(page)
    screenshot(f"rule-preview-{width}")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.get_by_text("Version 2", exact=True)).to_be_visible()
    expect(page.get_by_text("When a SIM uses more than 80 MB in a day").first).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
