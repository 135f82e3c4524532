"""Importing in a real browser, with a real task worker: drop a file, pick a country, confirm, watch it run."""

import pytest
from playwright.sync_api import expect

from products.models import Membership, Product
from sims.iccid import luhn_check_digit
from sims.models import Sim, State
from tests.conftest import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
FILE_SIMS = 12_000


@pytest.fixture
def worker(start_worker):
    return start_worker()


@pytest.fixture
def product(transactional_db, prices):
    product = Product.objects.create(name="Acme Asset Trackers", slug="acme-trackers")
    Membership.objects.create(user=make_user("demo"), product=product, role=Membership.Role.ADMIN)
    return product


def _file_text() -> str:
    iccids = []
    for serial in range(FILE_SIMS):
        body = f"8901260{serial:011d}"
        iccids.append(body + luhn_check_digit(body))
    return "\r\n".join(["ICCID", *iccids, "8901260000000000001", "not an iccid", iccids[0]])


def test_drop_a_file_pick_a_country_confirm_and_watch_it_finish(page, live_server, product, worker, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "pw")
    page.click("button:has-text('Sign in')")
    page.goto(f"{live_server.url}/products/acme-trackers/sims/")
    page.get_by_role("link", name="Import SIMs").click()
    screenshot("10-import-empty")

    page.fill("#type-iccid", "8901 2600 0000 0000 0")
    page.keyboard.press("Enter")
    expect(page.locator("#queue")).to_contain_text("has 17 digits")

    transfer = page.evaluate_handle(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "carrier-delivery.txt", {type: "text/plain"}));
            return data;
        }""",
        _file_text(),
    )
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})
    summary = page.locator("#file-summary")
    expect(summary).to_contain_text(f"{FILE_SIMS:,} valid ICCIDs")
    expect(summary).to_contain_text("1 invalid")
    expect(page.locator("[data-queue-count]")).to_have_text(f"{FILE_SIMS:,}")
    screenshot("11-import-queued")

    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review the import")).to_be_visible()
    page.fill("#country-search", "Netherl")
    expect(page.locator("#quote")).to_contain_text("Zone 1")
    expect(page.locator("#quote")).to_contain_text(f"Activating {FILE_SIMS:,} SIMs charges")
    screenshot("12-import-review")

    page.get_by_role("button", name=f"Activate {FILE_SIMS:,} SIMs").click()
    expect(page.locator("#progress progress")).to_have_attribute("value", "100", timeout=60_000)
    expect(page.locator("#progress")).to_contain_text(f"{FILE_SIMS:,} SIMs activated")
    screenshot("13-import-done")

    page.get_by_role("link", name="See the SIMs").click()
    expect(page.locator(".bulk-count")).to_contain_text(f"of {FILE_SIMS:,}")
    assert Sim.objects.filter(product=product, state=State.ACTIVE, home_country="NL").count() == FILE_SIMS
