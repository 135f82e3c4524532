"""An import split across two carrier accounts, in a real browser with a real worker: the review says
how the SIMs split, the person picks the account for ICCIDs no prefix routes, and each SIM lands on its
account; one no account holds is refused."""

import pytest
from playwright.sync_api import expect

from carriers.models import CarrierAccount
from products.models import Membership, Product
from sims.iccid import luhn_check_digit
from sims.models import Sim
from tests.browser.conftest import sign_in
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def iccid(prefix: str, serial: int) -> str:
    body = f"{prefix}{serial:0{18 - len(prefix)}d}"
    return body + luhn_check_digit(body)


@pytest.fixture
def product(transactional_db, prices):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    return product


@pytest.mark.parametrize("width", [1280, 375])
def test_the_review_splits_the_import_across_accounts_and_the_choice_routes_the_rest(page, live_server, product, start_worker, screenshot, width):
    us = CarrierAccount.objects.create(
        product=product, name="Twilio US", adapter="simulator", iccid_prefixes="890126", settings={"inventory_prefixes": ["8901260"]}
    )
    eu = CarrierAccount.objects.create(
        product=product, name="emnify EU", adapter="simulator", iccid_prefixes="8988", settings={"inventory_prefixes": ["8988", "8944"]}
    )
    on_us = [iccid("890126", n) for n in range(3)]
    on_eu = [iccid("8988303", n) for n in range(2)]
    elsewhere = iccid("8944500", 1)
    not_held = iccid("8901261", 9)  # in Twilio US's range, but not in its inventory
    start_worker()
    page.set_viewport_size({"width": width, "height": 860})
    sign_in(page, live_server, "demo")
    page.goto(f"{live_server.url}/products/acme-trackers/import/")
    page.fill("#type-iccid", "\n".join([*on_us, *on_eu, elsewhere, not_held]))
    page.keyboard.press("Enter")
    expect(page.locator("[data-queue-count]")).to_have_text("7")
    page.get_by_role("button", name="Continue").click()

    review = page.locator("#split")
    expect(review).to_contain_text("Carrier accounts: 4 on Twilio US, 2 on emnify EU.")
    expect(review).to_contain_text("1 ICCID in no account's prefix range: refused.")
    page.select_option("#id_unrouted_account", label="emnify EU")
    expect(review).to_contain_text("Carrier accounts: 4 on Twilio US, 3 on emnify EU.")
    expect(review).to_contain_text("to emnify EU")
    page.fill("#country-search", "Netherl")
    expect(page.locator("#quote")).to_contain_text("Zone 1")
    screenshot(f"import-accounts-review-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_role("button", name="Activate 7 SIMs").click()
    expect(page.locator("#progress")).to_contain_text("Done.", timeout=60_000)
    screenshot(f"import-accounts-done-{width}")
    accounts = dict(Sim.objects.values_list("iccid", "carrier_account"))
    assert {i: accounts[i] for i in on_us} == dict.fromkeys(on_us, us.pk)
    assert {i: accounts[i] for i in [*on_eu, elsewhere]} == dict.fromkeys([*on_eu, elsewhere], eu.pk)
    assert not_held not in accounts
