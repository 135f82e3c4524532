"""The API tokens page in a real browser: the new secret in a field as wide as its card, copied with a click."""

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clipboard_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_new_token_is_copied_with_its_button(clipboard_page, live_server, transactional_db):
    page = clipboard_page
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.MEMBER)
    page.goto(f"{live_server.url}/accounts/login/?next=/tokens/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    page.fill("#id_name", "factory line 2")
    page.get_by_label("List SIMs").check()
    page.get_by_label("Read usage").check()
    page.get_by_role("button", name="Create token").click()

    secret = page.locator("#new-secret")
    card = page.locator(".new-secret")
    assert secret.bounding_box()["width"] > 0.75 * card.bounding_box()["width"]
    assert secret.evaluate("field => field.scrollWidth <= field.clientWidth")  # the whole secret shows
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret.input_value()
    expect(page.locator("tr.highlight .badge.scope")).to_have_text(["List SIMs", "Read usage"])
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "tokens-new-secret.png"), full_page=True)
